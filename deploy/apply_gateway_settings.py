"""Give a `chalice deploy`ed API the gateway settings of the CloudFormation stack.

    python deploy/apply_gateway_settings.py --stage prod [--rest-api-id ID]
        [--error-status 200|rest] [--param PowRateLimit=50 ...] [--dry-run]

`chalice deploy` cannot take deploy/merge-template.json, so an API deployed
that way lacks the contract's gateway responses (`not_found` instead of API
Gateway's "Missing Authentication Token" 403, `bad_request`,
`internal_error`, throttling answers) and the stage's throttling and
logging settings. This script reads both from the merge template (one source
of truth), applies them with the operator's credentials, and redeploys the
stage so the gateway responses take effect. Idempotent.

The REST API id defaults to the one chalice recorded in
.chalice/deployed/<stage>.json. Parameters default to the template's
defaults; `--param Name=Value` overrides one (e.g. PowRateLimit=50).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "merge-template.json"
SETTING_PATHS = {  # MethodSettings property -> stage patch path suffix
    "ThrottlingRateLimit": "throttling/rateLimit",
    "ThrottlingBurstLimit": "throttling/burstLimit",
    "DataTraceEnabled": "logging/dataTrace",
    "LoggingLevel": "logging/loglevel",
    "MetricsEnabled": "metrics/enabled",
}


def _resolve(value: Any, template: dict[str, Any], params: dict[str, str]) -> Any:
    """Resolve the few intrinsics the gateway settings use (Ref, Fn::FindInMap)."""
    if isinstance(value, dict) and len(value) == 1:
        (key, arg), = value.items()
        if key == "Ref":
            return params[arg]
        if key == "Fn::FindInMap":
            mapping, first, second = (_resolve(a, template, params) for a in arg)
            return template["Mappings"][mapping][first][second]
    if isinstance(value, dict):
        return {k: _resolve(v, template, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, template, params) for v in value]
    return value


def settings(params_override: dict[str, str] | None = None,
             template_path: Path = TEMPLATE) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """(gateway responses by type, stage patch operations) from the merge template."""
    template = json.loads(template_path.read_text())
    params = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    params.update(params_override or {})
    api = template["Resources"]["RestAPI"]["Properties"]
    responses = _resolve(api["DefinitionBody"]["x-amazon-apigateway-gateway-responses"],
                         template, params)
    patches = []
    for setting in _resolve(api["MethodSettings"], template, params):
        prefix = f"{setting['ResourcePath']}/{setting['HttpMethod']}"
        if setting["ResourcePath"] == "/*":
            prefix = f"/*/{setting['HttpMethod']}"
        for prop, suffix in SETTING_PATHS.items():
            if prop in setting:
                value = setting[prop]
                text = str(value).lower() if isinstance(value, bool) else str(value)
                patches.append({"op": "replace", "path": f"{prefix}/{suffix}", "value": text})
    return responses, patches


def deployed_rest_api_id(stage: str) -> str:
    record = ROOT / ".chalice" / "deployed" / f"{stage}.json"
    data = json.loads(record.read_text())
    for resource in data.get("resources", []):
        if resource.get("resource_type") == "rest_api":
            return resource["rest_api_id"]
    raise SystemExit(f"no rest_api in {record}: run `chalice deploy --stage {stage}` first")


def apply(client: Any, rest_api_id: str, stage_name: str, responses: dict[str, Any],
          patches: list[dict[str, str]]) -> dict[str, Any]:
    for response_type, response in responses.items():
        kwargs: dict[str, Any] = {"restApiId": rest_api_id, "responseType": response_type,
                                  "responseTemplates": response["responseTemplates"]}
        if "statusCode" in response:
            kwargs["statusCode"] = str(response["statusCode"])
        if response.get("responseParameters"):
            kwargs["responseParameters"] = response["responseParameters"]
        client.put_gateway_response(**kwargs)
    # Gateway responses take effect with the next deployment of the stage.
    deployment = client.create_deployment(
        restApiId=rest_api_id, stageName=stage_name,
        description="workproof: gateway responses and stage settings")
    client.update_stage(restApiId=rest_api_id, stageName=stage_name, patchOperations=patches)
    return {"rest_api_id": rest_api_id, "stage": stage_name,
            "gateway_responses": sorted(responses), "stage_patches": len(patches),
            "deployment_id": deployment["id"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--stage", default="prod", help="chalice stage (default prod)")
    parser.add_argument("--rest-api-id", help="default: from .chalice/deployed/<stage>.json")
    parser.add_argument("--api-gateway-stage", default=None,
                        help="API Gateway stage name (default: the chalice stage's api_gateway_stage)")
    parser.add_argument("--error-status", choices=["200", "rest"], default=None,
                        help="status of gateway errors (default 200, as the app's)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="override a merge-template parameter (PowRateLimit, ApiBurstLimit...)")
    parser.add_argument("--dry-run", action="store_true", help="print what would be applied")
    args = parser.parse_args(argv)

    overrides = dict(p.split("=", 1) for p in args.param)
    if args.error_status:
        overrides["ErrorStatus"] = args.error_status
    responses, patches = settings(overrides)
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    stage_cfg = config.get("stages", {}).get(args.stage, {})
    stage_name = args.api_gateway_stage or stage_cfg.get(
        "api_gateway_stage", config.get("api_gateway_stage", "api"))
    if args.dry_run:
        print(json.dumps({"stage": stage_name, "gateway_responses": responses,
                          "stage_patches": patches}, indent=2))
        return 0
    rest_api_id = args.rest_api_id or deployed_rest_api_id(args.stage)
    import boto3

    client = boto3.client("apigateway", region_name=os.environ.get("AWS_DEFAULT_REGION"))
    print(json.dumps(apply(client, rest_api_id, stage_name, responses, patches)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
