"""Expand the packaged SAM template into plain CloudFormation, offline.

    python deploy/sam_transform.py out/sam.json out/cloudformation.json

CloudFormation runs the same `AWS::Serverless-2016-10-31` transform at deploy
time; running it here (with aws-sam-translator, the library CloudFormation
uses) lets cfn-lint and the tests check the resources that will really be
created: the API Gateway stage and its method settings, the deployment, the
gateway responses inside the REST API body. No AWS call is made.
"""
from __future__ import annotations

import json
import sys
from typing import Any


class _NoManagedPolicies:
    """The template references no AWS managed policy by name."""

    def load(self) -> dict[str, str]:
        return {}


def transform(template: dict[str, Any], region: str = "us-east-1") -> dict[str, Any]:
    import os

    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    from samtranslator.translator.transform import transform as sam_transform

    template = json.loads(json.dumps(template))
    # `aws cloudformation package` uploads ./deployment.zip and
    # ./powertools-layer.zip and rewrites the local paths into S3 locations;
    # stand in for that step.
    local_paths = {"AWS::Serverless::Function": "CodeUri",
                   "AWS::Serverless::LayerVersion": "ContentUri"}
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        key = local_paths.get(resource.get("Type", ""))
        if key and isinstance(props.get(key), str) and not props[key].startswith("s3://"):
            props[key] = f"s3://packaging-bucket/{props[key].rsplit('/', 1)[-1]}"

    parameters = {
        "AWS::Region": region,
        "AWS::Partition": "aws",
        "AWS::AccountId": "123456789012",
        "AWS::StackName": "workproof",
        "AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/workproof/x",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NotificationARNs": [],
    }
    return sam_transform(template, parameters, _NoManagedPolicies())


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        template = json.load(f)
    out = transform(template)
    with open(argv[2], "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
