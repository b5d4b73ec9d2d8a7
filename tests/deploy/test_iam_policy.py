"""The hand-written IAM policies grant exactly what each function needs, nothing broad.

Each deployed function has its own policy: the API `.chalice/policy-<stage>.json`,
the stream consumer `.chalice/policy-<stage>-streams.json` (set per function in
.chalice/config.json). `test_every_recorded_action_is_granted` runs after
every other test (the `iam_last` mark; see botocore_recorder.py): it drives a
tour of the API and the consumer that reaches every grant, then checks each
DynamoDB action the whole session sent through each function against that
function's policy, and that the policy grants nothing the function never sent.
"""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest

from chalicelib.store import models
from tests.deploy import botocore_recorder as rec
from tests.deploy.iam import allowed, statements

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")
FUNCTIONS = tuple(rec.FUNCTION_POLICIES)
# The functions each policy file serves: the verify function is the API's code
# behind its own reserved concurrency (app.py verify_handler), with its policy.
SHARING = {"api": ("api", "verify"), "streams": ("streams",)}
ROW_ACTIONS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem",
               "BatchGetItem", "BatchWriteItem", "Query"}
# What Lambda's event source mappings need from the consumer's role.
STREAM_ACTIONS = {"DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"}
STREAM_SUFFIXES = {models.table_for(m).suffix for m in models.STREAM_TABLES}


def policy(stage: str, function: str = "api") -> dict:
    return rec.load_policy(stage, function)


def _function_name(stage: str, function: str) -> str:
    return f"workproof-{stage}" if function == "api" else f"workproof-{stage}-{function}"


