"""`make bench-cost`: what each request costs, from the DynamoDB calls it makes.

Drives the real app (chalice.test.Client over app.py) on the embedded store
(moto in-process), records every DynamoDB call of each request with
botocore event hooks (bench/dynamo_cost.py applies the billing rules), then
lets the stream consumer run and records its calls separately: "off path"
is what the consumer spends for that request when it arrives alone in a
batch, and "per share in a batch of 100" what it spends when shares arrive
at load. Prints per request: calls, write units (base + each index), read
units, and $ per million requests at the dated list prices below.
"""
from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import secrets
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# us-east-1 list prices: one place, bench/bill.py.
from bench.bill import (  # noqa: E402
    API_GATEWAY_REQUEST as API_GATEWAY_REST,
)
from bench.bill import (  # noqa: E402
    DYNAMODB_RRU,
    DYNAMODB_WRU,
    LAMBDA_GB_SECOND,
    LAMBDA_REQUEST,
    LOG_EVENT_OVERHEAD,  # noqa: E402
    LOGS_GB,
    PRICES_DATE,
)
from bench.cost_doors import runtime_log_bytes  # noqa: E402

LAMBDA_MEMORY_GB = 0.5       # .chalice/config.json lambda_memory_size
LAMBDA_MS = 25               # assumed billed duration of one request (warm)
# What CloudWatch Logs adds to each line it ingests (its own event overhead is
# billed: 26 bytes per event), and the Lambda runtime's START/END/REPORT lines
# of each invocation (about 300 bytes), unless the template's LoggingConfig
# drops them (SystemLogLevel WARN: bench/cost_doors.py runtime_log_bytes).
LAMBDA_RUNTIME_LOG_BYTES = runtime_log_bytes()
MIN_WORK = 1024              # small shares: the units do not depend on the work


def _environment() -> None:
    """The bench's settings, before the app is imported: every request comes from one
    address, so the front door's per-source limits (a cost of their own, make
    bench-abuse) are off. The request log and the EMF lines are written, and
    counted (`LogMeter`), not printed."""
    os.environ.update({
        "WORKPROOF_SOURCE_LIMITS": "off", "WORKPROOF_LOG_SAMPLE": "1",
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1", "WORKPROOF_MIN_WORK": str(MIN_WORK),
        "WORKPROOF_SIGNING_KEYS": "bench:" + base64.urlsafe_b64encode(
            secrets.token_bytes(32)).decode(),
    })
    os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)


class LogMeter:
    """The bytes the requests write to CloudWatch Logs: the request line, its
    metrics on it (its Logger's stream), and any metrics-only line (printed),
    each line with CloudWatch's event overhead. Every line is written (the
    sample's draw always passes) as the app writes it, `sampled` field
    included; a successful read's line counts for the `sample` part of them."""

    def __init__(self, sample: float) -> None:
        import io

        self.sample, self.lines, self.emf = sample, io.StringIO(), io.StringIO()

    def expected_bytes(self) -> float:
        from chalicelib import observe

        total = 0.0
        for text in self.lines.getvalue().splitlines():
            line = json.loads(text)
            record = observe.Record(route=str(line.get("route", "")))
            sampled = observe.sample_of(record, str(line.get("result")), self.sample)
            part = 1.0 if sampled is None else sampled
            total += part * (len(text.encode()) + 1 + LOG_EVENT_OVERHEAD)
        total += sum(len(text.encode()) + 1 + LOG_EVENT_OVERHEAD
                     for text in self.emf.getvalue().splitlines())
        return total


