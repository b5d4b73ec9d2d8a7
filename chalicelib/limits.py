"""Per-source request limits, held in the container, checked before any
DynamoDB call.

One token bucket per (route class, source tag). A request takes one token;
a request the app refuses as the caller's fault (a wrong secret, a garbage
submit, an unknown site) takes `failure_cost` more, so a source guessing
secrets or sending junk runs dry long before one sending honest traffic.
An empty bucket answers `busy` (`/pow/*`) or `internal_error` (the seed
API, whose clients know only its codes), both with `Retry-After`.

These limits are driven by the source's own requests, so the only source
they can hurt is the one sending them (and others behind its address: the
capacities leave room for a shared office or carrier NAT). Each Lambda
container keeps its own buckets; the deployed stack's WAF rules bound a
source across containers (deploy/README.md).
"""
from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

POW_JOB = "pow_job"
POW_SUBMIT = "pow_submit"
POW_JUNK = "pow_junk"
API = "api"
SITEVERIFY = "siteverify"
DASHBOARD = "dashboard"
PAGE = "page"
OTHER = "other"


@dataclass(frozen=True)
class Rule:
    """A bucket: `capacity` tokens, refilled at `per_second`; a failure costs
    `failure_cost` more. A source the container has not seen starts with
    `first` tokens (None: a full bucket)."""

    capacity: float
    per_second: float
    failure_cost: float
    first: float | None = None


# A captcha is one job and one submit; a miner's chain submits every ~10 s
# and asks for a job only when it starts; a site's backend verifies every
# captcha its forms receive, from one address. A new source starts with
# four job tokens (a visitor's first jobs and a retry), so it cannot take a
# whole burst of minimum-work jobs from every container it reaches (Lambda
# spreads one source over many); it fills up to 20 at one a second.
RULES: Mapping[str, Rule] = {
    POW_JOB: Rule(capacity=20, per_second=1.0, failure_cost=3, first=4),
    # Only valid work draws on it (front_door.admit_work): a refused submit
    # is charged to POW_JUNK instead, so no failure cost here.
    POW_SUBMIT: Rule(capacity=20, per_second=2.0, failure_cost=0),
    # What a source's refused /pow/* requests draw on instead (a garbage or
    # duplicate submit, an unknown site...): junk never drains the buckets
    # that honest neighbours behind the same address need for their work.
    POW_JUNK: Rule(capacity=20, per_second=2.0, failure_cost=3),
    API: Rule(capacity=200, per_second=50.0, failure_cost=20),
    SITEVERIFY: Rule(capacity=200, per_second=50.0, failure_cost=20),
    DASHBOARD: Rule(capacity=30, per_second=3.0, failure_cost=5),
    PAGE: Rule(capacity=60, per_second=10.0, failure_cost=2),
    OTHER: Rule(capacity=20, per_second=2.0, failure_cost=2),
}
# Buckets kept at most; the least recently used go first (a full bucket is
# the same as none, and a drained one refills within a minute).
MAX_BUCKETS = 50_000

_SEED_PREFIXES = ("/token/", "/user/", "/link/", "/stats/")
_SITEVERIFY_PATHS = ("/siteverify", "/recaptcha/api/siteverify", "/turnstile/v0/siteverify")


def route_class(resource_path: str) -> str:
    """The bucket class of a route (its API Gateway resource path)."""
    if resource_path == "/pow/job":
        return POW_JOB
    if resource_path == "/pow/submit":
        return POW_SUBMIT
    if resource_path.startswith(_SEED_PREFIXES):
        return API
    if resource_path in _SITEVERIFY_PATHS:
        return SITEVERIFY
    if resource_path == "/dashboard" or resource_path.startswith("/dashboard/"):
        return DASHBOARD
    if resource_path.startswith(("/l/", "/lib/", "/recaptcha/", "/turnstile/")) \
            or resource_path in ("/openapi.json",):
        return PAGE
    return OTHER


