"""Connect a `chalice deploy`ed stream consumer to its tables' streams.

    python deploy/apply_stream_mappings.py --stage prod [--dry-run]

`chalice deploy` creates the `streams` function (app.py's
`@app.lambda_function(name="streams")`) but nothing that feeds it. This
script gives it what the CloudFormation stack declares in
deploy/merge-template.json (one source of truth): the on-failure queue
`workproof-<stage>-streams-failures` and one event source mapping per stream
table, with the template's batching and retry settings. It creates what is
missing and updates what differs; safe to re-run. The tables must exist with
their streams enabled (`python -m chalicelib.admin --stage STAGE create-tables`).
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
TEMPLATE_STAGE = "workproof-prod"  # the names the merge template spells
# Mapping settings an existing mapping can be updated to (StartingPosition cannot).
UPDATABLE = ("BatchSize", "MaximumBatchingWindowInSeconds", "ParallelizationFactor",
             "BisectBatchOnFunctionError", "MaximumRetryAttempts",
             "MaximumRecordAgeInSeconds", "DestinationConfig")


def plan(stage: str, template_path: Path = TEMPLATE) -> dict[str, Any]:
    """The queue and the mappings of `stage`, read from the merge template."""
    template = json.loads(template_path.read_text())
    resources = template["Resources"]
    prefix = f"workproof-{stage}"

    def staged(name: str) -> str:
        return prefix + name.removeprefix(TEMPLATE_STAGE)

    queue = resources["StreamsFailureQueue"]["Properties"]
    function = staged(resources["Streams"]["Properties"]["FunctionName"])
    mappings = []
    for res in resources.values():
        if res.get("Type") != "AWS::Lambda::EventSourceMapping":
            continue
        props = dict(res["Properties"])
        table_logical, _attribute = props.pop("EventSourceArn")["Fn::GetAtt"]
        props.pop("FunctionName")
        props.pop("DestinationConfig")
        mappings.append({"table": staged(resources[table_logical]["Properties"]["TableName"]),
                         "settings": props})
    return {"function": function, "queue": {
        "name": staged(queue["QueueName"]),
        "attributes": {"MessageRetentionPeriod": str(queue["MessageRetentionPeriod"]),
                       "SqsManagedSseEnabled": str(queue["SqsManagedSseEnabled"]).lower()}},
        "mappings": sorted(mappings, key=lambda m: m["table"])}


def apply(the_plan: dict[str, Any], lambda_client: Any, sqs_client: Any,
          dynamodb_client: Any) -> list[dict[str, Any]]:
    """Create or update the queue and every mapping; one summary per mapping."""
    queue = the_plan["queue"]
    url = sqs_client.create_queue(QueueName=queue["name"],
                                  Attributes=queue["attributes"])["QueueUrl"]
    sqs_client.set_queue_attributes(QueueUrl=url, Attributes=queue["attributes"])
    queue_arn = sqs_client.get_queue_attributes(
        QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    function = the_plan["function"]
    summaries = []
    for mapping in the_plan["mappings"]:
        table = dynamodb_client.describe_table(TableName=mapping["table"])["Table"]
        stream_arn = table.get("LatestStreamArn")
        if not stream_arn or not table.get("StreamSpecification", {}).get("StreamEnabled"):
            raise SystemExit(f"{mapping['table']} has no stream: run "
                             "`python -m chalicelib.admin --stage STAGE create-tables` first")
        settings = dict(mapping["settings"],
                        DestinationConfig={"OnFailure": {"Destination": queue_arn}})
        existing = lambda_client.list_event_source_mappings(
            EventSourceArn=stream_arn, FunctionName=function)["EventSourceMappings"]
        if existing:
            uuid = existing[0]["UUID"]
            lambda_client.update_event_source_mapping(
                UUID=uuid, FunctionName=function,
                **{k: v for k, v in settings.items() if k in UPDATABLE})
            action = "updated"
        else:
            uuid = lambda_client.create_event_source_mapping(
                EventSourceArn=stream_arn, FunctionName=function, **settings)["UUID"]
            action = "created"
        summaries.append({"table": mapping["table"], "mapping": uuid, "action": action})
    return summaries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--stage", default="prod", help="chalice stage (default prod)")
    parser.add_argument("--dry-run", action="store_true", help="print what would be applied")
    args = parser.parse_args(argv)
    the_plan = plan(args.stage)
    if args.dry_run:
        print(json.dumps(the_plan, indent=2))
        return 0
    import boto3

    region = os.environ.get("AWS_DEFAULT_REGION")
    summaries = apply(the_plan, boto3.client("lambda", region_name=region),
                      boto3.client("sqs", region_name=region),
                      boto3.client("dynamodb", region_name=region))
    for summary in summaries:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
