"""What an operator reads: one JSON log line per request, EMF metrics, nothing secret.

The log is captured from the Powertools Logger's handler, the metrics from
stdout (CloudWatch embedded metric format is printed lines).
"""
from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.fixtures import Api, credit
from tests.functional.store import aws  # noqa: F401 - aws: the shared store
from tests.solver import find_bad_nonce, solve

MIN_WORK = 256
LINE_KEYS = {"level", "message", "service", "request_id", "route",
             "method", "site", "result", "status", "duration_ms"}


@dataclass
class Captured:
    """The log lines and EMF lines printed so far."""

    capsys: Any
    log: io.StringIO
    out: list[str] = field(default_factory=list)

    def text(self) -> str:
        self.out.append(self.capsys.readouterr().out)
        return self.log.getvalue() + "".join(self.out)

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.getvalue().splitlines()]

    def requests(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line["message"] == "request"]

    def metrics(self) -> list[dict[str, Any]]:
        """Every line that carries metrics: request lines, and metrics-only lines printed."""
        self.text()
        found = [line for line in self.lines() if "_aws" in line]
        for line in "".join(self.out).splitlines():
            if line.startswith("{") and '"_aws"' in line:
                found.append(json.loads(line))
        return found

    def series(self) -> dict[tuple[str, ...], dict[str, float]]:
        """Dimension values (besides service) -> metric values, of every EMF line so far."""
        out: dict[tuple[str, ...], dict[str, float]] = {}
        for emf in self.metrics():
            (directive,) = emf["_aws"]["CloudWatchMetrics"]
            assert directive["Namespace"] == "Workproof"
            (dimensions,) = directive["Dimensions"]
            assert "service" in dimensions and emf["service"] == "workproof"
            key = tuple(f"{d}={emf[d]}" for d in sorted(dimensions) if d != "service")
            values = out.setdefault(key, {})
            for metric in directive["Metrics"]:
                assert metric["Unit"] == "Count"
                value = emf[metric["Name"]]  # Powertools prints a list of values
                total = sum(value) if isinstance(value, list) else value
                values[metric["Name"]] = values.get(metric["Name"], 0) + total
        return out

    def clear(self) -> None:
        self.log.seek(0)
        self.log.truncate()
        self.capsys.readouterr()
        self.out.clear()


@pytest.fixture
def captured(capsys: Any, app: Any, app_settings: Any) -> Iterator[Captured]:
    from chalicelib import observe

    app_settings(WORKPROOF_MIN_WORK=str(MIN_WORK))
    handler = observe.LOGGER.registered_handler
    assert isinstance(handler, __import__("logging").StreamHandler)
    log = io.StringIO()
    previous = handler.setStream(log)
    capsys.readouterr()
    try:
        yield Captured(capsys, log)
    finally:
        handler.setStream(previous)


