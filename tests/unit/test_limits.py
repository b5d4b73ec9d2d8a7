"""Per-source token buckets: one source's flood runs dry, others are untouched."""
from __future__ import annotations

from chalicelib import limits
from chalicelib.limits import Rule, SourceLimits

RULES = {"r": Rule(capacity=3, per_second=1.0, failure_cost=2)}


def test_a_source_gets_its_capacity_then_waits_for_refill() -> None:
    bucket = SourceLimits(RULES)
    assert [bucket.admit("r", "a", 0.0) for _ in range(3)] == [0, 0, 0]
    assert bucket.admit("r", "a", 0.0) == 1
    assert bucket.admit("r", "a", 0.5) == 1  # half a token: still refused
    assert bucket.admit("r", "a", 1.0) == 0


def test_one_source_draining_leaves_another_untouched() -> None:
    bucket = SourceLimits(RULES)
    for _ in range(100):
        bucket.admit("r", "flood", 0.0)
    assert bucket.admit("r", "honest", 0.0) == 0


def test_failures_cost_more_and_push_the_retry_later() -> None:
    bucket = SourceLimits(RULES)
    assert bucket.admit("r", "a", 0.0) == 0
    bucket.charge_failure("r", "a", 0.0)  # 2 left - 2 = 0
    assert bucket.admit("r", "a", 0.0) == 1
    for _ in range(10):
        bucket.charge_failure("r", "a", 0.0)
    # Down to the floor (-capacity): four seconds to one token again.
    assert bucket.admit("r", "a", 0.0) == 4


def test_scale_multiplies_and_zero_turns_limits_off() -> None:
    doubled = SourceLimits(RULES, scale=2.0)
    assert [doubled.admit("r", "a", 0.0) for _ in range(7)] == [0] * 6 + [1]
    off = SourceLimits(RULES, scale=0)
    assert all(off.admit("r", "a", 0.0) == 0 for _ in range(1000))


def test_buckets_are_bounded_least_recent_first() -> None:
    bucket = SourceLimits(RULES, max_buckets=2)
    for tag in ("a", "b", "c"):
        bucket.admit("r", tag, 0.0)
    assert len(bucket) == 2


def test_route_classes() -> None:
    assert limits.route_class("/pow/job") == limits.POW_JOB
    assert limits.route_class("/pow/submit") == limits.POW_SUBMIT
    assert limits.route_class("/user/balance") == limits.API
    assert limits.route_class("/token/verify") == limits.API
    assert limits.route_class("/stats/site") == limits.API
    assert limits.route_class("/recaptcha/api/siteverify") == limits.SITEVERIFY
    assert limits.route_class("/dashboard/signin") == limits.DASHBOARD
    assert limits.route_class("/l/{code}") == limits.PAGE
    assert limits.route_class("/{p0}/{p1}") == limits.OTHER
