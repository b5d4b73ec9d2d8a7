"""`make destroy`: the whole teardown of deploy/README.md's "Removing
everything", asking before anything that holds data goes.

    python deploy/destroy_stack.py [--region R] [--yes]

1. the stack (functions, API, roles, mappings, queue, WAF, alarms, topic,
   budget, dashboard, layer): asked once, by typing the stack's name;
2. asked separately, the data: the six tables (deletion protection off,
   then deleted) and the signing-key secret (deleted for good);
3. what no stack owns: the functions' log groups, layer versions left
   published, the artifact bucket `make deploy` filled.
`--yes` (YES=1) answers every question yes: for scripts that mean it.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deploy_stack import ORIGIN_SECRET_NAME, SECRET_NAME, STACK, TABLE_SUFFIXES, DeployError, say, stack_state  # noqa: E402


def _sure(question: str, yes: bool, typed: str | None = None) -> bool:
    """Yes if `yes`; else the person types `typed` (or y) at the terminal."""
    if yes:
        return True
    if not sys.stdin.isatty():
        return False
    wanted = typed or "y"
    return input(f"destroy: {question} (type {wanted}) ").strip() == wanted


def delete_stack(session: Any) -> None:
    cfn = session.client("cloudformation")
    if stack_state(cfn) is None:
        say(f"no stack {STACK}")
        return
    cfn.delete_stack(StackName=STACK)
    cfn.get_waiter("stack_delete_complete").wait(StackName=STACK,
                                                 WaiterConfig={"Delay": 15, "MaxAttempts": 240})
    say(f"stack {STACK} deleted")


def delete_data(session: Any) -> None:
    dynamodb = session.client("dynamodb")
    existing = set(dynamodb.list_tables().get("TableNames", []))
    for name in (f"{STACK}-{suffix}" for suffix in TABLE_SUFFIXES):
        if name not in existing:
            continue
        dynamodb.update_table(TableName=name, DeletionProtectionEnabled=False)
        dynamodb.get_waiter("table_exists").wait(TableName=name)
        dynamodb.delete_table(TableName=name)
        say(f"table {name} deleted")
    secrets = session.client("secretsmanager")
    for secret in (SECRET_NAME, ORIGIN_SECRET_NAME):  # (so a new stack can take their names)
        try:
            secrets.delete_secret(SecretId=secret, ForceDeleteWithoutRecovery=True)
            say(f"secret {secret} deleted for good")
        except secrets.exceptions.ResourceNotFoundException:
            pass


def delete_rest(session: Any, account: str, region: str) -> None:
    logs = session.client("logs")
    for group in (f"/aws/lambda/{STACK}", f"/aws/lambda/{STACK}-streams", f"/aws/lambda/{STACK}-verify"):
        try:
            logs.delete_log_group(logGroupName=group)
            say(f"log group {group} deleted")
        except logs.exceptions.ResourceNotFoundException:
            pass
    lam = session.client("lambda")
    layer = f"{STACK}-powertools"
    for version in lam.list_layer_versions(LayerName=layer).get("LayerVersions", []):
        lam.delete_layer_version(LayerName=layer, VersionNumber=version["Version"])
        say(f"layer {layer}:{version['Version']} deleted")
    s3 = session.client("s3")
    bucket = f"workproof-artifacts-{account}-{region}"
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError:
        return
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})
    s3.delete_bucket(Bucket=bucket)
    say(f"artifact bucket s3://{bucket} deleted")


def destroy(region: str, yes: bool) -> None:
    import boto3

    if not region:
        raise DeployError("no region: make destroy REGION=eu-west-1 (or set AWS_REGION)")
    session = boto3.Session(region_name=region)
    account = session.client("sts").get_caller_identity()["Account"]
    say(f"account {account}, region {region}")
    if not _sure(f"delete the stack {STACK} (the API stops answering)?", yes, typed=STACK):
        raise DeployError("nothing deleted")
    delete_stack(session)
    if _sure("delete the data too: the six tables (every balance, token, link and site) "
             "and the signing key?", yes, typed="delete data"):
        delete_data(session)
    else:
        say("the tables and the secret are kept (make deploy uses them again only after "
            "deploy/README.md's recovery)")
    delete_rest(session, account, region)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--region", default=os.environ.get("AWS_REGION")
                        or os.environ.get("AWS_DEFAULT_REGION", ""))
    parser.add_argument("--yes", action="store_true", default=os.environ.get("YES") == "1")
    args = parser.parse_args(argv)
    try:
        destroy(args.region, args.yes)
    except DeployError as error:
        print(f"destroy: stopped: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
