"""Levels rise with accepted shares per minute, hold, decay; sources get bigger jobs."""
from __future__ import annotations

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


def test_holds_while_one_level_down_would_be_over_half_step_up() -> None:
    state = Pressure(level=2, hot_at=1000)
    # At level 2, 300/min; at level 1 that is 600 > 500: hold.
    held = pressure.evaluate(state, LEVELS, 300, now=1030)
    assert held.level == 2 and held.hot_at == 1030
    # 200/min would be 400 at level 1: no hold, decay goes on.
    calm = pressure.evaluate(state, LEVELS, 200, now=1030)
    assert pressure.level_now(calm, LEVELS, 1030) == 2
    assert pressure.level_now(calm, LEVELS, 1060) == 1


def test_decay_is_one_level_a_minute_even_with_no_traffic() -> None:
    state = pressure.evaluate(Pressure(), LEVELS, 10_000, now=1000)
    assert state.level == 3
    assert [pressure.level_now(state, LEVELS, 1000 + s) for s in (59, 60, 120, 180, 600)] \
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


def test_a_work_bound_source_gets_ten_seconds_of_its_rate() -> None:
    # One submit every 10 s at 1 MH/s: 10 MH jobs.
    assert pressure.source_min_work(pressure.SourceRate(1e6, 0.1)) == 10_000_000
    assert pressure.source_min_work(pressure.SourceRate(1e12, 0.1)) == pressure.MAX_WORK


def test_a_source_landing_many_small_jobs_gets_that_many_times_more_at_once() -> None:
    # 20 submits a second of 65,536 hashes: 1.3 MH/s accepted, 200 submits per interval.
    rate = pressure.SourceRate(20 * 65536, 20.0)
    assert pressure.source_min_work(rate) == int(20 * 65536 * 10 * 200)


def test_heavy_sources_keep_those_whose_jobs_outgrow_the_base_most() -> None:
    batch = {f"s{i}": (60 * (i + 1), 6) for i in range(40)}  # 1..40 hashes/s, 0.1 shares/s
    heavy = pressure.merge_heavy({}, batch, now=100, base_work=50)
    assert len(heavy) == pressure.MAX_HEAVY
    assert "s39" in heavy and "s3" not in heavy
    assert heavy["s39"].hashes == 40.0 and heavy["s39"].since == 100
    later = pressure.merge_heavy(heavy, {}, now=100 + 600, base_work=50)
    assert later == {}
