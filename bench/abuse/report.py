"""A run's figures (dollars per hour by layer and by party, honest outcomes) and the tables."""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from bench import bill, edge_door
from bench.abuse.clients import Visit
from bench.abuse.scenarios import Run
from bench.abuse.sim import SERVED_MS, Book, Simulation

HOUR = 3600
LOGS = "CloudWatch Logs"
FRONT = ("WAF", "API Gateway", "CloudFront")  # the front door's layers


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (nearest rank); NaN when there is nothing to rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _book_layers(sim: Simulation, book: Book) -> dict[str, float]:
    """Dollars per hour of one party's requests by layer, CloudWatch Logs included
    (the bytes the app writes for each invocation's route and result, sampled as the
    template's LogSample samples them: bench/abuse/logbytes.py); a flat-rate plan's
    fee is nobody's (`_plan_fee`)."""
    scale = HOUR / sim.seconds
    function = bill.function_settings()[bill.API_FUNCTION]
    gb_seconds = book.lambda_ms / 1000 * function.memory_gb
    layers = bill.layer_costs(book.gateway, book.invocations, gb_seconds, book.wru, book.rru,
                              book.waf, log_bytes=book.log_bytes,
                              door=sim.door, edge_plan=edge_door.plan(sim.params), hours=0.0)
    return {name: value * scale for name, value in layers.items()}


def _book_costs(sim: Simulation, book: Book) -> dict[str, float]:
    """As `_book_layers`, without CloudWatch Logs (the tables' total leaves them out, as before)."""
    return {name: value for name, value in _book_layers(sim, book).items() if name != LOGS}


def _plan_fee(sim: Simulation) -> float:
    """The front door's fixed fee per hour: a flat-rate plan's, pro-rated over the run."""
    hours = sim.seconds / HOUR
    fee = bill.layer_costs(0, 0, 0, 0, 0, 0, door=sim.door, edge_plan=edge_door.plan(sim.params),
                           hours=hours)["CloudFront"]
    return fee / hours


def _consumer_costs(sim: Simulation, party: str | None = None) -> dict[str, float]:
    """The stream consumer's dollars per hour: all of it, or `party`'s part (per
    table, in proportion to the records the party wrote there)."""
    scale = HOUR / sim.seconds
    function = bill.function_settings()[bill.STREAMS_FUNCTION]
    consumer = sim.consumer
    lambda_cost = dynamodb = 0.0
    for table in consumer.tables:
        part = 1.0 if party is None else consumer.share_of(party, table)
        lambda_cost += part * consumer.invocations[table] * (
            bill.LAMBDA_REQUEST + SERVED_MS * 4 / 1000 * function.memory_gb
            * bill.LAMBDA_GB_SECOND["x86"])
        dynamodb += part * (consumer.wru[table] * bill.DYNAMODB_WRU
                            + consumer.rru[table] * bill.DYNAMODB_RRU)
    return {"Lambda": lambda_cost * scale, "DynamoDB": dynamodb * scale}


def party_costs(sim: Simulation) -> dict[str, float]:
    """Dollars per hour each party costs the operator: its requests, and the
    stream consumer's work on the records it wrote."""
    return {party: sum(_book_costs(sim, book).values()) + sum(_consumer_costs(sim, party).values())
            for party, book in sim.books.items()}


def _party_row(sim: Simulation, book: Book) -> dict[str, float]:
    """One party's Lambda work per hour (invocations, those the app refused) and its layers' $/h."""
    scale = HOUR / sim.seconds
    return {"invocations_h": book.invocations * scale, "refused_h": book.refused * scale,
            "lambda_throttled_h": book.lambda_throttled * scale, **_book_layers(sim, book)}


def _timings(visits: Sequence[Visit]) -> dict[str, float]:
    """Percentiles of click-to-verified seconds over the counted visits. A counted visit that
    was not verified (it failed, or was still under way 30 s after it began) ranks as
    infinitely slow: dropping it would report only the visitors the attack let through."""
    seconds = [v.seconds if v.seconds is not None else math.inf for v in visits]
    return {"p50": percentile(seconds, 0.5), "p95": percentile(seconds, 0.95),
            "max": max(seconds, default=float("nan"))}


def _counted(visits: Sequence[Visit], end: float) -> list[Visit]:
    """Visits that ended, or that had 30 s before the run ended (those count as not served)."""
    return [v for v in visits if v.outcome or end - v.started > 30]


def summary(name: str, waf_on: bool, run: Run) -> dict[str, Any]:
    sim = run.sim
    layers: dict[str, float] = {name: 0.0 for name in bill.LAYERS if name != LOGS}
    for part in [*(_book_costs(sim, book) for book in sim.books.values()), _consumer_costs(sim)]:
        for layer, value in part.items():
            layers[layer] += value
    layers["CloudFront"] += _plan_fee(sim)
    logs = sum(_book_layers(sim, book)[LOGS] for book in sim.books.values())
    scale = HOUR / sim.seconds
    honest = _counted(run.visits, sim.seconds)
    office = _counted(run.office, sim.seconds)
    attacker = sim.books["attacker"]
    costs = party_costs(sim)
    captcha_requests = sum(_book_costs(sim, sim.books[p])[layer] for p in ("visitor", "backend")
                           for layer in ("API Gateway", "Lambda", "DynamoDB"))
    verified = sum(v.outcome == "verified" for v in honest + office)
    return {
        "name": name, "waf": waf_on, "door": sim.door, "seconds": sim.seconds,
        "plan": str(sim.params.get("EdgePlan", "")),
        "layers": dict(layers), "total": sum(layers.values()), "logs": logs,
        "front": sum(layers[layer] for layer in FRONT),
        "lambda_throttled": sum(b.lambda_throttled for b in sim.books.values()),
        "requests": sum(b.waf_blocked + b.throttled + b.lambda_throttled + b.invocations
                        for b in sim.books.values()),
        "peak_busy": sim.pool.peak, "containers": len(sim.pool.containers),
        "verify_peak_busy": sim.verify_pool.peak if sim.verify_pool else 0,
        "verify_containers": len(sim.verify_pool.containers) if sim.verify_pool else 0,
        "verify_throttled": sim.verify_pool.throttled if sim.verify_pool else 0,
        "by_party": {party: _party_row(sim, book) for party, book in sim.books.items()},
        "attacker_cost": costs.get("attacker", 0.0),
        "honest_verified": sum(v.outcome == "verified" for v in honest) / max(1, len(honest)),
        "honest_captchas": len(honest),
        "phone": _timings([v for v in honest if v.kind == "phone"]),
        "desktop": _timings([v for v in honest if v.kind == "desktop"]),
        "office": _timings(office),
        "office_verified": sum(v.outcome == "verified" for v in office),
        "office_count": len(office),
        "office_max_work": max((w for v in office for w in v.works), default=0),
        "office_max_busy": max((sum(v.busy_waits) for v in office), default=0.0),
        "failures": Counter(v.outcome or "unfinished at the end" for v in honest + office
                            if v.outcome != "verified"),
        "miner_busy": sim.outcomes.get("miner busy", 0),
        "miner_accepted": sim.outcomes.get("miner accepted", 0),
        "attacker_shares_h": attacker.accepted_shares * scale,
        "attacker_hashes_h": attacker.accepted_hashes * scale,
        "refused_with_calls": sum(b.refused_with_calls for b in sim.books.values()),
        "per_million_captchas": captcha_requests / max(1e-9, verified * scale) * 1e6,
        "waf_blocked_by": dict(sim.waf.blocked_by),
        "trace": list(run.trace), "notes": run.notes,
    }
