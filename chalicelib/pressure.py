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
  job requests of the sources it already credits (`admit`, a proportional
  control on the measured rate; a source with no recent accepted share is
  always admitted, so a first captcha does not queue behind the miners);
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
# A source counts as known (its new chains face a site's ceiling) while its
# smoothed accepted shares amount to at least this many in RATE_SECONDS.
KNOWN_SHARES = 0.5
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
    """The base work and three doublings; 3,000 shares a minute step up (honest
    traffic of 200 captchas and 50 new miners a minute makes about 1,700), and
    6,000 a minute is the ceiling (the /pow/submit stage throttle's 100 a second)."""
    works = tuple(min(MAX_WORK, base_work * 2**i) for i in range(4))
    return Levels(works=tuple(sorted(set(works))), step_up=3000, ceiling=6000)


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

@dataclass(frozen=True)
class SourceRate:
    """A source's accepted hashes and shares per second, smoothed over about
    RATE_SECONDS, as they stood at `since`."""

    hashes: float = 0.0
    shares: float = 0.0
    since: float = 0.0

    def at(self, now: float) -> SourceRate:
        """The rates as they read at `now` (they decay while nothing is accepted)."""
        fade = math.exp(-max(0.0, now - self.since) / RATE_SECONDS)
        return SourceRate(self.hashes * fade, self.shares * fade, max(now, self.since))

    def plus(self, hashes: int, shares: int, now: float) -> SourceRate:
        """The rates after `shares` shares of `hashes` in all were accepted at `now`."""
        faded = self.at(now)
        return SourceRate(faded.hashes + hashes / RATE_SECONDS,
                          faded.shares + shares / RATE_SECONDS, faded.since)


def source_min_work(rate: SourceRate) -> int:
    """The least work of a job for a source at `rate`: SOURCE_SUBMIT_SECONDS
    at its accepted hash rate, times how many submits it lands in that time.

    A source limited by work (it solves as fast as it can) settles at one
    submit per interval; one that lands more submits (many small jobs at
    once, through many containers or chains) gets jobs that many times
    larger at once, instead of creeping up from its small jobs' rate."""
    burst = max(1.0, rate.shares * SOURCE_SUBMIT_SECONDS)
    return int(min(MAX_WORK, rate.hashes * SOURCE_SUBMIT_SECONDS * burst))


class SourceRates:
    """The container's own view of each source's accepted rates (by share tag),
    updated by the shares it credits; the least recent are dropped first."""

    def __init__(self, max_sources: int = 50_000) -> None:
        self.max_sources = max_sources
        self._rates: OrderedDict[str, SourceRate] = OrderedDict()

    def add(self, tag: str, hashes: int, now: float) -> None:
        rate = self._rates.pop(tag, SourceRate(since=now))
        self._rates[tag] = rate.plus(hashes, 1, now)
        if len(self._rates) > self.max_sources:
            self._rates.popitem(last=False)

    def rate(self, tag: str, now: float) -> SourceRate:
        return self._rates.get(tag, SourceRate(since=now)).at(now)

    def clear(self) -> None:
        self._rates.clear()


def merge_heavy(published: dict[str, SourceRate], batch: dict[str, tuple[int, int]], now: int,
                base_work: int) -> dict[str, SourceRate]:
    """A site's heavy sources after a batch (tag -> rates): the published rates
    decay, the batch's (hashes, shares) add, and only the MAX_HEAVY whose jobs
    outgrow `base_work` the most stay."""
    merged = {tag: rate.at(now) for tag, rate in published.items()}
    for tag, (hashes, shares) in batch.items():
        merged[tag] = merged.get(tag, SourceRate(since=now)).plus(hashes, shares, now)
    kept = sorted(((source_min_work(rate), tag) for tag, rate in merged.items()
                   if source_min_work(rate) > base_work), reverse=True)[:MAX_HEAVY]
    return {tag: SourceRate(round(merged[tag].hashes, 1), round(merged[tag].shares, 4), now)
            for _work, tag in kept}
