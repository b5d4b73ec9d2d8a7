"""Levels rise with accepted shares per minute, hold, decay; sources get bigger jobs."""
from __future__ import annotations

import dataclasses
import math

import pytest

from chalicelib import pressure
from chalicelib.pressure import Levels, Pressure

LEVELS = Levels(works=(100, 200, 400, 800), step_up=1000, ceiling=2000)


def test_calm_site_stays_at_the_base() -> None:
    state = pressure.evaluate(Pressure(), LEVELS, 500, now=1000)
    assert pressure.level_now(state, LEVELS, 1000) == 0
    assert pressure.min_work_now(state, LEVELS, 1000) == 100
    assert state.admit == 1.0


def test_steps_to_the_first_level_that_brings_the_same_clients_under() -> None:
    # 3,500 shares/min at work 100: at 400 the same clients make 875 a minute.
    state = pressure.evaluate(Pressure(), LEVELS, 3500, now=1000)
    assert state.level == 2 and state.hot_at == 1000


def test_holds_while_the_excess_one_level_down_would_be_over_half_the_headroom() -> None:
    # Baseline 400/min, so the headroom to the step-up is 600 and half of it 300.
    state = Pressure(level=2, hot_at=1000, over_at=1000, baseline=400, baseline_at=900)
    # 560/min at level 2: an excess of 160, 320 at level 1 > 300: hold.
    held = pressure.evaluate(state, LEVELS, 560, now=1010)
    assert held.level == 2 and held.hot_at == 1010
    # 540/min: 140, 280 one level down: no hold, the decay goes on.
    calm = pressure.evaluate(state, LEVELS, 540, now=1010)
    step = pressure.DECAY_SECONDS
    assert pressure.level_now(calm, LEVELS, 1000 + step - 1) == 2
    assert pressure.level_now(calm, LEVELS, 1000 + step) == 1
    assert pressure.level_now(calm, LEVELS, 1000 + 2 * step) == 0


def test_honest_traffic_at_its_baseline_never_holds_a_level() -> None:
    # The old rule scaled the whole rate by the levels' ratio: 700/min at level 3
    # "would be" 1,400 at level 2 and held it for good. Captchas land one share
    # whatever their size, so only the excess over the baseline is scaled.
    state = Pressure(level=3, hot_at=1000, over_at=1000, baseline=700, baseline_at=900)
    after = pressure.evaluate(state, LEVELS, 700, now=1010)
    assert after.hot_at == 1000
    step = pressure.DECAY_SECONDS
    assert [pressure.level_now(after, LEVELS, 1000 + s)
            for s in (step - 1, step, 2 * step, 3 * step)] == [3, 2, 1, 0]


def test_the_baseline_is_learnt_at_the_base_level_only_and_capped() -> None:
    state = pressure.evaluate(Pressure(), LEVELS, 600, now=1000)
    assert (state.baseline, state.baseline_at, state.baseline_since) == (600, 1000, 1000)
    # Young, it is the average over its life: 300/min for 100 s more of 200.
    young = pressure.evaluate(pressure.evaluate(state, LEVELS, 600, now=1100), LEVELS, 300,
                              now=1200)
    assert young.baseline == pytest.approx(450, abs=0.1)
    # Once old, an average over about BASELINE_SECONDS: ten minutes at 300/min
    # move it most of the way there.
    old = Pressure(baseline=600, baseline_at=5000, baseline_since=1000)
    moved = pressure.evaluate(old, LEVELS, 300, now=5600)
    assert moved.baseline == pytest.approx(300 + 300 * math.exp(-600 / 300), abs=0.1)
    # A burst over the step-up, and anything measured above the base level, is not learnt.
    burst = pressure.evaluate(moved, LEVELS, 5000, now=1610)
    assert burst.level > 0 and burst.baseline == moved.baseline
    later = pressure.evaluate(burst, LEVELS, 900, now=1620)
    assert later.baseline == moved.baseline
    # Never more than BASELINE_CAP of the step-up: an attacker creeping up
    # under the step-up cannot buy itself a site that never climbs.
    crept = Pressure()
    for second in range(0, 36_000, 60):
        crept = pressure.evaluate(crept, LEVELS, 999, now=second)
    assert crept.baseline == LEVELS.step_up * pressure.BASELINE_CAP


