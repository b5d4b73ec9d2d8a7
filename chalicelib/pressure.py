"""Work that rises with pressure, and falls back: pure logic, no I/O.

Two controls, both driven only by accepted shares (work a client actually
did), never by requests an attacker can send for free:

* Per site, levels (mCaptcha's idea): the minimum work per submit is
  `works[level]`. The stream consumer measures the site's accepted shares
  per minute. While the site is at its base level it also learns its
  honest `baseline` (a slow average of that rate, at most
  BASELINE_CAP of the step-up). Above `step_up` the site climbs to the
  first level at which the *excess over the baseline* would stay under
  the step-up: what an attacker lands shrinks as the work grows, what
  honest visitors land does not (a captcha is one share whatever its
  size), so only the excess is scaled by the levels' ratio. A level holds
  while one level down would put the excess back over half the headroom
  (step-up less baseline), and never longer than HOLD_SECONDS after the
  rate was last over the step-up (so a wrong baseline cannot hold a level
  for good); otherwise it decays one level every DECAY_SECONDS, computed
  at read time, so an attack that simply stops decays too. At the top
  level, a site over its `ceiling` admits only part of the new job
  requests (`admit`, a proportional control on the measured rate) of the
  sources that landed work lately (sizing.admit, recent_sources: one that
  landed none goes first); the rest answer `busy` with `Retry-After`
  before any DynamoDB write.

* Per source (an address: one visitor, or an office behind a NAT), a
  gentle factor: a source landing more than SOURCE_ALLOWANCE shares a
  second (smoothed over about a minute) gets jobs up to
  MAX_SOURCE_FACTOR times the site's level, never more. The per-source
  request buckets (limits.py, WAF) bound how many shares any address can
  land; the factor only makes the heaviest pay a little more per share,
  so fifty honest visitors behind one address never pay hundreds of times
  the base for each other.

Why shares, not hashes, per minute: what a site's flood costs is its
submits (a Lambda call and a transaction each), and a miner's vardiff
makes its hashes per minute unrelated to its submits.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

# A level decays this often when the pressure no longer holds it.
DECAY_SECONDS = 15
# A level is held at most this long after the rate was last over the step-up:
# HOLD_SECONDS once the baseline is BASELINE_SECONDS old, YOUNG_HOLD_SECONDS
# before (a young baseline may be short of the honest rate).
HOLD_SECONDS = 120
YOUNG_HOLD_SECONDS = 30
# The honest baseline: averaged over about this long (over its whole life
# while younger), only at the base level, and never more than this part of
# the step-up.
BASELINE_SECONDS = 300
BASELINE_CAP = 0.75
# Smoothing time of the per-source rates (shares/s over about this long).
RATE_SECONDS = 60.0
# `admit` never goes below this (some new jobs always get through), and an
# admission the consumer stopped refreshing recovers over RECOVER_SECONDS.
MIN_ADMIT = 0.02
RECOVER_SECONDS = 60
# Shares a second one address may land before its jobs grow (an office of
# fifty solving a captcha each a minute lands under one), and the most they
# grow: an honest neighbour behind a busy address pays at most twice. Over
# SOURCE_CEILING shares a second, the address gets no new job until its rate
# is back under: what one address lands, whatever its hash rate, converges
# there.
SOURCE_ALLOWANCE = 1.0
MAX_SOURCE_FACTOR = 2.0
SOURCE_CEILING = 1.25
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
    baseline: float = 0.0  # honest shares per minute, learnt at the base level
    baseline_at: int = 0  # when `baseline` was last learnt
    baseline_since: int = 0  # when it was first learnt
    over_at: int = 0  # when the rate was last over the step-up


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


def learn_baseline(pressure: Pressure, levels: Levels, rate: float, level: int,
                   now: int) -> tuple[float, int, int]:
    """(baseline, when, since): the honest average moves towards `rate` only
    while the site is at its base level and under the step-up, so an attack's
    burst (which raises the level) is never learnt as honest. Young, it is
    the average over its whole life (it catches up with a site's traffic
    within minutes); then an average over about BASELINE_SECONDS."""
    if level > 0 or rate > levels.step_up:
        return pressure.baseline, pressure.baseline_at, pressure.baseline_since
    if pressure.baseline_at <= 0:
        learnt, since = rate, now
    else:
        since = pressure.baseline_since or pressure.baseline_at
        elapsed = max(0, now - pressure.baseline_at)
        weight = max(1.0 - math.exp(-elapsed / BASELINE_SECONDS),
                     elapsed / max(1, now - since))
        learnt = pressure.baseline + (rate - pressure.baseline) * min(1.0, weight)
    return min(learnt, levels.step_up * BASELINE_CAP), now, since


def _projected(baseline: float, excess: float, levels: Levels, at: int, to: int) -> float:
    """The rate at level `to` of a site measured at level `at`: the baseline
    stays, the excess scales with the work (an attacker's hashes are fixed)."""
    return baseline + excess * levels.works[at] / levels.works[to]


def _climb(baseline: float, excess: float, levels: Levels, current: int) -> int:
    return next((j for j in range(current, levels.top + 1)
                 if _projected(baseline, excess, levels, current, j) <= levels.step_up),
                levels.top)


def _holds(pressure: Pressure, levels: Levels, baseline: float, excess: float, current: int,
           now: int) -> bool:
    """Whether one level down would bring the excess back over half the headroom."""
    mature = pressure.baseline_at > 0 and \
        pressure.baseline_at - (pressure.baseline_since or pressure.baseline_at) >= BASELINE_SECONDS
    if current == 0 or now - pressure.over_at >= (HOLD_SECONDS if mature else YOUNG_HOLD_SECONDS):
        return False
    headroom = levels.step_up - baseline
    return _projected(0.0, excess, levels, current, current - 1) > headroom / 2


def evaluate(pressure: Pressure, levels: Levels, shares_per_minute: float, now: int) -> Pressure:
    """The state after measuring `shares_per_minute` accepted at `now`."""
    current = level_now(pressure, levels, now)
    rate = max(0.0, shares_per_minute)
    baseline, baseline_at, baseline_since = learn_baseline(pressure, levels, rate, current, now)
    excess = max(0.0, rate - baseline)
    level, hot_at, over_at = current, pressure.hot_at, pressure.over_at
    if rate > levels.step_up:
        level, hot_at, over_at = _climb(baseline, excess, levels, current), now, now
    elif _holds(pressure, levels, baseline, excess, current, now):
        hot_at = now
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
                    rate=round(rate, 1), baseline=round(baseline, 1), baseline_at=baseline_at,
                    baseline_since=baseline_since, over_at=over_at)


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