class Bench:
    def __init__(self) -> None:
        from chalice.test import Client
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        import app as app_module
        from chalicelib import ledger, sites

        ledger.RESET_ALL_GRACE_SECONDS = 0.0  # the wait costs no units
        self.backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
        # A stage absent from .chalice/config.json: `dev`'s environment names the
        # embedded store on 127.0.0.1:8001, not this in-process moto.
        self.client = Client(app_module.app, stage_name="bench")
        info, self.secret = sites.create_site("bench")
        self.sent = 0  # response bytes, headers included
        self.site_key = info.site_key

    def call(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.client.http.post(path, body=urlencode(params), headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        self.sent += response_bytes(response)
        return json.loads(response.body)

    def api(self, path: str, **params: Any) -> dict[str, Any]:
        return self.call(path, secret=self.secret, **params)

    def job(self, **params: Any) -> dict[str, Any]:
        answer = self.call("/pow/job", site=self.site_key, **params)
        assert answer["success"], answer
        return answer

    def submit(self, job: dict[str, Any]) -> dict[str, Any]:
        from tests.solver import solve

        answer = self.call("/pow/submit", job=job["job"],
                           nonce=solve(job["job"], job["difficulty"], job["count"]))
        assert answer["success"], answer
        return answer

    def measure(self, action: Callable[[], Any],
                sample: float) -> tuple[Any, Any, Any, float]:
        """(result, request cost, stream consumer cost, log bytes of the requests)."""
        import contextlib

        from bench.dynamo_cost import Recorder
        from chalicelib import observe
        from tests.streams import drain

        with contextlib.redirect_stdout(LogMeter(sample).emf):
            drain()
        meter = LogMeter(sample)
        handler = observe.LOGGER.registered_handler
        previous = handler.setStream(meter.lines)  # type: ignore[attr-defined]
        try:
            sent = self.sent
            with Recorder(_clients(), self.backend) as request, \
                    contextlib.redirect_stdout(meter.emf):
                result = action()
            self.last_sent = self.sent - sent
            with Recorder(_clients(), self.backend) as consumer, \
                    contextlib.redirect_stdout(LogMeter(sample).emf):
                drain()
        finally:
            handler.setStream(previous)  # type: ignore[attr-defined]
        return result, request.cost, consumer.cost, meter.expected_bytes()


# What API Gateway adds to each answer's headers (x-amzn-RequestId, Date,
# Connection, x-amz-apigw-id, ...), about 200 bytes, plus the status line.
GATEWAY_HEADER_BYTES = 220


def response_bytes(response: Any) -> int:
    """An answer's bytes on the wire: body, the app's headers, API Gateway's."""
    headers = sum(len(k) + len(str(v)) + 4 for k, v in response.headers.items())
    return len(response.body) + headers + GATEWAY_HEADER_BYTES


def _clients() -> list[Any]:
    from chalicelib.store import models

    seen: dict[int, Any] = {}
    for model in [*models.all_models(), models.Idempotency]:
        client = model._get_connection().connection.client
        seen[id(client)] = client
    client = models.connection().client
    seen[id(client)] = client
    return list(seen.values())


# Each request in its steady state: a setup (run unrecorded) returns the request to measure.
def _user_share_steady(bench: Bench) -> Any:
    job = bench.submit(bench.job(user="alice"))
    return lambda: bench.submit(job)


def _first_share(bench: Bench) -> Any:
    job = bench.job(user="newcomer-" + secrets.token_hex(4))
    return lambda: bench.submit(job)


def _long_name_share(bench: Bench) -> Any:
    name = "\U0001F600" * 256
    job = bench.submit(bench.job(user=name))
    return lambda: bench.submit(job)


def _token_share(bench: Bench) -> Any:
    job = bench.job(token="", hashes=MIN_WORK)
    return lambda: bench.submit(job)


def _anonymous_share(bench: Bench) -> Any:
    job = bench.job(anonymous=1)
    return lambda: bench.submit(job)


def _link_visit(bench: Bench) -> Any:
    url = bench.api("/link/create", url="https://example.com/x", hashes=MIN_WORK)["url"]
    job = bench.job(link=url.rsplit("/", 1)[1])
    return lambda: bench.submit(job)


def _job_user(bench: Bench) -> Any:
    return lambda: bench.job(user="alice")


def _withdraw(bench: Bench) -> Any:
    return lambda: bench.api("/user/withdraw", name="alice", amount=1)


def _withdraw_key(bench: Bench) -> Any:
    return lambda: bench.api("/user/withdraw", name="alice", amount=1,
                             idempotency_key=secrets.token_hex(8))


def _verify(bench: Bench) -> Any:
    # (The submit's answer carries no token name: the job's does.)
    job = bench.job(token="", hashes=MIN_WORK)
    bench.submit(job)
    return lambda: bench.api("/token/verify", token=job["token"], hashes=MIN_WORK)


def _captcha(bench: Bench) -> Any:
    def solve_and_verify() -> Any:
        job = bench.job(token="", hashes=MIN_WORK)
        bench.submit(job)
        return bench.api("/token/verify", token=job["token"], hashes=MIN_WORK)
    return solve_and_verify


def _siteverify(bench: Bench) -> Any:
    job = bench.job(token="", hashes=MIN_WORK)
    bench.submit(job)
    return lambda: bench.api("/siteverify", response=job["token"])


def _siteverify_key(bench: Bench) -> Any:
    job = bench.job(token="", hashes=MIN_WORK)
    bench.submit(job)
    return lambda: bench.api("/siteverify", response=job["token"],
                             idempotency_key=secrets.token_hex(8))


def _siteverify_duplicate(bench: Bench) -> Any:
    job = bench.job(token="", hashes=MIN_WORK)
    bench.submit(job)
    bench.api("/siteverify", response=job["token"])
    return lambda: bench.api("/siteverify", response=job["token"])


def _reset(bench: Bench) -> Any:
    bench.submit(bench.job(user="bob"))
    return lambda: bench.api("/user/reset", name="bob")


def _reads(path: str, **params: Any) -> Callable[[Bench], Any]:
    return lambda bench: (lambda: bench.api(path, **params))


_SCENARIOS: list[tuple[str, Callable[[Bench], Any]]] = [
    ("/pow/submit user share (steady)", _user_share_steady),
    ("/pow/submit user share (first of a user)", _first_share),
    ("/pow/submit user share (256 × U+1F600 name)", _long_name_share),
    ("/pow/submit token share (new token)", _token_share),
    ("/pow/submit anonymous share", _anonymous_share),
    ("/pow/submit link visit (final, redirect)", _link_visit),
    ("/pow/job user", _job_user),
    ("/user/withdraw", _withdraw),
    ("/user/withdraw with idempotency_key", _withdraw_key),
    ("/token/verify", _verify),
    ("captcha solve (job + submit + verify)", _captcha),
    ("/siteverify", _siteverify),
    ("/siteverify with idempotency_key", _siteverify_key),
    ("/siteverify refused (timeout-or-duplicate)", _siteverify_duplicate),
    ("/user/reset", _reset),
    ("/user/reset-all", _reads("/user/reset-all")),
    ("/user/balance", _reads("/user/balance", name="alice")),
    ("/user/top", _reads("/user/top")),
    ("/user/list", _reads("/user/list")),
    ("/link/create", _reads("/link/create", url="https://example.com/", hashes=5)),
    ("/stats/site", _reads("/stats/site")),
]


def scenarios(bench: Bench) -> list[tuple[str, Callable[[], Any]]]:
    """Each request in its steady state (the setup it needs runs unrecorded)."""
    return [(label, partial(setup, bench)) for label, setup in _SCENARIOS]


def dollars(cost: Any) -> float:
    return cost.wru * DYNAMODB_WRU + cost.rru * DYNAMODB_RRU


def lambda_dollars(arch: str) -> float:
    return LAMBDA_REQUEST + LAMBDA_GB_SECOND[arch] * LAMBDA_MEMORY_GB * LAMBDA_MS / 1000


def batch_share_cost(bench: Bench) -> Any:
    """The consumer's units per share when 100 user shares arrive in one batch."""
    import contextlib
    import io

    from bench.dynamo_cost import Recorder
    from tests.streams import drain

    with contextlib.redirect_stdout(io.StringIO()):
        drain()
        jobs = [bench.job(user=f"batch-{i % 10}") for i in range(100)]
        for job in jobs:
            bench.submit(job)
        with Recorder(_clients(), bench.backend) as consumer:
            drain()
    return consumer.cost


def _doors_figures(*args: Any) -> Any:
    from bench import cost_doors as doors

    return doors.Figures(*args)


def _widget_load(bench: Bench, sample: float) -> tuple[float, float, int]:
    """(Lambda $, logs $, bytes sent gzipped) of one /lib/captcha.js load on the REST door."""
    import gzip

    def load() -> Any:
        return bench.client.http.get("/lib/captcha.js")

    response, _, _, logged = bench.measure(load, sample)
    logs = (logged + LAMBDA_RUNTIME_LOG_BYTES) / 1e9 * LOGS_GB
    sent = len(gzip.compress(response.body)) + response_bytes(response) - len(response.body)
    return lambda_dollars("arm64"), logs, sent


def _doors(bench: Bench, figures: dict[str, Any], sample: float, out: Any) -> None:
    from bench import cost_doors as doors

    lambda_, logs, sent = _widget_load(bench, sample)
    captcha = figures["captcha solve (job + submit + verify)"]
    siteverify = figures["/siteverify"]
    share = figures["/pow/submit user share (steady)"]
    rows = {
        "user share (steady)": doors.Figures(1, share.dynamodb, share.lambda_, share.logs,
                                             share.sent_bytes, doors.share_offpath(bench)),
    }
    for rate in (1, 10):
        rows[f"captcha with widget load ({rate}/s)"] = doors.Figures(
            3, captcha.dynamodb - figures["/token/verify"].dynamodb + siteverify.dynamodb,
            captcha.lambda_, captcha.logs - figures["/token/verify"].logs + siteverify.logs,
            captcha.sent_bytes - figures["/token/verify"].sent_bytes + siteverify.sent_bytes,
            doors.captcha_offpath(bench, rate), doors.WIDGET_LOADS,
            lambda_ * doors.WIDGET_LOADS, logs * doors.WIDGET_LOADS, sent * doors.WIDGET_LOADS)
    size, window = doors.batching()["ledger"]
    out()
    out(f"Both doors, all-in $/M (arm64): request path + the consumer at the template's "
        f"batching (ledger {size} records / {window} s; guards {doors.batching()['guards']}; "
        f"tokens {doors.batching()['tokens']}) + logs; REST door + API Gateway "
        f"${API_GATEWAY_REST * 1e6:.2f}/M + transfer ${doors.REST_TRANSFER_GB}/GB out; "
        f"flat door: CloudFront plan fee / allowance per request (transfer included, Lambda "
        f"logs not). Captcha = job + submit + /siteverify + {doors.WIDGET_LOADS} widget script "
        f"loads (REST door: from the API, max-age 300; flat door: CloudFront's cache, "
        f"immutable URLs: plan requests, no Lambda, no logs). User share: 30 miners at a "
        f"share each 2–10 s.")
    out("| request | consumer WRU | REST door $/M | flat door Free $/M | flat door Pro $/M "
        "| target (flat Free) |")
    out("|---|---:|---:|---:|---:|---|")
    for label, f in rows.items():
        target = next(v for k, v in doors.TARGETS.items() if label.startswith(k))
        free = doors.flat(f, "FREE")
        verdict = "PASS" if free * 1e6 <= target else "FAIL"
        out(f"| {label} | {f.offpath_wru:.2f} | {doors.rest(f, API_GATEWAY_REST) * 1e6:.2f} | "
            f"{free * 1e6:.2f} | {doors.flat(f, 'PRO') * 1e6:.2f} | "
            f"≤ ${target:.2f}: {verdict} |")


def main() -> int:
    import argparse

    from chalicelib import config, observe

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--log-sample", type=float, default=float(config.DEFAULT_LOG_SAMPLE),
                        help="the part of successful reads whose line is logged (deployed default)")
    args = parser.parse_args()
    _environment()
    os.environ["WORKPROOF_LOG_SAMPLE"] = str(args.log_sample)
    observe.drawn = lambda record, sample: True  # every line written, weighed by LogMeter
    from moto import mock_aws

    out = partial(print, file=sys.__stdout__, flush=True)
    # Setup requests log too: only the measured ones are counted (LogMeter).
    with mock_aws(), contextlib.redirect_stdout(io.StringIO()):
        from chalicelib.store import models
        from ops import tables
        from ops.store import install_dynamodb_fixes

        install_dynamodb_fixes()
        models.bind()
        tables.create_tables("local")
        bench = Bench()
        observe.LOGGER.registered_handler.setStream(io.StringIO())  # type: ignore[attr-defined]
        out(f"Workproof cost per request — list prices of {PRICES_DATE}, us-east-1: "
              f"DynamoDB on-demand ${DYNAMODB_WRU * 1e6:.3f}/M WRU, ${DYNAMODB_RRU * 1e6:.3f}/M RRU; "
              f"API Gateway REST ${API_GATEWAY_REST * 1e6:.2f}/M; Lambda ${LAMBDA_REQUEST * 1e6:.2f}/M "
              f"+ GB-s (arm64 ${LAMBDA_GB_SECOND['arm64']}, x86 ${LAMBDA_GB_SECOND['x86']}) at "
              f"{int(LAMBDA_MEMORY_GB * 1024)} MB × {LAMBDA_MS} ms assumed; CloudWatch Logs "
              f"${LOGS_GB:.2f}/GB ingested: the app's lines as measured (successful reads' "
              f"request line at a sample of {args.log_sample:g}), "
              f"{LOG_EVENT_OVERHEAD} bytes of event overhead a line, "
              f"{LAMBDA_RUNTIME_LOG_BYTES} bytes of Lambda's START/END/REPORT a call")
        out()
        header = ("| request | calls | WRU base + index = total | RRU | off path WRU (alone) "
                  "| DynamoDB $/M | log bytes | logs $/M | response bytes "
                  "| request path $/M arm64 | request path $/M x86 |")
        out(header)
        out("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        figures: dict[str, Any] = {}
        for label, setup in scenarios(bench):
            action = setup()
            _, request, consumer, logged = bench.measure(action, args.log_sample)
            index = " + ".join(f"{v:g} {k}" for k, v in request.index_wru.items()) or "0"
            per_request = 1 if not label.startswith("captcha") else 3
            gateway = API_GATEWAY_REST * per_request
            db = dollars(request)
            log_bytes = logged + LAMBDA_RUNTIME_LOG_BYTES * per_request
            logs = log_bytes / 1e9 * LOGS_GB
            out(f"| {label} | {request.by_key()} | {request.base_wru:g} + {index} = "
                  f"{request.wru:g} | {request.rru:g} | {consumer.wru:g} | {db * 1e6:.2f} | "
                  f"{log_bytes:,.0f} | {logs * 1e6:.2f} | {bench.last_sent:,} | "
                  f"{(db + gateway + logs + lambda_dollars('arm64') * per_request) * 1e6:.2f} | "
                  f"{(db + gateway + logs + lambda_dollars('x86') * per_request) * 1e6:.2f} |")
            figures[label] = _doors_figures(per_request, db, lambda_dollars("arm64") * per_request,
                                           logs, bench.last_sent, consumer.wru)
        _doors(bench, figures, args.log_sample, out)
        batch = batch_share_cost(bench)
        out()
        out(f"Stream consumer, 100 user shares of 10 users in one batch: {batch.by_key()}, "
              f"{batch.wru:g} WRU ({batch.wru / 100:.2f} per share), {batch.rru:g} RRU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
