"""The DynamoDB Streams API of the embedded store, over ops/store_streams.py's shards.

Replaces moto 5.2.5's DescribeStream, GetShardIterator and GetRecords (one
shard per table, an iterator object kept forever per call): shards are
listed with their parents and sequence ranges, paged as DynamoDB pages them;
shard iterators are self-describing strings that expire after
`ITERATOR_SECONDS` (15 minutes, as on DynamoDB), so nothing is kept per
iterator; a closed shard read to its end has no next iterator. Also routes
botocore's account endpoints for streams (`<account>.streams-ddb.<region>`),
which moto 5.2.5 does not know, to moto's streams service in-process.
"""
from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from ops import store_streams
from ops.moto_fence import require_tested_moto
from ops.store_streams import Shard, StreamLog, adopt

ITERATOR_SECONDS = 15 * 60
MAX_GET_RECORDS = 1000
# botocore >= 1.38 sends streams calls to account endpoints, which moto 5.2.5 does not route.
ACCOUNT_ENDPOINT = r"https?://(.+)\.streams-ddb\.(.+)\.amazonaws\.com"
_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"


def _error(code: str, message: str) -> Exception:
    from moto.dynamodb.exceptions import DynamodbException

    return DynamodbException(_ERROR_PREFIX + code, message)


def _shard(log: StreamLog, shard_id: str) -> Shard:
    shard = log.shard(shard_id)
    if shard is None:
        raise _error("ResourceNotFoundException",
                     f"Requested resource not found: Shard does not exist: {shard_id}")
    return shard


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
    text = json.dumps([arn, shard_id, seq, store_streams.clock()], separators=(",", ":"))
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
    shard = _shard(_stream(backend, arn), shard_id)
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
    if store_streams.clock() - issued > ITERATOR_SECONDS:
        raise _error("ExpiredIteratorException", "Iterator expired: it was created more than "
                     f"{ITERATOR_SECONDS // 60} minutes ago")
    shard = _shard(_stream(backend, arn), shard_id)
    limit = min(max(int(limit or MAX_GET_RECORDS), 1), MAX_GET_RECORDS)
    start = seq - shard.first_seq
    texts = shard.read(start, start + limit)
    result: dict[str, Any] = {"Records": [_wire_record(text) for text in texts]}
    next_seq = seq + len(texts)
    if shard.closed is None or next_seq < shard.end_seq:
        result["NextShardIterator"] = _encode_iterator(arn, shard_id, next_seq)
    return result


def _wire_record(text: str) -> dict[str, Any]:
    """A stored record as moto's response serializer wants it (datetimes, raw bytes)."""
    record: dict[str, Any] = json.loads(text)
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


def install() -> None:
    """Patch this process's moto: the three calls above, and the account endpoints."""
    require_tested_moto()
    import re

    from moto import backend_index
    from moto.core.responses import ActionResult
    from moto.dynamodbstreams import urls
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    if ACCOUNT_ENDPOINT in urls.url_bases:
        return
    urls.url_bases.append(ACCOUNT_ENDPOINT)
    backend_index.backend_url_patterns.append(("dynamodbstreams", re.compile(ACCOUNT_ENDPOINT)))

    def handler_describe_stream(self: Any) -> Any:
        return ActionResult({"StreamDescription": describe_stream(
            self.backend, self._get_param("StreamArn"), self._get_param("Limit"),
            self._get_param("ExclusiveStartShardId"))})

    def handler_get_shard_iterator(self: Any) -> Any:
        return ActionResult({"ShardIterator": get_shard_iterator(
            self.backend, self._get_param("StreamArn"), self._get_param("ShardId"),
            self._get_param("ShardIteratorType"), self._get_param("SequenceNumber"))})

    def handler_get_records(self: Any) -> Any:
        return ActionResult(get_records(self.backend, self._get_param("ShardIterator"),
                                        self._get_param("Limit")))

    DynamoDBStreamsHandler.describe_stream = handler_describe_stream  # type: ignore[method-assign]
    DynamoDBStreamsHandler.get_shard_iterator = handler_get_shard_iterator  # type: ignore[method-assign]
    DynamoDBStreamsHandler.get_records = handler_get_records  # type: ignore[method-assign]
