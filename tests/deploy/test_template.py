"""The packaged CloudFormation template: nothing can drop the ledger, nothing leaks.

Checked on both out/sam.json (what an operator deploys) and, where the SAM
transform matters, out/cloudformation.json (what CloudFormation creates).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib import config, errors
from chalicelib.store import models
from ops import tables as admin_tables
from tests.deploy.cfn import function as _function
from tests.deploy.cfn import policy, resources
from tests.deploy.cfn import tables_by_suffix as _tables_by_suffix
from tests.deploy.conftest import Packaged

ROOT = Path(__file__).resolve().parents[2]


# --- tables -----------------------------------------------------------------


@pytest.mark.parametrize("which", ["sam", "cfn"])
def test_every_model_has_its_table_and_nothing_can_drop_it(packaged: Packaged, which: str) -> None:
    template = getattr(packaged, which)
    tables = _tables_by_suffix(template)
    assert set(tables) == {table.suffix for table in models.TABLES}
    for model, suffix, ttl in ((t.model, t.suffix, t.ttl_attribute) for t in models.TABLES):
        res = tables[suffix]
        props = res["Properties"]
        # Kept when the stack is deleted or the table replaced; removed only
        # when the stack's first create fails (so the retry finds no table).
        assert res["DeletionPolicy"] == "RetainExceptOnCreate", suffix
        assert res["UpdateReplacePolicy"] == "Retain", suffix
        assert props["DeletionProtectionEnabled"] == {"Fn::If": ["TablesProtected", True, False]}
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert "ProvisionedThroughput" not in props
        spec = admin_tables.table_spec(model)
        assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == \
            spec["AttributeDefinitions"]
        assert props["KeySchema"] == spec["KeySchema"]
        # The indexes' throughput caps are the stack's (tests/deploy/test_limits.py), not the model's.
        indexes = [{k: v for k, v in g.items() if k != "OnDemandThroughput"}
                   for g in props.get("GlobalSecondaryIndexes", [])]
        assert sorted(indexes, key=lambda g: g["IndexName"]) == spec.get("GlobalSecondaryIndexes", [])
        if ttl:
            assert props["TimeToLiveSpecification"] == {"AttributeName": ttl, "Enabled": True}
        else:
            assert "TimeToLiveSpecification" not in props
        # CloudFormation enables a stream by declaring its view type.
        stream = spec.get("StreamSpecification")
        if stream:
            assert stream["StreamEnabled"] is True
            assert props["StreamSpecification"] == {"StreamViewType": stream["StreamViewType"]}
        else:
            assert "StreamSpecification" not in props, suffix


def test_the_consumers_tables_have_streams_with_both_images(packaged: Packaged) -> None:
    tables = _tables_by_suffix(packaged.sam)
    streamed = {suffix for suffix, t in tables.items() if "StreamSpecification" in t["Properties"]}
    assert streamed == {models.table_for(m).suffix for m in models.STREAM_TABLES} == \
        {"guards", "ledger", "tokens"}
    for suffix in streamed:
        assert tables[suffix]["Properties"]["StreamSpecification"] == {
            "StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_ledger_indexes_are_the_models(packaged: Packaged) -> None:
    ledger = _tables_by_suffix(packaged.sam)["ledger"]["Properties"]
    names = {g["IndexName"] for g in ledger["GlobalSecondaryIndexes"]}
    assert names == {"by_total", "by_balance", "by_withdrawn", "by_name"}
    # Rank entries project only what top and list answer: a credit rewrites no index.
    projections = {g["IndexName"]: g["Projection"] for g in ledger["GlobalSecondaryIndexes"]}
    assert projections["by_name"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["t", "w"]}
    for name in ("by_total", "by_balance", "by_withdrawn"):
        assert projections[name] == {"ProjectionType": "INCLUDE",
                                     "NonKeyAttributes": ["n", "t", "w"]}


# --- the functions ------------------------------------------------------------

@pytest.mark.parametrize("logical", ["APIHandler", "Streams", "Verify"])
def test_each_function_gets_every_table_by_ref(packaged: Packaged, logical: str) -> None:
    env = _function(packaged.sam, logical)["Environment"]["Variables"]
    tables = _tables_by_suffix(packaged.sam)
    for env_var, suffix in ((t.env_var, t.suffix) for t in models.TABLES):
        assert env[env_var] == {"Ref": tables[suffix]["Logical"]}, env_var
    assert config.ENV_SIGNING_KEYS not in env, "the signing key must never be in the template"


def test_function_gets_the_secret_by_ref(packaged: Packaged) -> None:
    props = _function(packaged.sam)
    env = props["Environment"]["Variables"]
    secrets_ = resources(packaged.sam, "AWS::SecretsManager::Secret")
    assert list(secrets_) == ["SigningKeySecret", "EdgeOriginSecret"]
    assert env[config.ENV_SIGNING_SECRET_ARN] == {"Ref": "SigningKeySecret"}
    # The cloudfront door's origin header: the function reads it by ARN, never by value.
    assert secrets_["EdgeOriginSecret"]["Condition"] == "EdgeDoor"
    assert env["WORKPROOF_ORIGIN_SECRET_ARN"] == {"Fn::If": ["EdgeDoor", {"Ref": "EdgeOriginSecret"}, ""]}
    assert config.ENV_SIGNING_KEYS not in env, "the signing key must never be in the template"
    assert props["Handler"] == "app.app"
    assert props["Runtime"] == "python3.11"
    assert props["FunctionName"] == "workproof-prod"


def test_the_verify_function_is_the_api_behind_its_own_reservation(packaged: Packaged) -> None:
    """The backends' token checks (CloudFront's four verification paths) run the
    API's code, handler and settings in a function of their own: only the name,
    the description and the reservation's parameter differ."""
    api, verify = _function(packaged.sam), _function(packaged.sam, "Verify")
    assert verify["Handler"] == "app.verify_handler"
    assert verify["FunctionName"] == "workproof-prod-verify"
    assert verify["Role"] == {"Fn::GetAtt": ["VerifyRole", "Arn"]}
    assert verify["ReservedConcurrentExecutions"] == {"Fn::If": [
        "VerifyConcurrencyReserved", {"Ref": "VerifyReservedConcurrency"}, {"Ref": "AWS::NoValue"}]}
    differ = {"Handler", "FunctionName", "Description", "Role", "ReservedConcurrentExecutions"}
    assert {k: v for k, v in verify.items() if k not in differ} == \
        {k: v for k, v in api.items() if k not in differ}
    assert verify["Environment"]["Variables"]["WORKPROOF_ORIGIN_SECRET_ARN"] == \
        {"Fn::If": ["EdgeDoor", {"Ref": "EdgeOriginSecret"}, ""]}


