"""Which sources landed work on a site lately: what tells a visitor from a
botnet once the site is at its ceiling.

At the top level a site admits only part of the new jobs (pressure.admit).
Admitting every source alike makes an honest visitor wait as long as each of
ten thousand attacking CPUs does for its next share: to the protocol they are
all visitors doing the work. What differs is time: an attacker's sources
mine on and on, a visitor solves one captcha and leaves. So a source with no
credited share on the site in the last 5 to 10 minutes is admitted at once,
and a source with one faces the site's admission as before.

Only credited shares feed it (the stream consumer records the sources of each
batch while the site is under pressure), never requests, so a flood of free
requests moves nothing, and an address is only ever made "known" by its own
work: an office behind one address gets the site's admission as before, not
worse. An attacker's addresses are each fresh once a window, at most
sources / EPOCH_SECONDS a second beyond the ceiling; one with more
addresses than an epoch holds (CAPACITY) fills it, and then every source is
admitted alike again, as before this module.

Storage (StatsShard, pk = RS#<site_key>, sk = epoch start): one item per
EPOCH_SECONDS holding a number set of 32-bit fingerprints of share tags
(keyed tags: no address is stored). The consumer ADDs a batch's fingerprints
in one conditional update; the request path reads the last two epochs in one
query, at most once per CACHE_SECONDS per site and container, and only while
the site is admitting part of its jobs.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from pynamodb.expressions.condition import size

from chalicelib.store.models import StatsShard
from chalicelib.store.transactions import serialize, write_one

# A source stays known from its credited share to the end of the next epoch:
# 5 to 10 minutes, longer than a captcha visit, short of a return visit.
EPOCH_SECONDS = 300
# Fingerprints an epoch's item takes in (~6 bytes each: under DynamoDB's
# 400 KB item with a batch's worth over). Past it the epoch is full.
CAPACITY = 40_000
# How long a container trusts what it read: until a source's first credited
# share is seen here it stays fresh, so the attack's first seconds let each
# address through for this long after its batch (10 s: 13.4 s desktop p95
# under 10,000 CPU sources, 2 s: 11.1 s; a query every 2 s per container
# costs ~$0.06 an hour at that attack, nothing otherwise).
CACHE_SECONDS = 2


def fingerprint(tag: str) -> int:
    """A share tag's 32-bit fingerprint (tags are keyed already; this only shortens them)."""
    return int.from_bytes(hashlib.sha256(tag.encode()).digest()[:4], "big")


def epoch_of(now: int) -> int:
    return now - now % EPOCH_SECONDS


def record(site_key: str, tags: Iterable[str], now: int) -> bool:
    """Add these credited sources to the current epoch (one conditional write);
    False when the epoch is full (nothing added)."""
    prints = {fingerprint(tag) for tag in tags if tag}
    if not prints:
        return True
    epoch = epoch_of(now)
    condition = StatsShard.sources.does_not_exist() \
        | (size(StatsShard.sources) < CAPACITY)  # type: ignore[no-untyped-call]
    actions = [StatsShard.sources.add(prints), StatsShard.expires.set(epoch + 2 * EPOCH_SECONDS)]
    # ReturnValues NONE: the grown set is not sent back on every batch.
    kwargs = {"Key": {"pk": {"S": StatsShard.recent_pk(site_key)}, "sk": {"N": str(epoch)}},
              "ReturnValues": "NONE", **serialize(StatsShard, condition, actions)}
    held, _ = write_one("UpdateItem", StatsShard, kwargs)
    return held


@dataclass(frozen=True)
class Recent:
    """The sources credited in the current and the previous epoch."""

    prints: frozenset[int]
    full: bool  # an epoch reached CAPACITY: sources past it were not recorded

    def is_fresh(self, tag: str) -> bool:
        """No credited share lately, and the record is whole (else nobody is)."""
        return not self.full and fingerprint(tag) not in self.prints


def load(site_key: str, now: int) -> Recent:
    """One query of the site's last two epochs."""
    prints: set[int] = set()
    full = False
    oldest = epoch_of(now) - EPOCH_SECONDS
    for item in StatsShard.query(StatsShard.recent_pk(site_key), StatsShard.sk >= oldest):
        stored = item.sources or set()
        full = full or len(stored) >= CAPACITY
        prints.update(int(p) for p in stored)
    return Recent(frozenset(prints), full)


_cache: dict[str, tuple[int, Recent]] = {}


def recent(site_key: str, now: int) -> Recent:
    """The site's recent sources, as this container last read them (≤ CACHE_SECONDS old)."""
    hit = _cache.get(site_key)
    if hit is None or not 0 <= now - hit[0] < CACHE_SECONDS:
        if len(_cache) > 1000:
            _cache.clear()
        hit = _cache[site_key] = (now, load(site_key, now))
    return hit[1]


def clear_cache() -> None:
    _cache.clear()
