"""bench-abuse's front doors and Lambda's concurrency, on a simulation of the template's stack.

A container runs one request at a time for its billed duration; with every
reserved container busy Lambda throttles the request: no invocation, and on
the cloudfront door no layer bills it (the REST door's API Gateway already
did). The cloudfront door's bill over an hour is its flat-rate plan's fee
plus what reached Lambda (Lambda, DynamoDB, CloudWatch Logs).
"""
from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bench import bill, edge_door
from bench.abuse import report
from bench.abuse.pool import Pool
from bench.abuse.scenarios import Run
from bench.abuse.sim import SERVED_MS, Simulation

RESERVED = bill.DEPLOY_RESERVATION["ApiReservedConcurrency"]
VERIFY_RESERVED = bill.DEPLOY_RESERVATION["VerifyReservedConcurrency"]
BURST = RESERVED + 30
API_PATH = "/user/balance"  # a route of the API function on both doors


@pytest.fixture
def simulation(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Simulation]]:
    """A Simulation on a fresh embedded store; the app modules it rewires are put back after."""
    from moto import mock_aws

    import app  # noqa: F401 - the settings and the front door configured, as the bench does
    from chalicelib import front_door, ledger, mining, pow, sites, stats, streams
    from chalicelib.store import deadline, models
    from ops import tables
    from ops.store import install_dynamodb_fixes

    for module, names in ((deadline, ["time"]), (mining, ["time", "random", "check_share"]),
                          (ledger, ["time"]), (sites, ["time", "_cache"]), (streams, ["time"]),
                          (stats, ["time"]), (pow, ["check_share"]),
                          (front_door, ["clock", "LIMITS", "RATES", "_credited"])):
        for name in names:
            monkeypatch.setattr(module, name, getattr(module, name, None), raising=False)
    monkeypatch.setattr(front_door.LIMITS, "scale", front_door.LIMITS.scale)
    with mock_aws():
        install_dynamodb_fixes()
        models.bind()
        tables.create_tables("local")

        def make(seconds: float = 60.0, **params: Any) -> Simulation:
            return Simulation(seconds, 7, True, 65536, params)
        yield make


def _burst(sim: Simulation, count: int, at: float = 0.0, path: str = "/token/verify",
           first: int = 0) -> list[Any]:
    """`count` requests to `path` from as many addresses (from the `first`-th) at the same instant."""
    sim.clock.now = at
    return [sim.request("backend", f"198.51.{(first + i) // 250}.{(first + i) % 250}", path,
                        lambda: {"success": True}) for i in range(count)]


def test_a_burst_over_the_reserved_concurrency_is_throttled_and_billed_by_nobody_at_the_edge(
        simulation: Callable[..., Simulation]) -> None:
    sim = simulation(FrontDoor="cloudfront")
    assert sim.door == edge_door.EDGE and sim.throttle is None
    assert len(sim.pool.containers) == RESERVED  # the template reserves 0: what make deploy reserves
    answers = _burst(sim, BURST, path=API_PATH)
    assert [a.ok for a in answers] == [True] * RESERVED + [False] * (BURST - RESERVED)
    assert {(a.by, a.unreadable, a.retry_after) for a in answers[RESERVED:]} == {("lambda", True, 0)}
    book = sim.books["backend"]
    assert (book.invocations, book.lambda_throttled, book.gateway, book.waf) == (RESERVED, BURST - RESERVED,
                                                                                 0, BURST)
    assert book.lambda_ms == RESERVED * SERVED_MS
    layers = report._book_layers(sim, book)
    scale = 3600 / sim.seconds
    assert layers["WAF"] == layers["API Gateway"] == layers["CloudFront"] == 0.0
    assert layers["Lambda"] == pytest.approx(scale * bill.layer_costs(
        0, RESERVED, RESERVED * SERVED_MS / 1000 * bill.function_settings()[bill.API_FUNCTION].memory_gb,
        0, 0, 0)["Lambda"])
    # Each container is free again once its request's billed duration has passed.
    assert all(a.ok for a in _burst(sim, RESERVED, at=SERVED_MS / 1000, path=API_PATH))
    assert not _burst(sim, 1, at=SERVED_MS / 1000, path=API_PATH)[0].ok


def test_on_the_cloudfront_door_verifications_keep_the_verify_functions_containers(
        simulation: Callable[..., Simulation]) -> None:
    """Every API instance busy (a flood), and a site backend's token checks are
    still served: CloudFront routes them to the verify function, whose own
    reservation then bounds them alone."""
    sim = simulation(FrontDoor="cloudfront")
    assert sim.verify_pool is not None and len(sim.verify_pool.containers) == VERIFY_RESERVED
    assert all(a.ok for a in _burst(sim, RESERVED, path=API_PATH))
    assert not _burst(sim, 1, path=API_PATH, first=RESERVED)[0].ok  # the API function is full
    served = [_burst(sim, 1, path=path, first=100 + i)[0] for i, path in enumerate(edge_door.VERIFY_PATHS)]
    assert [a.ok for a in served] == [True] * len(edge_door.VERIFY_PATHS)
    rest = _burst(sim, VERIFY_RESERVED - len(served) + 1, first=200)
    assert [a.ok for a in rest] == [True] * (VERIFY_RESERVED - len(served)) + [False]
    assert (rest[-1].by, rest[-1].unreadable) == ("lambda", True)
    assert (sim.pool.throttled, sim.verify_pool.throttled) == (1, 1)