def test_signing_key_is_generated_never_written(packaged: Packaged) -> None:
    secret = packaged.sam["Resources"]["SigningKeySecret"]["Properties"]
    assert "SecretString" not in secret
    generated = secret["GenerateSecretString"]
    assert generated["PasswordLength"] >= 32
    # Separators of the key list format ("kid:key,kid:key") must not appear in a key.
    assert generated["ExcludePunctuation"] is True
    assert secret["Name"] == "workproof-prod/signing-key"
    text = json.dumps(packaged.sam)
    assert "WORKPROOF_SIGNING_KEYS" not in text


def test_config_json_prod_stage_matches_the_template(packaged: Packaged) -> None:
    cfg = json.loads((ROOT / ".chalice" / "config.json").read_text())
    prod = cfg["stages"]["prod"]
    assert prod["autogen_policy"] is False
    assert prod["iam_policy_file"] == "policy-prod.json"
    env = prod["environment_variables"]
    tables = _tables_by_suffix(packaged.sam)
    for env_var, suffix in ((t.env_var, t.suffix) for t in models.TABLES):
        # `chalice deploy --stage prod` uses these plain names; the template's Refs
        # resolve to the same names.
        assert env[env_var] == tables[suffix]["Properties"]["TableName"]
    for value in env.values():
        assert isinstance(value, str), "Refs in config.json crash chalice package"
    assert env[config.ENV_SIGNING_SECRET_ARN] == \
        packaged.sam["Resources"]["SigningKeySecret"]["Properties"]["Name"]
    # and create-tables --stage prod creates exactly those names.
    names = {m: n for m, n in admin_tables.table_names("prod").items()}
    assert sorted(names.values()) == sorted(
        t["Properties"]["TableName"] for t in tables.values())


