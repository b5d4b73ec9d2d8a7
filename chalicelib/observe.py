"""What an operator reads: one log line and the metrics of each request or stream batch.

Logs go through Powertools for AWS Lambda's Logger (JSON, one line per
request at INFO; an `internal_error` is logged at ERROR with its traceback,
nothing else carries one). Metrics go through Powertools Metrics in
CloudWatch embedded metric format: printed lines CloudWatch turns into
metrics, no API call; each request's are printed once, when it ends.

A line never holds a secret, a full token or a job: the secret is never
put in it, a token appears as `token_hint` (first 4 characters and length)
and a job not at all. The request's code reports what it learns (`note_*`)
into the request's record; nothing here reads a request itself.
"""
from __future__ import annotations

import hashlib
import secrets
import sys
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

SERVICE = "workproof"
NAMESPACE = "Workproof"
LOGGER = Logger(service=SERVICE)

# The captcha backends' verify routes (chalicelib/siteverify.py), counted as verifies.
SITEVERIFY_ROUTES = ("/siteverify", "/recaptcha/api/siteverify", "/turnstile/v0/siteverify")
SUCCESS = "success"
INTERNAL_ERROR = "internal_error"
# Reads: their successful answers write nothing, and at load they are most
# of the requests. Their line is logged for a sample of them (`log_sample`:
# the WORKPROOF_LOG_SAMPLE setting); a failure, a write and every metric
# always are. CloudWatch Logs bills every byte ingested.
READ_ROUTES = ("/pow/job", "/stats/", "/user/balance", "/user/top", "/user/list", "/lib/",
               "/l/", "/openapi.json", "/recaptcha/api.js", "/turnstile/v0/api.js")
# Tokens shorter than this are logged as their length only (4 characters
# of a 6-character name would be most of it).
MIN_HINTED_TOKEN = 16

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
# A series: its dimensions besides `service` -> metric name -> value.
Series = dict[tuple[tuple[str, str], ...], dict[str, float]]


def token_hint(token: str) -> str:
    """A token as the log shows it: its first 4 characters and its length, never all of it."""
    prefix = token[:4] if len(token) >= MIN_HINTED_TOKEN else ""
    return f"{prefix}...({len(token)})"


@dataclass
class Record:
    """What one request (or stream batch) did, filled in as it runs."""

    route: str
    method: str = ""
    request_id: str = ""
    started: float = field(default_factory=time.perf_counter)
    site: str | None = None
    token: str | None = None  # already a hint
    answer: Mapping[str, Any] | None = None
    detail: str | None = None  # internal_error: what went wrong
    exc_info: ExcInfo | None = None
    retries: int = 0
    throttles: int = 0
    result: str | None = None  # set by a view whose answers are not contract errors

    def elapsed_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 1)


_current: ContextVar[Record | None] = ContextVar("workproof_request", default=None)


def start(route: str, method: str = "", request_id: str = "") -> Record:
    """Begin this thread's request record (the one `note_*` and `dynamo_retry` fill in)."""
    record = Record(route=route, method=method, request_id=request_id)
    _current.set(record)
    return record


def note_site(site_key: str) -> None:
    """The request's site, once its key or secret was found (never an unchecked key)."""
    record = _current.get()
    if record is not None:
        record.site = site_key


def note_token(token: object) -> None:
    record = _current.get()
    if record is not None and isinstance(token, str) and token:
        record.token = token_hint(token)


def note_answer(answer: Mapping[str, Any]) -> None:
    """A successful answer's body (metrics read figures from it; it is never logged)."""
    record = _current.get()
    if record is not None:
        record.answer = answer


def current_exc_info() -> ExcInfo | None:
    """The exception being handled, as `note_failure` takes it."""
    exc_type, exc, tb = sys.exc_info()
    return None if exc_type is None or exc is None else (exc_type, exc, tb)


def note_result(result: str) -> None:
    """The request's result when its answer is not a contract error (siteverify
    refuses with HTTP 200 and its own codes): logged and counted as this."""
    record = _current.get()
    if record is not None:
        record.result = result


def note_failure(detail: str, exc_info: ExcInfo | None = None) -> None:
    """Why the request fails on the server's side (`internal_error`, logged with
    its traceback, or `not_configured`), for the operator."""
    record = _current.get()
    if record is not None:
        record.detail, record.exc_info = detail, exc_info


def dynamo_retry(throttled: bool) -> None:
    """A DynamoDB call of this request is retried (after a throttle, if `throttled`)."""
    record = _current.get()
    if record is not None:
        record.retries += 1
        record.throttles += int(throttled)


# --- metrics -----------------------------------------------------------------------

def _add(series: Series, dimensions: tuple[tuple[str, str], ...], name: str, value: float) -> None:
    metrics = series.setdefault(dimensions, {})
    metrics[name] = metrics.get(name, 0) + value


