"""`make bench-abuse`'s tables: one per front door, the targets, and what drives each bill."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench import bill, edge_door
from bench.abuse.clients import DESKTOP_RATE, PHONE_RATE
from bench.abuse.targets import TargetRow

MONTH_HOURS = bill.MONTH_HOURS


def _money(value: float) -> str:
    return f"${value:,.3f}" if value < 10 else f"${value:,.2f}"


def _pair(t: dict[str, float]) -> str:
    return f"{t['p50']:.2f} / {t['p95']:.2f}"


def _door_title(door: str, params: dict[str, Any]) -> str:
    if door == edge_door.REST:
        return "FrontDoor=rest: WAF (WebAcl, /api/...) → API Gateway stage throttles → Lambda"
    plan = str(params.get("EdgePlan", "FREE"))
    return (f"FrontDoor=cloudfront, EdgePlan={plan}: CloudFront + WAF (EdgeWebAcl, paths as sent) "
            "→ function URL → Lambda (no stage throttle)")


def _row(r: dict[str, Any], min_work: float) -> str:
    layers = r["layers"]
    office = (f"{r['office_verified']} of {r['office_count']}, {_pair(r['office'])}, "
              f"{r['office_max_work'] / min_work:.2f}× base") if r["office_count"] else "—"
    throttled = 100 * r["lambda_throttled"] / max(1, r["requests"])
    return (f"| {r['name']} | {'on' if r['waf'] else 'off'} | {r['seconds']:.0f} "
            f"| {_money(layers['WAF'])} | {_money(layers['API Gateway'])} "
            f"| {_money(layers['CloudFront'])} | {_money(layers['Lambda'])} "
            f"| {_money(layers['DynamoDB'])} | {_money(r['total'])} | {_money(r['logs'])} "
            f"| {_money(r['attacker_cost']) if r['name'] != 'none' else '—'} "
            f"| {100 * r['honest_verified']:.1f} % of {r['honest_captchas']} "
            f"| {_pair(r['phone'])} | {_pair(r['desktop'])} | {office} "
            f"| {r['miner_busy']} of {r['miner_busy'] + r['miner_accepted']} "
            f"| {r['attacker_shares_h']:,.0f} | {r['attacker_hashes_h']:.3g} "
            f"| {r['refused_with_calls']} | {r['lambda_throttled']:,} ({throttled:.1f} %), "
            f"peak {r['peak_busy']} of {r['containers']}{_verify_pool(r)} |")


def _verify_pool(r: dict[str, Any]) -> str:
    """The cloudfront door's verify function: its containers' peak and its throttles."""
    if not r["verify_containers"]:
        return ""
    return (f"; verify function {r['verify_throttled']:,} throttled, "
            f"peak {r['verify_peak_busy']} of {r['verify_containers']}")


def _drivers(r: dict[str, Any]) -> str:
    """Which party and layer the bill comes from: Lambda invocations (those refused by the
    app), DynamoDB, and the logs their invocations write."""
    parts = []
    for party, p in sorted(r["by_party"].items(), key=lambda kv: -kv[1]["Lambda"]):
        if p["invocations_h"] == 0 and p["lambda_throttled_h"] == 0:
            continue
        parts.append(f"{party}: {p['invocations_h'] / 1e6:.2f} M invocations/h "
                     f"({100 * p['refused_h'] / max(1.0, p['invocations_h']):.0f} % refused by the app; "
                     f"{p['lambda_throttled_h'] / 1e6:.2f} M/h throttled by Lambda), "
                     f"Lambda {_money(p['Lambda'])}, DynamoDB {_money(p['DynamoDB'])}, "
                     f"logs {_money(p['CloudWatch Logs'])}")
    return "; ".join(parts)


def print_tables(results: Sequence[dict[str, Any]], targets: Sequence[TargetRow], args: Any) -> None:
    changed = ", ".join(args.param) or "none"
    print(f"\nbench-abuse: template parameters changed: {changed}; minimum work {args.min_work:,} "
          f"hashes; desktop {DESKTOP_RATE / 1e6:g} MH/s, phone {PHONE_RATE / 1e6:g} MH/s; "
          f"Lambda containers as reserved concurrency (make deploy: 70, and 10 for the cloudfront "
          f"door's verify function), a container busy for "
          f"its request's billed duration; honest traffic 200 captchas + 50 miners a minute; "
          f"prices of {bill.PRICES_DATE} (bench/bill.py)")
    for door in dict.fromkeys(r["door"] for r in results):
        rows = [r for r in results if r["door"] == door]
        print(f"\n### {_door_title(door, bill.parameters(bill.load_template(), args.overrides))}\n")
        print("| scenario | WAF | sim s | WAF $/h | API GW $/h | CloudFront $/h | Lambda $/h "
              "| DynamoDB $/h | total $/h | + Logs $/h (the app's lines, sampled) | attacker's cost $/h "
              "| honest captchas verified | p50 / p95 phone s | p50 / p95 desktop s "
              "| shared address: verified, p50 / p95 s, most work | miner submits busy "
              "| attacker shares/h | attacker hashes/h | refused with a DB write "
              "| Lambda throttled (of requests), busy containers |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---:|---:|---:|---:|---|")
        for r in rows:
            print(_row(r, args.min_work))
    print("\n| door | scenario | WAF | target | measured | result |\n|---|---|---|---|---|---|")
    for door, name, waf, target, measured, passed in targets:
        verdict = "report" if passed is None else ("PASS" if passed else "FAIL")
        print(f"| {door} | {name} | {waf} | {target} | {measured} | {verdict} |")
    for r in results:
        label = f"{r['name']} ({r['door']}, WAF {'on' if r['waf'] else 'off'})"
        if r["trace"]:
            levels = ", ".join(f"{t:.0f} s: {level}" for t, level in r["trace"])
            print(f"\n{label} level every "
                  f"{int(r['trace'][1][0] - r['trace'][0][0]) if len(r['trace']) > 1 else 15} s: "
                  f"{levels}")
        if r["failures"]:
            print(f"{label} honest failures: {dict(r['failures'])}")
        if r["waf_blocked_by"]:
            print(f"{label} WAF blocks by rule: {r['waf_blocked_by']}")
        monthly = r["requests"] * 3600 / r["seconds"] * MONTH_HOURS
        plan = edge_door.PLANS.get(r["plan"]) if r["door"] == edge_door.EDGE else None
        allowance = f" (plan {r['plan']}'s allowance: {plan.requests / 1e6:,.0f} M, past it " \
            "traffic is slowed, not modelled)" if plan else ""
        print(f"{label} per party: {_drivers(r)}; {monthly / 1e6:,.0f} M requests a month at "
              f"this rate{allowance}")
    print("\n(p50/p95: seconds from the visitor's click to its token verified by the site's backend; "
          "a captcha counts as verified only if that verify succeeded. Total $/h leaves CloudWatch "
          "Logs out, as the rows before issue 24 did; the next column adds them)")
