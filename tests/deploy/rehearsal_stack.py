"""The packaged stack created in moto's CloudFormation (server mode), for the
deploy rehearsal (tests/deploy/test_rehearsal.py).

`out/cloudformation.json` (the SAM transform expanded offline by package.sh)
is created as the stack `workproof-prod`, its functions' and layer's code
uploaded to an S3 bucket in moto, with the parameters `make deploy` passes
(an alarm e-mail and a monthly budget, so every optional resource exists).

What moto cannot create is taken out of the copy it gets, each with the test
that checks it instead (`UNCREATABLE`); anything else that references a
removed resource goes too, and must be listed there as well. moto's
CloudFormation has no Secrets Manager: the signing-key and origin secrets are
created beside the stack from the template's own properties, and their ARNs
put where the template's `Ref`s were (`create_secret_beside`). Nor has it
function URLs: the API function's URL and the verify function's are created
beside the stack through moto's Lambda API from the template's properties
(`create_urls_beside`); each one's domain is the Host of the rehearsal's
function URL events to that function.
"""
from __future__ import annotations

import copy
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
STACK = "workproof-prod"
ARTIFACTS = "workproof-artifacts-rehearsal"
# What `make deploy` passes (deploy/deploy_stack.py): with them the template's
# conditional topic, subscription and budget exist too.
PARAMETERS = {"AlarmEmail": "ops@example.com", "MonthlyBudget": "50"}
OPERATOR = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

# Resource type -> why moto cannot create it, and what checks it instead.
UNCREATABLE = {
    "AWS::WAFv2::WebACL": "not in moto's CloudFormation; cfn-lint (make package), "
    "test_limits.py::test_rate_rules_per_source_pow_tighter_and_a_ceiling_of_all_sources, "
    "test_limits.py::test_blocked_requests_get_the_contract_answer_with_retry_after, test_waf_routes.py",
    "AWS::WAFv2::WebACLAssociation": "not in moto's CloudFormation; cfn-lint, "
    "test_limits.py::test_waf_is_on_by_default_and_guards_the_stage",
    "AWS::ApiGateway::Stage": "not in moto's CloudFormation; cfn-lint, "
    "test_template.py::test_stage_has_no_data_tracing_and_throttles_pow, test_gateway_settings.py",
    "AWS::ApiGateway::Deployment": "refused by moto: its RestApi ignores the OpenAPI Body "
    "(\"The REST API doesn't contain any methods\"); cfn-lint, "
    "test_template.py::test_gateway_responses_are_part_of_the_deployed_body, "
    "test_template.py::test_gateway_responses_keep_the_contract, test_openapi.py; the rehearsal "
    "feeds the function API Gateway's proxy events itself",
    "AWS::CloudWatch::Alarm": "not in moto's CloudFormation; cfn-lint, "
    "test_monitoring.py::test_alarms_cover_every_function_the_api_and_every_table and the "
    "other test_monitoring.py alarm tests",
    "AWS::CloudWatch::Dashboard": "references the alarms (Fn::GetAtt); cfn-lint, "
    "test_monitoring.py::test_dashboard_body_names_only_this_stacks_resources, "
    "test_monitoring.py::test_dashboard_shows_hashes_shares_errors_throttles_and_the_consumer",
    "AWS::Budgets::Budget": "not in moto's CloudFormation; cfn-lint, "
    "test_monitoring.py::test_an_alarm_email_gets_a_topic_a_subscription_and_the_spend_budget",
    "AWS::SNS::Subscription": "not in moto's CloudFormation; cfn-lint, "
    "test_monitoring.py::test_an_alarm_email_gets_a_topic_a_subscription_and_the_spend_budget",
    "AWS::SecretsManager::Secret": "not in moto's CloudFormation: created beside the stack from "
    "the template's Name and GenerateSecretString (create_secret_beside); "
    "test_template.py::test_signing_key_is_generated_never_written, "
    "test_template.py::test_function_gets_the_secret_by_ref",
    "AWS::CloudFront::Function": "not in moto's CloudFormation; cfn-lint, test_edge_door.py "
    "(the viewer function run under node); the rehearsal writes its two headers into the "
    "function URL events itself (rehearsal_events.py)",
    "AWS::CloudFront::OriginRequestPolicy": "not in moto's CloudFormation; cfn-lint, "
    "test_edge_door.py::test_the_api_is_never_cached_and_the_scripts_are",
    "AWS::CloudFront::ResponseHeadersPolicy": "not in moto's CloudFormation; cfn-lint, "
    "test_edge_door.py::test_the_api_is_never_cached_and_the_scripts_are",
    "AWS::CloudFront::Distribution": "references the viewer function and the edge ACL; cfn-lint, "
    "test_edge_door.py::test_the_function_urls_are_reachable_only_through_the_distribution; the "
    "rehearsal sends function URL events with the origin header the distribution adds",
    "AWS::Lambda::Url": "not in moto's CloudFormation: created beside the stack through moto's "
    "Lambda API from the template's AuthType and InvokeMode (create_urls_beside); cfn-lint, "
    "test_edge_door.py::test_the_function_urls_are_reachable_only_through_the_distribution; the "
    "rehearsal hands the function the function URL's events itself (Lambda does not run them in moto)",
    "AWS::PricingPlanManager::Subscription": "not in moto; cfn-lint, "
    "test_edge_door.py::test_the_plan_covers_the_distribution_and_its_acl",
}
# Removed resources whose Ref is replaced, not followed: logical id -> its stand-in.
STAND_INS = ("SigningKeySecret", "EdgeOriginSecret")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def client(service: str, endpoint: str, **credentials: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,  # type: ignore[call-overload]
                        **(credentials or OPERATOR))


