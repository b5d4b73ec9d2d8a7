"""The stack's limits: WAF's per-source rules on by default, their answers, and every cap of the bill.

Checked on out/sam.json (what an operator deploys): the merge template's
resources as chalice package merged them.
"""
from __future__ import annotations

import json
import re
from typing import Any

from tests.deploy.cfn import function, resources, tables_by_suffix
from tests.deploy.conftest import Packaged


def _acl(packaged: Packaged) -> dict[str, Any]:
    """The REST door's web ACL (the cloudfront door's: tests/deploy/test_edge_door.py)."""
    return dict(resources(packaged.sam, "AWS::WAFv2::WebACL")["WebAcl"])


def _rules(packaged: Packaged) -> dict[str, dict[str, Any]]:
    return {r["Name"]: r for r in _acl(packaged)["Properties"]["Rules"]}


def _pow_regex(packaged: Packaged, stage: str) -> re.Pattern[str]:
    """The /pow/ scope's regex as WAF gets it, the stage name substituted."""
    statement = _rules(packaged)["pow-per-source"]["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    match = statement["RegexMatchStatement"]
    assert match["FieldToMatch"] == {"UriPath": {}}
    sub = match["RegexString"]["Fn::Sub"]
    return re.compile(sub.replace("${RestAPI.Stage}", stage))


def test_waf_is_on_by_default_and_guards_the_stage(packaged: Packaged) -> None:
    params = packaged.sam["Parameters"]
    assert params["EnableWaf"]["Default"] == "true"
    acl = _acl(packaged)
    (assoc,) = resources(packaged.sam, "AWS::WAFv2::WebACLAssociation").values()
    assert acl["Condition"] == assoc["Condition"] == "RestWafEnabled"
    assert packaged.sam["Conditions"]["WafEnabled"] == {"Fn::Equals": [{"Ref": "EnableWaf"}, "true"]}
    assert packaged.sam["Conditions"]["RestWafEnabled"] == {
        "Fn::And": [{"Condition": "WafEnabled"}, {"Condition": "RestDoor"}]}
    assert packaged.sam["Conditions"]["RestDoor"] == {"Fn::Equals": [{"Ref": "FrontDoor"}, "rest"]}
    assert assoc["Properties"]["WebACLArn"] == {"Fn::GetAtt": ["WebAcl", "Arn"]}
    assert assoc["Properties"]["ResourceArn"]["Fn::Sub"].endswith("/restapis/${RestAPI}/stages/${RestAPI.Stage}")
    assert acl["Properties"]["DefaultAction"] == {"Allow": {}}
    # No sampled requests: they would store query strings (secrets) in WAF.
    assert acl["Properties"]["VisibilityConfig"]["SampledRequestsEnabled"] is False
    for rule in acl["Properties"]["Rules"]:
        assert rule["VisibilityConfig"]["SampledRequestsEnabled"] is False


def test_rate_rules_per_source_pow_tighter_and_a_ceiling_of_all_sources(packaged: Packaged) -> None:
    rules = _rules(packaged)
    assert set(rules) == {"unserved-paths", "unserved-methods", "pow-per-source", "other-per-source",
                          "other-all-sources"}
    # What the API does not serve is blocked first (tests/deploy/test_waf_routes.py), so
    # junk never counts toward the rate rules.
    assert sorted(rules, key=lambda n: rules[n]["Priority"])[:2] == ["unserved-paths", "unserved-methods"]
    params = packaged.sam["Parameters"]
    expected = {"pow-per-source": ("IP", "WafPowRateLimit"), "other-per-source": ("IP", "WafRateLimit"),
                "other-all-sources": ("CONSTANT", "WafOtherRoutesLimit")}
    for name, (key, limit) in expected.items():
        rate = rules[name]["Statement"]["RateBasedStatement"]
        assert rate["AggregateKeyType"] == key, name
        assert rate["Limit"] == {"Ref": limit}, name
        assert rate["EvaluationWindowSec"] == {"Ref": "WafWindowSeconds"}, name
        assert params[limit]["MinValue"] == 10  # WAF's own minimum
    # /pow/* is the tighter per-source limit.
    assert params["WafPowRateLimit"]["Default"] < params["WafRateLimit"]["Default"]
    assert params["WafWindowSeconds"]["AllowedValues"] == [60, 120, 300, 600]
    assert params["WafWindowSeconds"]["Default"] == 60
    # The per-source rule counts exactly the requests the /pow/ rule does not; the
    # all-sources rule leaves verification and the widget's scripts out too.
    pow_scope = rules["pow-per-source"]["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    scope = rules["other-per-source"]["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    assert scope == {"NotStatement": {"Statement": pow_scope}}
    scope = rules["other-all-sources"]["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    left_out = scope["NotStatement"]["Statement"]["OrStatement"]["Statements"]
    assert left_out[0] == pow_scope and len(left_out) == 2


def test_pow_scope_matches_what_api_gateway_sees(packaged: Packaged) -> None:
    """Under the stage path on the execute-api address, at the root on a custom domain."""
    stage = packaged.cfn["Resources"]["RestAPIapiStage"]["Properties"]["StageName"]
    assert stage == "api"
    regex = _pow_regex(packaged, stage)
    for path in ("/api/pow/job", "/api/pow/submit", "/pow/job", "/pow/submit"):
        assert regex.search(path), path
    for path in ("/api/token/verify", "/token/verify", "/api/stats/pow/x", "/l/pow/", "/api/lib/pow.js"):
        assert not regex.search(path), path
    statement = _rules(packaged)["pow-per-source"]["Statement"]["RateBasedStatement"]
    transforms = statement["ScopeDownStatement"]["RegexMatchStatement"]["TextTransformations"]
    assert [t["Type"] for t in sorted(transforms, key=lambda t: t["Priority"])] == ["URL_DECODE", "NORMALIZE_PATH"]


def test_blocked_requests_get_the_contract_answer_with_retry_after(packaged: Packaged) -> None:
    acl = _acl(packaged)["Properties"]
    bodies = {key: (b["ContentType"], json.loads(b["Content"])) for key, b in acl["CustomResponseBodies"].items()}
    rules = _rules(packaged)
    answers = {"pow-per-source": {"success": False, "error": "busy"},
               "other-per-source": {"success": False, "error": "internal_error"},
               "other-all-sources": {"success": False, "error": "internal_error"}}
    mapping = packaged.sam["Mappings"]["ErrorStatusCodes"]
    for name, body, status in (("unserved-paths", "not_found", "NotFound"),
                               ("unserved-methods", "wrong_method", "WrongMethod")):
        response = rules[name]["Action"]["Block"]["CustomResponse"]
        assert bodies[response["CustomResponseBodyKey"]] == ("APPLICATION_JSON",
                                                             {"success": False, "error": body}), name
        assert response["ResponseCode"] == {"Fn::FindInMap": ["ErrorStatusCodes", {"Ref": "ErrorStatus"},
                                                               status]}
        assert response["ResponseHeaders"] == [{"Name": "Access-Control-Allow-Origin", "Value": "*"}]
    assert mapping["200"]["NotFound"] == "200" and mapping["rest"]["NotFound"] == "404"
    assert mapping["200"]["WrongMethod"] == "200" and mapping["rest"]["WrongMethod"] == "405"
    for name, body in answers.items():
        response = rules[name]["Action"]["Block"]["CustomResponse"]
        assert bodies[response["CustomResponseBodyKey"]] == ("APPLICATION_JSON", body), name
        headers = {h["Name"]: h["Value"] for h in response["ResponseHeaders"]}
        # Exposed: the widget on another origin reads how long to wait.
        assert headers == {"Retry-After": {"Ref": "WafWindowSeconds"}, "Access-Control-Allow-Origin": "*",
                           "Access-Control-Expose-Headers": "Retry-After"}
        # The gateway's own throttled answer's status: 200 by default (the contract), 429 with ErrorStatus=rest.
        code = response["ResponseCode"]
        assert code == {"Fn::FindInMap": ["ErrorStatusCodes", {"Ref": "ErrorStatus"}, "Throttled"]}
        assert mapping["200"]["Throttled"] == "200" and mapping["rest"]["Throttled"] == "429"


def test_every_table_and_index_has_a_maximum_throughput_set_by_parameters(packaged: Packaged) -> None:
    params = packaged.sam["Parameters"]
    tables = tables_by_suffix(packaged.sam)
    assert tables
    for suffix, table in tables.items():
        props = table["Properties"]
        prefix = table["Logical"].removesuffix("Table")
        assert props["OnDemandThroughput"] == {"MaxReadRequestUnits": {"Ref": f"{prefix}MaxReadUnits"},
                                               "MaxWriteRequestUnits": {"Ref": f"{prefix}MaxWriteUnits"}}, suffix
        for index in props.get("GlobalSecondaryIndexes", []):
            assert index["OnDemandThroughput"] == {
                "MaxReadRequestUnits": {"Ref": f"{prefix}IndexMaxReadUnits"},
                "MaxWriteRequestUnits": {"Ref": f"{prefix}IndexMaxWriteUnits"}}, index["IndexName"]
    caps = [name for name in params if name.endswith(("MaxReadUnits", "MaxWriteUnits"))]
    assert len(caps) == 2 * 6 + 2 * 2  # six tables, the ledger's and the links' indexes
    for name in caps:
        assert params[name]["Type"] == "Number" and params[name]["Default"] >= 1, name


def test_every_function_has_reserved_concurrency_by_parameter(packaged: Packaged) -> None:
    params = packaged.sam["Parameters"]
    conditions = packaged.sam["Conditions"]
    for logical, param in (("APIHandler", "ApiReservedConcurrency"), ("Streams", "StreamsReservedConcurrency"),
                           ("Verify", "VerifyReservedConcurrency")):
        reserved = function(packaged.sam, logical)["ReservedConcurrentExecutions"]
        condition, value, otherwise = reserved["Fn::If"]
        assert value == {"Ref": param} and otherwise == {"Ref": "AWS::NoValue"}
        # 0 means no reservation (an account whose quota is too small to reserve from).
        assert conditions[condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": param}, 0]}]}
        # Nothing reserved by default: a new account's quota may be as low as 10,
        # and a reservation leaving less than 100 unreserved is refused.
        assert params[param]["Default"] == 0
    # SAM passes it on to the function CloudFormation creates.
    fns = resources(packaged.cfn, "AWS::Lambda::Function")
    assert fns["APIHandler"]["Properties"]["ReservedConcurrentExecutions"]["Fn::If"][1] == \
        {"Ref": "ApiReservedConcurrency"}


def test_api_concurrency_covers_the_requests_the_throttles_and_waf_admit(packaged: Packaged) -> None:
    """Little's law: reserved instances / admitted requests per second = the mean duration they
    allow; it must cover a warm request (~25 ms, make bench-cost) with room for slow ones, so the
    throttles and WAF (with Retry-After) refuse before Lambda does (a bare internal_error)."""
    from bench import bill

    p = {k: v["Default"] for k, v in packaged.sam["Parameters"].items()}
    p.update(bill.DEPLOY_RESERVATION)  # what `make deploy` reserves on a standard account
    # /pow/job and /pow/submit; the ten methods the all-sources rule leaves out; the rest.
    admitted = 2 * p["PowRateLimit"] + 10 * p["VerifyRateLimit"] \
        + p["WafOtherRoutesLimit"] / p["WafWindowSeconds"]
    assert p["ApiReservedConcurrency"] / admitted >= 0.1  # 100 ms per request
