"""Work that rises with pressure, and falls back: pure logic, no I/O.

Two controls, both driven only by accepted shares (work a client actually
did), never by requests an attacker can send for free:

* Per site, levels (mCaptcha's idea): the minimum work per submit is
  `works[level]`. The stream consumer measures the site's accepted shares
  per minute; above `step_up` the site climbs to the first level at which
  the same clients would stay under it. It holds a level while the level
  below would put it back over half of `step_up`, and otherwise decays one
  level a minute (Tor's onion-service defence decays when quiet; decay is
  computed at read time, so an attack that simply stops still decays).
  At the top level, a site over its `ceiling` admits only part of the new
  job requests (`admit`, a proportional control on the measured rate);
  the rest answer `busy` with `Retry-After` before any DynamoDB write.

* Per source, a rate: the accepted hashes per second of one source,
  smoothed over about a minute. A source's jobs are sized to take it about
  `SOURCE_SUBMIT_SECONDS` at that rate, however many chains it runs, so a
  GPU earns one submit per interval like a phone, only a bigger one.

Why shares, not hashes, per minute: what a site's flood costs is its
submits (a Lambda call and a transaction each), and a miner's vardiff
makes its hashes per minute unrelated to its submits. Counting shares also
makes the levels stable: raising the work lowers the very figure measured,
so the step-up and hold thresholds are set apart by the levels' ratio.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

# A level decays this often when the pressure no longer holds it.
DECAY_SECONDS = 60
# A source's jobs take it about this long at its own accepted rate.
SOURCE_SUBMIT_SECONDS = 10.0
# Smoothing time of the per-source rates (hashes/s over about this long).
RATE_SECONDS = 60.0
# `admit` never goes below this (some new jobs always get through), and an
# admission the consumer stopped refreshing recovers over RECOVER_SECONDS.
MIN_ADMIT = 0.02
RECOVER_SECONDS = 60
# A job never holds more than this (pow.MAX_JOB_WORK).
MAX_WORK = 2**32
MAX_LEVELS = 8
# Heavy sources a site record publishes (each ~40 bytes on the record).
MAX_HEAVY = 32


@dataclass(frozen=True)
class Levels:
    """A site's levels: minimum work per submit at each level (ascending,
    the first is the base), shares per minute that step up, and the
    top level's ceiling in shares per minute."""

    works: tuple[int, ...]
    step_up: int
    ceiling: int

    def check(self) -> None:
        """ValueError unless the levels make sense (the operator set them)."""
        if not 1 <= len(self.works) <= MAX_LEVELS:
            raise ValueError(f"1 to {MAX_LEVELS} levels")
        if any(not 1 <= w <= MAX_WORK for w in self.works):
            raise ValueError(f"each level's work from 1 to {MAX_WORK}")
        if any(b <= a for a, b in zip(self.works, self.works[1:], strict=False)):
            raise ValueError("levels must rise")
        if not 1 <= self.step_up <= 10**7 or not 1 <= self.ceiling <= 10**7:
            raise ValueError("step-up and ceiling from 1 to 10,000,000 shares a minute")

    @property
    def top(self) -> int:
        return len(self.works) - 1


def default_levels(base_work: int) -> Levels:
    """The base work and three doublings; 1,200 shares a minute step up, 3,000 is the ceiling."""
    works = tuple(min(MAX_WORK, base_work * 2**i) for i in range(4))
    return Levels(works=tuple(sorted(set(works))), step_up=1200, ceiling=3000)


@dataclass(frozen=True)
class Pressure:
    """A site's pressure state, written by the stream consumer onto the site record."""

    level: int = 0
    hot_at: int = 0  # when the measured pressure last held `level`
    admit: float = 1.0  # part of new job requests admitted
    admit_at: int = 0  # when `admit` was set
    rate: float = 0.0  # shares per minute last measured


def level_now(pressure: Pressure, levels: Levels, now: int) -> int:
    """The level in force: the stored one, less one per DECAY_SECONDS not held."""
    quiet = max(0, now - pressure.hot_at) // DECAY_SECONDS
    return max(0, min(levels.top, pressure.level - quiet))


