"""`make bench-ranks`: the ledger stream's batching window against what it costs.

The rank consumer (chalicelib/ranks.py) writes one rank entry per user per
batch, however many shares the user landed in it: the longer Lambda gathers
a batch (the mapping's MaximumBatchingWindowInSeconds, up to BatchSize
records), the fewer rank writes a share costs, and the longer /user/top and
/user/list trail the ledger. This drives the real consumer
(`streams.handle_event`) on the embedded store (moto in-process) with
Lambda's batching simulated on a simulated clock: a batch opens with its
first record and is handed over when the window has passed or BatchSize
records are waiting. The ledger records come from `ledger.credit`, the
same write a share makes (`stage_credit`); the consumer's own rank writes
land in the same stream and count towards BatchSize, as deployed. Each
call is priced by bench/dynamo_cost.py.

Trail: a record waits at most the window (less when a batch fills), then
the consumer's time, modelled as its rounds of concurrent writes
(`transactions.CONCURRENT_WRITES` at a time) × WRITE_MS, plus INVOKE_MS.
DynamoDB Streams' own delay (under a second, typically) comes on top.
"""
from __future__ import annotations

import contextlib
import io
import math
import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WINDOWS = (1, 5, 10, 20, 30, 60)
WRITE_MS = 10.0   # assumed latency of one conditional write, in the consumer's region
INVOKE_MS = 50.0  # assumed: the poller's hand-over and a warm invocation
STREAM_DELAY_S = 1.0  # DynamoDB Streams' own delay, typically under a second


@dataclass(frozen=True)
class Mix:
    """Users mining at a period each drawn in [low, high] seconds, for `seconds`."""

    label: str
    users: int
    low: float
    high: float
    seconds: float
    distinct: bool = False  # every share from a user never seen before

    def shares(self, seed: int = 24) -> list[tuple[float, str]]:
        draw = random.Random(seed)
        if self.distinct:
            rate = self.users / ((self.low + self.high) / 2)
            count = int(rate * self.seconds)
            return [(i / rate, f"visitor-{i}") for i in range(count)]
        events: list[tuple[float, str]] = []
        for user in range(self.users):
            when = draw.uniform(0, self.high)
            while when < self.seconds:
                events.append((when, f"miner-{user}"))
                when += draw.uniform(self.low, self.high)
        return sorted(events)


MIXES = (
    Mix("miners: 30 users, a share each 2–10 s", 30, 2, 10, 240),
    Mix("busy site: 200 users, a share each 2–10 s", 200, 2, 10, 90),
    Mix("every share a new user (captcha-like), 1 share/s", 6, 2, 10, 240, distinct=True),
)


@dataclass
class Outcome:
    shares: int = 0
    batches: int = 0
    wru: float = 0.0
    rank_writes: int = 0
    records: int = 0
    trail_s: float = 0.0            # the longest a record waited, window included
    consumer_ms: list[float] = field(default_factory=list)

    def row(self) -> tuple[float, float, float, float]:
        """(WRU per share, rank writes per share, records per batch, worst trail s)."""
        return (self.wru / max(1, self.shares), self.rank_writes / max(1, self.shares),
                self.records / max(1, self.batches), self.trail_s)


class Poller:
    """Lambda's event source mapping on one stream, on a simulated clock."""

    def __init__(self, table: str, window: float, batch_size: int,
                 consume: Callable[[list[dict[str, Any]]], tuple[float, int]]) -> None:
        self.table, self.window, self.batch_size, self.consume = table, window, batch_size, consume
        self.waiting: list[tuple[float, dict[str, Any]]] = []  # (arrived, record)
        self.outcome = Outcome()

    def pull(self, now: float) -> None:
        from ops import stream_pump

        events: list[dict[str, Any]] = []
        stream_pump.drain([self.table], events.append, batch_size=10_000)
        self.waiting += [(now, record) for event in events for record in event["Records"]]
        while len(self.waiting) >= self.batch_size:
            self._invoke(now, self.batch_size)

    def tick(self, now: float) -> None:
        """Hand over the open batch if its window has passed by `now`."""
        if self.waiting and now >= self.waiting[0][0] + self.window:
            self._invoke(self.waiting[0][0] + self.window, self.batch_size)

    def _invoke(self, at: float, size: int) -> None:
        batch, self.waiting = self.waiting[:size], self.waiting[size:]
        wru, writes = self.consume([record for _, record in batch])
        ms = INVOKE_MS + math.ceil(writes / _concurrent_writes()) * WRITE_MS
        out = self.outcome
        out.batches += 1
        out.records += len(batch)
        out.wru += wru
        out.rank_writes += writes
        out.consumer_ms.append(ms)
        out.trail_s = max(out.trail_s, at + ms / 1000 - batch[0][0])
        if self.waiting:  # what remains opens the next batch now
            self.waiting = [(max(arrived, at), record) for arrived, record in self.waiting]
        self.pull(at)  # the consumer's own writes, now in the stream


