"""What an operator reads: one log line and the metrics of each request or stream batch.

Logs go through Powertools for AWS Lambda's Logger (JSON, one line per
request at INFO; an `internal_error` is logged at ERROR with its traceback,
nothing else carries one). Metrics ride on that line in CloudWatch's
embedded metric format (`emf`): CloudWatch turns them into metrics, no API
call, no line of their own; a request whose line is sampled out prints its
metrics, if it has any, alone. CloudWatch Logs bills every byte ingested.

A line never holds a secret, a full token or a job: the secret is never
put in it, a token appears as `token_hint` (first 4 characters and length)
and a job not at all. The request's code reports what it learns (`note_*`)
into the request's record; nothing here reads a request itself.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import sys
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib import config

SERVICE = "workproof"
NAMESPACE = "Workproof"
LOGGER = Logger(service=SERVICE)
# CloudWatch stamps every event it ingests, and a line's place in the code is
# the same for every request: neither is worth its bytes on every line.
LOGGER.remove_keys(["location", "timestamp"])

# The captcha backends' verify routes (chalicelib/siteverify.py), counted as verifies.
SITEVERIFY_ROUTES = ("/siteverify", "/recaptcha/api/siteverify", "/turnstile/v0/siteverify")
SUCCESS = "success"
BUSY = "busy"
INTERNAL_ERROR = "internal_error"
# Reads: their successful answers write nothing, and at load they are most
# of the requests. Their line is logged for a sample of them (`log_sample`:
# the WORKPROOF_LOG_SAMPLE setting), and so is a `busy` refusal's (a flood's
# own answer: it read and wrote nothing); any other failure, a write and every
# metric always are. CloudWatch Logs bills every byte ingested.
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
    dimension set but for DynamoDB retries after a refusal:
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


def emf(series: Series) -> dict[str, Any]:
    """The series as members of a log line in CloudWatch's embedded metric
    format: CloudWatch turns them into metrics, so a request's metrics ride
    on its one line (empty: no series, or metrics disabled)."""
    if not series or config.metrics_disabled():
        return {}
    directives: list[dict[str, Any]] = []
    members: dict[str, Any] = {"service": SERVICE}
    for dimensions, values in series.items():
        directives.append({
            "Namespace": NAMESPACE,
            "Dimensions": [sorted([*(name for name, _ in dimensions), "service"])],
            "Metrics": [{"Name": name, "Unit": "Count"} for name in values]})
        members.update(dimensions)
        members.update(values)
    return {"_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": directives},
            **members}


def publish(series: Series) -> None:
    """Print the series as one metrics-only line (a request whose line is not written)."""
    members = emf(series)
    if members:
        print(json.dumps(members, separators=(",", ":")), flush=True)


# --- the request's line --------------------------------------------------------------

def sample_of(record: Record, result: str, log_sample: float) -> float | None:
    """The part of such requests whose line is written: `log_sample` for a
    successful read or a `busy` refusal, None (every one) otherwise."""
    sampled = result == BUSY or (result == SUCCESS and record.route.startswith(READ_ROUTES))
    return log_sample if sampled and log_sample < 1.0 else None


def logged(record: Record, result: str, log_sample: float) -> bool:
    """Whether the request's line is written: always, but for the successful
    reads, of which a `log_sample` part are (chosen by request id, so a
    request's line is there or not wherever it is asked)."""
    sample = sample_of(record, result, log_sample)
    return sample is None or drawn(record, sample)


def drawn(record: Record, sample: float) -> bool:
    """Whether the request is in the sample (by its request id)."""
    return in_sample(record.request_id, sample)


def in_sample(request_id: str, sample: float) -> bool:
    """Whether a request id is in a `sample` part of all (any id, random, if none)."""
    seed = request_id or secrets.token_hex(8)
    draw = int.from_bytes(hashlib.sha256(seed.encode("utf-8", "replace")).digest()[:4], "big")
    return draw < sample * 2**32


def finish(record: Record, result: str, status: int, log_sample: float = 1.0) -> None:
    """Log the request's line, its metrics on it (successful reads: a
    `log_sample` part of them, marked `sampled`; the others publish their
    metrics, if any, alone); ends the record."""
    _current.set(None)
    result = record.result or result
    series = request_series(record, result)
    sample = sample_of(record, result, log_sample)
    if sample is not None and not drawn(record, sample):
        publish(series)
        return
    line: dict[str, Any] = {
        "request_id": record.request_id, "route": record.route, "method": record.method,
        "site": record.site, "result": result, "status": status,
        "duration_ms": record.elapsed_ms(),
    }
    if sample is not None:
        line["sampled"] = sample
    if record.token:
        line["token_hint"] = record.token
    if record.retries:
        line["dynamo_retries"] = record.retries
    line.update(emf(series))
    if result == INTERNAL_ERROR:
        line["detail"] = record.detail or "internal error"
        LOGGER.error("request", extra=line, exc_info=record.exc_info or False)
    elif record.detail:  # not_configured: the operator's to fix, no traceback
        line["detail"] = record.detail
        LOGGER.error("request", extra=line)
    else:
        LOGGER.info("request", extra=line)


# --- the stream consumer -------------------------------------------------------------

def consume(handle: Callable[[dict[str, Any]], Mapping[str, int]],
            event: dict[str, Any]) -> Mapping[str, int]:
    """Run the stream consumer on one batch: one log line, its metrics on it.

    A failing batch is logged with its traceback, counted in
    `StreamFailures` and raised again (Lambda retries the batch whole).
    """
    records = event.get("Records", [])
    record = start("stream")
    try:
        counts = handle(event)
    except Exception:
        _batch_line(record, len(records), {}, current_exc_info())
        raise
    _batch_line(record, len(records), counts, None)
    return counts


def _batch_line(record: Record, records: int, counts: Mapping[str, int],
                exc_info: ExcInfo | None) -> None:
    _current.set(None)
    series: Series = {(): {
        "StreamRecords": records,
        "StreamCountersWritten": counts.get("stats", 0) + counts.get("verifies", 0),
        "StreamRanksWritten": counts.get("ranks", 0),
        "StreamFailures": int(exc_info is not None),
    }}
    if record.retries:
        _add(series, (), "DynamoRetries", record.retries)
    if record.throttles:
        _add(series, (), "DynamoThrottles", record.throttles)
    line: dict[str, Any] = {"records": records, "duration_ms": record.elapsed_ms()}
    if exc_info is not None:
        line.update(result=INTERNAL_ERROR, **emf(series))
        LOGGER.error("stream batch", extra=line, exc_info=exc_info)
    else:
        line.update(result=SUCCESS, **counts, **emf(series))
        LOGGER.info("stream batch", extra=line)