def request_series(record: Record, result: str) -> Series:
    """The metrics a request publishes, by dimension set (contract: deploy/README.md).

    Every series has `service=workproof`, and one request publishes one
    dimension set (one EMF line) but for DynamoDB retries after a refusal:
    shares and hashes accepted with no other dimension, `SharesRefused` by
    `error`, `Verifies` and `Withdrawals` by `result`. No series is per site:
    a custom metric costs $0.30 a month, so one per site would bill per site;
    a site's figures are in the stats the dashboard reads, and in the request
    log's `site` field (deploy/README.md has the Logs Insights query).
    """
    series: Series = {}
    if record.route == "/pow/submit":
        if result == SUCCESS:
            _add(series, (), "SharesAccepted", 1)
            _add(series, (), "HashesCredited", float((record.answer or {}).get("hashes", 0)))
        else:
            _add(series, (("error", result),), "SharesRefused", 1)
    for route, name in (("/token/verify", "Verifies"), ("/user/withdraw", "Withdrawals"),
                        *((path, "Verifies") for path in SITEVERIFY_ROUTES)):
        if record.route == route:
            _add(series, (("result", result),), name, 1)
    if record.retries:
        _add(series, (), "DynamoRetries", record.retries)
    if record.throttles:
        _add(series, (), "DynamoThrottles", record.throttles)
    return series


def publish(series: Series, properties: Mapping[str, Any]) -> None:
    """Print each dimension set's metrics as one EMF line (`properties`: searchable, not dimensions)."""
    for dimensions, values in series.items():
        metrics = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
        for dimension, label in dimensions:
            metrics.add_dimension(name=dimension, value=label)
        for name, count in values.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=count)
        for key, value in properties.items():
            if value is not None:
                metrics.add_metadata(key=key, value=value)
        metrics.flush_metrics()


# --- the request's line --------------------------------------------------------------

def logged(record: Record, result: str, log_sample: float) -> bool:
    """Whether the request's line is written: always, but for the successful
    reads, of which a `log_sample` part are (chosen by request id, so a
    request's line is there or not wherever it is asked)."""
    if result != SUCCESS or not record.route.startswith(READ_ROUTES) or log_sample >= 1.0:
        return True
    seed = record.request_id or secrets.token_hex(8)
    draw = int.from_bytes(hashlib.sha256(seed.encode("utf-8", "replace")).digest()[:4], "big")
    return draw < log_sample * 2**32


def finish(record: Record, result: str, status: int, log_sample: float = 1.0) -> None:
    """Log the request's line (successful reads: a `log_sample` part of them)
    and publish its metrics; ends the record."""
    _current.set(None)
    result = record.result or result
    series = request_series(record, result)
    properties = {"request_id": record.request_id, "route": record.route, "site": record.site}
    if not logged(record, result, log_sample):
        publish(series, properties)
        return
    line: dict[str, Any] = {
        "request_id": record.request_id, "route": record.route, "method": record.method,
        "site": record.site, "result": result, "status": status,
        "duration_ms": record.elapsed_ms(),
    }
    if record.token:
        line["token_hint"] = record.token
    if record.retries:
        line["dynamo_retries"] = record.retries
    if result == INTERNAL_ERROR:
        line["detail"] = record.detail or "internal error"
        LOGGER.error("request", extra=line, exc_info=record.exc_info or False)
    elif record.detail:  # not_configured: the operator's to fix, no traceback
        line["detail"] = record.detail
        LOGGER.error("request", extra=line)
    else:
        LOGGER.info("request", extra=line)
    publish(series, properties)


# --- the stream consumer -------------------------------------------------------------

def consume(handle: Callable[[dict[str, Any]], Mapping[str, int]],
            event: dict[str, Any]) -> Mapping[str, int]:
    """Run the stream consumer on one batch: one log line and its metrics.

    A failing batch is logged with its traceback, counted in
    `StreamFailures` and raised again (Lambda retries the batch whole).
    """
    records = event.get("Records", [])
    record = start("stream")
    line: dict[str, Any] = {"records": len(records)}
    counts: Mapping[str, int] = {}
    try:
        counts = handle(event)
    except Exception:
        exc_type, exc, tb = sys.exc_info()
        assert exc_type is not None and exc is not None
        line.update(result=INTERNAL_ERROR, duration_ms=record.elapsed_ms())
        LOGGER.error("stream batch", extra=line, exc_info=(exc_type, exc, tb))
        raise
    else:
        line.update(result=SUCCESS, duration_ms=record.elapsed_ms(), **counts)
        LOGGER.info("stream batch", extra=line)
    finally:
        _current.set(None)
        failed = line["result"] != SUCCESS
        series: Series = {(): {
            "StreamRecords": len(records),
            "StreamCountersWritten": counts.get("stats", 0) + counts.get("verifies", 0),
            "StreamRanksWritten": counts.get("ranks", 0),
            "StreamFailures": int(failed),
        }}
        if record.retries:
            _add(series, (), "DynamoRetries", record.retries)
        if record.throttles:
            _add(series, (), "DynamoThrottles", record.throttles)
        publish(series, {})
    return counts
