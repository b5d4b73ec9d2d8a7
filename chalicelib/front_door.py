"""The front door: the container's per-source state, consulted before any
DynamoDB call.

`check` runs first for every request (chalicelib/http.py `serve`): a source
whose bucket for the route is empty is refused at once, with the seconds to
wait. A submit is the exception: whether it carries valid work is known
only once its job's MAC and its hashes are checked (no DynamoDB call), so
mining.py takes its token then (`admit_work`), from a bucket junk cannot
drain. `after` charges a refused request that was the caller's fault:
a `/pow/*` one to the source's junk bucket (a refused job request gets its
job token back), any other to its route's bucket. The same container also
remembers each source's accepted work (`RATES`, updated by mining.py per
credited share) and the jobs it credited lately (`was_credited`), so a
replayed share is refused without a write.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib import config, limits, sources
from chalicelib.limits import SourceLimits
from chalicelib.pressure import SourceRates

LIMITS = SourceLimits()
RATES = SourceRates()
# The buckets' clock (seconds, monotonic): a test or simulation sets its own.
clock: Callable[[], float] = time.monotonic
# Job ids this container credited, the least recent dropped first (a job
# lives minutes; a replay elsewhere still meets its guard's condition).
MAX_CREDITED = 20_000
_credited: OrderedDict[str, None] = OrderedDict()
# Route classes whose refusals are charged to the junk bucket.
_POW_ROUTES = (limits.POW_JOB, limits.POW_SUBMIT)


def configure(scale: float) -> None:
    """Set the buckets' factor (`WORKPROOF_SOURCE_LIMITS`; 0 = off: no
    per-source control at all, sizing by source rate included) and start afresh."""
    LIMITS.scale = scale
    LIMITS.clear()
    RATES.clear()
    _credited.clear()


def _follow_settings() -> None:
    """Take up `WORKPROOF_SOURCE_LIMITS` from the settings in force."""
    scale = config.settings().source_limits
    if LIMITS.scale != scale:
        configure(scale)


def route_of(context: Mapping[str, Any]) -> str:
    return limits.route_class(str(context.get("resourcePath", "")))


def _tag_of(context: Mapping[str, Any]) -> str:
    return sources.tag(sources.source_of(context))


def check(context: Mapping[str, Any]) -> tuple[str, int]:
    """(route class, seconds to wait): 0 seconds = let the request in."""
    _follow_settings()
    route = route_of(context)
    if route == limits.POW_SUBMIT:
        return route, 0  # its token is taken once its work is checked (`admit_work`)
    return route, LIMITS.admit(route, _tag_of(context), clock())


def after(context: Mapping[str, Any], result: str) -> int:
    """A request the app refused as the caller's fault costs its source extra.
    Returns the seconds to wait when a `/pow/*` source's junk allowance was
    spent before this request (its answer becomes `busy`), else 0."""
    if result not in limits.CALLER_FAULTS:
        return 0
    route, tag, now = route_of(context), _tag_of(context), clock()
    if route in _POW_ROUTES:
        if route == limits.POW_JOB:
            LIMITS.refund(route, tag, now)
        return LIMITS.charge_junk(limits.POW_JUNK, tag, now)
    LIMITS.charge_failure(route, tag, now)
    return 0


def admit_work(source: str) -> int:
    """A submit carrying valid work takes its token (0: go on, else seconds to wait)."""
    return LIMITS.admit(limits.POW_SUBMIT, sources.tag(source), clock())


def admit_ask(source: str) -> int:
    """A submit of a job another source asked for takes a job token of its own."""
    return LIMITS.admit(limits.POW_JOB, sources.tag(source), clock())


def credited(job_id: str) -> None:
    _credited[job_id] = None
    if len(_credited) > MAX_CREDITED:
        _credited.popitem(last=False)


def was_credited(job_id: str) -> bool:
    return job_id in _credited


def per_source() -> bool:
    """Whether per-source controls are on (`WORKPROOF_SOURCE_LIMITS` is not off)."""
    _follow_settings()
    return LIMITS.enabled
