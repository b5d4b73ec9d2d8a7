"""Every accepted `WORKPROOF_SOURCE_LIMITS` factor keeps every route class usable:
a bucket always holds a whole request and refills."""
from __future__ import annotations

import math

import pytest

from chalicelib import config, limits
from chalicelib.limits import SourceLimits

SMALLEST = 0.01  # the least factor config accepts


def test_the_least_factor_is_accepted() -> None:
    environ = {config.ENV_SOURCE_LIMITS: str(SMALLEST)}
    assert config._source_limits(environ) == SMALLEST
    with pytest.raises(config.SettingsError):
        config._source_limits({config.ENV_SOURCE_LIMITS: "0.009"})


@pytest.mark.parametrize("route", sorted(limits.RULES))
def test_the_least_factor_admits_a_request_then_refills(route: str) -> None:
    rule = limits.RULES[route]
    buckets = SourceLimits(scale=SMALLEST)
    # A new source's first request goes through, in every class.
    assert buckets.admit(route, "visitor", 0.0) == 0
    while buckets.admit(route, "visitor", 0.0) == 0:
        pass
    # Drained, it waits for one whole token at the scaled rate, and gets it.
    refill = 1 / (rule.per_second * SMALLEST)
    wait = buckets.admit(route, "visitor", 0.0)
    assert 1 <= wait <= math.ceil(refill)
    assert buckets.admit(route, "visitor", float(wait)) == 0
    # A caller's fault pushes the next request later (its debt is at most one
    # bucket), never out of reach.
    buckets.charge_failure(route, "visitor", float(wait))
    later = buckets.admit(route, "visitor", float(wait))
    assert 1 <= later <= math.ceil((1 + max(1.0, rule.capacity * SMALLEST)) * refill)
    assert buckets.admit(route, "visitor", float(wait + later)) == 0


@pytest.mark.parametrize("scale", [SMALLEST, 0.04, 0.05, 0.3, 1.0, 1000.0])
def test_a_new_source_always_gets_a_whole_request_in_every_class(scale: float) -> None:
    buckets = SourceLimits(scale=scale)
    for route, rule in limits.RULES.items():
        first = rule.capacity if rule.first is None else rule.first
        expected = min(max(1, rule.capacity * scale), max(1, first * scale))
        admitted = 0
        while buckets.admit(route, "new", 0.0) == 0:
            admitted += 1
        assert admitted == math.floor(expected) >= 1, route
