"""Feed DynamoDB stream records to a Lambda handler, as Lambda's event source mapping does.

`make run` has no Lambda: `StreamPump` is a thread that reads the embedded
store's streams through boto3's `dynamodbstreams` client and calls the
handler with the event Lambda would deliver — `{"Records": [...]}`, at most
`batch_size` records of ONE shard per call, in sequence order, each record
with `eventSourceARN` and its creation time in epoch seconds. Shards are
read parent first; a shard's children are read as soon as it ends. A
handler that raises gets the same batch again after a pause (at least once,
like Lambda): nothing is skipped. `drain()` is the synchronous form the
tests use to make off-path effects visible at a known moment.
"""
from __future__ import annotations

import base64
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Handler = Callable[[dict[str, Any]], None]
# A stream's shard list is read again when one of its shards ends, or after this.
SHARD_LIST_SECONDS = 10.0
log = logging.getLogger("workproof.stream_pump")


@dataclass
class ShardCursor:
    iterator: str | None = None
    last_seq: str | None = None
    start: str = "TRIM_HORIZON"
    done: bool = False


class Stopped(Exception):
    """stop() was called while a batch was being retried."""


def _clients() -> tuple[Any, Any]:
    import boto3

    streams_url = (os.environ.get("AWS_ENDPOINT_URL_DYNAMODB_STREAMS")
                   or os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"))
    return boto3.client("dynamodb"), boto3.client("dynamodbstreams", endpoint_url=streams_url)


class StreamReader:
    """Positions in the streams of some tables; `pump()` delivers what is new, once."""

    def __init__(self, table_names: Iterable[str], handler: Handler, *, batch_size: int = 100,
                 start: str = "TRIM_HORIZON", retry_pause: float = 1.0,
                 max_attempts: int | None = None,
                 positions: dict[str, dict[str, ShardCursor]] | None = None) -> None:
        self.table_names = list(table_names)
        self.handler = handler
        self.batch_size = batch_size
        self.start = start  # for the shards that exist when a stream is first read
        self.retry_pause = retry_pause
        self.max_attempts = max_attempts
        # stream ARN -> shard id -> cursor
        self.positions = {} if positions is None else positions
        self.stopping = threading.Event()
        self.dynamodb, self.streams = _clients()
        self._arns: dict[str, str] = {}  # table -> its latest stream
        self._listed: dict[str, tuple[float, list[dict[str, Any]]]] = {}  # arn -> (when, shards)

    def pump(self, table_names: Iterable[str] | None = None) -> int:
        """One pass over the tables' streams (default: all) until caught up; records delivered."""
        names = self.table_names if table_names is None else table_names
        return sum(self._pump_table(name) for name in names)

    def _stream_arn(self, table_name: str) -> str | None:
        arn = self._arns.get(table_name)
        if arn is None:
            table = self.dynamodb.describe_table(TableName=table_name)["Table"]
            arn = table.get("LatestStreamArn")
            if arn:
                self._arns[table_name] = arn
        return arn

    def _pump_table(self, table_name: str) -> int:
        arn = self._stream_arn(table_name)
        if not arn:
            return 0
        try:
            return self._pump_stream(arn)
        except self.streams.exceptions.ResourceNotFoundException:
            # The stream was replaced (a new table), or a shard is gone: list again.
            self._arns.pop(table_name, None)
            self._listed.pop(arn, None)
            fresh = self._stream_arn(table_name)
            return self._pump_stream(fresh) if fresh else 0

    def _current_shards(self, arn: str) -> list[dict[str, Any]]:
        listed = self._listed.get(arn)
        now = time.monotonic()
        if listed is None or now - listed[0] > SHARD_LIST_SECONDS:
            listed = self._listed[arn] = (now, self._shards(arn))
        return listed[1]

    def _pump_stream(self, arn: str) -> int:
        first_sight = arn not in self.positions
        cursors = self.positions.setdefault(arn, {})
        delivered = 0
        while True:
            shards = self._current_shards(arn)
            ids = {shard["ShardId"] for shard in shards}
            finished = False
            for shard in shards:  # oldest first: a parent is listed before its children
                cursor = cursors.get(shard["ShardId"])
                if cursor is None:
                    cursor = cursors[shard["ShardId"]] = self._new_cursor(shard, first_sight)
                parent = shard.get("ParentShardId")
                if cursor.done or (parent is not None and parent in ids and not cursors[parent].done):
                    continue  # a child waits for its parent: records stay in order
                delivered += self._pump_shard(arn, shard["ShardId"], cursor)
                finished = finished or cursor.done
            if not finished:
                return delivered
            self._listed.pop(arn, None)  # a shard ended: list its children now
            first_sight = False

    def take_positions(self, table_name: str) -> None:
        """Fix where reading starts now (for `start="LATEST"`: after what is there now)."""
        arn = self._stream_arn(table_name)
        if not arn or arn in self.positions:
            return
        cursors = self.positions.setdefault(arn, {})
        for shard in self._shards(arn):
            cursor = cursors[shard["ShardId"]] = self._new_cursor(shard, True)
            if not cursor.done:
                cursor.iterator = self._iterator(arn, shard["ShardId"], cursor)

    def _new_cursor(self, shard: dict[str, Any], first_sight: bool) -> ShardCursor:
        if not first_sight or self.start == "TRIM_HORIZON":
            return ShardCursor()  # shards that appear later are read from their start
        closed = "EndingSequenceNumber" in shard["SequenceNumberRange"]
        return ShardCursor(start=self.start, done=closed)

    def _shards(self, arn: str) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"StreamArn": arn}
        while True:
            page = self.streams.describe_stream(**kwargs)["StreamDescription"]
            shards.extend(page["Shards"])
            if not page.get("LastEvaluatedShardId"):
                return shards
            kwargs["ExclusiveStartShardId"] = page["LastEvaluatedShardId"]

    def _pump_shard(self, arn: str, shard_id: str, cursor: ShardCursor) -> int:
        errors = self.streams.exceptions
        delivered = 0
        while True:
            if cursor.iterator is None:
                cursor.iterator = self._iterator(arn, shard_id, cursor)
            try:
                page = self.streams.get_records(ShardIterator=cursor.iterator,
                                                Limit=self.batch_size)
            except errors.ExpiredIteratorException:
                cursor.iterator = None  # a new one from the last record delivered
                continue
            except errors.TrimmedDataAccessException:
                log.warning("stream %s shard %s: records past the retention were lost; "
                            "reading on from the oldest kept", arn, shard_id)
                cursor.iterator, cursor.last_seq, cursor.start = None, None, "TRIM_HORIZON"
                continue
            records = page["Records"]
            if records:
                self._deliver(arn, shard_id, records)
                cursor.last_seq = records[-1]["dynamodb"]["SequenceNumber"]
                delivered += len(records)
            cursor.iterator = page.get("NextShardIterator")
            if cursor.iterator is None:
                cursor.done = True  # a closed shard, read to its end
                return delivered
            if not records:
                return delivered

    def _iterator(self, arn: str, shard_id: str, cursor: ShardCursor) -> str:
        if cursor.last_seq is not None:
            kind = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": cursor.last_seq}
        else:
            kind = {"ShardIteratorType": cursor.start}
        iterator: str = self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                                        **kind)["ShardIterator"]
        return iterator

    def _deliver(self, arn: str, shard_id: str, records: list[dict[str, Any]]) -> None:
        event = {"Records": [lambda_record(record, arn) for record in records]}
        attempt = 0
        while True:
            attempt += 1
            try:
                self.handler(event)
                return
            except Exception as exc:
                final = self.max_attempts is not None and attempt >= self.max_attempts
                log.warning("stream handler failed on %d records of %s (shard %s, attempt %d): "
                            "%r; %s", len(records), arn.split("/")[1], shard_id, attempt, exc,
                            "giving up" if final else f"retrying in {self.retry_pause:g} s")
                if final:
                    raise
            if self.stopping.wait(self.retry_pause):
                raise Stopped()


