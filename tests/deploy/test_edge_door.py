"""The cloudfront door (FrontDoor=cloudfront, the default): a distribution on a
flat-rate plan in front of the API function's URL, read from the packaged template.

What each piece must hold for the door to be the only way in, for its bill to
stay flat, and for per-source limits to keep seeing the viewer.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from bench import bill, edge_door, waf_rules
from tests.deploy.cfn import resources
from tests.deploy.conftest import Packaged
from tests.deploy.test_waf_routes import METHODS, _route_serves, served

TEMPLATE = bill.load_template()
EDGE = {"FrontDoor": "cloudfront"}
REST = {"FrontDoor": "rest"}


def _edge_rules() -> list[waf_rules.Rule]:
    """The edge ACL's rules as WAF evaluates them (no stage in a CloudFront path)."""
    edge_only = {**TEMPLATE, "Resources": {"WebAcl": TEMPLATE["Resources"]["EdgeWebAcl"]}}
    return waf_rules.rules(edge_only, bill.parameters(TEMPLATE), "")


def _blocked(path: str, method: str) -> str | None:
    for rule in _edge_rules():
        if rule.limit is None and waf_rules.matches(rule.statement, path, method):
            return rule.name
    return None


def _statements(node: Any) -> list[dict[str, Any]]:
    """Every leaf match statement under `node`."""
    if isinstance(node, dict):
        leaves = [node] if {"ByteMatchStatement", "RegexMatchStatement", "RegexPatternSetReferenceStatement"} \
            & set(node) else []
        return leaves + [s for v in node.values() for s in _statements(v)]
    if isinstance(node, list):
        return [s for v in node for s in _statements(v)]
    return []


def test_the_cloudfront_door_is_the_default_and_each_door_has_its_own_acl() -> None:
    params = bill.parameters(TEMPLATE)
    assert params["FrontDoor"] == "cloudfront" and params["EdgePlan"] == "FREE"
    acls = {k: v for k, v in TEMPLATE["Resources"].items() if v.get("Type") == "AWS::WAFv2::WebACL"}
    assert {k for k, v in acls.items() if edge_door.enabled(TEMPLATE, v, params)} == {"EdgeWebAcl"}
    assert {k for k, v in acls.items() if edge_door.enabled(TEMPLATE, v, bill.parameters(TEMPLATE, REST))} \
        == {"WebAcl"}
    assert acls["EdgeWebAcl"]["Properties"]["Scope"] == "CLOUDFRONT"
    # A CLOUDFRONT-scope ACL exists only in us-east-1: the template says so before creating anything.
    (assertion,) = TEMPLATE["Rules"]["EdgeDoorInUsEast1"]["Assertions"]
    assert assertion["Assert"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}


def test_the_edge_acl_has_the_rest_doors_rules_as_byte_matches_only() -> None:
    rest = {r["Name"]: r for r in TEMPLATE["Resources"]["WebAcl"]["Properties"]["Rules"]}
    edge = {r["Name"]: r for r in TEMPLATE["Resources"]["EdgeWebAcl"]["Properties"]["Rules"]}
    assert list(edge) == list(rest)
    for name, rule in edge.items():
        assert rule["Priority"] == rest[name]["Priority"] and rule["Action"] == rest[name]["Action"], name
        limit = rule["Statement"].get("RateBasedStatement")
        if limit:
            own = rest[name]["Statement"]["RateBasedStatement"]
            assert (limit["Limit"], limit["AggregateKeyType"], limit["EvaluationWindowSec"]) == \
                (own["Limit"], own["AggregateKeyType"], own["EvaluationWindowSec"]), name
    leaves = _statements(TEMPLATE["Resources"]["EdgeWebAcl"]["Properties"]["Rules"])
    assert leaves and all(set(leaf) == {"ByteMatchStatement"} for leaf in leaves)
    # Matched as sent: a re-spelled path is not a served one (blocked first), so it cannot
    # dodge the rate rules' scope-downs.
    assert {t["Type"] for leaf in leaves for t in leaf["ByteMatchStatement"]["TextTransformations"]} == {"NONE"}


def test_every_route_app_py_serves_passes_the_edge_acl() -> None:
    for path, methods in served().items():
        for method in methods:
            assert _blocked(path, method) is None, (path, method)


