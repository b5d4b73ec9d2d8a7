"""DynamoDB Streams in the embedded store, as DynamoDB keeps them.

moto 5.2.5 keeps one shard per table forever, holds every record as nested
Python objects (~2.4 KB each), keeps every shard iterator it ever handed out,
writes two INSERT records when an UpdateItem creates an item, and writes
records for writes that change nothing. Replaced here (patched in at
store start-up, never in moto's tree):
  - one record per write that changes the item, none for a write that does not;
  - a stream is a chain of shards: a shard closes after `RECORDS_PER_SHARD`
    records or `SHARD_SECONDS` and a child shard opens; closed shards are
    dropped `RETENTION_SECONDS` after they close (DynamoDB keeps 24 hours);
  - records are kept as compact JSON text (~0.4 KB);
  - shard iterators are self-describing strings that expire after 15
    minutes, so nothing is kept per iterator;
  - the records of a write are held back while a transaction runs and
    released only if it commits (`held_records`, `release`).
"""
from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

RECORDS_PER_SHARD = 10_000
SHARD_SECONDS = 4 * 3600
RETENTION_SECONDS = 24 * 3600
ITERATOR_SECONDS = 15 * 60
MAX_GET_RECORDS = 1000
FIRST_SEQUENCE_NUMBER = 10**20
# botocore >= 1.38 sends streams calls to account endpoints, which moto 5.2.5 does not route.
ACCOUNT_ENDPOINT = r"https?://(.+)\.streams-ddb\.(.+)\.amazonaws\.com"
# Seconds since the epoch; tests move it.
clock: Callable[[], float] = time.time

_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
Pending = tuple["StreamLog", Any, Any]  # (stream, old item or None, new item or None)
# moto's own StreamShard, kept by install() (the tests use it).
moto_stream_shard: Any = None


def _error(code: str, message: str) -> Exception:
    from moto.dynamodb.exceptions import DynamodbException

    return DynamodbException(_ERROR_PREFIX + code, message)


class Shard:
    """One shard: contiguous sequence numbers from `first_seq`, records as JSON text."""

    def __init__(self, parent_id: str | None, first_seq: int) -> None:
        self.id = f"shardId-{int(clock() * 1000):020d}-{secrets.token_hex(4)}"
        self.parent_id = parent_id
        self.first_seq = first_seq
        self.records: list[str] = []
        self.opened = clock()
        self.closed: float | None = None

    @property
    def end_seq(self) -> int:
        """The sequence number after the last record."""
        return self.first_seq + len(self.records)

    def describe(self) -> dict[str, Any]:
        seq_range = {"StartingSequenceNumber": str(self.first_seq)}
        if self.closed is not None and self.records:
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
        self.shards: list[Shard] = [Shard(None, FIRST_SEQUENCE_NUMBER)]
        self.created_on = datetime.now(UTC)

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
        shard = self._open_shard()
        shard.records.append(self._record(old_image, new_image, shard.end_seq))

    def _record(self, old_image: dict | None, new_image: dict | None, seq: int) -> str:
        from moto.dynamodb.models.utilities import dynamo_json_dump

        view = self.table.stream_specification.get("StreamViewType", "NEW_AND_OLD_IMAGES")
        image = new_image if new_image is not None else old_image
        keys = {name: image[name] for name in self.table.table_key_attrs if name in image}
        body: dict[str, Any] = {"ApproximateCreationDateTime": int(clock()), "Keys": keys,
                                "SequenceNumber": str(seq), "StreamViewType": view}
        if new_image is not None and view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
            body["NewImage"] = new_image
        if old_image is not None and view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
            body["OldImage"] = old_image
        body["SizeBytes"] = len(dynamo_json_dump([keys, new_image, old_image]))
        name = "INSERT" if old_image is None else "REMOVE" if new_image is None else "MODIFY"
        return dynamo_json_dump({"eventID": uuid.uuid4().hex, "eventName": name,
                                 "eventVersion": "1.1", "eventSource": "aws:dynamodb",
                                 "awsRegion": self.table.region_name, "dynamodb": body})

    def _open_shard(self) -> Shard:
        shard = self.shards[-1]
        now = clock()
        if len(shard.records) >= RECORDS_PER_SHARD or (
                shard.records and now - shard.opened >= SHARD_SECONDS):
            shard.closed = now
            shard = Shard(shard.id, shard.end_seq)
            self.shards.append(shard)
        while self.shards[0].closed is not None and now - self.shards[0].closed >= RETENTION_SECONDS:
            self.shards.pop(0)
        return shard

    def shard(self, shard_id: str) -> Shard:
        for shard in self.shards:
            if shard.id == shard_id:
                return shard
        raise _error("ResourceNotFoundException",
                     f"Requested resource not found: Shard does not exist: {shard_id}")


# --- holding records back while a transaction runs -------------------------------

_local = threading.local()


def _held_stack() -> list[list[Pending]]:
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


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


# --- the DynamoDB Streams API -------------------------------------------------------

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
        log.shards[0].records.append(json.dumps(record))
    table.stream_shard = log
    return log


def _stream(backend: Any, arn: str) -> StreamLog:
    try:
        table_name = arn.split(":", 5)[5].split("/")[1]
        table = backend.dynamodb.tables[table_name]
    except (IndexError, KeyError):
        table = None
    log = adopt(table)
    if not isinstance(log, StreamLog) or not arn.endswith(f"/stream/{log.label}"):
        raise _error("ResourceNotFoundException", f"Requested resource not found: Stream: {arn}")
    return log


