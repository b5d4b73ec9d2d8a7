"""Create the service's DynamoDB tables from the pynamodb models, idempotently.

Used by `python -m chalicelib.admin create-tables [--stage STAGE]` (operators
who deploy with `chalice deploy` instead of CloudFormation), by `make run`
against the embedded store, and by the tests. The CloudFormation path declares
the same tables in `deploy/merge-template.json`; `table_spec()` is the single
description both are checked against (tests/deploy/test_template.py).

For every model in `models.TABLES` this:
  - creates the table if it is missing: on-demand billing, the model's keys and
    global secondary indexes, server-side encryption with the AWS managed KMS
    key, and deletion protection on deployed stages;
  - adds any global secondary index the model declares but the table lacks
    (DynamoDB builds one index at a time: a later run adds the next);
  - enables TTL on the attribute `models.TABLES` names;
  - enables a NEW_AND_OLD_IMAGES stream on the tables of `models.STREAM_TABLES`
    (their records feed the stream consumer: Lambda, or `make run`'s pump);
  - enables point-in-time recovery on deployed stages (not on `local`).
It never deletes or shrinks anything. It returns one summary dict per table.
"""
from __future__ import annotations

import os
import time
from typing import Any

from pynamodb.attributes import BinaryAttribute, NumberAttribute
from pynamodb.indexes import (
    AllProjection,
    GlobalSecondaryIndex,
    IncludeProjection,
    KeysOnlyProjection,
)
from pynamodb.models import Model

from chalicelib import config
from chalicelib.store import models

LOCAL_STAGES = {"local"}
# The stream consumer (chalicelib/streams.py) needs both images.
STREAM_SPEC = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def stream_table_names(stage: str | None = None) -> list[str]:
    """The names of the tables with a stream, as `create_tables(stage)` names them."""
    names = table_names(None if stage in LOCAL_STAGES else stage)
    return [name for model, name in names.items() if model in models.STREAM_TABLES]


def table_names(stage: str | None) -> dict[type[Model], str]:
    """Model -> table name for a stage (an env var `WORKPROOF_*_TABLE` wins)."""
    names = config.table_names(os.environ, stage)
    return {table.model: names[table.suffix] for table in models.TABLES}


def _attr_type(attr: Any) -> str:
    if isinstance(attr, NumberAttribute):
        return "N"
    if isinstance(attr, BinaryAttribute):
        return "B"
    return "S"


def _keys(attrs: dict[str, Any], defs: dict[str, str]) -> list[dict[str, str]]:
    """KeySchema of a table or index; records each key's type in `defs`."""
    hash_keys = [a for a in attrs.values() if a.is_hash_key]
    range_keys = [a for a in attrs.values() if a.is_range_key]
    schema = []
    for attr, kind in ((hash_keys[0], "HASH"), *((r, "RANGE") for r in range_keys[:1])):
        schema.append({"AttributeName": attr.attr_name, "KeyType": kind})
        defs[attr.attr_name] = _attr_type(attr)
    return schema


def _projection(index: GlobalSecondaryIndex[Any]) -> dict[str, Any]:
    projection = index.Meta.projection
    if isinstance(projection, AllProjection):
        return {"ProjectionType": "ALL"}
    if isinstance(projection, KeysOnlyProjection):
        return {"ProjectionType": "KEYS_ONLY"}
    if isinstance(projection, IncludeProjection):
        return {"ProjectionType": "INCLUDE",
                "NonKeyAttributes": list(projection.non_key_attributes)}
    raise ValueError(f"unsupported projection on {index.Meta.index_name}")


def indexes(model: type[Model]) -> list[GlobalSecondaryIndex[Any]]:
    return [idx for idx in model._indexes.values()
            if isinstance(idx, GlobalSecondaryIndex)]


def table_spec(model: type[Model]) -> dict[str, Any]:
    """The model's table shape, in DynamoDB CreateTable terms (no name).

    Keys: AttributeDefinitions (sorted by name), KeySchema,
    GlobalSecondaryIndexes (sorted by name, absent if none), BillingMode,
    StreamSpecification (absent if none), plus `TimeToLiveAttribute` (or None).
    """
    key_attrs: dict[str, str] = {}
    key_schema = _keys(model.get_attributes(), key_attrs)
    gsis = []
    for idx in sorted(indexes(model), key=lambda i: i.Meta.index_name):
        gsis.append({
            "IndexName": idx.Meta.index_name,
            "KeySchema": _keys(idx.Meta.attributes, key_attrs),
            "Projection": _projection(idx),
        })
    spec: dict[str, Any] = {
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": typ}
            for name, typ in sorted(key_attrs.items())
        ],
        "KeySchema": key_schema,
        "BillingMode": "PAY_PER_REQUEST",
        "TimeToLiveAttribute": models.table_for(model).ttl_attribute,
    }
    if gsis:
        spec["GlobalSecondaryIndexes"] = gsis
    if model in models.STREAM_TABLES:
        spec["StreamSpecification"] = STREAM_SPEC
    return spec


def _client(region: str | None = None) -> Any:
    import boto3  # the Lambda runtime has it; imported lazily like every admin path

    region = region or config.region(os.environ)
    # The endpoint comes from AWS_ENDPOINT_URL_DYNAMODB (the SDK reads it).
    return boto3.client("dynamodb", region_name=region)


