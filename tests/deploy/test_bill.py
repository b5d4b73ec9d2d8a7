"""bench/bill.py: the bill's ceiling follows the template's own parameters.

The figures below are computed by hand from the template's defaults and the
list prices (arm64 Lambda, the architecture the prod stage declares; 512 MB,
30 s timeout).
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bench import bill


def _rest_door(template: dict[str, Any]) -> dict[str, Any]:
    """These figures are the REST door's (the cloudfront door's: tests/deploy/test_edge_door.py)."""
    template = copy.deepcopy(template)
    template["Parameters"]["FrontDoor"]["Default"] = "rest"
    return template


DEFAULTS = _rest_door(bill.load_template())
FUNCTIONS = {"APIHandler": bill.Function(0.5, 30.0), "Streams": bill.Function(0.5, 30.0),
             "Verify": bill.Function(0.5, 30.0)}


def _with_default(name: str, value: Any) -> dict[str, Any]:
    """A copy of the template whose parameter `name` has another default."""
    template = copy.deepcopy(DEFAULTS)
    template["Parameters"][name]["Default"] = value
    return template


def test_functions_memory_and_timeout_come_from_the_chalice_config() -> None:
    assert bill.function_settings() == FUNCTIONS


def test_fixed_monthly_cost_of_the_defaults() -> None:
    fixed = {f.item: (f.count, f.monthly) for f in bill.fixed_monthly(DEFAULTS)}
    assert fixed == {
        "WAF web ACL": (1, 5.00),
        "WAF rules": (5, 5.00),
        "Secrets Manager secret": (1, 0.40),
        # 18 alarms; the metric-math ones read several metrics each.
        "CloudWatch alarm metrics (standard)": (36, pytest.approx(3.60)),
        "CloudWatch dashboard": (1, 3.00),
    }
    assert sum(f.monthly for f in bill.fixed_monthly(DEFAULTS)) == pytest.approx(17.00)


def test_without_waf_the_fixed_cost_drops_by_its_acl_and_rules() -> None:
    fixed = bill.fixed_monthly(DEFAULTS, {"EnableWaf": "false"})
    assert sum(f.monthly for f in fixed) == pytest.approx(17.00 - 10.00)
    assert not [f for f in fixed if f.item.startswith("WAF")]


ARM64_GB_SECOND = 0.0000133334


def test_worst_case_per_hour_as_make_deploy_reserves() -> None:
    c = bill.worst_case(DEFAULTS, bill.DEPLOY_RESERVATION, functions=FUNCTIONS)
    # 2 x 100/s on /pow/job and /pow/submit; 10 x 20/s on the methods WAF's all-sources
    # rule leaves out (3 siteverify paths x GET, POST; /token/verify; /lib/{name} and the
    # two compatibility scripts); 18,000 per 60 s on the other routes.
    assert c.requests_per_second == 200 + 200 + 300
    assert c.layers["API Gateway"] == pytest.approx(700 * 3600 * 3.50e-6)          # 8.82
    assert c.layers["WAF"] == pytest.approx(700 * 3600 * 0.60e-6)                  # 1.51
    # 70 reserved x 3,600 s x 0.5 GB = 126,000 GB-s, plus 2.52 M invocations.
    assert c.api_gb_seconds == 126_000
    # Nothing reaches the verify function on the REST door (its URL is the cloudfront door's).
    assert c.verify_requests_per_second == c.verify_gb_seconds == 0
    assert c.layers["Lambda"] == pytest.approx(2.52e6 * 0.20e-6 + 126_000 * ARM64_GB_SECOND)  # 2.18
    # Stream records: guards 400 + ledger 1,000 + tokens 400 write units per second.
    assert c.stream_records_per_second == 1_800
    assert c.streams_gb_seconds == 18_000
    assert c.layers["Stream consumer"] == pytest.approx(6.48e6 * 0.20e-6 + 18_000 * ARM64_GB_SECOND)  # 1.54
    # Tables and indexes at their maximum: 3,550 WRU/s and 4,400 RRU/s.
    assert (c.wru_per_second, c.rru_per_second) == (3_550, 4_400)
    assert c.layers["DynamoDB"] == pytest.approx(3_550 * 3600 * 0.625e-6 + 4_400 * 3600 * 0.125e-6)  # 9.97
    assert c.layers["CloudWatch Logs"] == pytest.approx(2_500 * 3600 * 1_000 / 1e9 * 0.50)  # 4.50
    assert c.total == pytest.approx(8.82 + 1.512 + 2.184 + 1.536 + 9.9675 + 4.50, abs=0.005)  # 28.52


def test_the_templates_own_defaults_reserve_nothing_and_the_account_bounds_lambda() -> None:
    c = bill.worst_case(DEFAULTS, functions=FUNCTIONS)
    # 700/s x 30 s could hold 21,000 instances; a standard account has 1,000.
    assert c.api_gb_seconds == c.streams_gb_seconds == 1_000 * 3600 * 0.5
    assert c.layers["Lambda"] == pytest.approx(2.52e6 * 0.20e-6 + 1.8e6 * ARM64_GB_SECOND)


def test_a_lower_default_lowers_the_ceiling_accordingly() -> None:
    base = bill.worst_case(DEFAULTS, bill.DEPLOY_RESERVATION, functions=FUNCTIONS)
    fewer = bill.worst_case(_with_default("WafOtherRoutesLimit", 6_000), functions=FUNCTIONS)
    assert fewer.requests_per_second == 500  # 200 + 200 + 6,000 / 60
    assert base.layers["API Gateway"] - fewer.layers["API Gateway"] == pytest.approx(200 * 3600 * 3.50e-6)
    narrower = bill.worst_case(_with_default("LedgerIndexMaxWriteUnits", 50), bill.DEPLOY_RESERVATION,
                               functions=FUNCTIONS)
    assert base.wru_per_second - narrower.wru_per_second == 4 * 200  # four ledger indexes
    smaller = bill.worst_case(_with_default("ApiReservedConcurrency", 10), functions=FUNCTIONS)
    assert smaller.api_gb_seconds == 18_000
    window = bill.worst_case(DEFAULTS, {"WafWindowSeconds": 300}, functions=FUNCTIONS)
    assert window.requests_per_second == 460  # 200 + 200 + 18,000 / 300


def test_without_waf_only_the_account_limit_bounds_the_requests() -> None:
    c = bill.worst_case(DEFAULTS, {"EnableWaf": "false"}, functions=FUNCTIONS)
    assert c.requests_per_second == bill.ACCOUNT_API_RPS
    assert c.layers["WAF"] == 0
    assert c.layers["API Gateway"] == pytest.approx(10_000 * 3600 * 3.50e-6)  # 126.00


def test_unreserved_functions_fall_back_to_the_account_pool() -> None:
    c = bill.worst_case(DEFAULTS, {"ApiReservedConcurrency": 0}, functions=FUNCTIONS)
    # 700 requests/s x 30 s could hold 21,000 instances; the account has 1,000.
    assert c.api_gb_seconds == 1_000 * 3600 * 0.5


def test_a_table_without_a_maximum_has_no_ceiling() -> None:
    template = copy.deepcopy(DEFAULTS)
    del template["Resources"]["StatsTable"]["Properties"]["OnDemandThroughput"]
    with pytest.raises(ValueError, match="StatsTable"):
        bill.worst_case(template, functions=FUNCTIONS)


def test_unknown_parameter_override_is_refused() -> None:
    with pytest.raises(KeyError):
        bill.parameters(DEFAULTS, {"NoSuchParameter": 1})


def test_layer_costs_prices_each_layer() -> None:
    costs = bill.layer_costs(requests=1e6, lambda_invocations=1e6, lambda_gb_seconds=1e4,
                             wru=1e6, rru=1e6, waf_requests=2e6, log_bytes=2e9)
    assert costs == {
        "WAF": pytest.approx(1.20),
        "API Gateway": pytest.approx(3.50),
        "CloudFront": 0.0,
        "Lambda": pytest.approx(0.20 + 0.133334),
        "DynamoDB": pytest.approx(0.625 + 0.125),
        "CloudWatch Logs": pytest.approx(1.00),
    }
    assert tuple(costs) == bill.LAYERS


def test_the_report_reads_a_template_file(tmp_path: Path) -> None:
    path = tmp_path / "merge-template.json"
    path.write_text(json.dumps(_with_default("PowRateLimit", 50)))  # (the REST door's default)
    text = bill.report(bill.load_template(path), functions=FUNCTIONS)
    assert ("| API Gateway | 600 requests/s: /pow/* throttles 100 + verification and scripts throttles 200 "
            "+ WAF all-sources 18,000 per 60 s | $7.56 |") \
        in text
    assert "| **total** | | | **17.00** |" in text


def test_every_lambda_invoking_method_of_the_packaged_api_has_a_limit(packaged: Any) -> None:
    """A method that reaches the function without a throttle is a hole in the
    bill's ceiling: each has its own or the stage's default, read from the
    packaged template, not from a list kept here."""
    from bench import gateway_methods

    params = bill.parameters(packaged.sam)
    methods = gateway_methods.lambda_methods(packaged.sam)
    limits = gateway_methods.method_limits(packaged.sam, params)
    assert ("/pow/job", "POST") in methods and ("/pow/submit", "POST") in methods
    assert set(limits) == set(methods), "Lambda-invoking methods without a throttle"
    assert limits[("/pow/job", "POST")] == (float(params["PowRateLimit"]), "own")
    assert limits[("/siteverify", "POST")][1] == "own"
    # Without the stage default, every method without its own setting has none: the check bites.
    sam = json.loads(json.dumps(packaged.sam))
    sam["Resources"]["RestAPI"]["Properties"]["MethodSettings"] = [
        s for s in sam["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
        if s["ResourcePath"] != "/*"]
    assert set(gateway_methods.method_limits(sam, params)) < set(methods)
