"""The DynamoDB Streams consumer: what the request path leaves for later.

Lambda (or `make run`'s stream pump) hands it batches of stream records
from three tables: guards (shares: stats, captchas solved, link visits),
tokens (captchas verified) and the ledger (rank entries for top and list).
Each part is idempotent, since a batch may be delivered more than once.
"""
from __future__ import annotations

from typing import Any

from chalicelib import ranks, stats
from chalicelib.store.models import Guard, Token, User


def table_of(record: dict[str, Any]) -> str:
    """The table name in a record's stream ARN (`...:table/NAME/stream/...`)."""
    arn = str(record.get("eventSourceARN", ""))
    _, _, rest = arn.partition(":table/")
    return rest.split("/", 1)[0]


def handle_event(event: dict[str, Any]) -> dict[str, int]:
    """Apply one Lambda DynamoDB-stream event; returns counts per consumer."""
    by_table: dict[str, list[dict[str, Any]]] = {}
    for record in event.get("Records", []):
        by_table.setdefault(table_of(record), []).append(record)
    done = {"stats": 0, "verifies": 0, "ranks": 0}
    for table, records in by_table.items():
        if table == Guard.Meta.table_name:
            done["stats"] += stats.apply_shares(records)
        elif table == Token.Meta.table_name:
            done["verifies"] += stats.apply_verifies(records)
        elif table == User.Meta.table_name:
            done["ranks"] += ranks.apply(records)
    return done
