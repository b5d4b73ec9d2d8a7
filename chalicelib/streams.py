"""The DynamoDB Streams consumer: what the request path leaves for later.

Lambda (or `make run`'s stream pump) hands it batches of stream records
from three tables: guards (shares: stats, captchas solved, link visits,
the sites' pressure and heavy sources),
tokens (captchas verified) and the ledger (rank entries for top and list).
Each part is idempotent, since a batch may be delivered more than once.
"""
from __future__ import annotations

import time
from typing import Any

from chalicelib import config, pressure_feed, ranks, stats
from chalicelib.store.models import Guard, Token, User


def table_of(record: dict[str, Any]) -> str:
    """The table name in a record's stream ARN (`...:table/NAME/stream/...`)."""
    arn = str(record.get("eventSourceARN", ""))
    _, _, rest = arn.partition(":table/")
    return rest.split("/", 1)[0]


def handle_event(event: dict[str, Any], base_min_work: int | None = None) -> dict[str, int]:
    """Apply one Lambda DynamoDB-stream event; returns counts per consumer.
    `base_min_work`: the base of a site's default levels (default: the
    deployment's minimum work)."""
    if base_min_work is None:
        base_min_work = config.settings().min_work
    by_table: dict[str, list[dict[str, Any]]] = {}
    for record in event.get("Records", []):
        by_table.setdefault(table_of(record), []).append(record)
    done = {"stats": 0, "verifies": 0, "ranks": 0, "pressure": 0}
    for table, records in by_table.items():
        if table == Guard.Meta.table_name:
            done["stats"] += stats.apply_shares(records)
            # After the counting: the site's rate now includes this batch.
            done["pressure"] += pressure_feed.apply(records, int(time.time()), base_min_work)
        elif table == Token.Meta.table_name:
            done["verifies"] += stats.apply_verifies(records)
        elif table == User.Meta.table_name:
            done["ranks"] += ranks.apply(records)
    return done