def _references(node: Any) -> Iterator[str]:
    """Logical ids a template fragment refers to (Ref, GetAtt, Sub, DependsOn)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                yield value
            elif key == "Fn::GetAtt":
                yield value[0] if isinstance(value, list) else value.split(".")[0]
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                from tests.deploy.cfn import substitutions
                yield from (name.split(".")[0] for name in substitutions(text))
            if key != "Fn::GetAtt":
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def _replace_ref(node: Any, logical: str, value: str) -> Any:
    if isinstance(node, dict):
        if node == {"Ref": logical}:
            return value
        return {k: _replace_ref(v, logical, value) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace_ref(item, logical, value) for item in node]
    return node


def creatable(template: dict[str, Any], stand_ins: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """(the copy moto gets, logical id -> type of each resource taken out).

    `stand_ins`: logical id -> the value its Ref becomes (a resource created beside)."""
    out = copy.deepcopy(template)
    for logical, value in stand_ins.items():
        out = _replace_ref(out, logical, value)
    removed = {k: r["Type"] for k, r in out["Resources"].items() if r["Type"] in UNCREATABLE}
    while True:
        for logical in removed:
            out["Resources"].pop(logical, None)
        dependents = {k: r["Type"] for k, r in out["Resources"].items()
                      if set(_references(r)) & set(removed)}
        if not dependents:
            break
        removed.update(dependents)
    out["Outputs"] = {k: v for k, v in out.get("Outputs", {}).items()
                      if not set(_references(v)) & set(removed)}
    return out, removed


def create_secret_beside(template: dict[str, Any], endpoint: str, logical: str) -> str:
    """A secret of the template as CloudFormation would make it: its ARN."""
    props = template["Resources"][logical]["Properties"]
    secrets = client("secretsmanager", endpoint)
    generate = props["GenerateSecretString"]
    value = secrets.get_random_password(**generate)["RandomPassword"]
    return str(secrets.create_secret(Name=props["Name"], Description=props["Description"],
                                     SecretString=value, Tags=props["Tags"])["ARN"])


def create_urls_beside(template: dict[str, Any], endpoint: str, physical: dict[str, str]) -> dict[str, str]:
    """The template's function URLs, as CloudFormation would make them: each
    function's logical id -> its URL's domain."""
    urls = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Url"]
    hosts = {}
    for url in urls:
        target = url["TargetFunctionArn"]["Fn::GetAtt"][0]
        config = client("lambda", endpoint).create_function_url_config(
            FunctionName=physical[target], AuthType=url["AuthType"], InvokeMode=url["InvokeMode"])
        hosts[target] = str(config["FunctionUrl"]).removeprefix("https://").rstrip("/")
    assert set(hosts) == {"APIHandler", "Verify"}, f"function URLs of {sorted(hosts)}"
    return hosts


def upload_code(template: dict[str, Any], out: Path, endpoint: str) -> None:
    """`aws cloudformation package`: each function's and layer's zip to S3, the template pointed at it."""
    s3 = client("s3", endpoint)
    s3.create_bucket(Bucket=ARTIFACTS)
    for resource in template["Resources"].values():
        for key in ("Code", "Content"):
            location = resource["Properties"].get(key)
            if isinstance(location, dict) and "S3Key" in location:
                s3.upload_file(str(out / location["S3Key"]), ARTIFACTS, location["S3Key"])
                location["S3Bucket"] = ARTIFACTS


@dataclass
class Stack:
    endpoint: str
    template: dict[str, Any]      # what moto created (the copy)
    removed: dict[str, str]       # logical id -> type, taken out of the copy
    physical: dict[str, str]      # logical id -> physical id, as the stack reports
    secret_arn: str               # the signing key's
    origin_secret_arn: str        # the front door's origin header's
    url_hosts: dict[str, str]     # each function URL's domain, by its function's logical id
    mappings: list[dict[str, Any]]  # the event source mappings moto's Lambda holds

    def role_policy(self, function: str) -> dict[str, Any]:
        """The inline policy the template gives the function's role."""
        role = self.template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
        policies = self.template["Resources"][role]["Properties"]["Policies"]
        assert len(policies) == 1, role
        return dict(policies[0]["PolicyDocument"])

    def environment(self, function: str) -> dict[str, str]:
        """The function's environment as moto's Lambda holds it."""
        config = client("lambda", self.endpoint).get_function_configuration(
            FunctionName=self.physical[function])
        return dict(config["Environment"]["Variables"])