def post(api: Api, path: str, **params: Any) -> dict[str, Any]:
    response = api.client.http.post(path, body=urlencode(params),
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    return json.loads(response.body)


def mine(api: Api, **account: str) -> tuple[dict[str, Any], dict[str, Any]]:
    job = post(api, "/pow/job", site=api.site.site_key, **account)
    return job, post(api, "/pow/submit", job=job["job"],
                     nonce=solve(job["job"], job["difficulty"], job["count"]))


# --- the request line ------------------------------------------------------------------

def test_one_info_line_per_request_with_route_site_result_and_duration(api, captured):
    credit(api.site.site_key, "alice", 10)
    captured.clear()
    api.get("/user/balance", name="alice")
    api.get("/user/balance", name="nobody")
    api.get("/no/such/path", with_secret=False)
    first, second, third = captured.requests()
    assert set(first) == LINE_KEYS
    assert first["level"] == "INFO" and first["service"] == "workproof"
    assert (first["route"], first["method"], first["site"], first["result"], first["status"]) == \
        ("/user/balance", "GET", api.site.site_key, "success", 200)
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert (second["result"], second["site"]) == ("unknown_user", api.site.site_key)
    assert (third["route"], third["result"]) == ("/{p0}/{p1}/{p2}", "not_found")
    assert "site" not in third or third["site"] is None
    assert captured.series() == {}  # reads publish no metrics


def test_the_line_carries_the_api_gateway_request_id(api, captured, app):
    event = {"resource": "/user/balance", "path": "/user/balance", "httpMethod": "GET",
             "headers": {"Host": "x.execute-api.us-east-1.amazonaws.com"}, "body": None,
             "multiValueQueryStringParameters": {"secret": [api.site.secret], "name": ["z"]},
             "pathParameters": None, "stageVariables": None, "isBase64Encoded": False,
             "requestContext": {"resourcePath": "/user/balance", "httpMethod": "GET",
                                "stage": "api", "path": "/api/user/balance",
                                "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}}
    answer = app(event, None)
    assert json.loads(answer["body"]) == {"success": False, "error": "unknown_user"}
    (line,) = captured.requests()
    assert line["request_id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def test_an_unknown_secret_has_no_site_and_an_unknown_site_key_is_not_logged(api, captured):
    api.get("/user/top", with_secret=False, secret="x" * 32)
    post(api, "/pow/job", site="NoSuchSiteKey0000000000000000000", anonymous="1")
    top, job = captured.requests()
    assert (top["result"], top.get("site")) == ("invalid_secret", None)
    assert (job["result"], job.get("site")) == ("invalid_site", None)
    assert "NoSuchSiteKey" not in captured.text()


def test_internal_error_is_logged_at_error_with_its_traceback_and_nothing_else_is(
        api, captured, monkeypatch):
    from chalicelib import ledger

    def explode(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the table is on fire")

    api.get("/user/balance", name="nobody")
    monkeypatch.setattr(ledger, "read_user", explode)
    assert api.get("/user/balance", name="alice") == {"success": False, "error": "internal_error"}
    fine, broken = captured.requests()
    assert "exception" not in fine and fine["level"] == "INFO"
    assert broken["level"] == "ERROR" and broken["result"] == "internal_error"
    assert broken["detail"] == "unhandled RuntimeError"
    assert broken["exception_name"] == "RuntimeError"
    assert "the table is on fire" in broken["exception"] and "explode" in broken["exception"]


def test_a_token_is_logged_as_a_hint_only(api, captured):
    token = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    api.post("/token/verify", token=token, hashes=1)
    api.post("/token/verify", token="Zq9x7", hashes=1)
    long_one, short_one = captured.requests()
    assert long_one["token_hint"] == "AbCd...(32)"
    assert short_one["token_hint"] == "...(5)"  # 4 of 5 characters would be most of it
    assert token not in captured.text() and "Zq9x" not in captured.text()


# --- metrics -----------------------------------------------------------------------------

def test_share_accepted_metrics(api, captured):
    _job, answer = mine(api, user="alice")
    assert answer["success"] is True and answer["hashes"] == MIN_WORK
    # No series per site: a custom metric per site would bill per site.
    assert captured.series() == {(): {"SharesAccepted": 1, "HashesCredited": MIN_WORK}}
    submit = [m for m in captured.metrics() if m.get("route") == "/pow/submit"]
    assert {m["site"] for m in submit} == {api.site.site_key}  # a property on every line


def test_share_refused_duplicate_share_metrics(api, captured):
    job, first = mine(api, anonymous="1")
    assert first["success"] is True
    captured.clear()
    again = post(api, "/pow/submit", job=job["job"],
                 nonce=solve(job["job"], job["difficulty"], job["count"]))
    assert again == {"success": False, "error": "duplicate_share"}
    assert captured.series() == {("error=duplicate_share",): {"SharesRefused": 1}}


def test_share_refusals_are_counted_by_reason(api, captured):
    job = post(api, "/pow/job", site=api.site.site_key, anonymous="1")
    captured.clear()
    bad = find_bad_nonce(job["job"], 0, job["difficulty"])
    nonces = ",".join([str(bad)] + ["0"] * (job["count"] - 1))
    assert post(api, "/pow/submit", job=job["job"], nonce=nonces)["error"] == "invalid_share"
    assert post(api, "/pow/submit", job="v1.forged.job", nonce="1")["error"] == "invalid_job"
    assert captured.series() == {
        ("error=invalid_share",): {"SharesRefused": 1},
        ("error=invalid_job",): {"SharesRefused": 1},
    }


def test_verify_metrics(api, captured):
    job, share = mine(api, token="")
    assert share["success"] is True
    token = job["token"]
    captured.clear()
    assert api.post("/token/verify", token=token, hashes=MIN_WORK)["success"] is True
    assert api.post("/token/verify", token=token, hashes=MIN_WORK) == {
        "success": False, "error": "invalid_token"}
    assert captured.series() == {
        ("result=success",): {"Verifies": 1},
        ("result=invalid_token",): {"Verifies": 1},
    }


def test_siteverify_lines_and_metrics_carry_its_result(api, captured, monkeypatch):
    from chalicelib import tokens

    job, share = mine(api, token="")
    assert share["success"] is True
    token = job["token"]
    captured.clear()
    assert api.post("/siteverify", response=token)["success"] is True
    assert api.post("/recaptcha/api/siteverify", response=token) == {
        "success": False, "error-codes": ["timeout-or-duplicate"]}
    api.post("/turnstile/v0/siteverify", secret="0" * 32, response=token)

    def explode(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the table is on fire")

    monkeypatch.setattr(tokens, "verify", explode)
    assert api.post("/siteverify", response=token) == {
        "success": False, "error-codes": ["internal-error"]}
    ok, spent, stranger, broken = captured.requests()
    assert (ok["route"], ok["result"], ok["status"], ok["site"], ok["level"]) == \
        ("/siteverify", "success", 200, api.site.site_key, "INFO")
    assert ok["token_hint"] == f"{token[:4]}...({len(token)})"
    assert (spent["route"], spent["result"], spent["status"], spent["level"]) == \
        ("/recaptcha/api/siteverify", "timeout-or-duplicate", 200, "INFO")
    assert (stranger["result"], stranger.get("site")) == ("invalid-input-secret", None)
    assert (broken["result"], broken["level"], broken["detail"]) == \
        ("internal_error", "ERROR", "unhandled RuntimeError")
    assert "the table is on fire" in broken["exception"]
    assert token not in captured.text()
    assert captured.series() == {
        ("result=success",): {"Verifies": 1},
        ("result=timeout-or-duplicate",): {"Verifies": 1},
        ("result=invalid-input-secret",): {"Verifies": 1},
        ("result=internal_error",): {"Verifies": 1},
    }


def test_withdrawal_metrics(api, captured):
    credit(api.site.site_key, "alice", 10)
    captured.clear()
    assert api.post("/user/withdraw", name="alice", amount=4)["success"] is True
    assert api.post("/user/withdraw", name="alice", amount=7) == {
        "success": False, "error": "insufficent_funds"}
    assert captured.series() == {
        ("result=success",): {"Withdrawals": 1},
        ("result=insufficent_funds",): {"Withdrawals": 1},
    }


def test_emf_line_shape_one_line_per_request(api, captured):
    credit(api.site.site_key, "alice", 10)
    captured.clear()
    api.post("/user/withdraw", name="alice", amount=1)
    # The request's metrics ride on its one line: no line of their own.
    [line] = captured.lines()
    assert captured.metrics() == [line]
    assert line["_aws"]["CloudWatchMetrics"] == [{
        "Namespace": "Workproof", "Dimensions": [["result", "service"]],
        "Metrics": [{"Name": "Withdrawals", "Unit": "Count"}]}]
    assert isinstance(line["_aws"]["Timestamp"], int)
    # Dimension values and the metric's value, beside the request's fields.
    assert {k: v for k, v in line.items() if k not in ("_aws", "duration_ms")} == {
        "level": "INFO", "message": "request", "service": "workproof", "result": "success",
        "Withdrawals": 1, "request_id": "", "route": "/user/withdraw", "method": "POST",
        "site": api.site.site_key, "status": 200}


def test_a_sampled_line_says_so_and_an_unsampled_reads_metrics_print_alone(
        api, captured, app_settings, monkeypatch):
    from chalicelib import observe

    app_settings(WORKPROOF_LOG_SAMPLE="0.25")
    credit(api.site.site_key, "alice", 10)
    monkeypatch.setattr(observe, "drawn", lambda record, sample: True)
    captured.clear()
    api.get("/user/balance", name="alice")
    api.post("/user/withdraw", name="alice", amount=1)
    read, write = captured.requests()
    assert (read["route"], read["sampled"]) == ("/user/balance", 0.25)
    assert "sampled" not in write  # every write is logged
    monkeypatch.setattr(observe, "drawn", lambda record, sample: False)
    captured.clear()
    api.get("/user/balance", name="alice")
    assert captured.requests() == []
    record = observe.start("/user/balance", "GET", "r-1")
    observe.dynamo_retry(throttled=True)
    observe.finish(record, observe.SUCCESS, 200, 0.25)
    assert captured.requests() == []
    [alone] = captured.metrics()
    assert {k: v for k, v in alone.items() if k != "_aws"} == {
        "service": "workproof", "DynamoRetries": 1, "DynamoThrottles": 1}


def test_successful_reads_are_logged_for_a_sample_failures_and_writes_always(
        api, captured, app_settings):
    app_settings(WORKPROOF_LOG_SAMPLE="0")
    credit(api.site.site_key, "alice", 10)
    captured.clear()
    assert api.get("/user/balance", name="alice")["success"] is True
    assert api.get("/user/balance", name="nobody")["error"] == "unknown_user"
    assert api.post("/user/withdraw", name="alice", amount=1)["success"] is True
    assert [(r["route"], r["result"]) for r in captured.requests()] == [
        ("/user/balance", "unknown_user"), ("/user/withdraw", "success")]
    # The metrics of an unlogged request are still published.
    captured.clear()
    job, share = mine(api, anonymous="1")
    assert share["success"] is True
    assert [r["route"] for r in captured.requests()] == ["/pow/submit"]
    assert captured.series() == {(): {"SharesAccepted": 1, "HashesCredited": share["hashes"]}}


def test_the_sample_is_drawn_by_request_id() -> None:
    from chalicelib import observe

    records = [observe.Record(route="/pow/job", request_id=f"req-{i}") for i in range(2000)]
    kept = [r for r in records if observe.logged(r, observe.SUCCESS, 0.1)]
    assert 150 <= len(kept) <= 250
    assert kept == [r for r in records if observe.logged(r, observe.SUCCESS, 0.1)]
    assert all(observe.logged(r, "invalid_site", 0.0) for r in records)
    assert all(observe.logged(observe.Record(route="/pow/submit", request_id=r.request_id),
                              observe.SUCCESS, 0.0) for r in records)


def test_dynamo_retries_and_throttles_are_counted(api, captured, monkeypatch):
    """A throttled write is retried (transactions.write_one); the request's line and metrics count it."""
    from botocore.exceptions import ClientError

    from chalicelib.store.models import Guard

    client = Guard._get_connection().connection.client
    real = client._make_api_call
    puts = []

    def throttled_once(name: str, call: dict[str, Any]) -> Any:
        if name == "PutItem":
            puts.append(name)
            if len(puts) == 1:
                raise ClientError({"Error": {"Code": "ThrottlingException"}}, name)
        return real(name, call)

    monkeypatch.setattr(client, "_make_api_call", throttled_once)
    _job, answer = mine(api, anonymous="1")
    assert answer["success"] is True and len(puts) == 2
    (line,) = [r for r in captured.requests() if r["route"] == "/pow/submit"]
    assert line["dynamo_retries"] == 1
    assert captured.series()[()] == {"SharesAccepted": 1, "HashesCredited": MIN_WORK,
                                      "DynamoRetries": 1, "DynamoThrottles": 1}


# --- the stream consumer ---------------------------------------------------------------

def test_stream_batch_is_one_line_and_its_metrics(api, captured, app):
    import app as app_module
    from tests.streams import pending_records

    mine(api, user="alice")
    events = pending_records()
    captured.clear()
    done = [app_module.stream_consumer(event, None) for event in events]
    lines = [line for line in captured.lines() if line["message"] == "stream batch"]
    assert len(lines) == len(events)
    assert sum(line["records"] for line in lines) == sum(len(e["Records"]) for e in events)
    assert all(line["result"] == "success" for line in lines)
    series = captured.series()[()]
    assert series["StreamRecords"] == sum(len(e["Records"]) for e in events)
    assert series["StreamCountersWritten"] == sum(d["stats"] + d["verifies"] for d in done) > 0
    assert series["StreamRanksWritten"] == sum(d["ranks"] for d in done) > 0
    assert series["StreamFailures"] == 0


def test_a_failing_batch_is_logged_counted_and_raised(captured, monkeypatch):
    import app as app_module
    from chalicelib import streams

    def broken(_event: dict[str, Any]) -> dict[str, int]:
        raise RuntimeError("stats table gone")

    monkeypatch.setattr(streams, "handle_event", broken)
    with pytest.raises(RuntimeError):
        app_module.stream_consumer({"Records": [{}, {}]}, None)
    (line,) = captured.lines()
    assert (line["level"], line["message"], line["result"], line["records"]) == \
        ("ERROR", "stream batch", "internal_error", 2)
    assert "stats table gone" in line["exception"]
    assert captured.series() == {(): {"StreamRecords": 2, "StreamCountersWritten": 0,
                                      "StreamRanksWritten": 0, "StreamFailures": 1}}


# --- nothing secret, whatever the request --------------------------------------------------

def test_a_flow_through_every_endpoint_logs_no_secret_token_or_job(api, captured, app, monkeypatch):
    """Every endpoint, successes and failures: the log and metrics hold none of the
    secrets, token names, jobs (or their signatures) and signing keys the flow used."""
    import os

    from chalicelib import ledger
    from tests.fixtures import create_site

    other = create_site("other")
    secrets = [api.site.secret, other.secret, os.environ["WORKPROOF_SIGNING_KEYS"].split(":", 1)[1]]
    tokens: list[str] = []
    jobs: list[str] = []
    requests = 0

    def call(method: str, path: str, body: str = "", **headers: str) -> dict[str, Any]:
        nonlocal requests
        requests += 1
        response = api.client.http.request(method, path, body=body, headers=headers)
        is_json = response.headers["Content-Type"].startswith("application/json")
        return json.loads(response.body) if is_json else {}

    def form(path: str, **params: Any) -> dict[str, Any]:
        return call("POST", path, urlencode(params),
                    **{"Content-Type": "application/x-www-form-urlencoded"})

    def chain(**account: str) -> tuple[dict[str, Any], str]:
        job = form("/pow/job", site=api.site.site_key, **account)
        jobs.append(job["job"])
        if "token" in job:
            tokens.append(job["token"])
        nonce = solve(job["job"], job["difficulty"], job["count"])
        answer = form("/pow/submit", job=job["job"], nonce=nonce)
        jobs.append(answer["job"])
        return job, nonce

    s = api.site.secret
    user_job, user_nonce = chain(user="alice@example.com")
    token_job, _nonce = chain(token="")
    chain(token=token_job["token"], hashes=str(4 * MIN_WORK))
    chain(anonymous="1")
    form("/pow/submit", job=user_job["job"], nonce=user_nonce)          # duplicate_share
    form("/pow/submit", job=jobs[1][:-3] + "AAA", nonce="1")           # invalid_job
    link = form("/link/create", secret=s, url="https://example.com/private/path?k=v",
                hashes=MIN_WORK)
    code = link["url"].rsplit("/", 1)[1]
    chain(link=code)
    call("GET", f"/l/{code}")
    form("/token/verify", secret=s, token=token_job["token"], hashes=MIN_WORK,
         idempotency_key="verify-key-1")
    form("/token/verify", secret=other.secret, token=token_job["token"], hashes=1)
    call("POST", "/token/verify", json.dumps({"secret": s, "token": "NoSuchTokenName0123456789abcdefX",
                                              "hashes": 1}), **{"Content-Type": "application/json"})
    tokens.append("NoSuchTokenName0123456789abcdefX")
    call("GET", f"/user/balance?secret={s}&name=alice%40example.com")
    form("/user/withdraw", secret=s, name="alice@example.com", amount=1, idempotency_key="w-1")
    form("/user/withdraw", secret=s, name="alice@example.com", amount=10**9)
    call("GET", f"/user/top?secret={s}&count=10&order=balance")
    call("GET", f"/user/list?secret={s}&count=32")
    call("GET", f"/user/list?secret={s}&page=not-a-page")
    form("/user/reset", secret=s, name="nobody")
    call("GET", f"/stats/payout?secret={s}")
    call("GET", f"/stats/site?secret={s}")
    call("GET", f"/stats/history?secret={s}&begin=0&end=3600")
    form("/user/reset-all", secret=s)
    call("GET", f"/user/withdraw?secret={s}")                          # wrong_method
    wrong = s[:-1] + ("Y" if s.endswith("X") else "X")
    call("GET", f"/user/balance?secret={wrong}&name=a")                 # invalid_secret
    call("POST", f"/user/top?secret={s}", "{", **{"Content-Type": "application/json"})
    call("GET", "/lib/workproof.js")
    call("GET", "/openapi.json")
    call("GET", f"/nope/{s}?secret={s}")
    monkeypatch.setattr(ledger, "read_user", lambda *_a, **_k: 1 / 0)
    call("GET", f"/user/balance?secret={s}&name=bob")                  # internal_error

    lines = captured.requests()
    assert len(lines) == requests
    assert {line["result"] for line in lines} >= {
        "success", "duplicate_share", "invalid_job", "invalid_token", "insufficent_funds",
        "invalid_page", "wrong_method", "invalid_secret", "bad_request", "not_found",
        "internal_error"}
    text = captured.text()
    assert len(tokens) >= 3 and len(jobs) >= 8
    leaked = [value for value in secrets + tokens + jobs + [j.rsplit(".", 1)[1] for j in jobs]
              if value in text]
    assert leaked == []
    assert "alice@example.com" not in text and "private/path" not in text


def test_a_busy_refusal_is_logged_for_a_sample_its_count_always(api, captured, app_settings):
    """A flood's own answer (busy: nothing read or written) is a sampled line, like a
    successful read; its metric is still published, alone."""
    from chalicelib import observe

    records = [observe.Record(route="/pow/submit", request_id=f"req-{i}") for i in range(2000)]
    kept = [r for r in records if observe.logged(r, observe.BUSY, 0.1)]
    assert 150 <= len(kept) <= 250
    assert all(observe.logged(r, observe.BUSY, 1.0) for r in records)
    assert all(observe.logged(r, "invalid_job", 0.0) for r in records)
    app_settings(WORKPROOF_LOG_SAMPLE="0")
    captured.clear()
    record = observe.start("/pow/job", "POST", "r-busy")
    observe.finish(record, observe.BUSY, 200, 0.0)
    assert captured.requests() == []