def _encode_iterator(arn: str, shard_id: str, seq: int) -> str:
    text = json.dumps([arn, shard_id, seq, clock()], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode()


def _decode_iterator(token: str) -> tuple[str, str, int, float]:
    try:
        arn, shard_id, seq, issued = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(arn), str(shard_id), int(seq), float(issued)
    except (ValueError, TypeError, binascii.Error):
        raise _error("ValidationException", "Invalid ShardIterator") from None


def describe_stream(backend: Any, arn: str, limit: int | None,
                    exclusive_start: str | None) -> dict[str, Any]:
    log = _stream(backend, arn)
    shards = log.shards
    if exclusive_start:
        ids = [s.id for s in shards]
        shards = shards[ids.index(exclusive_start) + 1:] if exclusive_start in ids else []
    limit = min(max(int(limit or 100), 1), 100)
    page = shards[:limit]
    description: dict[str, Any] = {
        "StreamArn": arn, "StreamLabel": log.label, "StreamStatus": "ENABLED",
        "StreamViewType": log.table.stream_specification.get("StreamViewType"),
        "CreationRequestDateTime": log.created_on, "TableName": log.table.name,
        "KeySchema": log.table.schema, "Shards": [s.describe() for s in page],
    }
    if len(shards) > limit:
        description["LastEvaluatedShardId"] = page[-1].id
    return description


def get_shard_iterator(backend: Any, arn: str, shard_id: str, kind: str,
                       sequence_number: str | None) -> str:
    shard = _stream(backend, arn).shard(shard_id)
    if kind == "TRIM_HORIZON":
        seq = shard.first_seq
    elif kind == "LATEST":
        seq = shard.end_seq
    elif kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER") and sequence_number:
        seq = int(sequence_number) + (kind == "AFTER_SEQUENCE_NUMBER")
        if not shard.first_seq <= int(sequence_number) < max(shard.end_seq, shard.first_seq + 1):
            raise _error("ValidationException",
                         f"Invalid SequenceNumber {sequence_number} for shard {shard_id}")
    else:
        raise _error("ValidationException", f"Invalid ShardIteratorType: {kind}")
    return _encode_iterator(arn, shard.id, seq)


def get_records(backend: Any, token: str, limit: int | None) -> dict[str, Any]:
    arn, shard_id, seq, issued = _decode_iterator(token)
    if clock() - issued > ITERATOR_SECONDS:
        raise _error("ExpiredIteratorException", "Iterator expired: it was created more than "
                     f"{ITERATOR_SECONDS // 60} minutes ago")
    shard = _stream(backend, arn).shard(shard_id)
    limit = min(max(int(limit or MAX_GET_RECORDS), 1), MAX_GET_RECORDS)
    start = seq - shard.first_seq
    texts = shard.records[start:start + limit]
    result: dict[str, Any] = {"Records": [_wire_record(text) for text in texts]}
    next_seq = seq + len(texts)
    if shard.closed is None or next_seq < shard.end_seq:
        result["NextShardIterator"] = _encode_iterator(arn, shard_id, next_seq)
    return result


def _wire_record(text: str) -> dict[str, Any]:
    """A stored record as moto's response serializer wants it (datetimes, raw bytes)."""
    record = json.loads(text)
    body = record["dynamodb"]
    body["ApproximateCreationDateTime"] = datetime.fromtimestamp(
        body["ApproximateCreationDateTime"], UTC)
    for name in ("Keys", "NewImage", "OldImage"):
        if name in body:
            body[name] = {k: _blobs_as_bytes(v) for k, v in body[name].items()}
    return record


def _blobs_as_bytes(value: dict[str, Any]) -> dict[str, Any]:
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(v) for v in inner]}
    if kind == "M":
        return {"M": {k: _blobs_as_bytes(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_blobs_as_bytes(v) for v in inner]}
    return value


# --- installation -----------------------------------------------------------------

def _route_account_endpoints() -> None:
    import re

    from moto import backend_index
    from moto.dynamodbstreams import urls

    urls.url_bases.append(ACCOUNT_ENDPOINT)
    backend_index.backend_url_patterns.append(("dynamodbstreams", re.compile(ACCOUNT_ENDPOINT)))


def install() -> None:
    """Patch this process's moto: streams above, one record per UpdateItem."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models import table as moto_table
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    global moto_stream_shard
    if moto_table.StreamShard is StreamLog:
        return
    moto_stream_shard = moto_table.StreamShard
    _route_account_endpoints()
    moto_table.StreamShard = StreamLog  # tables created from now on get a StreamLog
    moto_update_item = DynamoDBBackend.update_item

    def update_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        # moto puts a keys-only item, then updates it: two records for one write.
        with held_records() as held:
            item = moto_update_item(self, *args, **kwargs)
        release(one_per_item(held))
        return item

    def handler_describe_stream(self: Any) -> Any:
        from moto.core.responses import ActionResult

        return ActionResult({"StreamDescription": describe_stream(
            self.backend, self._get_param("StreamArn"), self._get_param("Limit"),
            self._get_param("ExclusiveStartShardId"))})

    def handler_get_shard_iterator(self: Any) -> Any:
        from moto.core.responses import ActionResult

        return ActionResult({"ShardIterator": get_shard_iterator(
            self.backend, self._get_param("StreamArn"), self._get_param("ShardId"),
            self._get_param("ShardIteratorType"), self._get_param("SequenceNumber"))})

    def handler_get_records(self: Any) -> Any:
        from moto.core.responses import ActionResult

        return ActionResult(get_records(self.backend, self._get_param("ShardIterator"),
                                        self._get_param("Limit")))

    DynamoDBBackend.update_item = update_item
    DynamoDBStreamsHandler.describe_stream = handler_describe_stream
    DynamoDBStreamsHandler.get_shard_iterator = handler_get_shard_iterator
    DynamoDBStreamsHandler.get_records = handler_get_records