def test_methods_a_served_path_refuses_are_blocked_at_the_edge() -> None:
    from chalicelib import siteverify

    for path, methods in served().items():
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            if method not in methods:
                expected = None if path in siteverify.PATHS else "unserved-methods"
                assert _blocked(path, method) == expected, (path, method)


def test_every_exact_path_the_edge_acl_lets_through_is_served() -> None:
    leaves = _statements(TEMPLATE["Resources"]["EdgeWebAcl"]["Properties"]["Rules"][0])
    exact = [leaf["ByteMatchStatement"]["SearchString"] for leaf in leaves
             if leaf["ByteMatchStatement"]["PositionalConstraint"] == "EXACTLY"]
    prefixes = {leaf["ByteMatchStatement"]["SearchString"] for leaf in leaves
                if leaf["ByteMatchStatement"]["PositionalConstraint"] == "STARTS_WITH"}
    assert len(exact) > 30
    for path in exact:
        assert _route_serves(path), path
    # The two prefixes are one-segment routes (/lib/{name}, /l/{code}): what they let
    # through that no route serves is the app's not_found, from memory.
    assert prefixes == {"/lib/", "/l/"}


@pytest.mark.parametrize("path", ["/api/pow/job", "/pow//job", "/pow/%6Aob", "/POW/job", "/pow/job/",
                                  "/wp-login.php", "/", "/dashboard/x", "/siteverify/x"])
def test_paths_spelled_otherwise_are_not_found_at_the_edge(path: str) -> None:
    for method in METHODS:
        assert _blocked(path, method) == "unserved-paths", (path, method)


def test_the_pow_rate_rule_covers_pow_only_and_counts_per_viewer() -> None:
    (rule,) = [r for r in _edge_rules() if r.name == "pow-per-source"]
    assert rule.key == "IP" and rule.limit == float(bill.parameters(TEMPLATE)["WafPowRateLimit"])
    assert waf_rules.matches(rule.statement, "/pow/job", "POST")
    assert not waf_rules.matches(rule.statement, "/siteverify", "POST")


# Each function URL, its function and the distribution's origin for it.
URLS = {"ApiFunctionUrl": ("APIHandler", "api-function"), "VerifyFunctionUrl": ("Verify", "verify-function")}


