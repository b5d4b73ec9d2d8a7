"""One retry budget per request, ending well inside Lambda's timeout.

The view wrapper starts the clock; every retry loop asks `pause()` before
trying again. Past the deadline the request answers `internal_error`
rather than running into Lambda's 30 s (API Gateway's 29 s) timeout.
Outside a request (admin command, tests) a loop gets `MAX_ATTEMPTS_UNTIMED`.
"""
from __future__ import annotations

import random
import time
from contextvars import ContextVar

from chalicelib.errors import InternalError

REQUEST_BUDGET_SECONDS = 8.0
MAX_BACKOFF_SECONDS = 0.4
MAX_ATTEMPTS_UNTIMED = 12

_deadline: ContextVar[float] = ContextVar("workproof_deadline", default=0.0)


def start(budget: float = REQUEST_BUDGET_SECONDS) -> None:
    _deadline.set(time.monotonic() + budget)


def clear() -> None:
    _deadline.set(0.0)


def remaining() -> float | None:
    """Seconds left in this request's budget (None outside a request)."""
    end = _deadline.get()
    return None if not end else end - time.monotonic()


def pause(attempt: int, what: str) -> None:
    """Back off before retry `attempt` (1, 2, ...), or give up with InternalError."""
    delay = min(MAX_BACKOFF_SECONDS, 0.005 * 2 ** attempt) * (0.5 + random.random())
    left = remaining()
    if left is None:
        if attempt >= MAX_ATTEMPTS_UNTIMED:
            raise InternalError(what)
    elif left <= delay:
        raise InternalError(f"{what}; request deadline reached")
    time.sleep(delay)
