"""DynamoDB Streams in the embedded store: what the writes record, as DynamoDB keeps it.

moto 5.2.5 keeps one shard per table forever, holds every record as nested
Python objects (~2.4 KB each), writes two INSERT records when an UpdateItem
creates an item, and writes records for writes that change nothing.
Replaced here (patched in at store start-up, never in moto's tree):
  - one record per write that changes the item, none for a write that does not;
  - a stream is a chain of shards: a shard closes after `RECORDS_PER_SHARD`
    records or `SHARD_SECONDS` and a child shard opens; closed shards are
    dropped `RETENTION_SECONDS` after they close (DynamoDB keeps 24 hours);
  - records are kept as compact JSON text (~0.6 KB), compressed once their
    shard closes (~0.06 KB);
  - sequence numbers grow within a stream and from one stream to the next;
  - the records of a write are held back while a transaction runs and
    released only if it commits (`held_records`, `release`).
The API that reads them is ops/store_stream_api.py.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from ops.moto_fence import require_tested_moto

RECORDS_PER_SHARD = 10_000
SHARD_SECONDS = 4 * 3600
RETENTION_SECONDS = 24 * 3600
# A stream's first sequence number: its creation time in microseconds, times this.
# Sequence numbers then grow across streams too (a restarted `make run` makes new
# ones), as DynamoDB's do: consumers may keep the last position they applied.
SEQUENCE_PER_MICROSECOND = 10**6
# Seconds since the epoch; tests move it.
clock: Callable[[], float] = time.time

Pending = tuple["StreamLog", Any, Any]  # (stream, old item or None, new item or None)
_unpacked: tuple[Shard, list[str]] | None = None  # the closed shard read last, unpacked
# moto's own StreamShard, kept by install() (the tests use it).
moto_stream_shard: Any = None
# Records written in this process, per table name: a stream pump in the same
# process (make run's) wakes on them instead of waiting for its next poll.
_written = threading.Condition()
written_counts: dict[str, int] = {}


def wait_for_writes(seen: dict[str, int], timeout: float) -> dict[str, int]:
    """Wait until some table's count differs from `seen` (or `timeout`); the counts now."""
    with _written:
        _written.wait_for(lambda: written_counts != seen, timeout)
        return dict(written_counts)


def wake_waiters() -> None:
    """Wake every `wait_for_writes` now (it then returns the counts, unchanged)."""
    with _written:
        _written.notify_all()


class Shard:
    """One shard: contiguous sequence numbers from `first_seq`, records as JSON text.

    A closed shard keeps its records compressed in one block (similar
    records: ~10x smaller); reading it unpacks the block, cached for the
    next read (a consumer reads a shard from start to end).
    """

    def __init__(self, parent_id: str | None, first_seq: int) -> None:
        self.id = f"shardId-{int(clock() * 1000):020d}-{secrets.token_hex(4)}"
        self.parent_id = parent_id
        self.first_seq = first_seq
        self.count = 0
        self._open: list[str] | None = []
        self._packed = b""
        self.opened = clock()
        self.closed: float | None = None

    @property
    def end_seq(self) -> int:
        """The sequence number after the last record."""
        return self.first_seq + self.count

    def append(self, text: str) -> None:
        assert self._open is not None, "a closed shard takes no records"
        self._open.append(text)
        self.count += 1

    def close(self, now: float) -> None:
        assert self._open is not None
        # JSON text holds no raw newline: one record per line.
        self._packed = zlib.compress("\n".join(self._open).encode(), 3)
        self._open, self.closed = None, now

    def read(self, start: int, stop: int) -> list[str]:
        """Records `start` to `stop` (0 = the shard's first)."""
        global _unpacked
        if self._open is not None:
            return self._open[start:stop]
        cached = _unpacked
        if cached is None or cached[0] is not self:
            text = zlib.decompress(self._packed).decode() if self.count else ""
            cached = _unpacked = (self, text.split("\n") if text else [])
        return cached[1][start:stop]

    def describe(self) -> dict[str, Any]:
        seq_range = {"StartingSequenceNumber": str(self.first_seq)}
        if self.closed is not None and self.count:
            seq_range["EndingSequenceNumber"] = str(self.end_seq - 1)
        shard: dict[str, Any] = {"ShardId": self.id, "SequenceNumberRange": seq_range}
        if self.parent_id:
            shard["ParentShardId"] = self.parent_id
        return shard