def test_on_the_rest_door_api_gateway_bills_the_requests_lambda_throttles(
        simulation: Callable[..., Simulation]) -> None:
    sim = simulation(FrontDoor="rest", VerifyBurstLimit=BURST, VerifyRateLimit=BURST)
    assert sim.verify_pool is None  # API Gateway sends everything to the API function
    answers = _burst(sim, BURST)
    assert sum(a.ok for a in answers) == RESERVED
    book = sim.books["backend"]
    assert (book.invocations, book.lambda_throttled, book.gateway) == (RESERVED, BURST - RESERVED, BURST)
    assert report._book_layers(sim, book)["API Gateway"] == pytest.approx(
        BURST * bill.API_GATEWAY_REQUEST * 3600 / sim.seconds)


def test_the_pool_picks_only_idle_containers() -> None:
    pool = Pool(3, random.Random(1))
    held = []
    for _ in range(3):
        container = pool.acquire(0.0)
        assert container is not None and container not in held
        pool.hold(container, 0.0, 10)
        held.append(container)
    assert pool.acquire(0.005) is None and pool.throttled == 1
    assert pool.acquire(0.010) is not None and pool.peak == 3


@pytest.mark.parametrize("plan", ["FREE", "PRO"])
def test_the_cloudfront_doors_hour_costs_its_plans_fee_and_what_reached_lambda(
        simulation: Callable[..., Simulation], plan: str) -> None:
    sim = simulation(3600.0, FrontDoor="cloudfront", EdgePlan=plan)
    book = sim.books["attacker"]
    book.waf, book.waf_blocked, book.invocations = 3_000_000, 1_000_000, 2_000_000
    book.lambda_ms, book.wru, book.rru = 2_000_000 * 3.0, 400_000.0, 800_000.0
    book.log_bytes = 2_000_000 * 500.0
    result = report.summary("none", True, Run(sim))
    assert (result["name"], result["door"], result["plan"]) == ("none", "cloudfront", plan)
    memory = bill.function_settings()[bill.API_FUNCTION].memory_gb
    fee = edge_door.PLANS[plan].monthly / bill.MONTH_HOURS
    lambda_cost = 2e6 * bill.LAMBDA_REQUEST + 6_000 * memory * bill.LAMBDA_GB_SECOND[bill.lambda_arch()]
    dynamodb = 400_000 * bill.DYNAMODB_WRU + 800_000 * bill.DYNAMODB_RRU
    logs = 2e6 * 500 / 1e9 * bill.LOGS_GB
    assert result["layers"] == pytest.approx({"WAF": 0.0, "API Gateway": 0.0, "CloudFront": fee,
                                              "Lambda": lambda_cost, "DynamoDB": dynamodb})
    assert result["front"] == pytest.approx(fee)
    assert result["total"] + result["logs"] == pytest.approx(fee + lambda_cost + dynamodb + logs)
    assert result["attacker_cost"] == pytest.approx(lambda_cost + dynamodb)  # the fee is nobody's


def test_an_invocations_log_bytes_are_the_apps_own_lines_sampled_as_the_template_says(
        simulation: Callable[..., Simulation]) -> None:
    from bench.abuse.logbytes import LOG_EVENT_OVERHEAD, _written, invocation_bytes

    sim = simulation(FrontDoor="cloudfront")
    sample = float(sim.params["LogSample"])
    assert sample == 0.1  # the template's default
    share = invocation_bytes("/pow/submit", "success", sample)
    line = _written("/pow/submit", "success", sample, True)
    assert share == line and 400 < line < 700  # a share's line, its metrics on it, always written
    # A flood's answer: one line in ten; the other nine print a refused share's metrics alone.
    busy_submit = invocation_bytes("/pow/submit", "busy", sample)
    alone = _written("/pow/submit", "busy", sample, False)
    assert 150 < alone < 300
    assert busy_submit == pytest.approx(0.1 * _written("/pow/submit", "busy", sample, True) + 0.9 * alone)
    # A refused /pow/job publishes no metric: nine in ten write nothing.
    assert _written("/pow/job", "busy", sample, False) == 0
    assert invocation_bytes("/pow/job", "busy", sample) == pytest.approx(
        0.1 * _written("/pow/job", "busy", sample, True))
    assert _written("/pow/job", "busy", sample, True) > LOG_EVENT_OVERHEAD
    # An invalid share is always logged (not a flood's busy).
    assert invocation_bytes("/pow/submit", "invalid_job", sample) == _written(
        "/pow/submit", "invalid_job", sample, True)
    # And what the simulation books for a request is that figure.
    sim.clock.now = 0.0
    sim.request("backend", "198.51.100.1", "/token/verify", lambda: {"success": True})
    assert sim.books["backend"].log_bytes == invocation_bytes("/token/verify", "success", sample)


def test_lambdas_own_429_on_pow_reads_as_busy_on_the_cloudfront_door_only(
        simulation: Callable[..., Simulation]) -> None:
    """CloudFront adds CORS and Retry-After: 1 to /pow/* answers (EdgePowCorsPolicy): the
    widget waits a second; the REST door's answer to a Lambda throttle it cannot read."""
    for door, expected in (("cloudfront", {("lambda", False, 1)}), ("rest", {("lambda", True, 0)})):
        sim = simulation(FrontDoor=door, PowBurstLimit=BURST, PowRateLimit=BURST)
        sim.clock.now = 0.0
        answers = [sim.request("visitor", f"198.51.100.{i}", "/pow/job", lambda: {"success": True})
                   for i in range(BURST)]
        assert {(a.by, a.unreadable, a.retry_after) for a in answers[RESERVED:]} == expected, door