def lambda_record(record: dict[str, Any], arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda delivers it: JSON types, and its stream's ARN."""
    body = dict(record["dynamodb"])
    created = body.get("ApproximateCreationDateTime")
    if created is not None and hasattr(created, "timestamp"):
        body["ApproximateCreationDateTime"] = created.timestamp()
    for name in ("Keys", "NewImage", "OldImage"):
        if name in body:
            body[name] = {k: _blobs_as_base64(v) for k, v in body[name].items()}
    converted = {**record, "dynamodb": body, "eventSourceARN": arn}
    identity = record.get("userIdentity")
    if identity:  # a TTL deletion; Lambda spells the keys in camel case
        converted["userIdentity"] = {"type": identity.get("Type"),
                                     "principalId": identity.get("PrincipalId")}
    return converted


def _blobs_as_base64(value: dict[str, Any]) -> dict[str, Any]:
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(v).decode() for v in inner]}
    if kind == "M":
        return {"M": {k: _blobs_as_base64(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_blobs_as_base64(v) for v in inner]}
    return value


class StreamPump:
    """A thread pumping `table_names`' streams into `handler`.

    It reads every `interval` seconds; when the store runs in this process
    (make run), a write to one of the streams wakes it at once, at most one
    pass every `min_gap` seconds, reading only the streams written to.
    """

    def __init__(self, table_names: Iterable[str], handler: Handler, interval: float = 0.2,
                 min_gap: float = 0.02, **reader_options: Any) -> None:
        self.reader = StreamReader(table_names, handler, **reader_options)
        self.interval = interval
        self.min_gap = min_gap
        self._thread = threading.Thread(target=self._run, name="stream-pump", daemon=True)

    def start(self) -> StreamPump:
        for name in self.reader.table_names:
            self.reader.take_positions(name)
        self._thread.start()
        return self

    def _run(self) -> None:
        from ops import store_streams

        seen = store_streams.wait_for_writes({}, 0)
        names: list[str] | None = None  # all tables
        while not self.reader.stopping.is_set():
            try:
                self.reader.pump(names)
            except Stopped:
                return
            except Exception as exc:  # the store went away or hiccuped: try again next tick
                log.warning("stream pump: %r", exc)
            if self.reader.stopping.wait(self.min_gap):
                return
            counts = store_streams.wait_for_writes(seen, self.interval - self.min_gap)
            written = {name for name in counts if counts[name] != seen.get(name)}
            names = [n for n in self.reader.table_names if n in written] or None
            seen = counts

    def stop(self, final_attempts: int = 3) -> int:
        """Stop the thread, then deliver what is left (a failing handler: `final_attempts` tries)."""
        from ops import store_streams

        self.reader.stopping.set()
        store_streams.wake_waiters()
        self._thread.join()
        self.reader.stopping.clear()
        self.reader.max_attempts = final_attempts
        try:
            return self.reader.pump()
        except Exception as exc:
            log.warning("stream pump: records left undelivered at stop: %r", exc)
            return 0


# drain()'s reader, per endpoint: its positions, clients and stream lists outlive a call
# (a replaced table has a new stream ARN, which the reader notices).
_drain_readers: dict[tuple[str | None, ...], StreamReader] = {}


def drain(table_names: Iterable[str], handler: Handler, *, attempts: int = 5,
          retry_pause: float = 0.05, batch_size: int = 100) -> int:
    """Deliver, now, every record written to these tables' streams since the last drain.

    Returns once everything written before the call has been delivered (the
    number of records). A handler that fails `attempts` times on one batch:
    its exception is raised and that batch stays undelivered.
    """
    endpoint = tuple(os.environ.get(name) for name in (
        "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS"))
    reader = _drain_readers.get(endpoint)
    if reader is None:
        reader = _drain_readers[endpoint] = StreamReader([], handler)
    reader.table_names, reader.handler, reader.batch_size = list(table_names), handler, batch_size
    reader.retry_pause, reader.max_attempts = retry_pause, attempts
    total = 0
    while delivered := reader.pump():
        total += delivered
    return total
