"""The hand-written IAM policies grant exactly what the code needs, nothing broad.

`test_every_recorded_action_is_granted` runs after every other test (the
`iam_last` mark; see botocore_recorder.py) and checks each DynamoDB action
that the whole session's requests sent through the app against
.chalice/policy-prod.json. Run alone, it drives a small tour of the API
itself first, so it never passes vacuously.
"""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.deploy import botocore_recorder as rec
from tests.deploy.iam import allowed, statements

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")
ROW_ACTIONS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem",
               "BatchGetItem", "BatchWriteItem", "Query"}


def policy(stage: str) -> dict:
    return json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text())


@pytest.mark.parametrize("stage", STAGES)
def test_policy_is_narrow(stage: str) -> None:
    doc = policy(stage)
    assert doc["Version"] == "2012-10-17"
    for st in statements(doc):
        assert st["Effect"] == "Allow"
        actions = [st["Action"]] if isinstance(st["Action"], str) else st["Action"]
        resources = [st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"]
        assert resources and "*" not in resources, st
        for action in actions:
            service, _, name = action.partition(":")
            assert "*" not in name, f"wildcard action {action}"
            if service == "dynamodb":
                assert name in ROW_ACTIONS, f"{action}: not a data-plane action the app needs"
                for arn in resources:
                    assert arn.startswith(f"arn:aws:dynamodb:*:*:table/workproof-{stage}-"), arn
                    tail = arn.split(":table/", 1)[1]
                    assert "*" not in tail.split("/index/")[0], f"table wildcard in {arn}"
                    if name != "Query":
                        assert "/index/" not in arn
            elif service == "secretsmanager":
                assert actions == ["secretsmanager:GetSecretValue"]
                assert resources == [
                    f"arn:aws:secretsmanager:*:*:secret:workproof-{stage}/signing-key-??????"]
            elif service == "logs":
                assert set(actions) <= {"logs:CreateLogGroup", "logs:CreateLogStream",
                                        "logs:PutLogEvents"}
                for arn in resources:
                    assert arn.startswith(
                        f"arn:aws:logs:*:*:log-group:/aws/lambda/workproof-{stage}"), arn
            else:
                pytest.fail(f"unexpected service in {action}")
    # Nothing the function never does: no scans, no table management.
    for forbidden in ("dynamodb:Scan", "dynamodb:DeleteTable", "dynamodb:CreateTable",
                      "dynamodb:UpdateTable", "dynamodb:PartiQLSelect"):
        for suffix in ("sites", "ledger", "tokens", "guards", "stats", "links"):
            arn = f"arn:aws:dynamodb:us-east-1:1:table/workproof-{stage}-{suffix}"
            assert not allowed(doc, forbidden, arn), (forbidden, arn)


def test_dev_and_prod_policies_differ_only_by_stage() -> None:
    dev = json.dumps(policy("dev"), sort_keys=True)
    prod = json.dumps(policy("prod"), sort_keys=True)
    assert dev.replace("workproof-dev", "workproof-STAGE") == \
        prod.replace("workproof-prod", "workproof-STAGE")


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
    """The check is not vacuous: an action outside the policy is reported."""
    fake = [rec.Action("dynamodb:Scan", "workproof-dev-ledger", None, "lambda", "Scan", "x:1"),
            rec.Action("dynamodb:Query", "workproof-dev-ledger", "by_total", "lambda", "Query", "x:2"),
            rec.Action("dynamodb:DeleteItem", "workproof-dev-ledger", None, "lambda",
                       "TransactWriteItems", "x:3")]
    problems = rec.ungranted(fake, policy("prod"))
    assert len(problems) == 2
    assert any("dynamodb:Scan" in p for p in problems)
    assert any("dynamodb:DeleteItem" in p and "workproof-prod-ledger" in p for p in problems)


def _tour(client, site) -> None:
    """Drive every endpoint once through the app (used when run alone)."""
    def get(path, **params):
        params.setdefault("secret", site.secret)
        return json.loads(client.http.get(f"{path}?{urlencode(params)}").body)

    def post(path, **params):
        params.setdefault("secret", site.secret)
        return json.loads(client.http.post(
            path, body=urlencode(params),
            headers={"Content-Type": "application/x-www-form-urlencoded"}).body)

    from tests.deploy.powsolve import mine

    mine(client, site, user="alice")
    token = mine(client, site, token="", hashes=1)
    post("/token/verify", token=token, hashes=1)
    get("/user/balance", name="alice")
    post("/user/withdraw", name="alice", amount=1)
    get("/user/top")
    get("/user/list", count=32)
    code = post("/link/create", url="https://example.com/x", hashes=1)["url"].rsplit("/", 1)[1]
    mine(client, site, link=code)
    get("/stats/payout")
    get("/stats/site")
    get("/stats/history", begin=0, end=3600)
    post("/user/reset", name="alice")
    post("/user/reset-all")


@pytest.mark.iam_last
def test_every_recorded_action_is_granted(request) -> None:
    if not getattr(request.config, "_workproof_iam_recorder", None):
        pytest.fail("tests/deploy/botocore_recorder.py is not registered: add "
                    "\"tests.deploy.botocore_recorder\" to pytest_plugins in tests/conftest.py")
    if not rec.RECORDER.of_origin("lambda"):
        # Run alone: make the app's requests ourselves.
        client = request.getfixturevalue("client")
        site = request.getfixturevalue("site")
        _tour(client, site)
    actions = rec.RECORDER.of_origin("lambda")
    assert actions, "no DynamoDB call was recorded through app.py"
    problems = rec.ungranted(actions, policy("prod"))
    used = sorted({(a.action, rec.resource_arn(a.table, a.index) or a.table) for a in actions})
    print("DynamoDB actions the app used:\n" + "\n".join(f"  {a} {r}" for a, r in used))
    library = [a for a in rec.RECORDER.of_origin("library")
               if rec.ungranted([a], policy("prod"))]
    if library:
        print("Not granted, but only called directly by tests/fixtures (not asserted):\n" +
              "\n".join(f"  {a.action} {a.table} at {a.caller}" for a in sorted(set(library), key=str)))
    # Report (not assert: some grants serve paths only real AWS reaches) what the
    # policy grants that this run never used.
    used_pairs = {(a.action.lower(), rec.resource_arn(a.table, a.index)) for a in actions}
    unused = []
    for st in policy("prod")["Statement"]:
        for action in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"]):
            if not action.startswith("dynamodb:"):
                continue
            for arn in ([st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"]):
                concrete = arn.replace("arn:aws:dynamodb:*:*:", "arn:aws:dynamodb:us-east-1:123456789012:")
                if not any(a == action.lower() and r and (r == concrete or (
                        concrete.endswith("/index/*") and r.startswith(concrete[:-1])))
                        for a, r in used_pairs):
                    unused.append(f"{action} {arn}")
    if unused:
        print("Granted but not used in this run:\n" + "\n".join(f"  {u}" for u in unused))
    assert not problems, "policy-prod.json does not grant:\n" + "\n".join(problems)

