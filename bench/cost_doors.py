"""The two doors' all-in $ per million (make bench-cost's last table).

REST door: API Gateway REST per request + Lambda + DynamoDB (request path)
+ the stream consumer's share at the template's batching + CloudWatch Logs
+ data transfer out. Flat-rate door: CloudFront's plan fee over its
allowance at full use per request (transfer included) + the same Lambda
(a function URL adds no fee), DynamoDB, consumer and Lambda logs (not in
the plan). The widget's scripts: REST door, served by the API (max-age 300);
flat door, from CloudFront's cache at immutable URLs (plan requests only).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.bill import DYNAMODB_WRU
from bench.edge_door import PLANS, REST_TRANSFER_GB

TEMPLATE = Path(__file__).resolve().parent.parent / "deploy" / "merge-template.json"
WIDGET_LOADS = 2  # /lib/ scripts a captcha page loads (captcha.js and its worker), as today
TARGETS = {"captcha with widget load": 7.00, "user share (steady)": 4.00}


@dataclass
class Figures:
    """One request kind, per request (dollars, bytes)."""

    requests: int          # API calls (each a Lambda invocation)
    dynamodb: float
    lambda_: float
    logs: float
    sent_bytes: float
    offpath_wru: float     # the consumer's, at the template's batching
    static_loads: int = 0  # widget script loads (cached on the flat door)
    static_lambda: float = 0.0
    static_logs: float = 0.0
    static_bytes: float = 0.0


def plan_per_request(tier: str) -> float:
    """The plan's fee spread over its allowance used in full (CloudWatch Logs of the
    Lambda behind it are not in the plan; transfer is)."""
    return PLANS[tier].request_price


def rest(f: Figures, gateway: float) -> float:
    calls = f.requests + f.static_loads
    transfer = (f.sent_bytes + f.static_bytes) / 1e9 * REST_TRANSFER_GB
    return (gateway * calls + f.dynamodb + f.lambda_ + f.static_lambda + f.logs
            + f.static_logs + f.offpath_wru * DYNAMODB_WRU + transfer)


def flat(f: Figures, tier: str) -> float:
    calls = f.requests + f.static_loads
    return (plan_per_request(tier) * calls + f.dynamodb + f.lambda_ + f.logs
            + f.offpath_wru * DYNAMODB_WRU)


# Lambda's START/END/REPORT lines of one invocation (measured on a deployed
# function's log group), INFO-level system logs.
RUNTIME_LOG_BYTES = 300


def runtime_log_bytes(function: str = "APIHandler") -> int:
    """The runtime's own log bytes a call, as the template's LoggingConfig leaves them."""
    props = json.loads(TEMPLATE.read_text())["Resources"][function]["Properties"]
    level = props.get("LoggingConfig", {}).get("SystemLogLevel", "INFO")
    return 0 if level == "WARN" else RUNTIME_LOG_BYTES


def batching() -> dict[str, tuple[int, int]]:
    """(BatchSize, window s) of each stream table's mapping, by table suffix."""
    resources = json.loads(TEMPLATE.read_text())["Resources"]
    out = {}
    for res in resources.values():
        if res.get("Type") == "AWS::Lambda::EventSourceMapping":
            props = res["Properties"]
            table = resources[props["EventSourceArn"]["Fn::GetAtt"][0]]["Properties"]["TableName"]
            out[table.rsplit("-", 1)[1]] = (props["BatchSize"],
                                            props["MaximumBatchingWindowInSeconds"])
    return out


def drained_cost(bench: Any, suffix: str) -> Any:
    """What the consumer spends on the records of one table written so far (one batch)."""
    from bench.cost import _clients
    from bench.dynamo_cost import Recorder
    from chalicelib import streams
    from chalicelib.store import models
    from ops import stream_pump

    table = next(m.Meta.table_name for m in models.STREAM_TABLES
                 if models.table_for(m).suffix == suffix)
    with Recorder(_clients(), bench.backend) as recorder:
        stream_pump.drain([table], lambda event: streams.handle_event(event), batch_size=10_000)
    return recorder.cost


def captcha_offpath(bench: Any, per_second: int) -> float:
    """Consumer WRU per captcha at a site solving `per_second` captchas a second:
    the guards' batch holds a second of shares, the tokens' a window of verifies."""
    from bench.cost import MIN_WORK
    from tests.streams import drain

    drain()
    for _ in range(per_second):
        job = bench.job(token="", hashes=MIN_WORK)
        bench.submit(job)
        bench.api("/token/verify", token=job["token"], hashes=MIN_WORK)
    guards, tokens = drained_cost(bench, "guards"), drained_cost(bench, "tokens")
    drain()
    _, tokens_window = batching()["tokens"]
    guards_window = batching()["guards"][1]
    return (guards.wru / (per_second * guards_window)
            + tokens.wru / per_second * min(1.0, 1.0 / tokens_window))


def share_offpath(bench: Any, users: int = 30) -> float:
    """Consumer WRU per user share: `users` miners at a share each 2–10 s; the
    ledger's part simulated at its batching (bench/rank_batching.py), the
    guards' a window of the site's shares in one batch."""
    from bench import rank_batching
    from chalicelib import sites
    from tests.streams import drain

    drain()
    size, window = batching()["ledger"]
    site = sites.get_site(bench.site_key)
    mix = rank_batching.Mix("doors", users, 2, 10, 120)
    ledger = rank_batching.run(mix, window, size, site, bench.backend)
    per_second = max(1, round(users / 6))
    # One guards batch holds the shares of its window (at most BatchSize).
    guards_size, guards_window = batching()["guards"]
    in_batch = min(guards_size, per_second * max(1, guards_window))
    drain()
    for i in range(in_batch):
        bench.submit(bench.job(user=f"miner-{i % users}"))
    guards = drained_cost(bench, "guards")
    drain()
    return ledger.wru / max(1, ledger.shares) + guards.wru / in_batch
