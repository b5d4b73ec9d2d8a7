"""The embedded store's DynamoDB Streams: what is recorded, and how shards roll and expire.

Every test runs in-process (mock_aws) and through the store server.
"""
from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from ops import store_stream_api, store_streams
from tests.functional.embedded import Dynamo, dynamo_fixture  # noqa: F401 - the fixture

NEW_AND_OLD = "NEW_AND_OLD_IMAGES"


def summary(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"],
             r["dynamodb"].get("OldImage"), r["dynamodb"].get("NewImage")) for r in records]


def test_each_changing_write_is_one_record_with_its_images(dynamo: Dynamo) -> None:
    table = dynamo.table(NEW_AND_OLD)
    client = dynamo.client
    client.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    client.update_item(TableName=table, Key={"pk": {"S": "a"}}, UpdateExpression="ADD n :one",
                       ExpressionAttributeValues={":one": {"N": "1"}})
    client.delete_item(TableName=table, Key={"pk": {"S": "a"}})

    one, two = {"pk": {"S": "a"}, "n": {"N": "1"}}, {"pk": {"S": "a"}, "n": {"N": "2"}}
    records = dynamo.records(table)
    assert summary(records) == [("INSERT", "a", None, one), ("MODIFY", "a", one, two),
                                ("REMOVE", "a", two, None)]
    body = records[0]["dynamodb"]
    assert body["StreamViewType"] == NEW_AND_OLD and body["SizeBytes"] > 0
    assert [r["eventSource"] for r in records] == ["aws:dynamodb"] * 3
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequence == sorted(sequence) and len(set(sequence)) == 3


def test_an_update_that_creates_an_item_is_one_insert(dynamo: Dynamo) -> None:
    table = dynamo.table(NEW_AND_OLD)
    dynamo.client.update_item(TableName=table, Key={"pk": {"S": "a"}},
                              UpdateExpression="ADD n :one",
                              ExpressionAttributeValues={":one": {"N": "1"}})
    assert summary(dynamo.records(table)) == [
        ("INSERT", "a", None, {"pk": {"S": "a"}, "n": {"N": "1"}})]


def test_a_write_that_changes_nothing_writes_no_record(dynamo: Dynamo) -> None:
    table = dynamo.table(NEW_AND_OLD)
    item = {"pk": {"S": "a"}, "n": {"N": "1"}}
    dynamo.client.put_item(TableName=table, Item=item)
    dynamo.client.put_item(TableName=table, Item=item)
    dynamo.client.update_item(TableName=table, Key={"pk": {"S": "a"}}, UpdateExpression="SET n = :n",
                              ExpressionAttributeValues={":n": {"N": "1"}})
    assert [r["eventName"] for r in dynamo.records(table)] == ["INSERT"]