class _Bucket:
    __slots__ = ("tokens", "updated")

    def __init__(self, tokens: float, updated: float) -> None:
        self.tokens, self.updated = tokens, updated


class SourceLimits:
    """The container's buckets. `scale` multiplies every capacity and rate
    (an operator behind a large NAT raises it); `scale=0` turns limits off."""

    def __init__(self, rules: Mapping[str, Rule] = RULES, scale: float = 1.0,
                 max_buckets: int = MAX_BUCKETS) -> None:
        self.rules, self.scale, self.max_buckets = rules, scale, max_buckets
        self._buckets: OrderedDict[tuple[str, str], _Bucket] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.scale > 0

    def _scaled(self, rule: Rule) -> tuple[float, float]:
        """(capacity, a new source's tokens) at this scale: each at least one
        whole request, so no accepted factor closes a route class for good."""
        capacity = max(1.0, rule.capacity * self.scale)
        first = rule.first * self.scale if rule.first is not None else capacity
        return capacity, min(capacity, max(1.0, first))

    def _bucket(self, route: str, tag: str, now: float) -> tuple[_Bucket, Rule]:
        rule = self.rules[route]
        (capacity, first), rate = self._scaled(rule), rule.per_second * self.scale
        key = (route, tag)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(first, now)
            if len(self._buckets) > self.max_buckets:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(capacity, bucket.tokens + elapsed * rate)
            bucket.updated = now
        return bucket, rule

    def admit(self, route: str, tag: str, now: float) -> int:
        """0 if the request may go on (one token taken), else the whole
        seconds after which it would (`Retry-After`)."""
        if not self.enabled:
            return 0
        bucket, rule = self._bucket(route, tag, now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0
        return max(1, math.ceil((1.0 - bucket.tokens) / (rule.per_second * self.scale)))

    def refund(self, route: str, tag: str, now: float) -> None:
        """Give back the token a request took (it turned out to draw on another bucket)."""
        if not self.enabled:
            return
        bucket, rule = self._bucket(route, tag, now)
        bucket.tokens = min(rule.capacity * self.scale, bucket.tokens + 1.0)

    def charge_junk(self, route: str, tag: str, now: float) -> int:
        """A junk request: take one token and its failure cost from `route`'s
        bucket; 0 if the bucket held a token before (the caller is told what
        was wrong), else the seconds to wait (the caller is told `busy`)."""
        if not self.enabled:
            return 0
        bucket, rule = self._bucket(route, tag, now)
        had = bucket.tokens >= 1.0
        bucket.tokens = max(-rule.capacity * self.scale, bucket.tokens - 1.0 - rule.failure_cost)
        if had:
            return 0
        return max(1, math.ceil((1.0 - bucket.tokens) / (rule.per_second * self.scale)))

    def charge_failure(self, route: str, tag: str, now: float) -> None:
        """A refused request that was the caller's fault: take its extra cost
        (the bucket may go below zero: a flood of junk waits longer)."""
        if not self.enabled:
            return
        bucket, rule = self._bucket(route, tag, now)
        floor = -rule.capacity * self.scale
        bucket.tokens = max(floor, bucket.tokens - rule.failure_cost)

    def clear(self) -> None:
        self._buckets.clear()

    def __len__(self) -> int:
        return len(self._buckets)


# Error codes that are the caller's fault: their requests cost extra.
CALLER_FAULTS = frozenset({
    "invalid_secret", "invalid_site", "invalid_job", "invalid_share", "bad_request",
    "missing_input", "invalid_link", "duplicate_share", "not_found", "wrong_method",
    "signed_out", "bad_credentials", "invalid-input-secret", "invalid-input-response",
    # siteverify's (chalicelib/siteverify.py): a spent or expired token is not one.
    "missing-input-secret", "missing-input-response", "bad-request", "sitekey-secret-mismatch",
})