def test_the_function_urls_are_reachable_only_through_the_distribution(packaged: Packaged) -> None:
    sam = packaged.sam
    urls = resources(sam, "AWS::Lambda::Url")
    assert set(urls) == set(URLS)
    for logical, (target, _origin) in URLS.items():
        assert urls[logical]["Condition"] == "EdgeDoor"
        assert urls[logical]["Properties"]["TargetFunctionArn"] == {"Fn::GetAtt": [target, "Arn"]}
        # NONE: origin access control would make every POST's viewer send x-amz-content-sha256;
        # the origin secret is checked by the app instead (tests/functional/test_function_url.py).
        assert urls[logical]["Properties"]["AuthType"] == "NONE"
    permissions = [p["Properties"] for p in resources(sam, "AWS::Lambda::Permission").values()
                   if p.get("Condition") == "EdgeDoor"]
    assert sorted((p["FunctionName"]["Ref"], p["Action"], p.get("FunctionUrlAuthType"), p.get("InvokedViaFunctionUrl"))
                  for p in permissions) == sorted(
        (target, *grant) for target, _origin in URLS.values()
        for grant in (("lambda:InvokeFunctionUrl", "NONE", None), ("lambda:InvokeFunction", None, True)))
    config = resources(sam, "AWS::CloudFront::Distribution")["EdgeDistribution"]["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]}
    assert set(origins) == {origin for _target, origin in URLS.values()}
    for logical, (_target, origin_id) in URLS.items():
        origin = origins[origin_id]
        assert origin["DomainName"] == {"Fn::Select": [2, {"Fn::Split": ["/", {"Fn::GetAtt": [logical,
                                                                                                "FunctionUrl"]}]}]}
        assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
        (header,) = origin["OriginCustomHeaders"]
        assert header == {"HeaderName": "x-workproof-origin",
                          "HeaderValue": {"Fn::Sub": "{{resolve:secretsmanager:${EdgeOriginSecret}:SecretString}}"}}
    assert config["WebACLId"] == {"Fn::GetAtt": ["EdgeWebAcl", "Arn"]}
    # execute-api answers nothing on this door: no second way in, no REST request fee.
    assert sam["Resources"]["RestAPI"]["Properties"]["DisableExecuteApiEndpoint"] == \
        {"Fn::If": ["EdgeDoor", True, False]}


def test_the_api_is_never_cached_and_the_scripts_are(packaged: Packaged) -> None:
    config = packaged.sam["Resources"]["EdgeDistribution"]["Properties"]["DistributionConfig"]
    default = config["DefaultCacheBehavior"]
    assert default["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"        # CachingDisabled
    assert default["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # all but Host
    assert set(default["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    *verify, lib, pow_ = config["CacheBehaviors"]
    # The backends' token checks go to the verify function, otherwise as the default.
    assert tuple(b["PathPattern"] for b in verify) == edge_door.VERIFY_PATHS
    for behaviour in verify:
        assert behaviour["TargetOriginId"] == "verify-function"
        assert {k: v for k, v in behaviour.items() if k not in ("PathPattern", "TargetOriginId")} == \
            {k: v for k, v in default.items() if k != "TargetOriginId"}
    assert default["TargetOriginId"] == lib["TargetOriginId"] == pow_["TargetOriginId"] == "api-function"
    assert lib["PathPattern"] == "/lib/*" and lib["AllowedMethods"] == ["GET", "HEAD"]
    # /pow/* as the default, plus CORS on answers the app never wrote (Lambda's 429).
    assert pow_["PathPattern"] == "/pow/*"
    assert {k: v for k, v in pow_.items() if k not in ("PathPattern", "ResponseHeadersPolicyId")} == default
    assert pow_["ResponseHeadersPolicyId"] == {"Ref": "EdgePowCorsPolicy"}
    cors = packaged.sam["Resources"]["EdgePowCorsPolicy"]["Properties"]["ResponseHeadersPolicyConfig"][
        "CorsConfig"]
    assert cors["AccessControlAllowOrigins"] == {"Items": ["*"]} and cors["OriginOverride"] is False
    assert cors["AccessControlExposeHeaders"] == {"Items": ["Retry-After"]}
    assert cors["AccessControlAllowCredentials"] is False
    # Lambda's 429 carries no Retry-After: a second's wait, unless the app gave its own.
    (retry,) = packaged.sam["Resources"]["EdgePowCorsPolicy"]["Properties"][
        "ResponseHeadersPolicyConfig"]["CustomHeadersConfig"]["Items"]
    assert retry == {"Header": "Retry-After", "Value": "1", "Override": False}
    assert lib["CachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"            # CachingOptimized
    policy = packaged.sam["Resources"]["EdgeLibRequestPolicy"]["Properties"]["OriginRequestPolicyConfig"]
    assert policy["HeadersConfig"]["Headers"] == ["x-workproof-viewer", "x-forwarded-host"]
    assert policy["QueryStringsConfig"] == {"QueryStringBehavior": "none"}
    for behaviour in (default, lib, pow_, *verify):
        (assoc,) = behaviour["FunctionAssociations"]
        assert assoc["EventType"] == "viewer-request"


def _run_viewer_function(event: dict[str, Any]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (make browser-deps installs it)")
    code = TEMPLATE["Resources"]["EdgeViewerFunction"]["Properties"]["FunctionCode"]
    script = code + f"\nprocess.stdout.write(JSON.stringify(handler({json.dumps(event)})));\n"
    done = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30, check=True)
    return dict(json.loads(done.stdout))


def test_the_viewer_function_writes_the_viewer_over_whatever_the_viewer_sent() -> None:
    # CloudFront Functions' event structure (JavaScript runtime 2.0).
    event = {"version": "1.0", "context": {"eventType": "viewer-request"},
             "viewer": {"ip": "2001:db8::7"},
             "request": {"method": "POST", "uri": "/pow/job", "querystring": {}, "cookies": {},
                         "headers": {"host": {"value": "pow.example.com"},
                                     "x-workproof-viewer": {"value": "198.51.100.9"},
                                     "x-forwarded-host": {"value": "evil.example"}}}}
    request = _run_viewer_function(event)
    assert request["headers"]["x-workproof-viewer"] == {"value": "2001:db8::7"}
    assert request["headers"]["x-forwarded-host"] == {"value": "pow.example.com"}
    assert request["uri"] == "/pow/job"


def test_the_plan_covers_the_distribution_and_its_acl() -> None:
    sub = TEMPLATE["Resources"]["EdgePlanSubscription"]
    assert sub["Condition"] == "EdgePlanChosen"
    assert sub["Properties"]["PlanFamily"] == "CloudFront"
    assert sub["Properties"]["PlanTier"] == {"Ref": "EdgePlan"}
    assert sub["Properties"]["ResourceArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${EdgeDistribution}"},
        {"Fn::GetAtt": ["EdgeWebAcl", "Arn"]}]
    for tier, chosen in (("FREE", True), ("PRO", True), ("NONE", False)):
        params = bill.parameters(TEMPLATE, {"EdgePlan": tier})
        assert edge_door.condition(TEMPLATE, "EdgePlanChosen", params) is chosen
    assert not edge_door.condition(TEMPLATE, "EdgePlanChosen", bill.parameters(TEMPLATE, REST))


def test_the_flat_rate_doors_fixed_cost_is_below_the_rest_doors() -> None:
    def fixed(overrides: dict[str, str]) -> float:
        return sum(f.monthly for f in bill.fixed_monthly(TEMPLATE, overrides))

    # REST: WAF $5 + 5 rules, a secret, 36 alarm metrics, a dashboard.
    assert fixed(REST) == pytest.approx(17.00)
    # Flat-rate: the plan (WAF included), two secrets, the same alarms and dashboard.
    assert fixed({**EDGE, "EdgePlan": "FREE"}) == pytest.approx(0.80 + 3.60 + 3.00)
    assert fixed({**EDGE, "EdgePlan": "PRO"}) == pytest.approx(15.00 + 0.80 + 3.60 + 3.00)
    # No plan: CloudFront pay-as-you-go and WAF's own fees.
    assert fixed({**EDGE, "EdgePlan": "NONE"}) == pytest.approx(10.00 + 0.80 + 3.60 + 3.00)


def test_on_the_flat_rate_door_only_the_functions_instances_bound_the_hour() -> None:
    functions = {name: bill.Function(0.5, 30.0) for name in ("APIHandler", "Streams", "Verify")}
    c = bill.worst_case(TEMPLATE, {**EDGE, **bill.DEPLOY_RESERVATION}, functions=functions)
    # No stage throttle: 70 instances answering in 5 ms at the fastest; the verify function's 10 too.
    assert c.requests_per_second == 70 / edge_door.MIN_API_SECONDS
    assert c.verify_requests_per_second == 10 / edge_door.MIN_API_SECONDS
    assert c.verify_gb_seconds == 10 * 3600 * 0.5
    assert c.layers["WAF"] == c.layers["API Gateway"] == c.layers["CloudFront"] == 0.0
    assert c.layers["Lambda"] == pytest.approx(16_000 * 3600 * 0.20e-6 + 80 * 3600 * 0.5 * 0.0000133334)
    # An hour of the plan's fee whatever is sent; pay-as-you-go grows with every request.
    hour = bill.layer_costs(0, 0, 0, 0, 0, waf_requests=1e9, door="cloudfront",
                            edge_plan=edge_door.PLANS["PRO"], hours=1.0)
    assert hour["CloudFront"] == pytest.approx(15.00 / 730) and hour["WAF"] == 0.0
    payg = bill.layer_costs(0, 0, 0, 0, 0, waf_requests=1e6, door="cloudfront", edge_plan=None, hours=1.0)
    assert payg["CloudFront"] == pytest.approx(1.00 + 0.10) and payg["WAF"] == pytest.approx(0.60)


def test_lambda_drops_its_own_report_lines_and_filters_none_of_the_apps() -> None:
    for function in ("APIHandler", "Streams", "Verify"):
        assert TEMPLATE["Resources"][function]["Properties"]["LoggingConfig"] == {
            "LogFormat": "JSON", "ApplicationLogLevel": "TRACE", "SystemLogLevel": "WARN"}