def test_a_transaction_writes_its_records_only_if_it_commits(dynamo: Dynamo) -> None:
    table = dynamo.table(NEW_AND_OLD)
    dynamo.client.put_item(TableName=table, Item={"pk": {"S": "used"}})

    def share(job: str) -> list[dict[str, Any]]:
        return [{"Put": {"TableName": table, "Item": {"pk": {"S": job}},
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Update": {"TableName": table, "Key": {"pk": {"S": "user"}},
                            "UpdateExpression": "ADD n :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}}}}]

    dynamo.client.transact_write_items(TransactItems=share("job1"))
    with pytest.raises(ClientError):
        dynamo.client.transact_write_items(TransactItems=share("used"))

    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in dynamo.records(table)] == [
        ("INSERT", "used"), ("INSERT", "job1"), ("INSERT", "user")]


@pytest.mark.parametrize("view,images", [("KEYS_ONLY", (False, False)), ("NEW_IMAGE", (False, True)),
                                         ("OLD_IMAGE", (True, False))])
def test_the_view_type_decides_the_images(dynamo: Dynamo, view: str,
                                          images: tuple[bool, bool]) -> None:
    table = dynamo.table(view)
    for n in ("1", "2"):
        dynamo.client.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": n}})
    modify = dynamo.records(table)[1]["dynamodb"]
    assert ("OldImage" in modify, "NewImage" in modify) == images
    assert modify["Keys"] == {"pk": {"S": "a"}}


def test_binary_attributes_come_back_as_bytes(dynamo: Dynamo) -> None:
    table = dynamo.table(NEW_AND_OLD)
    dynamo.client.put_item(TableName=table, Item={"pk": {"S": "a"}, "b": {"B": b"\x00\xff"},
                                                  "m": {"M": {"bs": {"BS": [b"\x01"]}}}})
    image = dynamo.records(table)[0]["dynamodb"]["NewImage"]
    assert image["b"] == {"B": b"\x00\xff"} and image["m"] == {"M": {"bs": {"BS": [b"\x01"]}}}


def test_a_full_shard_closes_and_a_child_shard_continues_the_stream(
        dynamo: Dynamo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_streams, "RECORDS_PER_SHARD", 3)
    table = dynamo.table(NEW_AND_OLD)
    for n in range(7):
        dynamo.client.put_item(TableName=table, Item={"pk": {"S": f"k{n}"}})

    shards = dynamo.shards(table)
    assert len(shards) == 3
    assert "ParentShardId" not in shards[0]
    assert [s.get("ParentShardId") for s in shards[1:]] == [s["ShardId"] for s in shards[:2]]
    assert ["EndingSequenceNumber" in s["SequenceNumberRange"] for s in shards] == [True, True, False]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in dynamo.records(table)] == \
        [f"k{n}" for n in range(7)]

    arn = dynamo.stream_arn(table)
    iterator = dynamo.streams.get_shard_iterator(
        StreamArn=arn, ShardId=shards[0]["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    page = dynamo.streams.get_records(ShardIterator=iterator, Limit=2)
    assert len(page["Records"]) == 2
    page = dynamo.streams.get_records(ShardIterator=page["NextShardIterator"], Limit=2)
    assert len(page["Records"]) == 1
    assert "NextShardIterator" not in page  # a closed shard read to its end


def test_describe_stream_pages_its_shards(dynamo: Dynamo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_streams, "RECORDS_PER_SHARD", 1)
    table = dynamo.table(NEW_AND_OLD)
    for n in range(5):
        dynamo.client.put_item(TableName=table, Item={"pk": {"S": f"k{n}"}})
    arn = dynamo.stream_arn(table)
    first = dynamo.streams.describe_stream(StreamArn=arn, Limit=2)["StreamDescription"]
    rest = dynamo.streams.describe_stream(StreamArn=arn, ExclusiveStartShardId=first[
        "LastEvaluatedShardId"])["StreamDescription"]
    assert len(first["Shards"]) == 2 and len(rest["Shards"]) == 3
    assert "LastEvaluatedShardId" not in rest


def test_closed_shards_are_dropped_after_the_retention_period(
        dynamo: Dynamo, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_000_000.0]
    monkeypatch.setattr(store_streams, "clock", lambda: now[0])
    monkeypatch.setattr(store_streams, "RECORDS_PER_SHARD", 2)
    table = dynamo.table(NEW_AND_OLD)
    for n in range(3):
        dynamo.client.put_item(TableName=table, Item={"pk": {"S": f"k{n}"}})
    first = dynamo.shards(table)[0]["ShardId"]
    now[0] += store_streams.RETENTION_SECONDS
    for n in range(3, 5):
        dynamo.client.put_item(TableName=table, Item={"pk": {"S": f"k{n}"}})

    assert first not in [s["ShardId"] for s in dynamo.shards(table)]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in dynamo.records(table)] == ["k2", "k3", "k4"]


def test_a_shard_iterator_expires_after_fifteen_minutes(
        dynamo: Dynamo, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_000_000.0]
    monkeypatch.setattr(store_streams, "clock", lambda: now[0])
    table = dynamo.table(NEW_AND_OLD)
    shard = dynamo.shards(table)[0]["ShardId"]
    iterator = dynamo.streams.get_shard_iterator(StreamArn=dynamo.stream_arn(table), ShardId=shard,
                                                 ShardIteratorType="LATEST")["ShardIterator"]
    now[0] += store_stream_api.ITERATOR_SECONDS + 1
    with pytest.raises(ClientError) as caught:
        dynamo.streams.get_records(ShardIterator=iterator)
    assert caught.value.response["Error"]["Code"] == "ExpiredIteratorException"


def test_iterators_start_where_they_are_asked_to(dynamo: Dynamo) -> None:
    table = dynamo.table(NEW_AND_OLD)
    for n in range(3):
        dynamo.client.put_item(TableName=table, Item={"pk": {"S": f"k{n}"}})
    arn, shard = dynamo.stream_arn(table), dynamo.shards(table)[0]["ShardId"]
    second = dynamo.records(table)[1]["dynamodb"]["SequenceNumber"]

    def keys(kind: str, **extra: str) -> list[str]:
        iterator = dynamo.streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                                     ShardIteratorType=kind, **extra)["ShardIterator"]
        page = dynamo.streams.get_records(ShardIterator=iterator)
        return [r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]]

    assert keys("TRIM_HORIZON") == ["k0", "k1", "k2"]
    assert keys("LATEST") == []
    assert keys("AT_SEQUENCE_NUMBER", SequenceNumber=second) == ["k1", "k2"]
    assert keys("AFTER_SEQUENCE_NUMBER", SequenceNumber=second) == ["k2"]


