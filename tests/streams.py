"""Feed the stream consumer from moto's in-process streams (functional tests).

Lambda delivers the DynamoDB stream records of the guards, tokens and ledger
tables to `chalicelib.streams.handle_event`; under `mock_aws` nothing does,
so a test calls `drain()` where a deployment would just wait a second: it
hands every record written since the last drain, in order, to the consumer.
(moto routes the dynamodbstreams API to DynamoDB in-process, so this reads
the records moto keeps on each table.)
"""
from __future__ import annotations

import datetime
from typing import Any

# Each moto shard remembers how many of its records were delivered.
_DELIVERED = "_workproof_delivered"


def _backend() -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]


def pending_records(batch_size: int = 100) -> list[dict[str, Any]]:
    """Lambda-shaped events of every record not yet delivered, ≤ batch_size each."""
    from chalicelib import models

    events = []
    tables = _backend().tables
    for model in models.STREAM_TABLES:
        table = tables.get(model.Meta.table_name)
        shard = getattr(table, "stream_shard", None)
        if shard is None:
            continue
        start = getattr(shard, _DELIVERED, 0)
        records = []
        for record in shard.items[start:]:
            raw = dict(record.to_json())
            change = dict(raw["dynamodb"])
            stamp = change.get("ApproximateCreationDateTime")
            if isinstance(stamp, datetime.datetime):
                change["ApproximateCreationDateTime"] = int(stamp.timestamp())
            raw["dynamodb"] = change
            raw["eventSourceARN"] = (f"arn:aws:dynamodb:us-east-1:123456789012:table/"
                                     f"{table.name}/stream/local")
            records.append(raw)
        setattr(shard, _DELIVERED, len(shard.items))
        for begin in range(0, len(records), batch_size):
            events.append({"Records": records[begin:begin + batch_size]})
    return events


def drain() -> dict[str, int]:
    """Run the consumer over everything written so far; its counts, summed."""
    from chalicelib import streams

    done: dict[str, int] = {}
    while True:
        events = pending_records()
        if not events:
            return done
        for event in events:
            for key, value in streams.handle_event(event).items():
                done[key] = done.get(key, 0) + value
