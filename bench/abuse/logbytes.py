"""What one API invocation writes to CloudWatch Logs, measured from the app's own log code.

bench-abuse calls the app's functions directly, not through its middleware, so
each invocation's lines are reproduced here: `observe.finish` run on a record
of the same route, result and (for a credited share) hashes, its output
captured, both ways a sampled request can go (its line, or its metrics alone)
weighed by the template's LogSample. Plus CloudWatch's 26 bytes of event
overhead a line and Lambda's own START/END/REPORT lines unless the
template's LoggingConfig drops them (bench/cost_doors.py).
"""
from __future__ import annotations

import contextlib
import io
from functools import lru_cache

from bench.bill import LOG_EVENT_OVERHEAD
from bench.cost_doors import runtime_log_bytes

REQUEST_ID = "8f14e45f-ceea-467f-a8e2-6c1bd4a1e0b2"  # a Lambda request id's length
SITE_KEY = "LNoml697xCFPSmzQkJAtmRGCSadl0nos"
SHARE_HASHES = 4194304


def _written(route: str, result: str, sample: float, drawn: bool) -> int:
    """Bytes (with each line's event overhead) `observe.finish` writes for one such request."""
    from chalicelib import observe

    handler = observe.LOGGER.registered_handler
    logged, printed = io.StringIO(), io.StringIO()
    previous_stream, previous_drawn = handler.stream, observe.drawn
    handler.setStream(logged)  # type: ignore[attr-defined]
    observe.drawn = lambda _record, _sample: drawn
    try:
        with contextlib.redirect_stdout(printed):
            record = observe.start(route, "POST", REQUEST_ID)
            record.site = SITE_KEY
            if result == observe.SUCCESS and route == "/pow/submit":
                record.answer = {"hashes": SHARE_HASHES}
            observe.finish(record, result, 200, sample)
    finally:
        handler.setStream(previous_stream)  # type: ignore[attr-defined]
        observe.drawn = previous_drawn
    text = logged.getvalue() + printed.getvalue()
    lines = [line for line in text.splitlines() if line]
    return len(text.encode()) + LOG_EVENT_OVERHEAD * len(lines)


@lru_cache(maxsize=256)
def invocation_bytes(route: str, result: str, log_sample: float) -> float:
    """Expected log bytes of one invocation answering `route` with `result`."""
    from chalicelib import observe

    kept = _written(route, result, log_sample, True)
    record = observe.Record(route=route)
    sample = observe.sample_of(record, result, log_sample)
    if sample is not None:
        kept = sample * kept + (1 - sample) * _written(route, result, log_sample, False)
    return kept + runtime_log_bytes()
