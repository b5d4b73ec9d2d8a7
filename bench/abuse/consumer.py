"""The stream consumer as the template deploys it, and whose records it works on.

Each stream table is drained at its event source mapping's batching window,
in batches of its BatchSize (bench/cost_doors.py `batching`, read from the
template): the guards every 5 s, the tokens every 30 s, the ledger every
60 s, as deployed, so the site's pressure and the ranks trail as they would.
What the consumer spends on a table (its DynamoDB calls and invocations) is
charged to the parties in proportion to the records they wrote to that
table: an attacker mining anonymous shares pays its part of the guards'
batches, not of the ranks of honest users it never touched.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

WRITES = ("PutItem", "UpdateItem", "DeleteItem")


class Consumer:
    """Drains the stream tables on the template's cadence; counts who wrote what."""

    def __init__(self, recorder: Any) -> None:
        from bench.cost_doors import batching
        from chalicelib.store import models

        self.recorder = recorder
        windows = batching()
        # table name -> (BatchSize, window s)
        self.tables = {model.Meta.table_name: windows[models.table_for(model).suffix]
                       for model in models.STREAM_TABLES}
        self.last: dict[str, float] = dict.fromkeys(self.tables, 0.0)
        self.invocations: Counter[str] = Counter()
        self.wru: Counter[str] = Counter()
        self.rru: Counter[str] = Counter()
        # party -> table -> items it wrote (request path only)
        self.writes: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.party = ""  # whose request runs now ("" between requests: the consumer's own)

    # --- who wrote ---------------------------------------------------------------
    def count(self, model: Any = None, params: Any = None, **_: Any) -> None:
        """botocore's before-parameter-build hook: the stream tables a request writes to."""
        if not self.party or model is None or not isinstance(params, dict):
            return
        if model.name in WRITES:
            tables = [params.get("TableName", "")]
        elif model.name == "TransactWriteItems":
            tables = [next(iter(entry.values())).get("TableName", "")
                      for entry in params.get("TransactItems", ())]
        else:
            return
        for table in tables:
            if table in self.tables:
                self.writes[self.party][table] += 1

    # --- the consumer ------------------------------------------------------------
    def drain(self, now: float, min_work: int) -> None:
        """Each table whose window has passed: its records in batches of its BatchSize."""
        from chalicelib import streams
        from ops import stream_pump

        for table, (size, window) in self.tables.items():
            if now - self.last[table] < window:
                continue
            self.last[table] = now
            before = (self.recorder.cost.wru, self.recorder.cost.rru)

            def consume(event: dict[str, Any]) -> None:
                self.invocations[table] += 1  # noqa: B023 - used within this iteration
                streams.handle_event(event, min_work)
            stream_pump.drain([table], consume, attempts=1, batch_size=size)
            self.wru[table] += self.recorder.cost.wru - before[0]
            self.rru[table] += self.recorder.cost.rru - before[1]

    def share_of(self, party: str, table: str) -> float:
        """The part of `table`'s consumer cost that is `party`'s."""
        total = sum(writes[table] for writes in self.writes.values())
        return self.writes[party][table] / total if total else 0.0
