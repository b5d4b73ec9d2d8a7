"""The API function's warm containers and Lambda's concurrency limit.

A container runs one request at a time: it is busy for the request's billed
duration (bench/abuse/sim.py's SERVED_MS or REFUSED_MS). A request goes to
one of the idle containers at random; when every container is busy (as many
as the function's reserved concurrency) Lambda throttles it: no invocation,
nothing billed by Lambda. What the client then sees is not a contract
answer (the cloudfront door passes the function URL's 429 and Lambda's own
body; the REST door answers its DEFAULT_5XX `internal_error` without
Retry-After), so the widget retries it as network trouble (`_miner.js`
`_call`: 1 s, 2 s, 4 s ... 30 s, each ×0.75-1.25).
"""
from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from typing import Any

RECONNECT_MAX_SECONDS = 30.0


@dataclass
class Container:
    """One warm Lambda container's memory, and when its current request ends."""

    limits: Any
    rates: Any
    site_cache: dict[str, Any] = field(default_factory=dict)
    recent_cache: dict[str, Any] = field(default_factory=dict)  # recent_sources' reads
    credited: Any = None  # the job ids it credited (front_door's replay memory), if the app keeps one
    busy_until: float = 0.0


class Pool:
    """`size` containers (the reserved concurrency) and the requests Lambda throttled."""

    def __init__(self, size: int, rng: random.Random, seed: int = 0) -> None:
        from chalicelib import limits, pressure

        self.containers = [Container(limits.SourceLimits(), pressure.SourceRates())
                           for _ in range(size)]
        self.rng = rng
        # A busy first pick is replaced from a stream of its own: the simulation's stream
        # (WAF's lags, solve times) stays the one a run without busy containers draws.
        self.spare = random.Random(seed)
        self.throttled = 0
        self.peak = 0  # the most containers busy at once
        self._ends: list[float] = []  # when each busy container's request ends

    def acquire(self, now: float) -> Container | None:
        """An idle container picked at random, or None: Lambda throttles the request.
        (A first pick among all, replaced by a pick among the idle ones if busy: each
        idle container is as likely.)"""
        while self._ends and self._ends[0] <= now:
            heapq.heappop(self._ends)
        self.peak = max(self.peak, min(len(self.containers), len(self._ends) + 1))
        first = self.rng.choice(self.containers)
        if first.busy_until <= now:
            return first
        idle = [c for c in self.containers if c.busy_until <= now]
        if not idle:
            self.throttled += 1
            return None
        return self.spare.choice(idle)

    def hold(self, container: Container, now: float, billed_ms: float) -> None:
        container.busy_until = now + billed_ms / 1000
        heapq.heappush(self._ends, container.busy_until)


def reconnect_seconds(attempt: int, rng: random.Random) -> float:
    """The widget's wait before its `attempt`-th retry (0 first) of an answer it cannot read."""
    return min(RECONNECT_MAX_SECONDS, 2.0 ** attempt) * (0.75 + 0.5 * rng.random())