def source_factor(rate: SourceRate, scale: float = 1.0) -> float:
    """How much bigger than the site's level a source's jobs are: 1 up to
    SOURCE_ALLOWANCE shares a second (times `scale`, the operator's factor for
    a large NAT), rising linearly to MAX_SOURCE_FACTOR at twice that, and
    never more (an address is many visitors, not one)."""
    allowance = SOURCE_ALLOWANCE * max(scale, 1e-9)
    over = (rate.shares - allowance) / allowance
    return 1.0 + (MAX_SOURCE_FACTOR - 1.0) * min(1.0, max(0.0, over))


def source_wait(rate: SourceRate, scale: float = 1.0) -> int:
    """Seconds a source over SOURCE_CEILING shares a second (times `scale`)
    waits for a new job: until its smoothed rate is back under the ceiling
    (0: admitted). Not a lottery: asking again sooner gets nothing, so what
    one address lands converges to the ceiling however fast it solves."""
    ceiling = SOURCE_CEILING * max(scale, 1e-9)
    if rate.shares <= ceiling:
        return 0
    return max(1, min(int(RATE_SECONDS), math.ceil(RATE_SECONDS * math.log(rate.shares / ceiling))))


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


def merge_heavy(published: dict[str, SourceRate], batch: dict[str, tuple[int, int]],
                now: int) -> dict[str, SourceRate]:
    """A site's heavy sources after a batch (tag -> rates): the published rates
    decay, the batch's (hashes, shares) add, and only the MAX_HEAVY landing
    the most shares, among those whose factor is over 1, stay."""
    merged = {tag: rate.at(now) for tag, rate in published.items()}
    for tag, (hashes, shares) in batch.items():
        merged[tag] = merged.get(tag, SourceRate(since=now)).plus(hashes, shares, now)
    kept = sorted(((rate.shares, tag) for tag, rate in merged.items()
                   if source_factor(rate) > 1.0), reverse=True)[:MAX_HEAVY]
    return {tag: SourceRate(round(merged[tag].hashes, 1), round(merged[tag].shares, 4), now)
            for _shares, tag in kept}
