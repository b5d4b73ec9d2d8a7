"""Hourly hash counts, sharded against hot keys and summed on read.

Each credited share adds its hashes to one random shard of the site's
current hour and of the all-sites hour (`*`), inside the share's
transaction. Reads query every shard of the hours asked and add them up.
"""
from __future__ import annotations

import json
import random
from collections import defaultdict

from pynamodb.exceptions import DoesNotExist

from chalicelib.models import Site, StatsShard
from chalicelib.txn import Transaction

STATS_SHARDS = 8
# Every share of every site also adds to the all-sites hour: more shards there
# (one item takes ~1,000 write units/s, a transactional write costs 2).
GLOBAL_SHARDS = 32
HOUR = 3600
ALL_SITES = "*"
SITE_HISTORY_HOURS = 168
MAX_HISTORY_SECONDS = 366 * 24 * HOUR
GLOBAL_CACHE_SECONDS = 60.0
PAYOUT_KEY = "CONFIG#payout"
PAYOUT_FIELDS = ("blockReward", "payoutPercentage", "payoutPer1MHashes", "xmrToUsd")


def hour_of(timestamp: int) -> int:
    return timestamp - timestamp % HOUR


def stage_hashes(tx: Transaction, site_key: str, hashes: int, now: int) -> None:
    """Add `hashes` to this hour's shards of the site and of all sites."""
    hour = hour_of(now)
    for owner, shards in ((site_key, STATS_SHARDS), (ALL_SITES, GLOBAL_SHARDS)):
        shard = StatsShard(f"{owner}#{random.randrange(shards)}", hour)
        tx.update(f"stats:{owner}", shard, [StatsShard.hashes.add(hashes)])


def hourly_totals(owner: str, first_hour: int, last_hour: int) -> dict[int, int]:
    totals: dict[int, int] = defaultdict(int)
    for k in range(STATS_SHARDS):
        for item in StatsShard.query(f"{owner}#{k}", StatsShard.sk.between(first_hour, last_hour)):
            totals[int(item.sk)] += int(item.hashes)
    return totals


def history(site_key: str, begin: int, end: int, now: int) -> list[dict[str, object]]:
    """Whole hours from begin's hour through end's hour, zero-filled."""
    first, last = hour_of(begin), hour_of(end)
    totals = hourly_totals(site_key, first, last)
    current = hour_of(now)
    entries = []
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


def site_stats(site_key: str, now: int) -> dict[str, object]:
    current = hour_of(now)
    entries = history(site_key, current - (SITE_HISTORY_HOURS - 1) * HOUR, now, now)
    total = sum(int(e["hashesTotal"]) for e in entries)
    return {"hashesPerSecond": entries[-1]["hashesPerSecond"], "hashesTotal": total,
            "history": entries}


_global_cache: dict[int, float] = {}


def global_hashrate(now: int) -> float:
    """Hashes per second over all sites in the last complete hour (cached)."""
    last_hour = hour_of(now) - HOUR
    if last_hour not in _global_cache:
        keys = [(f"{ALL_SITES}#{k}", last_hour) for k in range(GLOBAL_SHARDS)]
        hashes = sum(int(item.hashes) for item in StatsShard.batch_get(keys))
        _global_cache.clear()
        _global_cache[last_hour] = round(hashes / HOUR, 2)
    return _global_cache[last_hour]


def read_payout() -> tuple[dict[str, float], int]:
    try:
        item = Site.get(PAYOUT_KEY, consistent_read=False)
    except DoesNotExist:
        return {name: 0 for name in PAYOUT_FIELDS}, 0
    figures = json.loads(item.payout or "{}")
    return {name: figures.get(name, 0) for name in PAYOUT_FIELDS}, int(item.updated or 0)


def set_payout(figures: dict[str, float], now: int) -> None:
    current, _ = read_payout()
    current.update({k: v for k, v in figures.items() if k in PAYOUT_FIELDS})
    Site(PAYOUT_KEY, payout=json.dumps(current), updated=now).save()
