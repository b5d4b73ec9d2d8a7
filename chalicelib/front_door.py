"""The front door: the container's per-source state, consulted before any
DynamoDB call.

`check` runs first for every request (chalicelib/http.py `serve`): a source
whose bucket for the route is empty is refused at once, with the seconds to
wait. `after` charges a refused request that was the caller's fault. The
same container also remembers each source's accepted work (`RATES`,
updated by mining.py per credited share) to size that source's next jobs.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib import config, limits, sources
from chalicelib.limits import SourceLimits
from chalicelib.pressure import SourceRates

LIMITS = SourceLimits()
RATES = SourceRates()
# The buckets' clock (seconds, monotonic): a test or simulation sets its own.
clock: Callable[[], float] = time.monotonic


def configure(scale: float) -> None:
    """Set the buckets' factor (`WORKPROOF_SOURCE_LIMITS`; 0 = off: no
    per-source control at all, sizing by source rate included) and start afresh."""
    LIMITS.scale = scale
    LIMITS.clear()
    RATES.clear()


def _follow_settings() -> None:
    """Take up `WORKPROOF_SOURCE_LIMITS` from the settings in force."""
    scale = config.settings().source_limits
    if LIMITS.scale != scale:
        configure(scale)


def route_of(context: Mapping[str, Any]) -> str:
    return limits.route_class(str(context.get("resourcePath", "")))


def check(context: Mapping[str, Any]) -> tuple[str, int]:
    """(route class, seconds to wait): 0 seconds = let the request in."""
    _follow_settings()
    route = route_of(context)
    return route, LIMITS.admit(route, sources.tag(sources.source_of(context)), clock())


def after(context: Mapping[str, Any], result: str) -> None:
    """A request the app refused as the caller's fault costs its source extra."""
    if result in limits.CALLER_FAULTS:
        LIMITS.charge_failure(route_of(context), sources.tag(sources.source_of(context)), clock())


def per_source() -> bool:
    """Whether per-source controls are on (`WORKPROOF_SOURCE_LIMITS` is not off)."""
    _follow_settings()
    return LIMITS.enabled
