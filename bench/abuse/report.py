"""A run's figures (dollars per hour by layer and by party, honest outcomes) and the tables."""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from bench import bill
from bench.abuse.clients import DESKTOP_RATE, PHONE_RATE, Visit
from bench.abuse.scenarios import Run
from bench.abuse.sim import SERVED_MS, Book, Simulation

HOUR = 3600


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (nearest rank); NaN when there is nothing to rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _book_costs(sim: Simulation, book: Book) -> dict[str, float]:
    """Dollars per hour of one party's requests (DynamoDB: the calls its requests made)."""
    scale = HOUR / sim.seconds
    function = bill.function_settings()[bill.API_FUNCTION]
    gb_seconds = book.lambda_ms / 1000 * function.memory_gb
    layers = bill.layer_costs(book.gateway * scale, book.invocations * scale, gb_seconds * scale,
                              book.wru * scale, book.rru * scale, book.waf * scale)
    return {name: value for name, value in layers.items() if name != "CloudWatch Logs"}


def _consumer_costs(sim: Simulation) -> dict[str, float]:
    scale = HOUR / sim.seconds
    consumer = bill.function_settings()[bill.STREAMS_FUNCTION]
    return {"Lambda": sim.consumer_invocations * scale * (
                bill.LAMBDA_REQUEST + SERVED_MS * 4 / 1000 * consumer.memory_gb
                * bill.LAMBDA_GB_SECOND["x86"]),
            "DynamoDB": (sim.consumer_wru * bill.DYNAMODB_WRU + sim.consumer_rru * bill.DYNAMODB_RRU)
            * scale}


def party_costs(sim: Simulation) -> dict[str, float]:
    """Dollars per hour each party costs the operator: its requests, and the
    stream consumer's work in proportion to the shares it had credited."""
    consumer = sum(_consumer_costs(sim).values())
    shares = sum(book.accepted_shares for book in sim.books.values()) or 1
    return {party: sum(_book_costs(sim, book).values()) + consumer * book.accepted_shares / shares
            for party, book in sim.books.items()}


def _timings(visits: Sequence[Visit]) -> dict[str, float]:
    seconds = [v.seconds for v in visits if v.seconds is not None]
    return {"p50": percentile(seconds, 0.5), "p95": percentile(seconds, 0.95),
            "max": max(seconds, default=float("nan"))}


def _counted(visits: Sequence[Visit], end: float) -> list[Visit]:
    """Visits that ended, or that had 30 s before the run ended (those count as not served)."""
    return [v for v in visits if v.outcome or end - v.started > 30]


def summary(name: str, waf_on: bool, run: Run) -> dict[str, Any]:
    sim = run.sim
    layers: Counter[str] = Counter()
    for book in sim.books.values():
        layers.update(_book_costs(sim, book))
    layers.update(_consumer_costs(sim))
    scale = HOUR / sim.seconds
    honest = _counted(run.visits, sim.seconds)
    office = _counted(run.office, sim.seconds)
    attacker = sim.books["attacker"]
    costs = party_costs(sim)
    captcha_requests = sum(_book_costs(sim, sim.books[p])[layer] for p in ("visitor", "backend")
                           for layer in ("API Gateway", "Lambda", "DynamoDB"))
    verified = sum(v.outcome == "verified" for v in honest + office)
    return {
        "name": name, "waf": waf_on, "seconds": sim.seconds, "layers": dict(layers),
        "total": sum(layers.values()),
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


def _money(value: float) -> str:
    return f"${value:,.3f}" if value < 10 else f"${value:,.2f}"


def _pair(t: dict[str, float]) -> str:
    return f"{t['p50']:.2f} / {t['p95']:.2f}"


def print_tables(results: Sequence[dict[str, Any]], targets: Sequence[tuple[str, str, str, bool | None]],
                 args: Any, containers: int) -> None:
    changed = ", ".join(args.param) or "none"
    print(f"\nbench-abuse: template parameters changed: {changed}; minimum work {args.min_work:,} "
          f"hashes; desktop {DESKTOP_RATE / 1e6:g} MH/s, phone {PHONE_RATE / 1e6:g} MH/s; "
          f"{containers} containers (reserved concurrency as make deploy sets it); honest traffic 200 "
          f"captchas + 50 miners a minute; prices of {bill.PRICES_DATE} (bench/bill.py)\n")
    print("| scenario | WAF | sim s | WAF $/h | API GW $/h | Lambda $/h | DynamoDB $/h | total $/h "
          "| attacker's cost $/h | honest captchas verified | p50 / p95 phone s | p50 / p95 desktop s "
          "| shared address: verified, p50 / p95 s, most work | miner submits busy "
          "| attacker shares/h | attacker hashes/h | refused with a DB write |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---:|---:|---:|---:|")
    for r in results:
        layers = r["layers"]
        office = (f"{r['office_verified']} of {r['office_count']}, {_pair(r['office'])}, "
                  f"{r['office_max_work'] / args.min_work:.2f}× base") if r["office_count"] else "—"
        print(f"| {r['name']} | {'on' if r['waf'] else 'off'} | {r['seconds']:.0f} "
              f"| {_money(layers.get('WAF', 0))} | {_money(layers['API Gateway'])} "
              f"| {_money(layers['Lambda'])} | {_money(layers['DynamoDB'])} | {_money(r['total'])} "
              f"| {_money(r['attacker_cost']) if r['name'] != 'none' else '—'} "
              f"| {100 * r['honest_verified']:.1f} % of {r['honest_captchas']} "
              f"| {_pair(r['phone'])} | {_pair(r['desktop'])} | {office} "
              f"| {r['miner_busy']} of {r['miner_busy'] + r['miner_accepted']} "
              f"| {r['attacker_shares_h']:,.0f} | {r['attacker_hashes_h']:.3g} "
              f"| {r['refused_with_calls']} |")
    print("\n| scenario | WAF | target | measured | result |\n|---|---|---|---|---|")
    for name, waf, target, measured, passed in targets:
        verdict = "report" if passed is None else ("PASS" if passed else "FAIL")
        print(f"| {name} | {waf} | {target} | {measured} | {verdict} |")
    for r in results:
        if r["trace"]:
            levels = ", ".join(f"{t:.0f} s: {level}" for t, level in r["trace"])
            print(f"\n{r['name']} (WAF {'on' if r['waf'] else 'off'}) level every "
                  f"{int(r['trace'][1][0] - r['trace'][0][0]) if len(r['trace']) > 1 else 15} s: "
                  f"{levels}")
        if r["failures"]:
            print(f"{r['name']} (WAF {'on' if r['waf'] else 'off'}) honest failures: "
                  f"{dict(r['failures'])}")
        if r["waf_blocked_by"]:
            print(f"{r['name']} (WAF {'on' if r['waf'] else 'off'}) WAF blocks by rule: "
                  f"{r['waf_blocked_by']}")
    print("\n(p50/p95: seconds from the visitor's click to its token verified by the site's backend; "
          "a captcha counts as verified only if that verify succeeded)")