def _concurrent_writes() -> int:
    from chalicelib.store import transactions

    return transactions.CONCURRENT_WRITES


def _consumer(backend: Any) -> Callable[[list[dict[str, Any]]], tuple[float, int]]:
    from bench.cost import _clients
    from bench.dynamo_cost import Recorder
    from chalicelib import streams

    def consume(records: list[dict[str, Any]]) -> tuple[float, int]:
        with Recorder(_clients(), backend) as recorder:
            done = streams.handle_event({"Records": records})
        return recorder.cost.wru, sum(done.values())
    return consume


def run(mix: Mix, window: float, batch_size: int, site: Any, backend: Any) -> Outcome:
    """The ledger mapping's cost and trail for `mix` at (window, batch_size)."""
    from chalicelib import ledger
    from chalicelib.store.models import User

    poller = Poller(User.Meta.table_name, window, batch_size, _consumer(backend))
    poller.pull(0.0)  # what came before: not this run's
    poller.waiting, poller.outcome = [], Outcome()
    shares = mix.shares()
    for when, name in shares:
        poller.tick(when)
        ledger.credit(site, name, 1024)
        poller.pull(when)
    end = shares[-1][0] if shares else 0.0
    while poller.waiting:
        poller.tick(end := end + window)
    poller.outcome.shares = len(shares)
    return poller.outcome


@contextlib.contextmanager
def store() -> Iterator[tuple[Any, Any]]:
    """The embedded store with the tables, a site, and moto's backend."""
    from bench.cost import _environment

    _environment()
    from moto import mock_aws

    with mock_aws(), contextlib.redirect_stdout(io.StringIO()):
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        from chalicelib import sites
        from chalicelib.store import models
        from ops import tables
        from ops.store import install_dynamodb_fixes

        install_dynamodb_fixes()
        models.bind()
        tables.create_tables("local")
        info, _secret = sites.create_site("bench")
        yield info, dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=1000,
                        help="the BatchSize tried at every window (today's 100 at 1 s comes first)")
    args = parser.parse_args()
    settings = [(100, 1), *((args.batch_size, window) for window in WINDOWS)]
    out = partial(print, file=sys.__stdout__)
    out(f"Ledger stream mapping: rank writes per share and how long top/list trail "
        f"(consumer time modelled: {INVOKE_MS:g} ms + rounds of {_concurrent_writes()} "
        f"writes × {WRITE_MS:g} ms; DynamoDB Streams' own delay, ~{STREAM_DELAY_S:g} s, on top)")
    with store() as (site, backend):
        for mix in MIXES:
            out()
            out(f"{mix.label} ({len(mix.shares())} shares over {mix.seconds:g} s)")
            out("| BatchSize | window s | WRU/share | rank writes/share | records/batch "
                "| worst trail s (+ stream delay) | consumer ms (max) |")
            out("|---:|---:|---:|---:|---:|---:|---:|")
            for batch_size, window in settings:
                outcome = run(mix, window, batch_size, site, backend)
                wru, writes, per_batch, trail = outcome.row()
                out(f"| {batch_size} | {window} | {wru:.2f} | {writes:.2f} | "
                    f"{per_batch:.0f} | {trail:.1f} | {max(outcome.consumer_ms):.0f} |",
                    flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
