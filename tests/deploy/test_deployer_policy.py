"""deploy/deployer-policy.json: what the person deploying needs, and no more.

Every resource type the packaged template creates (the SAM transform
expanded) must be creatable, updatable where it changes, and deletable under
the policy, on the ARNs the template's names give (`workproof-prod-*`; roles,
alarms and other generated names start with the stack's name); nothing is
granted on every resource but the few actions IAM cannot scope, and roles are
passed to Lambda only. A resource type added to the template without its
entry here fails the coverage test.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.deploy import iam
from tests.deploy.cfn import FUNCTIONS
from tests.deploy.conftest import Packaged

ROOT = Path(__file__).resolve().parents[2]
POLICY = json.loads((ROOT / "deploy" / "deployer-policy.json").read_text())
STACK = "workproof-prod"
REGION, ACCOUNT = "eu-west-1", "123456789012"
# The only actions granted on "*": IAM offers no resource to scope them to (the
# mappings' are scoped by the function they feed, a condition).
UNSCOPED = {"cloudformation:ValidateTemplate", "cloudformation:GetTemplateSummary",
            "lambda:ListEventSourceMappings", "logs:DescribeLogGroups",
            "secretsmanager:GetRandomPassword", "kms:DescribeKey", "kms:CreateGrant",
            "lambda:CreateEventSourceMapping", "lambda:UpdateEventSourceMapping",
            "lambda:DeleteEventSourceMapping", "lambda:GetEventSourceMapping",
            # A plan subscription's ARN is AWS's own id: no name to scope it to.
            "pricingplanmanager:CreateSubscription", "pricingplanmanager:GetSubscription",
            "pricingplanmanager:ListSubscriptions", "pricingplanmanager:CancelSubscription",
            "pricingplanmanager:AssociateResourcesToSubscription",
            "pricingplanmanager:DisassociateResourcesFromSubscription"}


def unconditioned(policy: dict[str, Any]) -> dict[str, Any]:
    """The policy with each condition taken as met (they are checked on their own below)."""
    return {"Version": policy["Version"],
            "Statement": [{k: v for k, v in s.items() if k != "Condition"} for s in policy["Statement"]]}


def generated(logical_id: str) -> str:
    """A name CloudFormation makes for a resource without one: stack-LogicalId-SUFFIX."""
    return f"{STACK}-{logical_id}-1A2B3C4D5E6F"


ARN = f"arn:aws:{{}}:{REGION}:{ACCOUNT}:"
API = f"arn:aws:apigateway:{REGION}::/restapis/a1b2c3d4e5"


def needs(kind: str, logical_id: str, props: dict[str, Any]) -> list[tuple[str, str]]:
    """(action, resource ARN) the deployer needs to create, change and delete one resource."""
    found = _lambda_needs(kind, props) or _data_needs(kind, logical_id, props) or \
        _edge_needs(kind, logical_id, props)
    assert found, f"{kind} ({logical_id}) is not in deploy/deployer-policy.json's checks"
    return found


def _data_needs(kind: str, logical_id: str, props: dict[str, Any]) -> list[tuple[str, str]]:
    arn = ARN
    if kind == "AWS::DynamoDB::Table":
        table = arn.format("dynamodb") + "table/" + props["TableName"]
        return [(f"dynamodb:{a}", table) for a in
                ("CreateTable", "UpdateTable", "DescribeTable", "DeleteTable", "UpdateTimeToLive",
                 "UpdateContinuousBackups", "TagResource")] + \
            [("dynamodb:UpdateTable", table + "/index/by_total")]
    if kind == "AWS::IAM::Role":
        role = f"arn:aws:iam::{ACCOUNT}:role/{generated(logical_id)}"
        return [(f"iam:{a}", role) for a in
                ("CreateRole", "PutRolePolicy", "GetRole", "PassRole", "DeleteRolePolicy", "DeleteRole")]
    if kind == "AWS::SecretsManager::Secret":
        secret = arn.format("secretsmanager") + "secret:" + props["Name"] + "-AbCdEf"
        return [("secretsmanager:CreateSecret", secret), ("secretsmanager:GetRandomPassword", "*"),
                ("secretsmanager:DescribeSecret", secret), ("secretsmanager:DeleteSecret", secret)]
    if kind == "AWS::SQS::Queue":
        queue = arn.format("sqs") + props["QueueName"]
        return [(f"sqs:{a}", queue) for a in ("CreateQueue", "SetQueueAttributes", "DeleteQueue")]
    return []


def _function_name(props: dict[str, Any]) -> str:
    """The function a resource is or acts on: its own name, or the one its Ref or GetAtt names."""
    node = props.get("FunctionName", props.get("TargetFunctionArn"))
    if node is None or isinstance(node, str):
        return node or STACK
    logical = node["Ref"] if "Ref" in node else node["Fn::GetAtt"][0]
    return FUNCTIONS[logical]


def _lambda_needs(kind: str, props: dict[str, Any]) -> list[tuple[str, str]]:
    arn = ARN
    function = arn.format("lambda") + "function:" + _function_name(props)
    if kind == "AWS::Lambda::Function":
        return [(f"lambda:{a}", function) for a in
                ("CreateFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration",
                 "PutFunctionConcurrency", "GetFunction", "DeleteFunction", "TagResource")]
    if kind == "AWS::Lambda::LayerVersion":
        layer = arn.format("lambda") + "layer:" + props["LayerName"]
        return [("lambda:PublishLayerVersion", layer), ("lambda:GetLayerVersion", layer + ":3"),
                ("lambda:DeleteLayerVersion", layer + ":3")]
    if kind == "AWS::Lambda::Url":
        return [(f"lambda:{a}", function) for a in
                ("CreateFunctionUrlConfig", "UpdateFunctionUrlConfig", "GetFunctionUrlConfig",
                 "DeleteFunctionUrlConfig")]
    if kind == "AWS::Lambda::Permission":
        return [("lambda:AddPermission", function), ("lambda:RemovePermission", function)]
    if kind == "AWS::Lambda::EventSourceMapping":
        mapping = arn.format("lambda") + "event-source-mapping:1a2b3c4d-5e6f"
        return [(f"lambda:{a}", mapping) for a in
                ("CreateEventSourceMapping", "GetEventSourceMapping", "DeleteEventSourceMapping")]
    return []


def _edge_needs(kind: str, logical_id: str, props: dict[str, Any]) -> list[tuple[str, str]]:
    arn, api = ARN, API
    if kind in ("AWS::ApiGateway::RestApi", "AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage"):
        return [("apigateway:POST", f"arn:aws:apigateway:{REGION}::/restapis"),
                ("apigateway:PUT", api), ("apigateway:PATCH", api + "/stages/api"),
                ("apigateway:DELETE", api)]
    if kind == "AWS::WAFv2::WebACL":
        scope = "global" if props["Scope"] == "CLOUDFRONT" else "regional"
        acl = (f"arn:aws:wafv2:us-east-1:{ACCOUNT}:" if scope == "global" else arn.format("wafv2")) + \
            f"{scope}/webacl/{props['Name']}/1a2b3c4d"
        return [(f"wafv2:{a}", acl) for a in ("CreateWebACL", "UpdateWebACL", "GetWebACL", "DeleteWebACL")]
    if kind == "AWS::WAFv2::WebACLAssociation":
        acl = arn.format("wafv2") + f"regional/webacl/{STACK}/1a2b3c4d"
        return [("wafv2:AssociateWebACL", acl), ("wafv2:AssociateWebACL", api + "/stages/api"),
                ("apigateway:SetWebACL", api + "/stages/api"), ("wafv2:DisassociateWebACL", acl)]
    found = _cloudfront_needs(kind, props)
    if found:
        return found
    if kind == "AWS::CloudWatch::Alarm":
        alarm = arn.format("cloudwatch") + "alarm:" + str(props.get("AlarmName", generated(logical_id)))
        return [(f"cloudwatch:{a}", alarm) for a in ("PutMetricAlarm", "DescribeAlarms", "DeleteAlarms")]
    if kind == "AWS::SNS::Topic":
        topic = arn.format("sns") + str(props["TopicName"])
        return [(f"sns:{a}", topic) for a in ("CreateTopic", "GetTopicAttributes", "DeleteTopic")]
    if kind == "AWS::SNS::Subscription":
        topic = arn.format("sns") + "workproof-prod-alarms"
        return [(f"sns:{a}", topic) for a in ("Subscribe", "Unsubscribe")]
    if kind == "AWS::Budgets::Budget":
        budget = f"arn:aws:budgets::{ACCOUNT}:budget/{props['Budget']['BudgetName']}"
        return [(f"budgets:{a}", budget) for a in ("ModifyBudget", "ViewBudget")]
    if kind == "AWS::CloudWatch::Dashboard":
        dashboard = f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/{props['DashboardName']}"
        return [(f"cloudwatch:{a}", dashboard) for a in ("PutDashboard", "GetDashboard", "DeleteDashboards")]
    return []


def _cloudfront_needs(kind: str, props: dict[str, Any]) -> list[tuple[str, str]]:
    cloudfront = f"arn:aws:cloudfront::{ACCOUNT}:"
    if kind == "AWS::CloudFront::Distribution":
        distribution = cloudfront + "distribution/E1A2B3C4D5E6F7"
        return [(f"cloudfront:{a}", distribution) for a in
                ("CreateDistribution", "UpdateDistribution", "GetDistribution", "DeleteDistribution",
                 "TagResource")]
    if kind == "AWS::CloudFront::Function":
        function = cloudfront + f"function/{props['Name']}"
        return [(f"cloudfront:{a}", function) for a in
                ("CreateFunction", "UpdateFunction", "PublishFunction", "DescribeFunction", "DeleteFunction")]
    if kind == "AWS::CloudFront::OriginRequestPolicy":
        policy = cloudfront + "origin-request-policy/1a2b3c4d-5e6f"
        return [(f"cloudfront:{a}", policy) for a in
                ("CreateOriginRequestPolicy", "GetOriginRequestPolicy", "DeleteOriginRequestPolicy")]
    if kind == "AWS::CloudFront::ResponseHeadersPolicy":
        policy = cloudfront + "response-headers-policy/1a2b3c4d-5e6f"
        return [(f"cloudfront:{a}", policy) for a in
                ("CreateResponseHeadersPolicy", "GetResponseHeadersPolicy", "DeleteResponseHeadersPolicy")]
    if kind == "AWS::PricingPlanManager::Subscription":
        return [(f"pricingplanmanager:{a}", "*") for a in
                ("CreateSubscription", "GetSubscription", "CancelSubscription")]
    return []


def test_it_is_an_iam_policy_document() -> None:
    assert POLICY["Version"] == "2012-10-17"
    sids = [s["Sid"] for s in POLICY["Statement"]]
    assert len(sids) == len(set(sids)) and all(s["Effect"] == "Allow" for s in POLICY["Statement"])


def test_it_covers_every_resource_the_template_creates(packaged: Packaged) -> None:
    policy = unconditioned(POLICY)
    kinds = set()
    for logical_id, resource in packaged.cfn["Resources"].items():
        kinds.add(resource["Type"])
        for action, arn in needs(resource["Type"], logical_id, resource.get("Properties", {})):
            assert iam.allowed(policy, action, arn), f"{resource['Type']}: {action} on {arn}"
    assert {"AWS::DynamoDB::Table", "AWS::Lambda::Function", "AWS::IAM::Role",
            "AWS::WAFv2::WebACL", "AWS::SecretsManager::Secret"} <= kinds


@pytest.mark.parametrize(("action", "arn"), [
    ("dynamodb:DeleteTable", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"),
    ("lambda:UpdateFunctionCode", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:billing"),
    ("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/Admin"),
    ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/Admin"),
    ("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/{STACK}-x"),
    ("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/db-AbCdEf"),
    ("cloudformation:DeleteStack", f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/billing/1"),
    ("s3:GetObject", "arn:aws:s3:::company-backups/db.sql"),
    ("dynamodb:PutItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/workproof-prod-ledger"),
])
def test_nothing_outside_the_stack_is_granted(action: str, arn: str) -> None:
    assert not iam.allowed(unconditioned(POLICY), action, arn)


def test_only_unscopable_actions_run_on_every_resource_and_roles_go_to_lambda_only() -> None:
    for statement in POLICY["Statement"]:
        actions = iam._as_list(statement["Action"])
        assert all("*" not in action for action in actions), statement["Sid"]
        if "*" in iam._as_list(statement["Resource"]):
            assert set(actions) <= UNSCOPED, statement["Sid"]
    passing = [s for s in POLICY["Statement"] if "iam:PassRole" in iam._as_list(s["Action"])]
    assert len(passing) == 1 and passing[0]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}
    assert passing[0]["Resource"] == "arn:aws:iam::*:role/workproof-*"
