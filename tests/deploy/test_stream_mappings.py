"""deploy/apply_stream_mappings.py: the chalice-deploy path feeds the consumer like the stack."""
from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from chalicelib.store import models
from ops import tables as admin_tables
from tests.deploy.cfn import ROOT, deploy_script


def _module() -> Any:
    return deploy_script("apply_stream_mappings")


def test_plan_is_the_templates_mappings_for_the_stage() -> None:
    the_plan = _module().plan("dev")
    template = json.loads((ROOT / "deploy" / "merge-template.json").read_text())
    resources = template["Resources"]
    declared = {f"workproof-dev-{resources[table]['Properties']['TableName'].rsplit('-', 1)[1]}": props
                for props in (r["Properties"] for r in resources.values()
                              if r.get("Type") == "AWS::Lambda::EventSourceMapping")
                for table in [props["EventSourceArn"]["Fn::GetAtt"][0]]}
    assert the_plan["function"] == "workproof-dev-streams"
    assert the_plan["queue"]["name"] == "workproof-dev-streams-failures"
    assert [m["table"] for m in the_plan["mappings"]] == sorted(
        f"workproof-dev-{models.table_for(m).suffix}" for m in models.STREAM_TABLES)
    for mapping in the_plan["mappings"]:
        expected = {k: v for k, v in declared[mapping["table"]].items()
                    if k not in ("EventSourceArn", "FunctionName", "DestinationConfig")}
        assert mapping["settings"] == expected
        assert mapping["settings"]["BisectBatchOnFunctionError"] is False
        assert mapping["settings"]["MaximumRetryAttempts"] == -1


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for env_var in (table.env_var for table in models.TABLES):
        monkeypatch.delenv(env_var, raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    with mock_aws():
        import boto3

        clients = {name: boto3.client(name, region_name="us-east-1")
                   for name in ("lambda", "sqs", "dynamodb", "iam")}
        role = clients["iam"].create_role(
            RoleName="workproof-prod-streams", AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as zf:
            zf.writestr("app.py", "def stream_consumer(event, context):\n    return {}\n")
        clients["lambda"].create_function(
            FunctionName="workproof-prod-streams", Runtime="python3.11", Role=role,
            Handler="app.stream_consumer", Code={"ZipFile": code.getvalue()})
        yield clients


def test_applies_queue_and_mappings_idempotently(aws: dict[str, Any]) -> None:
    mod = _module()
    admin_tables.create_tables("prod")
    the_plan = mod.plan("prod")
    first = mod.apply(the_plan, aws["lambda"], aws["sqs"], aws["dynamodb"])
    assert [s["action"] for s in first] == ["created"] * 3
    again = mod.apply(the_plan, aws["lambda"], aws["sqs"], aws["dynamodb"])
    assert [s["action"] for s in again] == ["updated"] * 3
    assert [s["mapping"] for s in again] == [s["mapping"] for s in first]

    url = aws["sqs"].get_queue_url(QueueName="workproof-prod-streams-failures")["QueueUrl"]
    attrs = aws["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["MessageRetentionPeriod"] == "1209600"
    mappings = aws["lambda"].list_event_source_mappings(
        FunctionName="workproof-prod-streams")["EventSourceMappings"]
    assert len(mappings) == 3
    streams = {aws["dynamodb"].describe_table(TableName=f"workproof-prod-{models.table_for(m).suffix}")[
        "Table"]["LatestStreamArn"] for m in models.STREAM_TABLES}
    assert {m["EventSourceArn"] for m in mappings} == streams
    batch_sizes = {m["table"]: m["settings"]["BatchSize"] for m in the_plan["mappings"]}
    by_stream = {aws["dynamodb"].describe_table(TableName=t)["Table"]["LatestStreamArn"]: size
                 for t, size in batch_sizes.items()}
    assert sorted(batch_sizes.values()) == [1000, 1000, 1000]  # guards, ledger and tokens
    for mapping in mappings:
        assert mapping["BatchSize"] == by_stream[mapping["EventSourceArn"]]
        assert mapping["StartingPosition"] == "TRIM_HORIZON"
        assert mapping["BisectBatchOnFunctionError"] is False
        assert mapping["MaximumRetryAttempts"] == -1
        assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == attrs["QueueArn"]


def test_refuses_a_table_without_its_stream(aws: dict[str, Any]) -> None:
    mod = _module()
    aws["dynamodb"].create_table(TableName="workproof-prod-guards", BillingMode="PAY_PER_REQUEST",
                                 AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                                 KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    the_plan = mod.plan("prod")
    the_plan["mappings"] = [m for m in the_plan["mappings"] if m["table"].endswith("-guards")]
    with pytest.raises(SystemExit, match="has no stream"):
        mod.apply(the_plan, aws["lambda"], aws["sqs"], aws["dynamodb"])
