"""deploy/apply_gateway_settings.py: the chalice-deploy path gets the stack's gateway settings."""
from __future__ import annotations

import json
from typing import Any

import pytest
from moto import mock_aws

from tests.deploy.cfn import ROOT, deploy_script


def _module() -> Any:
    return deploy_script("apply_gateway_settings")


def test_settings_come_from_the_merge_template() -> None:
    mod = _module()
    responses, patches = mod.settings()
    template = json.loads((ROOT / "deploy" / "merge-template.json").read_text())
    declared = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"][
        "x-amazon-apigateway-gateway-responses"]
    assert set(responses) == set(declared)
    assert {r["statusCode"] for r in responses.values()} == {"200"}
    assert json.loads(responses["MISSING_AUTHENTICATION_TOKEN"]["responseTemplates"][
        "application/json"]) == {"success": False, "error": "not_found"}
    by_path = {p["path"]: p["value"] for p in patches}
    assert by_path["/*/*/logging/dataTrace"] == "false"
    assert by_path["/~1pow~1job/POST/logging/dataTrace"] == "false"
    assert by_path["/~1pow~1job/POST/throttling/rateLimit"] == str(
        template["Parameters"]["PowRateLimit"]["Default"])
    rest, _ = mod.settings({"ErrorStatus": "rest", "PowRateLimit": "7"})
    assert rest["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    assert rest["THROTTLED"]["statusCode"] == "429"
    _, patched = mod.settings({"PowRateLimit": "7"})
    assert {"op": "replace", "path": "/~1pow~1submit/POST/throttling/rateLimit",
            "value": "7"} in patched


def test_applies_to_a_deployed_api(monkeypatch: pytest.MonkeyPatch) -> None:
    mod = _module()
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        import boto3

        client = boto3.client("apigateway", region_name="us-east-1")
        api_id = client.create_rest_api(name="workproof")["id"]
        root = client.get_resources(restApiId=api_id)["items"][0]["id"]
        pow_ = client.create_resource(restApiId=api_id, parentId=root, pathPart="pow")["id"]
        job = client.create_resource(restApiId=api_id, parentId=pow_, pathPart="job")["id"]
        client.put_method(restApiId=api_id, resourceId=job, httpMethod="POST",
                          authorizationType="NONE")
        client.put_integration(restApiId=api_id, resourceId=job, httpMethod="POST",
                               type="MOCK")
        client.create_deployment(restApiId=api_id, stageName="api")

        responses, patches = mod.settings()
        result = mod.apply(client, api_id, "api", responses, patches)
        assert result["gateway_responses"] == sorted(responses)

        got = client.get_gateway_response(restApiId=api_id,
                                          responseType="MISSING_AUTHENTICATION_TOKEN")
        assert got["statusCode"] == "200"
        assert json.loads(got["responseTemplates"]["application/json"])["error"] == "not_found"
        stage = client.get_stage(restApiId=api_id, stageName="api")
        settings = stage["methodSettings"]
        assert settings["*/*"]["dataTraceEnabled"] is False
        assert settings["~1pow~1job/POST"]["throttlingRateLimit"] == 100.0
        assert settings["~1pow~1job/POST"]["dataTraceEnabled"] is False
        # Idempotent.
        mod.apply(client, api_id, "api", responses, patches)
