"""`make deploy` and `make destroy` (deploy/deploy_stack.py, deploy/destroy_stack.py):
their decisions, and what they do to an account (moto's)."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.deploy.cfn import deploy_script

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy"))
stack = deploy_script("deploy_stack")
teardown = deploy_script("destroy_stack")
REGION = "eu-west-1"


@pytest.mark.parametrize(("quota", "api", "streams", "verify"), [
    (1000, 70, 10, 10), (190, 70, 10, 10), (189, 0, 0, 0), (10, 0, 0, 0)])
def test_it_reserves_concurrency_only_where_the_account_leaves_100_unreserved(
        quota: int, api: int, streams: int, verify: int) -> None:
    assert stack.reservation(quota) == {"ApiReservedConcurrency": api,
                                        "StreamsReservedConcurrency": streams,
                                        "VerifyReservedConcurrency": verify}


def test_the_packaged_template_points_at_the_uploaded_code() -> None:
    template = {"Resources": {
        "Fn": {"Properties": {"CodeUri": "./deployment.zip"}},
        "Layer": {"Properties": {"ContentUri": "./powertools-layer.zip"}},
        "Other": {"Properties": {"Name": "x"}}}}
    keys = {"deployment.zip": "k/1-deployment.zip", "powertools-layer.zip": "k/2-layer.zip"}
    out = stack.with_artifacts(template, "bucket", keys)
    assert out["Resources"]["Fn"]["Properties"]["CodeUri"] == "s3://bucket/k/1-deployment.zip"
    assert out["Resources"]["Layer"]["Properties"]["ContentUri"] == "s3://bucket/k/2-layer.zip"
    assert template["Resources"]["Fn"]["Properties"]["CodeUri"] == "./deployment.zip"
    with pytest.raises(stack.DeployError, match="not among the packaged files"):
        stack.with_artifacts({"Resources": {"F": {"Properties": {"CodeUri": "./x.zip"}}}},
                             "bucket", keys)


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    with mock_aws():
        yield boto3.Session(region_name=REGION)


def _tables(session: Any, protected: bool) -> None:
    for suffix in stack.TABLE_SUFFIXES:
        session.client("dynamodb").create_table(
            TableName=f"{stack.STACK}-{suffix}", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            DeletionProtectionEnabled=protected)


def test_leftover_tables_stop_a_first_deploy_with_the_way_out(account: Any) -> None:
    _tables(account, protected=True)
    with pytest.raises(stack.DeployError, match="its tables exist.*make destroy"):
        stack.clear_the_way(account, yes=False)


@pytest.mark.parametrize(("region", "asked", "door"), [
    ("us-east-1", "", "cloudfront"), ("eu-west-1", "", "rest"), ("us-east-1", "rest", "rest"),
    ("eu-west-1", "rest", "rest")])
def test_the_cloudfront_door_where_aws_can_make_its_acl_else_the_rest_door(
        region: str, asked: str, door: str) -> None:
    assert stack.front_door(region, asked) == door


def test_the_cloudfront_door_asked_for_elsewhere_stops_with_the_way_out() -> None:
    with pytest.raises(stack.DeployError, match="only be created in us-east-1.*FRONT_DOOR=rest"):
        stack.front_door("eu-west-1", "cloudfront")
    with pytest.raises(stack.DeployError, match="one of cloudfront, rest"):
        stack.front_door("us-east-1", "edge")


def test_a_paid_plan_left_for_a_person_to_approve_is_said_and_a_free_one_is_not() -> None:
    arn = "arn:aws:pricingplanmanager::123456789012:subscription/abc"
    note = stack.plan_note({"EdgePlanStatus": "PENDING_APPROVAL", "EdgePlanArn": arn}, "PRO")
    assert note is not None and "PRO" in note and arn in note and "bills nothing until" in note
    assert stack.plan_note({"EdgePlanStatus": "ACTIVE", "EdgePlanArn": arn}, "FREE") is None
    assert stack.plan_note({}, "FREE") is None


def test_a_secret_waiting_out_its_recovery_window_is_deleted_for_good_when_confirmed(
        account: Any) -> None:
    secrets = account.client("secretsmanager")
    secrets.create_secret(Name=stack.SECRET_NAME, SecretString="k1:old")
    secrets.delete_secret(SecretId=stack.SECRET_NAME, RecoveryWindowInDays=7)
    with pytest.raises(stack.DeployError, match="scheduled for deletion"):
        stack.clear_the_way(account, yes=False)
    assert stack.clear_the_way(account, yes=True) == "CREATE"
    assert stack.leftovers(account.client("dynamodb"), secrets) == ([], [])


def test_destroy_removes_everything_when_told_yes(account: Any) -> None:
    _tables(account, protected=True)
    account.client("secretsmanager").create_secret(Name=stack.SECRET_NAME, SecretString="k1:x")
    account.client("secretsmanager").create_secret(Name=stack.ORIGIN_SECRET_NAME, SecretString="o")
    s3 = account.client("s3")
    bucket = f"workproof-artifacts-123456789012-{REGION}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=bucket, Key="workproof-prod/a-deployment.zip", Body=b"zip")
    account.client("logs").create_log_group(logGroupName=f"/aws/lambda/{stack.STACK}")
    teardown.destroy(REGION, yes=True)
    assert account.client("dynamodb").list_tables()["TableNames"] == []
    assert stack.leftovers(account.client("dynamodb"), account.client("secretsmanager")) \
        == ([], [])
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert account.client("logs").describe_log_groups()["logGroups"] == []


def test_destroy_without_a_person_to_answer_deletes_nothing(account: Any,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _tables(account, protected=True)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    with pytest.raises(teardown.DeployError, match="nothing deleted"):
        teardown.destroy(REGION, yes=False)
    assert len(account.client("dynamodb").list_tables()["TableNames"]) == 6