def test_a_mature_baseline_holds_longer_than_a_young_one() -> None:
    mature = Pressure(level=2, hot_at=1000, over_at=1000, baseline=400, baseline_at=1000,
                      baseline_since=600)
    young = dataclasses.replace(mature, baseline_since=900)

    def level_after(state: Pressure, seconds: int) -> int:
        # 600/min: an excess of 200 at level 2 is 400 at level 1, over half the headroom.
        for second in range(1000, 1000 + seconds + 1, 5):
            state = pressure.evaluate(state, LEVELS, 600, now=second)
        return pressure.level_now(state, LEVELS, 1000 + seconds)

    later = pressure.YOUNG_HOLD_SECONDS + 2 * pressure.DECAY_SECONDS
    assert level_after(mature, later) == 2
    assert level_after(young, later) == 0


def test_a_wrong_baseline_holds_a_level_no_longer_than_hold_seconds() -> None:
    # A site attacked before it learnt anything: all of its honest 700/min
    # looks like excess, and 1,400 one level down is over half the headroom.
    state = Pressure(level=3, hot_at=1000, over_at=1000)
    levels = {}
    for second in range(1000, 1400, 5):
        state = pressure.evaluate(state, LEVELS, 700, now=second)
        levels[second] = pressure.level_now(state, LEVELS, second)
    hold = pressure.YOUNG_HOLD_SECONDS  # no baseline at all: the shortest hold
    assert all(levels[s] == 3 for s in range(1000, 1000 + hold, 5))
    assert levels[1000 + hold + 3 * pressure.DECAY_SECONDS] == 0


def test_an_attack_that_stops_falls_back_while_honest_traffic_continues() -> None:
    """The consumer's view, second by second: honest 700/min for half an hour,
    an attacker adds 4,000/min at the base work (fewer as the work grows) for
    two minutes, then stops; honest traffic goes on. The measured rate is the
    last minute's, so it trails the attack by up to a minute."""
    state, landed = Pressure(), []  # landed: (second, shares) of the last minute
    trace = {}
    for second in range(0, 2400):
        level = pressure.level_now(state, LEVELS, second)
        attacking = 1800 <= second < 1920
        attack = 4000 / 60 * LEVELS.works[0] / LEVELS.works[level] if attacking else 0
        landed.append((second, 700 / 60 + attack))
        landed = [(s, n) for s, n in landed if s > second - 60]
        state = pressure.evaluate(state, LEVELS, sum(n for _, n in landed), now=second)
        trace[second] = pressure.level_now(state, LEVELS, second)
    assert max(trace[s] for s in range(1800, 1920)) >= 2
    assert max(trace[s] for s in range(0, 1800)) == 0
    back = min(s for s in range(1920, 2400) if all(trace[t] == 0 for t in range(s, 2400)))
    assert back - 1920 <= 150, f"back at the base {back - 1920} s after the attack stopped"


def test_decay_is_one_level_every_decay_seconds_even_with_no_traffic() -> None:
    state = pressure.evaluate(Pressure(), LEVELS, 10_000, now=1000)
    assert state.level == 3
    step = pressure.DECAY_SECONDS
    assert [pressure.level_now(state, LEVELS, 1000 + s) for s in (step - 1, step, 2 * step,
                                                                   3 * step, 600)] \
        == [3, 2, 1, 0, 0]


def test_ceiling_admits_fewer_new_jobs_and_recovers() -> None:
    top = Pressure(level=3, hot_at=1000)
    state = pressure.evaluate(top, LEVELS, 8000, now=1000)
    assert state.admit == pytest.approx(0.5)
    again = pressure.evaluate(state, LEVELS, 4000, now=1010)
    assert again.admit == pytest.approx(0.5 * (2000 / 4000) ** 0.5, abs=1e-4)
    # Under the ceiling the admitted part grows back.
    eased = pressure.evaluate(again, LEVELS, 1000, now=1020)
    assert eased.admit > again.admit
    # And with no consumer writes at all, it recovers within RECOVER_SECONDS and a half.
    assert pressure.admit_now(again, 1010 + pressure.RECOVER_SECONDS * 2) == 1.0
    assert pressure.retry_after(0.02) > pressure.retry_after(0.5) >= 1


def test_admission_never_drops_below_its_floor() -> None:
    state = Pressure(level=3, hot_at=1000)
    for second in range(1000, 1200, 10):
        state = pressure.evaluate(state, LEVELS, 10**7, now=second)
    assert state.admit == pressure.MIN_ADMIT


