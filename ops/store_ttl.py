"""Time to Live in the embedded store: expired items are deleted, as DynamoDB deletes them.

moto 5.2.5 records a table's TTL setting and never deletes anything, so the
guards, tokens and idempotency records of a long `make run` would stay in
memory for good. DynamoDB deletes an item some time after the Number in its
TTL attribute (epoch seconds) has passed — items whose TTL is more than five
years in the past are left alone — and writes a REMOVE stream record whose
`userIdentity` is the DynamoDB service. `sweep_expired` does that for every
table of this process's moto; `TtlSweeper` runs it every `interval`
seconds under the store's lock (the store server starts one).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from ops import store_streams

FIVE_YEARS = 5 * 365 * 24 * 3600


def moto_backends() -> list[Any]:
    """This process's moto DynamoDB backends (make run's store runs in its process)."""
    from moto.dynamodb.models import dynamodb_backends

    # dict's own views: moto's accessors would create backends.
    return [backend for regions in dict.values(dynamodb_backends)
            for backend in dict.values(regions)]


def _expired(item: Any, attribute: str, now: float) -> bool:
    value = item.attrs.get(attribute)
    if value is None or value.type != "N":
        return False
    try:
        expires = float(value.value)
    except ValueError:
        return False
    return now - FIVE_YEARS <= expires < now


def sweep_expired(now: float | None = None) -> int:
    """Delete every item past its TTL, in every table with TTL on; how many."""
    now = time.time() if now is None else now
    deleted = 0
    for backend in moto_backends():
        for table in list(backend.tables.values()):
            if table.ttl.get("TimeToLiveStatus") != "ENABLED":
                continue
            attribute = table.ttl.get("AttributeName")
            expired = [item for item in table.all_items() if _expired(item, attribute, now)]
            with store_streams.deleted_by_service():
                for item in expired:
                    table.delete_item(item.hash_key, item.range_key)
            deleted += len(expired)
    return deleted


class TtlSweeper:
    """A thread: `sweep_expired()` every `interval` seconds, holding `lock` while it runs."""

    def __init__(self, interval: float = 60.0,
                 lock: Callable[[], AbstractContextManager[Any]] | None = None) -> None:
        self.interval = interval
        self.lock = lock or nullcontext
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ttl-sweeper", daemon=True)

    def start(self) -> TtlSweeper:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with self.lock():
                sweep_expired()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
