"""Hourly counters per site, and per link, kept off the request path.

Every credited share writes a guard item (mining.py) that records it; the
guards' stream feeds `apply_shares()`, the tokens' stream feeds
`apply_verifies()`. A batch becomes a few `ADD`s — one per site-hour and
link it touches, however many shares it holds — in one transaction with a
batch marker keyed by the batch's first record: a redelivered batch finds
its marker and counts nothing twice; one that grew since skips what the
marker covers. Reads trail the shares by the stream's batching (docs/contract.md
§6: about 2 s for shares, up to about 32 s for verifies).
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.store.models import Guard, Idempotency, Site, StatsShard, Token
from chalicelib.store.transactions import ConditionFailed, Transaction, decode

HOUR = 3600
ALL_SITES = StatsShard.ALL_SITES
SITE_HISTORY_HOURS = 168
MAX_HISTORY_SECONDS = 366 * 24 * HOUR
PAYOUT_FIELDS = ("blockReward", "payoutPercentage", "payoutPer1MHashes", "xmrToUsd")
# The current rate: hashes and shares per 10-second bucket, kept a while.
RATE_BUCKET_SECONDS = 10
RATE_WINDOW_SECONDS = 60
RATE_KEEP_SECONDS = 15 * 60
METRICS = {"hashes": "hashes", "captchas_solved": "solved",
           "captchas_verified": "verified", "link_visits": "visits"}
# A transaction holds at most 100 items: the marker and 99 counters (a
# record adds at most four: site hour, all-sites hour, rate bucket, link).
_MAX_COUNTERS = 99
_COUNTERS_PER_RECORD = 4
# Batch markers outlive a stream's 24-hour retention.
MARKER_SECONDS = 2 * 24 * HOUR


def hour_of(timestamp: int) -> int:
    return timestamp - timestamp % HOUR


@dataclass(frozen=True)
class LinkVisits:
    started: int
    completed: int
    last_visit: int


# --- reading ---------------------------------------------------------------

def hourly_metrics(site_key: str, first_hour: int, last_hour: int) -> dict[str, dict[int, int]]:
    """Every metric (see METRICS) -> hour start -> count, for hours that have any: one query."""
    totals: dict[str, dict[int, int]] = {metric: {} for metric in METRICS}
    for item in StatsShard.query(site_key, StatsShard.sk.between(first_hour, last_hour)):
        for metric, attr in METRICS.items():
            value = getattr(item, attr)
            if value:
                totals[metric][int(item.sk)] = int(value)
    return totals


def hourly(site_key: str, metric: str, first_hour: int, last_hour: int) -> dict[int, int]:
    """Hour start -> count of `metric` (see METRICS) for hours that have any."""
    return hourly_metrics(site_key, first_hour, last_hour)[metric]


def history(site_key: str, begin: int, end: int, now: int,
            totals: dict[int, int] | None = None) -> list[dict[str, object]]:
    """Whole hours from begin's hour through end's hour, zero-filled (`totals`:
    the hours' hashes when the caller has read them already)."""
    first, last = hour_of(begin), hour_of(end)
    if totals is None:
        totals = hourly(site_key, "hashes", first, last)
    current = hour_of(now)
    entries: list[dict[str, object]] = []
    for hour in range(first, last + 1, HOUR):
        hashes = totals.get(hour, 0)
        if hour == current:
            rate = hashes / max(1, now - hour)
        elif hour > current:
            rate = 0.0
        else:
            rate = hashes / HOUR
        entries.append({"time": hour, "hashesTotal": hashes, "hashesPerSecond": round(rate, 2)})
    return entries


def history_hours(now: int) -> tuple[int, int]:
    """The first and last hour of a site's history (`/stats/site`, the dashboard)."""
    current = hour_of(now)
    return current - (SITE_HISTORY_HOURS - 1) * HOUR, current


def _bucket_of(timestamp: int) -> int:
    return timestamp - timestamp % RATE_BUCKET_SECONDS


@dataclass(frozen=True)
class CurrentRate:
    hashes_per_second: float
    shares_per_minute: float


def current_rate(site_key: str, now: int) -> CurrentRate:
    """The last minute's accepted hashes per second and shares per minute:
    one query of the 10-second buckets. The window is the last 60 s: the
    bucket that began 60 s ago counts for the part of it still inside, so
    the figure slides smoothly and an idle site reads 0 within 70 s."""
    current = _bucket_of(now)
    oldest = current - RATE_WINDOW_SECONDS
    hashes = shares = 0.0
    for item in StatsShard.query(StatsShard.rate_pk(site_key), StatsShard.sk.between(oldest, current)):
        weight = 1.0
        if int(item.sk) == oldest:
            weight = 1.0 - (now - current) / RATE_BUCKET_SECONDS
        hashes += weight * int(item.hashes or 0)
        shares += weight * int(item.shares or 0)
    return CurrentRate(round(hashes / RATE_WINDOW_SECONDS, 2),
                       round(shares * 60 / RATE_WINDOW_SECONDS, 1))


def site_stats(site_key: str, now: int, totals: dict[int, int] | None = None) -> dict[str, object]:
    """Hashes/s now (the last minute's), hashes of the history's hours, and the
    hours (`totals`: their hashes when the caller has read them already)."""
    first, _ = history_hours(now)
    entries = history(site_key, first, now, now, totals)
    total = sum(int(e["hashesTotal"]) for e in entries)  # type: ignore[call-overload]
    return {"hashesPerSecond": current_rate(site_key, now).hashes_per_second,
            "hashesTotal": total, "history": entries}


_global_cache: dict[int, float] = {}


def global_hashrate(now: int) -> float:
    """Hashes per second over all sites in the last complete hour (cached)."""
    last_hour = hour_of(now) - HOUR
    if last_hour not in _global_cache:
        try:
            hashes = int(StatsShard.get(ALL_SITES, last_hour).hashes or 0)
        except DoesNotExist:
            hashes = 0
        _global_cache.clear()
        _global_cache[last_hour] = round(hashes / HOUR, 2)
    return _global_cache[last_hour]


def link_visits(codes: list[str]) -> dict[str, LinkVisits]:
    """Visits started (first share of a visit), completed and the last one, per link."""
    found = {code: LinkVisits(0, 0, 0) for code in codes}
    keys = [(StatsShard.link_pk(code), 0) for code in dict.fromkeys(codes)]
    for item in StatsShard.batch_get(keys):
        found[StatsShard.link_of(item.pk)] = LinkVisits(int(item.started or 0), int(item.completed or 0),
                                        int(item.last or 0))
    return found


def read_payout() -> tuple[dict[str, float], int]:
    try:
        item = Site.get(Site.payout_pk(), consistent_read=False)
    except DoesNotExist:
        return {name: 0 for name in PAYOUT_FIELDS}, 0
    figures = json.loads(item.payout or "{}")
    return {name: figures.get(name, 0) for name in PAYOUT_FIELDS}, int(item.updated or 0)


def set_payout(figures: dict[str, float], now: int) -> None:
    current, _ = read_payout()
    current.update({k: v for k, v in figures.items() if k in PAYOUT_FIELDS})
    Site(Site.payout_pk(), payout=json.dumps(current), updated=now).save()


# --- the stream consumers ------------------------------------------------------

Counters = dict[tuple[str, int], dict[str, int]]


def share_of(record: dict[str, Any]) -> Guard | None:
    """The credited share a guards' stream record inserts (None: another
    change, or a sign-in counter of the same table, which has no site)."""
    if record.get("eventName") != "INSERT":
        return None
    share = decode(Guard, record.get("dynamodb", {}).get("NewImage"))
    return share if share is not None and share.site_key else None


def _share_counters(image: dict[str, Any], counters: Counters) -> None:
    share = decode(Guard, image)
    if share is None or not share.site_key or not share.hashes:
        return
    site, hashes = share.site_key, int(share.hashes)
    when, reached = int(share.credited_at or 0), int(share.reached or 0)
    hour = hour_of(when)
    for owner in (site, ALL_SITES):
        counters.setdefault((owner, hour), {})
        counters[(owner, hour)]["hashes"] = counters[(owner, hour)].get("hashes", 0) + hashes
    rate = counters.setdefault((StatsShard.rate_pk(site), _bucket_of(when)), {})
    rate["hashes"] = rate.get("hashes", 0) + hashes
    rate["shares"] = rate.get("shares", 0) + 1
    rate["expires"] = _bucket_of(when) + RATE_KEEP_SECONDS
    bucket = counters[(site, hour)]
    if share.kind == "token" and reached:
        bucket["solved"] = bucket.get("solved", 0) + 1
    if share.kind == "link":
        if reached:
            bucket["visits"] = bucket.get("visits", 0) + 1
        link = counters.setdefault((StatsShard.link_pk(share.link_code or ""), 0), {})
        link["started"] = link.get("started", 0) + int(share.first or 0)
        link["completed"] = link.get("completed", 0) + reached
        link["last"] = max(link.get("last", 0), when)


def _verify_counters(record: dict[str, Any], counters: Counters) -> None:
    change = record.get("dynamodb", {})
    old, new = decode(Token, change.get("OldImage")), decode(Token, change.get("NewImage"))
    if new is None or not new.verified_by or (old is not None and old.verified_by):
        return
    site_key = Token.site_of(new.pk or "")
    if site_key is None:
        return
    stamp = change.get("ApproximateCreationDateTime")
    when = int(stamp) if isinstance(stamp, (int, float)) else int(time.time())
    bucket = counters.setdefault((site_key, hour_of(when)), {})
    bucket["verified"] = bucket.get("verified", 0) + 1


def _position(record: dict[str, Any]) -> str:
    return str(record.get("dynamodb", {}).get("SequenceNumber", "0")).rjust(40, "0")


def _stage_counter(tx: Transaction, key: tuple[str, int], values: dict[str, int]) -> None:
    actions = [getattr(StatsShard, name).add(value) for name, value in values.items()
               if name not in ("last", "expires")]
    if "last" in values:
        # Batches of one stream shard arrive in order: the newest wins.
        actions.append(StatsShard.last.set(values["last"]))
    if "expires" in values:
        actions.append(StatsShard.expires.set(values["expires"]))
    tx.update(f"c{len(tx)}", StatsShard(key[0], key[1]), actions)


def _apply(records: list[dict[str, Any]], count: Any) -> int:
    """Count `records` (in stream order) exactly once; returns counters written."""
    written = 0
    start = 0
    while start < len(records):
        marker_pk = Idempotency.marker_pk(str(records[start].get("eventID",
                                                                 _position(records[start]))))
        counters: Counters = {}
        end = start
        while end < len(records) and len(counters) <= _MAX_COUNTERS - _COUNTERS_PER_RECORD:
            count(records[end], counters)
            end += 1
        last = _position(records[end - 1])
        tx = Transaction()
        tx.save("marker", Idempotency(marker_pk, answer=last,
                                      expires=int(time.time()) + MARKER_SECONDS),
                Idempotency.pk.does_not_exist())
        for key, values in counters.items():
            if values:
                _stage_counter(tx, key, values)
        try:
            tx.commit()
            written += len(counters)
            start = end
        except ConditionFailed as failed:
            # This batch (or a shorter one starting at the same record) was
            # counted: skip what that marker covers, count the rest.
            marker = failed.item("marker", Idempotency)
            covered = (marker.answer if marker else None) or last
            while start < len(records) and _position(records[start]) <= covered:
                start += 1
    return written


def apply_shares(records: Iterable[dict[str, Any]]) -> int:
    """Guards' stream: hashes per site-hour (and all sites), captchas, link visits."""
    inserts = [r for r in records if share_of(r) is not None]
    return _apply(inserts, lambda record, counters: _share_counters(
        record["dynamodb"]["NewImage"], counters))


def apply_verifies(records: Iterable[dict[str, Any]]) -> int:
    """Tokens' stream: tokens verified per site-hour."""
    modifies = [r for r in records if r.get("eventName") == "MODIFY"]
    return _apply(modifies, _verify_counters)
