"""Feed the stream consumer from the embedded store's streams (functional tests).

Lambda delivers the DynamoDB stream records of the guards, tokens and ledger
tables to `chalicelib.streams.handle_event`; under `mock_aws` nothing does,
so a test calls `drain()` where a deployment would just wait a second: it
hands every record written since the last drain, in order, to the consumer,
read through the DynamoDB Streams API as Lambda reads it
(`ops.stream_pump.drain`, in batches of at most 100 records of one shard).
"""
from __future__ import annotations

from typing import Any


def _stream_tables() -> list[str]:
    from chalicelib.store import models
    from ops.store import install_dynamodb_fixes

    install_dynamodb_fixes()  # the streams API of the embedded store (idempotent)
    return [model.Meta.table_name for model in models.STREAM_TABLES]


def pending_records(batch_size: int = 100) -> list[dict[str, Any]]:
    """Lambda-shaped events of every record not yet delivered, ≤ batch_size each.

    Those records count as delivered from now on.
    """
    from ops import stream_pump

    events: list[dict[str, Any]] = []
    stream_pump.drain(_stream_tables(), events.append, batch_size=batch_size)
    return events


def drain() -> dict[str, int]:
    """Run the consumer over everything written so far; its counts, summed."""
    from chalicelib import streams
    from ops import stream_pump

    done: dict[str, int] = {}

    def consume(event: dict[str, Any]) -> None:
        for key, value in streams.handle_event(event).items():
            done[key] = done.get(key, 0) + value

    stream_pump.drain(_stream_tables(), consume, attempts=1)
    return done