def test_default_levels_double_from_the_base() -> None:
    levels = pressure.default_levels(65536)
    assert levels.works == (65536, 131072, 262144, 524288)
    levels.check()


@pytest.mark.parametrize("works, step_up, ceiling", [
    ((), 10, 10), ((5, 5), 10, 10), ((10, 5), 10, 10), ((0,), 10, 10),
    ((2**33,), 10, 10), ((5,), 0, 10), ((5,), 10, 0), (tuple(range(1, 10)), 10, 10)])
def test_operator_levels_are_checked(works: tuple[int, ...], step_up: int, ceiling: int) -> None:
    with pytest.raises(ValueError):
        Levels(works, step_up, ceiling).check()


def test_a_source_rate_converges_to_its_hashes_and_shares_per_second() -> None:
    rates = pressure.SourceRates()
    for second in range(600):
        rates.add("gpu", 1_000_000, float(second))  # one share of 1 MH a second
    rate = rates.rate("gpu", 600.0)
    assert rate.hashes == pytest.approx(1_000_000, rel=0.05)
    assert rate.shares == pytest.approx(1.0, rel=0.05)
    assert rates.rate("gpu", 600.0 + 600).hashes < 1_000_000 * 0.001
    assert rates.rate("never", 0.0) == pressure.SourceRate(since=0.0)


def test_a_source_pays_nothing_extra_up_to_its_allowance_and_at_most_twice() -> None:
    assert pressure.source_factor(pressure.SourceRate(1e6, 0.0)) == 1.0
    # Fifty visitors behind one address solving a captcha each a minute.
    assert pressure.source_factor(pressure.SourceRate(1e6, 50 / 60)) == 1.0
    assert pressure.source_factor(pressure.SourceRate(1e6, 1.5)) == pytest.approx(1.5)
    # A GPU landing a thousand shares a second pays twice, not 2^32 / base:
    # the request buckets, not the work, bound what one address lands.
    assert pressure.source_factor(pressure.SourceRate(1e12, 1000.0)) \
        == pressure.MAX_SOURCE_FACTOR == 2.0


def test_a_source_over_its_ceiling_waits_until_it_is_back_under() -> None:
    assert pressure.source_wait(pressure.SourceRate(1e6, 50 / 60)) == 0
    assert pressure.source_wait(pressure.SourceRate(1e6, pressure.SOURCE_CEILING)) == 0
    # At 5 a second the smoothed rate is back under 1.25 after 60 ln 4 = 83 s: capped at 60.
    assert pressure.source_wait(pressure.SourceRate(1e12, 5.0)) == 60
    # Just over: about a second; the wait is exactly what the rate needs to fade.
    wait = pressure.source_wait(pressure.SourceRate(1e6, 1.3))
    assert wait == math.ceil(60 * math.log(1.3 / 1.25))
    assert pressure.SourceRate(1e6, 1.3).at(float(wait)).shares <= pressure.SOURCE_CEILING
    # The operator's factor for a large NAT raises the ceiling and the allowance alike.
    assert pressure.source_wait(pressure.SourceRate(1e12, 5.0), scale=4) == 0
    assert pressure.source_factor(pressure.SourceRate(1e12, 5.0), scale=4) == 1.25


def test_an_office_behind_one_address_never_pays_for_its_neighbours() -> None:
    rates = pressure.SourceRates()
    factors = []
    for visitor in range(50):  # one captcha each, evenly over a minute
        second = visitor * 60 / 50
        factors.append(pressure.source_factor(rates.rate("office", second)))
        rates.add("office", 4_194_304, second)
    assert set(factors) == {1.0}


def test_heavy_sources_keep_those_landing_the_most_over_their_allowance() -> None:
    batch = {f"s{i}": (600 * (i + 1), 61 + 3 * i) for i in range(40)}  # 1.02..2.97 shares/s
    batch["calm"] = (10**9, 30)  # half a share a second: no factor, not heavy
    heavy = pressure.merge_heavy({}, batch, now=100)
    assert len(heavy) == pressure.MAX_HEAVY
    assert "s39" in heavy and "s3" not in heavy and "calm" not in heavy
    assert heavy["s39"].shares == pytest.approx(178 / 60, abs=1e-3) and heavy["s39"].since == 100
    later = pressure.merge_heavy(heavy, {}, now=100 + 600)
    assert later == {}