def _wait_active(client: Any, name: str, timeout: float = 600.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        table = client.describe_table(TableName=name)["Table"]
        busy = table.get("TableStatus") != "ACTIVE" or any(
            g.get("IndexStatus") not in (None, "ACTIVE")
            for g in table.get("GlobalSecondaryIndexes", []))
        if not busy or time.monotonic() > deadline:
            return dict(table)
        time.sleep(2)


def _describe_or_create(client: Any, spec: dict[str, Any], name: str, deployed: bool, wait: bool,
                        summary: dict[str, Any]) -> dict[str, Any]:
    """The table's description, creating it first if it does not exist."""
    try:
        return dict(client.describe_table(TableName=name)["Table"])
    except client.exceptions.ResourceNotFoundException:
        pass
    create = dict(spec, TableName=name,
                  SSESpecification={"Enabled": True, "SSEType": "KMS"},
                  Tags=[{"Key": "app", "Value": "workproof"}])
    if deployed:
        create["DeletionProtectionEnabled"] = True
    try:
        client.create_table(**create)
        summary["created"] = True
    except client.exceptions.ResourceInUseException:
        pass  # created concurrently: fine
    return _wait_active(client, name) if wait else dict(client.describe_table(TableName=name)["Table"])


def _add_indexes(client: Any, spec: dict[str, Any], table: dict[str, Any], name: str, wait: bool,
                 summary: dict[str, Any]) -> None:
    """Indexes the model declares and the table lacks (one build at a time)."""
    have = {g["IndexName"] for g in table.get("GlobalSecondaryIndexes", [])}
    for gsi in spec.get("GlobalSecondaryIndexes", []):
        if gsi["IndexName"] in have:
            continue
        try:
            client.update_table(
                TableName=name,
                AttributeDefinitions=spec["AttributeDefinitions"],
                GlobalSecondaryIndexUpdates=[{"Create": gsi}],
            )
            summary["indexes_added"].append(gsi["IndexName"])
            if wait:
                _wait_active(client, name)
        except (client.exceptions.LimitExceededException,
                client.exceptions.ResourceInUseException) as exc:
            summary["notes"].append(
                f"index {gsi['IndexName']} not added yet ({exc.response['Error']['Code']}): run again")
            break


def _enable_stream_and_ttl(client: Any, spec: dict[str, Any], table: dict[str, Any], name: str,
                           ttl_attr: str | None, summary: dict[str, Any]) -> None:
    stream = spec.get("StreamSpecification")
    if stream and not table.get("StreamSpecification", {}).get("StreamEnabled"):
        client.update_table(TableName=name, StreamSpecification=stream)
        summary["notes"].append("stream enabled")
    if not ttl_attr:
        return
    current = client.describe_time_to_live(TableName=name).get("TimeToLiveDescription", {})
    if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING") or \
            current.get("AttributeName") != ttl_attr:
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attr})


def _protect(client: Any, table: dict[str, Any], name: str, summary: dict[str, Any]) -> None:
    """A deployed table: point-in-time recovery and deletion protection."""
    try:
        backups = client.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        pitr = backups.get("PointInTimeRecoveryDescription", {}).get(
            "PointInTimeRecoveryStatus") == "ENABLED"
        if not pitr:
            client.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        summary["pitr"] = True
    except Exception as exc:  # an emulator without continuous backups
        summary["notes"].append(f"point-in-time recovery not enabled: {exc}")
    if not table.get("DeletionProtectionEnabled"):
        try:
            client.update_table(TableName=name, DeletionProtectionEnabled=True)
        except Exception as exc:
            summary["notes"].append(f"deletion protection not enabled: {exc}")
    summary["deletion_protection"] = bool(
        client.describe_table(TableName=name)["Table"].get("DeletionProtectionEnabled"))


def _ensure_table(client: Any, model: type[Model], name: str, deployed: bool,
                  wait: bool) -> dict[str, Any]:
    spec = table_spec(model)
    ttl_attr = spec.pop("TimeToLiveAttribute")
    summary: dict[str, Any] = {
        "model": model.__name__,
        "table": name,
        "created": False,
        "indexes_added": [],
        "ttl": ttl_attr,
        "stream": "StreamSpecification" in spec,
        "pitr": False,
        "sse": False,
        "deletion_protection": False,
        "notes": [],
    }
    table = _describe_or_create(client, spec, name, deployed, wait, summary)
    _add_indexes(client, spec, table, name, wait, summary)
    _enable_stream_and_ttl(client, spec, table, name, ttl_attr, summary)
    if deployed:
        _protect(client, table, name, summary)
    sse = client.describe_table(TableName=name)["Table"].get("SSEDescription") or {}
    summary["sse"] = sse.get("Status") in ("ENABLED", "ENABLING", "UPDATING")
    if not summary["notes"]:
        del summary["notes"]
    return summary


def create_tables(stage: str | None = None, *, region: str | None = None,
                  wait: bool = True, client: Any = None) -> list[dict[str, Any]]:
    """Create or complete every table of `stage`; one summary per table.

    `stage` None or "local" = a local run (no PITR, no deletion protection),
    table names from the env vars or `workproof-dev-*`; any other stage gets
    `workproof-<stage>-*` (env vars still win) and PITR + deletion protection.
    """
    client = client or _client(region)
    deployed = bool(stage) and stage not in LOCAL_STAGES
    names = table_names(None if stage in LOCAL_STAGES else stage)
    return [_ensure_table(client, model, names[model], deployed, wait)
            for model in models.all_models()]