def _detach_moto_poller(template: dict[str, Any]) -> None:
    """moto hands a mapped stream's records to its own Lambda, which runs functions
    in Docker (none here) and then drops them: the rehearsal is Lambda's poller
    instead (rehearsal_events.stream_events), so moto's tables forget the
    mappings (the server runs in this process; its Lambda keeps them)."""
    from moto.dynamodb.models import dynamodb_backends

    tables = dynamodb_backends[ACCOUNT][REGION].tables
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::DynamoDB::Table":
            tables[resource["Properties"]["TableName"]].lambda_event_source_mappings.clear()


def create_stack(template: dict[str, Any], out: Path, endpoint: str) -> Stack:
    arns = {name: create_secret_beside(template, endpoint, name) for name in STAND_INS}
    secret_arn = arns["SigningKeySecret"]
    body, removed = creatable(template, arns)
    upload_code(body, out, endpoint)
    cfn = client("cloudformation", endpoint)
    cfn.create_stack(StackName=STACK, TemplateBody=json.dumps(body),
                     Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in PARAMETERS.items()])
    status = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    assert status["StackStatus"] == "CREATE_COMPLETE", status
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                for r in cfn.list_stack_resources(StackName=STACK)["StackResourceSummaries"]}
    # (Read before IAM is enforced: moto's signature check fails on Lambda's REST paths.)
    mappings = client("lambda", endpoint).list_event_source_mappings()["EventSourceMappings"]
    url_hosts = create_urls_beside(template, endpoint, physical)
    _detach_moto_poller(body)
    return Stack(endpoint, body, removed, physical, secret_arn, arns["EdgeOriginSecret"], url_hosts,
                 mappings)


def reset(endpoint: str) -> None:
    """Forget every resource: moto's state is this process's, shared by every server and mock."""
    import urllib.request

    request = urllib.request.Request(f"{endpoint}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - loopback
        pass