# --- IAM ----------------------------------------------------------------------

# Each function's role, its hand-written policy and its function (one role each:
# the consumer never reads the signing key, the API never reads a stream).
ROLES = {"ApiHandlerRole": ("policy-prod.json", "APIHandler"),
         "StreamsRole": ("policy-prod-streams.json", "Streams"),
         "VerifyRole": ("policy-prod.json", "Verify")}


def test_each_role_policy_is_its_hand_written_file(packaged: Packaged) -> None:
    roles = resources(packaged.sam, "AWS::IAM::Role")
    assert set(roles) == set(ROLES)
    for logical, (policy_file, fn) in ROLES.items():
        role = roles[logical]["Properties"]
        assert "ManagedPolicyArns" not in role
        (only,) = role["Policies"]
        assert only["PolicyDocument"] == policy(policy_file), logical
        assert _function(packaged.sam, fn)["Role"] == {"Fn::GetAtt": [logical, "Arn"]}


@pytest.mark.parametrize("logical", sorted(ROLES))
def test_policy_names_only_this_stacks_resources(packaged: Packaged, logical: str) -> None:
    policy_file, fn = ROLES[logical]
    table_names = {t["Properties"]["TableName"] for t in
                   resources(packaged.sam, "AWS::DynamoDB::Table").values()}
    secret_names = {s["Properties"]["Name"] for s in
                    resources(packaged.sam, "AWS::SecretsManager::Secret").values()}
    queue_name = packaged.sam["Resources"]["StreamsFailureQueue"]["Properties"]["QueueName"]
    # The functions sharing this policy file (the API's serves the verify function too).
    log_groups = {f"/aws/lambda/{_function(packaged.sam, user)['FunctionName']}{tail}"
                  for user_file, user in ROLES.values() if user_file == policy_file for tail in ("", ":*")}
    for st in policy(policy_file)["Statement"]:
        res = [st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"]
        for arn in res:
            if ":dynamodb:" in arn:
                table = arn.split(":table/", 1)[1].split("/")[0]
                assert table in table_names, arn
            elif ":secretsmanager:" in arn:
                assert arn.split(":secret:", 1)[1].removesuffix("-??????") in secret_names, arn
            elif ":sqs:" in arn:
                assert arn == f"arn:aws:sqs:*:*:{queue_name}", arn
            else:
                assert arn.removeprefix("arn:aws:logs:*:*:log-group:") in log_groups, arn


def test_no_iam_wildcards_in_the_expanded_stack(packaged: Packaged) -> None:
    for kind in ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for logical, res in resources(packaged.cfn, kind).items():
            for inline in res["Properties"].get("Policies", []) + (
                    [{"PolicyDocument": res["Properties"]["PolicyDocument"]}]
                    if "PolicyDocument" in res["Properties"] else []):
                for st in inline["PolicyDocument"]["Statement"]:
                    assert st.get("Resource") not in ("*", ["*"]), (logical, st)
                    actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                    assert not any(a == "*" or a.endswith(":*") for a in actions), (logical, st)


# --- API Gateway ---------------------------------------------------------------

def _rest_api(packaged: Packaged) -> tuple[dict[str, Any], dict[str, Any]]:
    """(RestApi properties, Stage properties): from the expanded template when
    aws-sam-translator is installed, else from the SAM resource they come from."""
    if packaged.cfn_or_none is not None:
        apis = resources(packaged.cfn, "AWS::ApiGateway::RestApi")
        (api,) = apis.values()
        stages = resources(packaged.cfn, "AWS::ApiGateway::Stage")
        (stage,) = stages.values()
        return api["Properties"], stage["Properties"]
    props = packaged.sam["Resources"]["RestAPI"]["Properties"]
    api = {"Name": props["Name"], "Body": props["DefinitionBody"]}
    stage = {k: v for k, v in props.items() if k in ("MethodSettings", "AccessLogSetting")}
    stage["StageName"] = props["StageName"]
    return api, stage


def _status(value: Any, mode: str, template: dict[str, Any]) -> str:
    if isinstance(value, str):
        return value
    mapping, _ref, key = value["Fn::FindInMap"]
    return template["Mappings"][mapping][mode][key]


def test_gateway_responses_keep_the_contract(packaged: Packaged) -> None:
    api, _stage = _rest_api(packaged)
    responses = api["Body"]["x-amazon-apigateway-gateway-responses"]
    expected = {"MISSING_AUTHENTICATION_TOKEN": "not_found", "DEFAULT_4XX": "bad_request",
                "DEFAULT_5XX": "internal_error"}
    for kind in expected:
        assert kind in responses, kind
    codes = set(errors.contract_codes())
    for kind, response in responses.items():
        templates = response["responseTemplates"]
        assert set(templates) == {"application/json"}
        body = json.loads(templates["application/json"])
        assert body == {"success": False, "error": body["error"]}
        assert body["error"] in codes
        if kind in expected:
            assert body["error"] == expected[kind]
        # Default: 200, as every contract answer (Coinhive's PHP client drops non-2xx bodies).
        assert _status(response["statusCode"], "200", packaged.sam) == "200"
    assert "THROTTLED" in responses and "WAF_FILTERED" in responses
    rest = {kind: _status(r["statusCode"], "rest", packaged.sam) for kind, r in responses.items()}
    assert rest["MISSING_AUTHENTICATION_TOKEN"] == "404"
    assert rest["DEFAULT_4XX"] == "400" and rest["DEFAULT_5XX"] == "500"
    assert rest["THROTTLED"] == "429"
    # Same switch as the app's: the ErrorStatus parameter feeds both.
    env = _function(packaged.sam)["Environment"]["Variables"]
    assert env[config.ENV_ERROR_STATUS] == {"Ref": "ErrorStatus"}


def test_gateway_responses_are_part_of_the_deployed_body(packaged: Packaged) -> None:
    """In the RestApi Body, so every change redeploys the stage (SAM hashes the body)."""
    deployments = resources(packaged.cfn, "AWS::ApiGateway::Deployment")
    assert len(deployments) == 1
    assert not resources(packaged.cfn, "AWS::ApiGateway::GatewayResponse")


def test_stage_has_no_data_tracing_and_throttles_pow(packaged: Packaged) -> None:
    api, stage = _rest_api(packaged)
    settings = stage["MethodSettings"]
    assert settings, "stage method settings missing"
    for s in settings:
        assert s["DataTraceEnabled"] is False, s
        assert s["LoggingLevel"] == "OFF", s
    by_path = {(s["ResourcePath"], s["HttpMethod"]): s for s in settings}
    assert ("/*", "*") in by_path
    for path in ("/~1pow~1job", "/~1pow~1submit"):
        s = by_path[(path, "POST")]
        assert s["ThrottlingRateLimit"] == {"Ref": "PowRateLimit"}
        assert s["ThrottlingBurstLimit"] == {"Ref": "PowBurstLimit"}
    assert "AccessLogSetting" not in stage  # access logs would print query strings (secrets)
    assert stage["StageName"] == "api"
    # The routes the throttles name exist.
    assert "/pow/job" in api["Body"]["paths"] and "/pow/submit" in api["Body"]["paths"]


def test_a_fresh_accounts_first_create_can_fail_and_be_retried(packaged: Packaged) -> None:
    """New accounts get a small Lambda concurrency quota (as low as 10): nothing
    reserved by default. A failed first create rolls back to nothing: the
    tables and the secret go with it (RetainExceptOnCreate), and `make deploy`
    creates the stack with ProtectTables=false (CloudFormation cannot delete a
    protected table), turning protection on once the stack exists."""
    params = packaged.sam["Parameters"]
    assert params["ApiReservedConcurrency"]["Default"] == 0
    assert params["StreamsReservedConcurrency"]["Default"] == 0
    assert params["VerifyReservedConcurrency"]["Default"] == 0
    assert params["ProtectTables"]["Default"] == "true"
    secret = packaged.sam["Resources"]["SigningKeySecret"]
    assert secret["DeletionPolicy"] == "RetainExceptOnCreate"
    assert secret["UpdateReplacePolicy"] == "Retain"
    for name in ("APIHandler", "Streams", "Verify"):
        reserved = packaged.sam["Resources"][name]["Properties"]["ReservedConcurrentExecutions"]
        assert reserved["Fn::If"][2] == {"Ref": "AWS::NoValue"}