def admit_now(pressure: Pressure, now: int) -> float:
    """The admitted part in force: it recovers to 1 once the consumer stops lowering it."""
    if pressure.admit >= 1.0:
        return 1.0
    stale = max(0, now - pressure.admit_at - RECOVER_SECONDS // 2)
    return min(1.0, pressure.admit + stale / RECOVER_SECONDS)


def min_work_now(pressure: Pressure, levels: Levels, now: int) -> int:
    return levels.works[level_now(pressure, levels, now)]


def evaluate(pressure: Pressure, levels: Levels, shares_per_minute: float, now: int) -> Pressure:
    """The state after measuring `shares_per_minute` accepted at `now`."""
    current = level_now(pressure, levels, now)
    rate = max(0.0, shares_per_minute)
    level, hot_at = current, pressure.hot_at
    if rate > levels.step_up:
        # The same clients at level j would submit rate * works[current] / works[j].
        level = next((j for j in range(current, levels.top + 1)
                      if rate * levels.works[current] / levels.works[j] <= levels.step_up),
                     levels.top)
        hot_at = now
    elif current > 0 and rate * levels.works[current] / levels.works[current - 1] \
            > levels.step_up / 2:
        hot_at = now  # one level down would be over again: hold
    elif current < pressure.level:
        hot_at = now - (now - pressure.hot_at) % DECAY_SECONDS  # keep decaying from here
    admit, admit_at = admit_now(pressure, now), pressure.admit_at
    if level == levels.top and rate > 0 and (rate > levels.ceiling or admit < 1.0):
        # Proportional, damped: admitted demand scales with `admit`.
        admit = max(MIN_ADMIT, min(1.0, admit * math.sqrt(levels.ceiling / rate)))
        admit_at = now
    elif level < levels.top:
        admit = 1.0
    return Pressure(level=level, hot_at=hot_at, admit=round(admit, 4), admit_at=admit_at,
                    rate=round(rate, 1))


def retry_after(admit: float) -> int:
    """Seconds a refused job request waits: longer the fewer get through."""
    return max(1, min(30, math.ceil(2.0 / math.sqrt(max(admit, MIN_ADMIT)))))


# --- per-source rates -------------------------------------------------------------

def decayed(rate: float, since: float, now: float) -> float:
    """A smoothed rate `since` seconds old, as it reads at `now`."""
    return rate * math.exp(-max(0.0, now - since) / RATE_SECONDS)


def add_work(rate: float, since: float, hashes: int, now: float) -> float:
    """The smoothed rate (hashes/s over ~RATE_SECONDS) after `hashes` accepted at `now`."""
    return decayed(rate, since, now) + hashes / RATE_SECONDS


def source_min_work(rate: float) -> int:
    """The least work a job of a source at `rate` hashes/s holds."""
    return int(min(MAX_WORK, rate * SOURCE_SUBMIT_SECONDS))


class SourceRates:
    """The container's own view of each source's accepted rate (by share tag),
    updated by the shares it credits; the least recent are dropped first."""

    def __init__(self, max_sources: int = 50_000) -> None:
        self.max_sources = max_sources
        self._rates: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def add(self, tag: str, hashes: int, now: float) -> None:
        rate, since = self._rates.pop(tag, (0.0, now))
        self._rates[tag] = (add_work(rate, since, hashes, now), now)
        if len(self._rates) > self.max_sources:
            self._rates.popitem(last=False)

    def rate(self, tag: str, now: float) -> float:
        rate, since = self._rates.get(tag, (0.0, now))
        return decayed(rate, since, now)

    def clear(self) -> None:
        self._rates.clear()


def merge_heavy(published: dict[str, tuple[float, int]], batch: dict[str, int], now: int,
                floor: float) -> dict[str, tuple[float, int]]:
    """A site's heavy sources after a batch: tag -> (rate, as of). The
    published rates decay, the batch's hashes add, and only the MAX_HEAVY
    fastest at or above `floor` hashes/s stay."""
    merged: dict[str, tuple[float, int]] = {}
    for tag, (rate, since) in published.items():
        merged[tag] = (decayed(rate, since, now), now)
    for tag, hashes in batch.items():
        rate, _ = merged.get(tag, (0.0, now))
        merged[tag] = (rate + hashes / RATE_SECONDS, now)
    kept = sorted(((t, r) for t, r in merged.items() if r[0] >= floor),
                  key=lambda item: -item[1][0])[:MAX_HEAVY]
    return {tag: (round(rate, 1), since) for tag, (rate, since) in kept}