def _check_dynamodb(stage: str, function: str, name: str, resources: list[str]) -> None:
    if name in STREAM_ACTIONS:
        assert function == "streams", f"{name}: only the consumer reads streams"
        for arn in resources:
            table, _, tail = arn.removeprefix("arn:aws:dynamodb:*:*:table/").partition("/")
            assert table.removeprefix(f"workproof-{stage}-") in STREAM_SUFFIXES, arn
            assert tail == "stream/*", arn
        return
    assert name in ROW_ACTIONS, f"dynamodb:{name}: not a data-plane action the app needs"
    for arn in resources:
        assert arn.startswith(f"arn:aws:dynamodb:*:*:table/workproof-{stage}-"), arn
        table, _, tail = arn.split(":table/", 1)[1].partition("/")
        assert "*" not in table, f"table wildcard in {arn}"
        assert not tail or (name == "Query" and tail.startswith("index/")), arn
        assert "*" not in tail, f"index wildcard in {arn}"


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("stage", STAGES)
def test_policy_is_narrow(stage: str, function: str) -> None:
    doc = policy(stage, function)
    assert doc["Version"] == "2012-10-17"
    log_groups = {f"arn:aws:logs:*:*:log-group:/aws/lambda/{_function_name(stage, user)}{tail}"
                  for user in SHARING[function] for tail in ("", ":*")}
    for st in statements(doc):
        assert st["Effect"] == "Allow"
        actions = [st["Action"]] if isinstance(st["Action"], str) else st["Action"]
        resources = [st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"]
        assert resources and "*" not in resources, st
        for action in actions:
            service, _, name = action.partition(":")
            assert "*" not in name, f"wildcard action {action}"
            if service == "dynamodb":
                _check_dynamodb(stage, function, name, resources)
            elif service == "secretsmanager":
                # Only the API signs jobs and guards the function-URL door.
                assert function == "api", "only the API reads secrets"
                assert actions == ["secretsmanager:GetSecretValue"]
                assert resources in (
                    [f"arn:aws:secretsmanager:*:*:secret:workproof-{stage}/signing-key-??????"],
                    [f"arn:aws:secretsmanager:*:*:secret:workproof-{stage}/origin-header-??????"])
            elif service == "sqs":
                assert function == "streams", "only the consumer reports failed batches"
                assert actions == ["sqs:SendMessage"]
                assert resources == [f"arn:aws:sqs:*:*:workproof-{stage}-streams-failures"]
            elif service == "logs":
                assert set(actions) <= {"logs:CreateLogGroup", "logs:CreateLogStream",
                                        "logs:PutLogEvents"}
                assert set(resources) == log_groups, resources
            else:
                pytest.fail(f"unexpected service in {action}")
    # Nothing the functions never do: no scans, no table management.
    for forbidden in ("dynamodb:Scan", "dynamodb:DeleteTable", "dynamodb:CreateTable",
                      "dynamodb:UpdateTable", "dynamodb:PartiQLSelect"):
        for suffix in ("sites", "ledger", "tokens", "guards", "stats", "links"):
            arn = f"arn:aws:dynamodb:us-east-1:1:table/workproof-{stage}-{suffix}"
            assert not allowed(doc, forbidden, arn), (forbidden, arn)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_dev_and_prod_policies_differ_only_by_stage(function: str) -> None:
    dev = json.dumps(policy("dev", function), sort_keys=True)
    prod = json.dumps(policy("prod", function), sort_keys=True)
    assert dev.replace("workproof-dev", "workproof-STAGE") == \
        prod.replace("workproof-prod", "workproof-STAGE")


def test_each_function_has_its_policy_file() -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for stage in STAGES:
        cfg = config["stages"][stage]
        assert cfg["autogen_policy"] is False
        assert cfg["iam_policy_file"] == rec.policy_file(stage, "api").name
        assert cfg["lambda_functions"] == {
            "streams": {"iam_policy_file": rec.policy_file(stage, "streams").name},
            "verify": {"iam_policy_file": rec.policy_file(stage, "api").name}}


def test_evaluator_sanity() -> None:
    doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": "arn:aws:dynamodb:*:*:table/t"},
        {"Effect": "Deny", "Action": "dynamodb:getitem", "Resource": "arn:aws:dynamodb:*:*:table/d"},
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "arn:aws:dynamodb:*:*:table/d"},
    ]}
    assert allowed(doc, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/t")
    assert not allowed(doc, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/t/index/x")
    assert not allowed(doc, "dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:1:table/t")
    assert not allowed(doc, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/d")
    assert allowed(doc, "dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:1:table/d")
    assert list(rec.expand("TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "a"}}, {"Update": {"TableName": "b"}},
        {"ConditionCheck": {"TableName": "c"}}, {"Delete": {"TableName": "a"}}]})) == [
        ("dynamodb:PutItem", "a", None), ("dynamodb:UpdateItem", "b", None),
        ("dynamodb:ConditionCheckItem", "c", None), ("dynamodb:DeleteItem", "a", None)]
    assert list(rec.expand("BatchGetItem", {"RequestItems": {"x": {}, "y": {}}})) == [
        ("dynamodb:BatchGetItem", "x", None), ("dynamodb:BatchGetItem", "y", None)]
    assert list(rec.expand("Query", {"TableName": "t", "IndexName": "i"})) == [
        ("dynamodb:Query", "t", "i")]


def test_recorder_catches_an_ungranted_action() -> None:
    """The check is not vacuous: an action outside the function's policy is reported."""
    fake = [rec.Action("dynamodb:Scan", "workproof-dev-ledger", None, "lambda", "Scan", "x:1",
                       "api"),
            rec.Action("dynamodb:Query", "workproof-dev-ledger", "by_total", "lambda", "Query",
                       "x:2", "api"),
            rec.Action("dynamodb:DeleteItem", "workproof-dev-stats", None, "lambda",
                       "TransactWriteItems", "x:3", "api"),
            # The API may not write rank entries, the consumer may.
            rec.Action("dynamodb:DeleteItem", "workproof-dev-ledger", None, "lambda",
                       "DeleteItem", "x:4", "api"),
            rec.Action("dynamodb:DeleteItem", "workproof-dev-ledger", None, "lambda",
                       "DeleteItem", "x:5", "streams"),
            # The consumer may read and update a site's pressure, never delete a site.
            rec.Action("dynamodb:DeleteItem", "workproof-dev-sites", None, "lambda",
                       "DeleteItem", "x:6", "streams")]
    problems = rec.ungranted_by_function(fake, "prod")
    assert len(problems) == 4, problems
    assert any("dynamodb:Scan" in p for p in problems)
    assert any("dynamodb:DeleteItem" in p and "workproof-prod-stats" in p for p in problems)
    assert any(p.startswith("policy-prod.json: dynamodb:DeleteItem") for p in problems)
    assert any(p.startswith("policy-prod-streams.json: dynamodb:DeleteItem") for p in problems)


def test_the_consumers_calls_count_as_its_function(client, site) -> None:
    """Calls made under chalicelib/streams.py (drain() here, Lambda when deployed)
    are the consumer's, checked against its own policy; requests are the API's."""
    from tests.deploy.powsolve import mine
    from tests.streams import drain

    mine(client, site, user="carol")
    drain()
    # (Recorded actions are a set: earlier tests' drains may have added these already.)
    consumer = set(rec.RECORDER.of_function("streams"))
    assert {(a.action, rec.resource_arn(a.table, a.index).rsplit("-", 1)[1])
            for a in consumer} >= {("dynamodb:PutItem", "ledger"), ("dynamodb:UpdateItem", "stats")}
    assert all(a.caller.startswith("chalicelib/") for a in consumer)
    assert any(a.caller.startswith("app.py") or a.caller.startswith("chalicelib/")
               for a in rec.RECORDER.of_function("api"))


def _tour(client, site) -> None:
    """Reach every grant: each endpoint, each order of top, an existing token,
    idempotency keys (kept and refused), a reset-all, and the consumer after."""
    from tests.deploy.powsolve import mine
    from tests.streams import drain

    def get(path, **params):
        params.setdefault("secret", site.secret)
        return json.loads(client.http.get(f"{path}?{urlencode(params)}").body)

    def post(path, **params):
        params.setdefault("secret", site.secret)
        return json.loads(client.http.post(
            path, body=urlencode(params),
            headers={"Content-Type": "application/x-www-form-urlencoded"}).body)

    mine(client, site, user="alice")
    mine(client, site, user="bob")
    token = mine(client, site, token="", hashes=1)
    post("/pow/job", site=site.site_key, token=token)  # a job for an existing token reads it
    assert post("/token/verify", token=token, hashes=1, idempotency_key="tour-verify")["success"]
    get("/user/balance", name="alice")
    assert post("/user/withdraw", name="alice", amount=1, idempotency_key="tour-w1")["success"]
    refused = post("/user/withdraw", name="alice", amount=10**12, idempotency_key="tour-w2")
    assert refused == {"success": False, "error": "insufficent_funds"}  # Coinhive's spelling
    drain()
    for order in ("total", "balance", "withdrawn"):
        assert get("/user/top", order=order)["success"]
    assert get("/user/list", count=32)["success"]
    code = post("/link/create", url="https://example.com/x", hashes=1)["url"].rsplit("/", 1)[1]
    mine(client, site, link=code)
    _dashboard_links(client, site)
    get("/stats/payout")
    get("/stats/site")
    get("/stats/history", begin=0, end=3600)
    post("/user/reset", name="bob")
    drain()  # bob's rank entry goes
    post("/user/reset-all")
    mine(client, site, user="alice")
    drain()


def _dashboard_links(client, site) -> None:
    """The Links view's writes and its listing (a page's disabled flags: BatchGetItem)."""
    from tests.functional.dashboard_client import Dashboard

    dash = Dashboard(client)
    assert dash.sign_in(site.site_key, site.secret)["success"]
    code = dash.post("links/create", url="https://example.com/y", hashes=1)["code"]
    assert dash.post("links/disable", code=code)["success"]
    assert dash.get("links")["success"]
    assert dash.post("links/delete", code=code)["success"]


@pytest.mark.iam_last
def test_every_recorded_action_is_granted(request) -> None:
    if not getattr(request.config, "_workproof_iam_recorder", None):
        pytest.fail("tests/deploy/botocore_recorder.py is not registered: add "
                    "\"tests.deploy.botocore_recorder\" to pytest_plugins in tests/conftest.py")
    _tour(request.getfixturevalue("client"), request.getfixturevalue("site"))
    problems = rec.ungranted_by_function(rec.RECORDER.of_origin("lambda"), "prod")
    unused = []
    for function in FUNCTIONS:
        actions = rec.RECORDER.of_function(function)
        assert actions, f"no DynamoDB call was recorded for the {function} function"
        used = sorted({(a.action, rec.resource_arn(a.table, a.index) or a.table) for a in actions})
        print(f"DynamoDB actions the {function} function used:\n" +
              "\n".join(f"  {a} {r}" for a, r in used))
        unused += [f"{rec.policy_file('prod', function).name}: {grant}"
                   for grant in _unused_grants(policy("prod", function), used)]
    library = [a for a in rec.RECORDER.of_origin("library")
               if rec.ungranted([a], policy("prod"))]
    if library:
        print("Not granted, but only called directly by tests/fixtures (not asserted):\n" +
              "\n".join(f"  {a.action} {a.table} at {a.caller}" for a in sorted(set(library), key=str)))
    assert not problems, "not granted:\n" + "\n".join(problems)
    # And nothing more: every row-level grant serves a call the functions make.
    assert not unused, "granted but never used:\n" + "\n".join(unused)


def _unused_grants(doc: dict, used: list[tuple[str, str]]) -> list[str]:
    """Row-level DynamoDB grants of `doc` that no recorded call needed (stream
    reads are Lambda's own, not the code's, and are checked elsewhere)."""
    unused = []
    for st in doc["Statement"]:
        for action in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"]):
            if not action.startswith("dynamodb:") or action.split(":")[1] in STREAM_ACTIONS:
                continue
            for arn in ([st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"]):
                concrete = arn.replace("arn:aws:dynamodb:*:*:",
                                       "arn:aws:dynamodb:us-east-1:123456789012:")
                if (action, concrete) not in used:
                    unused.append(f"{action} {arn}")
    return unused