def test_a_table_made_before_the_fixes_keeps_its_records(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its moto shard is taken over, records included, when its stream is first read."""
    import boto3
    from moto import mock_aws
    from moto.dynamodb.models import table as moto_table

    from ops.store import install_dynamodb_fixes
    from tests.functional.embedded import Dynamo

    install_dynamodb_fixes()
    monkeypatch.setattr(moto_table, "StreamShard", store_streams.moto_stream_shard)
    with mock_aws():
        dynamo = Dynamo(boto3.client("dynamodb"), boto3.client("dynamodbstreams"), "in_process")
        table = dynamo.table(NEW_AND_OLD)
        dynamo.client.put_item(TableName=table, Item={"pk": {"S": "before"}})
        monkeypatch.setattr(moto_table, "StreamShard", store_streams.StreamLog)
        records = dynamo.records(table)
        dynamo.client.put_item(TableName=table, Item={"pk": {"S": "after"}})
        keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in dynamo.records(table)]
    assert [r["eventName"] for r in records] == ["INSERT"]
    assert keys == ["before", "after"]


def test_sequence_numbers_keep_growing_in_a_new_stream(dynamo: Dynamo) -> None:
    """A table made again (as by a restarted make run) continues after the old stream."""
    first = dynamo.table(NEW_AND_OLD)
    for n in range(3):
        dynamo.client.put_item(TableName=first, Item={"pk": {"S": f"k{n}"}})
    second = dynamo.table(NEW_AND_OLD)
    dynamo.client.put_item(TableName=second, Item={"pk": {"S": "k"}})
    old = [int(r["dynamodb"]["SequenceNumber"]) for r in dynamo.records(first)]
    new = int(dynamo.records(second)[0]["dynamodb"]["SequenceNumber"])
    assert old == sorted(old) and new > old[-1]


def test_a_closed_shard_is_kept_compressed_and_reads_the_same(
        dynamo: Dynamo, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.functional.embedded import moto_backend

    monkeypatch.setattr(store_streams, "RECORDS_PER_SHARD", 50)
    table = dynamo.table(NEW_AND_OLD)
    for n in range(60):
        dynamo.client.put_item(TableName=table, Item={"pk": {"S": f"k{n:02d}"}, "n": {"N": "1"}})
    closed, _open = moto_backend().tables[table].stream_shard.shards
    assert closed.closed is not None and closed.count == 50
    assert len(closed._packed) * 5 < sum(len(text) for text in closed.read(0, 50))
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in dynamo.records(table)] == \
        [f"k{n:02d}" for n in range(60)]
