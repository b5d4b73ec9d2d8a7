"""`make bench-bill`: the deployed stack's fixed monthly cost and its worst-case cost per hour.

Everything is read from the stack's own template, deploy/merge-template.json
(its Parameters with their defaults, and its Resources), plus the functions'
memory and timeout from .chalice/config.json (what `chalice package` writes
into the packaged template). Pure functions; nothing calls AWS.

Per-unit prices (us-east-1 list prices as of PRICES_DATE, in dollars):
  WAF_WEB_ACL_MONTH, WAF_RULE_MONTH, WAF_REQUEST           AWS WAF
  API_GATEWAY_REQUEST                                      REST API, per request
  LAMBDA_REQUEST, LAMBDA_GB_SECOND[arch]                   Lambda ("x86" | "arm64")
  DYNAMODB_WRU, DYNAMODB_RRU                               DynamoDB on-demand
  LOGS_GB                                                  CloudWatch Logs ingestion
  SECRET_MONTH, ALARM_METRIC_MONTH, HIGH_RES_ALARM_METRIC_MONTH, DASHBOARD_MONTH

For a simulation that counts what each layer did (bench-abuse):
  layer_costs(requests, lambda_invocations, lambda_gb_seconds, wru, rru,
              waf_requests, log_bytes=0.0) -> {layer: dollars}
with the layers of LAYERS ("WAF", "API Gateway", "Lambda", "DynamoDB",
"CloudWatch Logs"): `requests` are the ones API Gateway bills (it bills no
request that WAF blocked or that its own throttle refused), `waf_requests`
every request WAF inspected, blocked or not.

For the template:
  load_template(path) -> the template;  parameters(template, overrides) -> values
  fixed_monthly(template, overrides) -> [FixedCost]
  worst_case(template, overrides, functions) -> Ceiling (per layer, per hour)
  function_settings(config_path) -> {logical id: Function(memory_gb, timeout_s)}

What bounds each layer at worst (deploy/README.md, "Limits and the bill's ceiling"):
- API Gateway: requests reaching it are at most the methods' own throttles
  (the /pow/* methods at PowRateLimit each; verification and the widget's
  scripts, which WAF's all-sources rule never blocks, at ApiRateLimit each)
  plus WAF's all-sources ceiling of the other routes (WafOtherRoutesLimit per
  WafWindowSeconds); API Gateway applies the stage's default throttle to each
  of its 200-odd methods separately, so without WAF only the account's
  regional limit (ACCOUNT_API_RPS) bounds their sum.
- Lambda: one invocation per request at most; GB-seconds at most reserved
  concurrency x 3,600 x memory (ACCOUNT_CONCURRENCY when not reserved). On
  the cloudfront door the verify function (the four verification paths) is
  bounded the same way by its own reservation; on the REST door nothing
  invokes it.
- The stream consumer: at most one invocation per stream record (a batch of
  one), and a record takes at least one write unit of its table, so records
  are bounded by the streamed tables' maximum write units.
- DynamoDB: every table's and index's maximum read and write units per second.
- WAF: every request it inspects, blocked ones included: the one layer an
  attacker can always grow ($0.60 per million requests sent).
- CloudWatch Logs: LOG_BYTES_PER_INVOCATION per invocation (the longest request
  line bench-cost measures, ~800 bytes with its metrics, rounded up; the
  template's LoggingConfig drops Lambda's START/END/REPORT lines).
"""
from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: `python bench/bill.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import edge_door  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "merge-template.json"
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"

PRICES_DATE = "2026-11-30"
WAF_WEB_ACL_MONTH = 5.00
WAF_RULE_MONTH = 1.00
WAF_REQUEST = 0.60 / 1e6
API_GATEWAY_REQUEST = 3.50 / 1e6     # REST API, first 333 M requests a month
LAMBDA_REQUEST = 0.20 / 1e6
LAMBDA_GB_SECOND = {"x86": 0.0000166667, "arm64": 0.0000133334}
DYNAMODB_WRU = 0.625 / 1e6           # on-demand
DYNAMODB_RRU = 0.125 / 1e6
LOGS_GB = 0.50                       # CloudWatch Logs ingestion (standard class), per GB
LOG_EVENT_OVERHEAD = 26              # bytes CloudWatch Logs bills on each event (line) besides its text
SECRET_MONTH = 0.40
ALARM_METRIC_MONTH = 0.10            # standard resolution, per metric an alarm reads
HIGH_RES_ALARM_METRIC_MONTH = 0.30   # period under 60 s
DASHBOARD_MONTH = 3.00               # assumed beyond the account's 3 free dashboards

# The account's defaults when the stack sets no limit of its own.
ACCOUNT_API_RPS = 10_000             # API Gateway, per account and region
ACCOUNT_CONCURRENCY = 1_000          # Lambda, per account and region
LOG_BYTES_PER_INVOCATION = 1_000     # see above

HOUR = 3600
MONTH_HOURS = 730
LAYERS = ("WAF", "API Gateway", "CloudFront", "Lambda", "DynamoDB", "CloudWatch Logs")

# Logical ids of the stack's functions and chalice's names for them in .chalice/config.json.
API_FUNCTION, STREAMS_FUNCTION, VERIFY_FUNCTION = "APIHandler", "Streams", "Verify"
CHALICE_NAMES = {API_FUNCTION: "api_handler", STREAMS_FUNCTION: "streams", VERIFY_FUNCTION: "verify"}
# The parameter holding each function's reserved concurrency (0 = none).
RESERVED = {API_FUNCTION: "ApiReservedConcurrency", STREAMS_FUNCTION: "StreamsReservedConcurrency",
            VERIFY_FUNCTION: "VerifyReservedConcurrency"}
# What `make deploy` reserves when the account's quota leaves AWS's minimum
# of 100 unreserved (deploy/deploy.py reads these): the template reserves
# nothing by default, since a new account's quota may be as low as 10.
# 70 API instances: 100 ms each at the 700 requests/s the throttles and WAF admit;
# 10 verify instances: the site backends' token checks on the cloudfront door,
# which a flood filling the API's 70 cannot take.
DEPLOY_RESERVATION = {"ApiReservedConcurrency": 70, "StreamsReservedConcurrency": 10,
                      "VerifyReservedConcurrency": 10}


def layer_costs(requests: float, lambda_invocations: float, lambda_gb_seconds: float,
                wru: float, rru: float, waf_requests: float, log_bytes: float = 0.0,
                arch: str | None = None, door: str = edge_door.REST,
                edge_plan: edge_door.Plan | None = None, hours: float = 0.0) -> dict[str, float]:
    """Dollars per layer for the given counts (any period: the counts' own, `hours` long);
    Lambda at the deployed architecture's price unless `arch` is given. On the
    cloudfront door `requests` are the ones CloudFront passed to the function
    and `waf_requests` every one it inspected: with a flat-rate plan the front
    door costs the plan's fee for `hours` (a month is 730 h) whatever they are."""
    arch = arch or lambda_arch()
    if door == edge_door.EDGE:
        front = {"WAF": 0.0 if edge_plan else waf_requests * WAF_REQUEST, "API Gateway": 0.0,
                 "CloudFront": edge_plan.monthly * hours / MONTH_HOURS if edge_plan
                 else waf_requests * (edge_door.CLOUDFRONT_REQUEST + edge_door.CLOUDFRONT_FUNCTION)}
    else:
        front = {"WAF": waf_requests * WAF_REQUEST, "API Gateway": requests * API_GATEWAY_REQUEST,
                 "CloudFront": 0.0}
    return {
        **front,
        "Lambda": lambda_invocations * LAMBDA_REQUEST + lambda_gb_seconds * LAMBDA_GB_SECOND[arch],
        "DynamoDB": wru * DYNAMODB_WRU + rru * DYNAMODB_RRU,
        "CloudWatch Logs": log_bytes / 1e9 * LOGS_GB,
    }


# --- the template ------------------------------------------------------------------

def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def parameters(template: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every parameter's default, with `overrides` (as --parameter-overrides would give)."""
    values = {name: spec.get("Default") for name, spec in template["Parameters"].items()}
    for name, value in (overrides or {}).items():
        if name not in values:
            raise KeyError(f"no parameter {name} in the template")
        values[name] = value
    return values


def _value(node: Any, params: Mapping[str, Any]) -> float:
    """A number property: a literal or a `Ref` to a parameter."""
    if isinstance(node, dict) and set(node) == {"Ref"}:
        node = params[node["Ref"]]
    return float(node)


def _resources(template: Mapping[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v.get("Type") == kind}


_enabled = edge_door.enabled


@dataclass(frozen=True)
class Function:
    memory_gb: float
    timeout_s: float


def lambda_arch(config_path: Path = CHALICE_CONFIG, stage: str = "prod") -> str:
    """The price key of the functions' architecture, as the stage declares it
    (deploy/stage_app.sh builds the wheels for the same one)."""
    declared = json.loads(config_path.read_text())["stages"][stage].get("lambda_architecture",
                                                                        "x86_64")
    return "arm64" if declared == "arm64" else "x86"


def function_settings(config_path: Path = CHALICE_CONFIG, stage: str = "prod") -> dict[str, Function]:
    """Each function's memory and timeout as `chalice package --stage prod` sets them."""
    config = json.loads(config_path.read_text())
    stage_config = config["stages"][stage]
    out = {}
    for logical, name in CHALICE_NAMES.items():
        own = stage_config.get("lambda_functions", {}).get(name, {})

        def pick(key: str, own: dict[str, Any] = own) -> float:
            return float(own.get(key, stage_config.get(key, config[key])))
        out[logical] = Function(pick("lambda_memory_size") / 1024, pick("lambda_timeout"))
    return out


# --- fixed monthly cost ----------------------------------------------------------------

@dataclass(frozen=True)
class FixedCost:
    item: str
    count: int
    unit_price: float

    @property
    def monthly(self) -> float:
        return self.count * self.unit_price


def _alarm_metrics(alarm: Mapping[str, Any]) -> list[float]:
    """The period of each metric an alarm reads (a metric-math alarm is billed per metric)."""
    props = alarm["Properties"]
    if "Metrics" in props:
        return [float(m["MetricStat"]["Period"]) for m in props["Metrics"] if "MetricStat" in m]
    return [float(props["Period"])]


def fixed_monthly(template: Mapping[str, Any],
                  overrides: Mapping[str, Any] | None = None) -> list[FixedCost]:
    """What the stack costs each month before any request (storage and backups aside)."""
    params = parameters(template, overrides)
    out = []
    plan = edge_door.plan(params)
    if plan is not None:
        # The plan includes its distribution's web ACL and rules.
        out.append(FixedCost(f"CloudFront flat-rate plan ({params['EdgePlan']})", 1, plan.monthly))
    acls = [r for r in _resources(template, "AWS::WAFv2::WebACL").values() if _enabled(template, r, params)]
    if acls and plan is None:
        out.append(FixedCost("WAF web ACL", len(acls), WAF_WEB_ACL_MONTH))
        out.append(FixedCost("WAF rules", sum(len(a["Properties"]["Rules"]) for a in acls), WAF_RULE_MONTH))
    secrets = [r for r in _resources(template, "AWS::SecretsManager::Secret").values()
               if _enabled(template, r, params)]
    out.append(FixedCost("Secrets Manager secret", len(secrets), SECRET_MONTH))
    periods = [p for a in _resources(template, "AWS::CloudWatch::Alarm").values() for p in _alarm_metrics(a)]
    out.append(FixedCost("CloudWatch alarm metrics (standard)", sum(p >= 60 for p in periods),
                         ALARM_METRIC_MONTH))
    if any(p < 60 for p in periods):
        out.append(FixedCost("CloudWatch alarm metrics (high resolution)", sum(p < 60 for p in periods),
                             HIGH_RES_ALARM_METRIC_MONTH))
    out.append(FixedCost("CloudWatch dashboard", len(_resources(template, "AWS::CloudWatch::Dashboard")),
                         DASHBOARD_MONTH))
    return out


# --- worst case per hour ---------------------------------------------------------------

@dataclass(frozen=True)
class Ceiling:
    """The most each layer can cost in an hour at the given parameters."""
    requests_per_second: float        # reaching API Gateway (and the API function)
    api_gb_seconds: float             # per hour
    verify_requests_per_second: float  # reaching the verify function (the cloudfront door's)
    verify_gb_seconds: float          # per hour
    stream_records_per_second: float
    streams_gb_seconds: float         # per hour
    wru_per_second: float
    rru_per_second: float
    waf: bool
    layers: dict[str, float]          # dollars per hour, LAYERS plus "Stream consumer"

    @property
    def total(self) -> float:
        return sum(self.layers.values())


def table_caps(template: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """(read units/s, write units/s) of every table and index, by `Table` or `Table/index`."""
    out = {}
    for logical, table in _resources(template, "AWS::DynamoDB::Table").items():
        props = table["Properties"]
        for name, node in ((logical, props),
                           *((f"{logical}/{g['IndexName']}", g) for g in props.get("GlobalSecondaryIndexes", []))):
            cap = node.get("OnDemandThroughput")
            if cap is None:
                raise ValueError(f"{name} has no OnDemandThroughput: its cost has no ceiling")
            out[name] = (_value(cap["MaxReadRequestUnits"], params), _value(cap["MaxWriteRequestUnits"], params))
    return out


def _own_throttles_per_second(template: Mapping[str, Any], params: Mapping[str, Any],
                              pow_routes: bool | None = None) -> float:
    """The methods' own throttles (every setting but the `/*` default): the /pow/* routes,
    and those WAF's all-sources rule leaves out; `pow_routes` picks one kind."""
    settings = template["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    return sum(_value(s["ThrottlingRateLimit"], params) for s in settings if s["ResourcePath"] != "/*"
               and pow_routes in (None, s["ResourcePath"].startswith("/~1pow~1")))


def _streamed_tables(template: Mapping[str, Any]) -> list[str]:
    out = []
    for mapping in _resources(template, "AWS::Lambda::EventSourceMapping").values():
        arn = mapping["Properties"]["EventSourceArn"]
        out.append(arn["Fn::GetAtt"][0])
    return out


def _gb_seconds(reserved: float, rate: float, fn: Function) -> float:
    """Per hour: never more instances than reserved, never longer than the timeout per call."""
    instances = min(reserved or ACCOUNT_CONCURRENCY, rate * fn.timeout_s)
    return instances * HOUR * fn.memory_gb


def worst_case(template: Mapping[str, Any], overrides: Mapping[str, Any] | None = None,
               functions: Mapping[str, Function] | None = None, arch: str | None = None) -> Ceiling:
    params = parameters(template, overrides)
    functions = functions or function_settings()
    acl = template["Resources"].get(edge_door.acl_logical_id(params))
    waf = acl is not None and _enabled(template, acl, params)
    edge = edge_door.door(params) == edge_door.EDGE
    if edge:
        # No stage throttle: the function's instances bound what reaches it.
        instances = float(params[RESERVED[API_FUNCTION]]) or ACCOUNT_CONCURRENCY
        rps = instances / edge_door.MIN_API_SECONDS
    elif waf:
        window = float(params["WafWindowSeconds"])
        other = float(params["WafOtherRoutesLimit"]) / window
        rps = min(float(ACCOUNT_API_RPS), _own_throttles_per_second(template, params) + other)
    else:
        rps = float(ACCOUNT_API_RPS)
    caps = table_caps(template, params)
    rru = sum(r for r, _w in caps.values())
    wru = sum(w for _r, w in caps.values())
    records = sum(caps[t][1] for t in _streamed_tables(template))

    api_gbs = _gb_seconds(float(params[RESERVED[API_FUNCTION]]), rps, functions[API_FUNCTION])
    # Only CloudFront routes to the verify function (its URL exists on that door alone).
    verify_reserved = float(params[RESERVED[VERIFY_FUNCTION]])
    verify_rps = (verify_reserved or ACCOUNT_CONCURRENCY) / edge_door.MIN_API_SECONDS if edge else 0.0
    verify_gbs = _gb_seconds(verify_reserved, verify_rps, functions[VERIFY_FUNCTION])
    streams_gbs = _gb_seconds(float(params[RESERVED[STREAMS_FUNCTION]]), records, functions[STREAMS_FUNCTION])
    invocations = (rps + verify_rps) * HOUR
    per_hour = layer_costs(requests=rps * HOUR, lambda_invocations=invocations,
                           lambda_gb_seconds=api_gbs + verify_gbs,
                           wru=wru * HOUR, rru=rru * HOUR, waf_requests=rps * HOUR if waf else 0.0,
                           log_bytes=(invocations + records * HOUR) * LOG_BYTES_PER_INVOCATION, arch=arch,
                           door=edge_door.door(params), edge_plan=edge_door.plan(params), hours=1.0)
    streams = layer_costs(0, records * HOUR, streams_gbs, 0, 0, 0, arch=arch)["Lambda"]
    return Ceiling(rps, api_gbs, verify_rps, verify_gbs, records, streams_gbs, wru, rru, waf,
                   {**per_hour, "Stream consumer": streams})


# --- the report ------------------------------------------------------------------------

def _money(x: float) -> str:
    return f"${x:,.2f}" if x >= 0.01 or x == 0 else f"${x:.4f}"


def report(template: Mapping[str, Any], overrides: Mapping[str, Any] | None = None,
           functions: Mapping[str, Function] | None = None) -> str:
    params = parameters(template, overrides)
    functions = functions or function_settings()
    fixed = fixed_monthly(template, overrides)
    c = worst_case(template, overrides, functions)
    api, streams, verify = functions[API_FUNCTION], functions[STREAMS_FUNCTION], functions[VERIFY_FUNCTION]
    lines = [f"Workproof's bill at the template's defaults (FrontDoor={edge_door.door(params)}) — "
             f"us-east-1 list prices of {PRICES_DATE}, {lambda_arch()} Lambda", "", "Fixed, per month:", "",
             "| item | count | unit $/month | $/month |", "|---|---:|---:|---:|"]
    lines += [f"| {f.item} | {f.count} | {f.unit_price:.2f} | {f.monthly:.2f} |" for f in fixed]
    lines += [f"| **total** | | | **{sum(f.monthly for f in fixed):.2f}** |", "",
              "Worst case, per hour (every layer at its ceiling):", "",
              "| layer | ceiling | $/hour |", "|---|---|---:|"]
    rows = [*_front_door_rows(template, params, c), *[
        ("Lambda", f"{c.requests_per_second:,.0f} invocations/s, {c.api_gb_seconds:,.0f} GB-s "
                   f"({params[RESERVED[API_FUNCTION]]} reserved × {api.memory_gb * 1024:.0f} MB)"
                   + (f"; verify function {c.verify_requests_per_second:,.0f} invocations/s, "
                      f"{c.verify_gb_seconds:,.0f} GB-s ({params[RESERVED[VERIFY_FUNCTION]]} reserved "
                      f"× {verify.memory_gb * 1024:.0f} MB)" if c.verify_requests_per_second else "")),
        ("Stream consumer", f"{c.stream_records_per_second:,.0f} records/s as batches of one, "
                            f"{c.streams_gb_seconds:,.0f} GB-s ({params[RESERVED[STREAMS_FUNCTION]]} reserved "
                            f"× {streams.memory_gb * 1024:.0f} MB)"),
        ("DynamoDB", f"{c.wru_per_second:,.0f} WRU/s + {c.rru_per_second:,.0f} RRU/s (every table and index at "
                     "its maximum)"),
        ("CloudWatch Logs", f"{LOG_BYTES_PER_INVOCATION:,} bytes per invocation (assumed)"),
    ]]
    lines += [f"| {layer} | {text} | {_money(c.layers[layer])} |" for layer, text in rows]
    lines.append(f"| **total** | | **{_money(c.total)}** |")
    return "\n".join(lines)


def _front_door_rows(template: Mapping[str, Any], params: Mapping[str, Any],
                     c: Ceiling) -> list[tuple[str, str]]:
    """The report's WAF, API Gateway and CloudFront rows for the chosen door."""
    if edge_door.door(params) == edge_door.EDGE:
        plan = edge_door.plan(params)
        front = (f"flat-rate plan {params['EdgePlan']}: {_money(plan.monthly)} a month whatever is sent "
                 "(blocked requests free, no overage)" if plan else
                 "pay-as-you-go: every request sent, blocked ones included, "
                 f"{_money(1e6 * (edge_door.CLOUDFRONT_REQUEST + edge_door.CLOUDFRONT_FUNCTION))}/M")
        return [("WAF", "included in the plan" if plan else f"{_money(1e6 * WAF_REQUEST)}/M inspected"),
                ("API Gateway", "execute-api endpoint turned off (the cloudfront door)"),
                ("CloudFront", front)]
    if c.waf:
        bound = (f"{c.requests_per_second:,.0f} requests/s: /pow/* throttles "
                 f"{_own_throttles_per_second(template, params, True):,.0f} + verification and "
                 f"scripts throttles {_own_throttles_per_second(template, params, False):,.0f} "
                 "+ WAF all-sources "
                 f"{float(params['WafOtherRoutesLimit']):,.0f} per {float(params['WafWindowSeconds']):.0f} s")
    else:
        bound = f"{c.requests_per_second:,.0f} requests/s: the account's regional limit (WAF off)"
    waf_note = (f"{c.requests_per_second:,.0f} requests/s inspected; each million more sent "
                f"(blocked) adds {_money(1e6 * WAF_REQUEST)}") if c.waf else "off"
    return [("WAF", waf_note), ("API Gateway", bound), ("CloudFront", "not used (the REST door)")]


def main() -> int:
    template = load_template()
    for door in (edge_door.EDGE, edge_door.REST):
        print(f"## FrontDoor={door}\n")
        print(report(template, {"FrontDoor": door}))
        print(f"\nAs `make deploy` reserves concurrency on an account with the standard quota "
              f"({', '.join(f'{k}={v}' for k, v in DEPLOY_RESERVATION.items())}; a new account's "
              f"smaller quota gets none, and its own quota bounds Lambda instead):\n")
        print(report(template, {"FrontDoor": door, **DEPLOY_RESERVATION}) + "\n")
    print(methods_report(ROOT / "out" / "sam.json"))
    return 0


def methods_report(sam_path: Path) -> str:
    """Every method of the packaged API that invokes Lambda, with its throttle
    (`make package` writes the packaged template)."""
    if str(ROOT) not in sys.path:  # run as a script: `python bench/bill.py`
        sys.path.insert(0, str(ROOT))
    from bench import gateway_methods

    if not sam_path.exists():
        return f"\n(no {sam_path}: run make package for the per-method throttles)"
    sam = json.loads(sam_path.read_text())
    limits = gateway_methods.method_limits(sam, parameters(sam))
    methods = gateway_methods.lambda_methods(sam)
    lines = ["", f"Lambda-invoking methods of the packaged API: {len(methods)}; "
             f"{sum(1 for m in methods if m not in limits)} without a throttle. WAF's route "
             "rules refuse every method the contract does not serve; without WAF, these "
             f"limits add up to {sum(v for v, _ in limits.values()):,.0f} requests/s.", "",
             "| method | path | requests/s | from |", "|---|---|---:|---|"]
    lines += [f"| {method} | {path} | {limits[(path, method)][0]:,.0f} | "
              f"{limits[(path, method)][1]} |" if (path, method) in limits
              else f"| {method} | {path} | — | **none** |" for path, method in methods]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