class StreamLog:
    """A table's stream (stands in for moto's `StreamShard` on `table.stream_shard`)."""

    def __init__(self, account_id: str, table: Any) -> None:
        self.account_id = account_id
        self.table = table
        self.label = table.latest_stream_label
        first = int(clock() * 1_000_000) * SEQUENCE_PER_MICROSECOND
        self.shards: list[Shard] = [Shard(None, first)]
        self.created_on = datetime.now(UTC)
        # Writes outside the store server's lock (in-process moto, the stream
        # consumer's concurrent writes) must not roll a shard twice.
        self._lock = threading.Lock()

    # moto's Table and backend call add() for every write.
    def add(self, old: Any, new: Any) -> None:
        stack = _held_stack()
        if stack:
            stack[-1].append((self, old, new))
        else:
            self.emit(old, new)

    def emit(self, old: Any, new: Any) -> None:
        old_image = old.to_json()["Attributes"] if old is not None else None
        new_image = new.to_json()["Attributes"] if new is not None else None
        if old_image is not None and old_image == new_image:
            return  # DynamoDB writes no record for a write that changes nothing
        with self._lock:
            shard = self._open_shard()
            shard.append(self._record(old_image, new_image, shard.end_seq))
        with _written:
            written_counts[self.table.name] = written_counts.get(self.table.name, 0) + 1
            _written.notify_all()

    def _record(self, old_image: dict[str, Any] | None, new_image: dict[str, Any] | None, seq: int) -> str:
        from moto.dynamodb.models.utilities import dynamo_json_dump

        view = self.table.stream_specification.get("StreamViewType", "NEW_AND_OLD_IMAGES")
        # A change has an image before or after it.
        image = cast(dict[str, Any], new_image if new_image is not None else old_image)
        keys = {name: image[name] for name in self.table.table_key_attrs if name in image}
        body: dict[str, Any] = {"ApproximateCreationDateTime": int(clock()), "Keys": keys,
                                "SequenceNumber": str(seq), "StreamViewType": view}
        if new_image is not None and view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
            body["NewImage"] = new_image
        if old_image is not None and view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
            body["OldImage"] = old_image
        body["SizeBytes"] = len(dynamo_json_dump([keys, new_image, old_image]))
        name = "INSERT" if old_image is None else "REMOVE" if new_image is None else "MODIFY"
        record = {"eventID": uuid.uuid4().hex, "eventName": name, "eventVersion": "1.1",
                  "eventSource": "aws:dynamodb", "awsRegion": self.table.region_name,
                  "dynamodb": body}
        if getattr(_local, "service", False):  # a TTL deletion
            record["userIdentity"] = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
        return dynamo_json_dump(record)

    def _open_shard(self) -> Shard:
        shard = self.shards[-1]
        now = clock()
        if shard.count >= RECORDS_PER_SHARD or (
                shard.count and now - shard.opened >= SHARD_SECONDS):
            shard.close(now)
            shard = Shard(shard.id, shard.end_seq)
            self.shards.append(shard)
        while self.shards[0].closed is not None and now - self.shards[0].closed >= RETENTION_SECONDS:
            self.shards.pop(0)
        return shard

    def shard(self, shard_id: str) -> Shard | None:
        return next((shard for shard in self.shards if shard.id == shard_id), None)


# --- holding records back while a transaction runs -------------------------------

_local = threading.local()


def _held_stack() -> list[list[Pending]]:
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


@contextmanager
def deleted_by_service() -> Iterator[None]:
    """Deletions inside are DynamoDB's own (TTL): their records say so in `userIdentity`."""
    _local.service = True
    try:
        yield
    finally:
        _local.service = False


@contextmanager
def held_records() -> Iterator[list[Pending]]:
    """Writes inside this block add their records to the yielded list, not to streams."""
    held: list[Pending] = []
    _held_stack().append(held)
    try:
        yield held
    finally:
        _held_stack().pop()


def release(records: list[Pending]) -> None:
    """Hand held records to the enclosing `held_records`, or write them to their streams."""
    stack = _held_stack()
    if stack:
        stack[-1].extend(records)
        return
    for stream, old, new in records:
        stream.emit(old, new)


def one_per_item(records: list[Pending]) -> list[Pending]:
    """Several writes of one item in one operation as one record (first old, last new)."""
    merged: dict[tuple[int, int], list[Any]] = {}
    for stream, old, new in records:
        item = new if new is not None else old
        key = (id(stream), id(item))
        if key in merged:
            merged[key][2] = new
        else:
            merged[key] = [stream, old, new]
    return [(stream, old, new) for stream, old, new in merged.values()]


# --- tables made before install() ---------------------------------------------------

def adopt(table: Any) -> StreamLog | None:
    """The table's StreamLog; a table made before `install()` has moto's shard: take it over."""
    shard = getattr(table, "stream_shard", None)
    if shard is None or isinstance(shard, StreamLog):
        return shard
    from moto.dynamodb.models.utilities import dynamo_json_dump

    log = StreamLog(table.account_id, table)
    for moto_record in shard.items:
        record = json.loads(dynamo_json_dump(moto_record.to_json()))
        record["dynamodb"]["ApproximateCreationDateTime"] = int(
            record["dynamodb"]["ApproximateCreationDateTime"])
        record["dynamodb"]["SequenceNumber"] = str(log.shards[0].end_seq)
        log.shards[0].append(json.dumps(record))
    table.stream_shard = log
    return log


# --- installation -----------------------------------------------------------------

def install() -> None:
    """Patch this process's moto: tables get a StreamLog, one record per UpdateItem."""
    require_tested_moto()
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models import table as moto_table

    global moto_stream_shard
    shard_class: Any = moto_table.StreamShard
    if shard_class is StreamLog:
        return
    moto_stream_shard = shard_class
    moto_table.StreamShard = StreamLog  # type: ignore[misc, assignment]  # tables made from now on
    moto_update_item = DynamoDBBackend.update_item

    def update_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        # moto puts a keys-only item, then updates it: two records for one write.
        with held_records() as held:
            item = moto_update_item(self, *args, **kwargs)
        release(one_per_item(held))
        return item

    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]
