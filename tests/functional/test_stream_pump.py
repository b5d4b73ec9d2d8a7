"""The stream pump: Lambda's DynamoDB event source mapping for `make run` and the tests.

Every test runs in-process (mock_aws) and through the store server.
"""
from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from chalice.app import DynamoDBEvent

from ops import store_streams, stream_pump
from ops.stream_pump import StreamPump, drain
from tests.functional.embedded import Dynamo, dynamo_fixture  # noqa: F401 - the fixture

NEW_AND_OLD = "NEW_AND_OLD_IMAGES"


class Recorder:
    """A handler that keeps every event; fails the first `failures` calls."""

    def __init__(self, failures: int = 0) -> None:
        self.events: list[dict[str, Any]] = []
        self.failures = failures
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> None:
        with self.lock:
            self.events.append(event)
            if self.failures:
                self.failures -= 1
                raise RuntimeError("handler down")

    def keys(self) -> list[str]:
        """The keys of every record delivered, in delivery order (failed calls included)."""
        return [r["dynamodb"]["Keys"]["pk"]["S"] for e in self.events for r in e["Records"]]


def write(dynamo: Dynamo, table: str, keys: range | list[str]) -> list[str]:
    names = [f"k{n:04d}" if isinstance(n, int) else n for n in keys]
    for name in names:
        dynamo.client.put_item(TableName=table, Item={"pk": {"S": name}, "b": {"B": b"\x01"}})
    return names


def test_drain_delivers_every_record_once_in_order_in_batches_of_one_shard(
        dynamo: Dynamo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_streams, "RECORDS_PER_SHARD", 120)
    table = dynamo.table(NEW_AND_OLD)
    written = write(dynamo, table, range(250))
    handler = Recorder()

    assert drain([table], handler) == 250

    assert handler.keys() == written
    shards = dynamo.shards(table)
    assert len(shards) == 3
    ranges = [(int(s["SequenceNumberRange"]["StartingSequenceNumber"]),
               int(s["SequenceNumberRange"].get("EndingSequenceNumber", 10**40))) for s in shards]
    for event in handler.events:
        assert 1 <= len(event["Records"]) <= 100
        numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in event["Records"]]
        assert numbers == sorted(numbers)
        assert sum(low <= numbers[0] and numbers[-1] <= high for low, high in ranges) == 1


def test_events_have_the_shape_lambda_delivers(dynamo: Dynamo) -> None:
    table = dynamo.table(NEW_AND_OLD)
    write(dynamo, table, ["a"])
    dynamo.client.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    handler = Recorder()
    drain([table], handler)

    insert, remove = handler.events[0]["Records"]
    arn = dynamo.stream_arn(table)
    assert insert["eventSourceARN"] == arn and insert["eventName"] == "INSERT"
    assert insert["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "b": {"B": "AQ=="}}
    assert remove["eventName"] == "REMOVE" and remove["dynamodb"]["OldImage"]["b"] == {"B": "AQ=="}
    assert abs(insert["dynamodb"]["ApproximateCreationDateTime"] - time.time()) < 60
    # What a Chalice @app.on_dynamodb_record handler reads.
    records = list(DynamoDBEvent(handler.events[0], context=None))
    assert [(r.table_name, r.event_name, r.keys) for r in records] == [
        (table, "INSERT", {"pk": {"S": "a"}}), (table, "REMOVE", {"pk": {"S": "a"}})]


def test_drain_returns_after_everything_written_before_it_and_never_repeats(
        dynamo: Dynamo) -> None:
    first, second = dynamo.table(NEW_AND_OLD), dynamo.table(NEW_AND_OLD)
    handler = Recorder()
    assert drain([first, second], handler) == 0
    write(dynamo, first, ["a1", "a2"])
    write(dynamo, second, ["b1"])
    assert drain([first, second], handler) == 3
    assert sorted(handler.keys()) == ["a1", "a2", "b1"]
    write(dynamo, first, ["a3"])
    assert drain([first, second], handler) == 1
    assert sorted(handler.keys()) == ["a1", "a2", "a3", "b1"]


def test_a_failing_handler_gets_the_same_batch_again(dynamo: Dynamo) -> None:
    table = dynamo.table(NEW_AND_OLD)
    write(dynamo, table, range(3))
    handler = Recorder(failures=2)

    drain([table], handler)

    assert len(handler.events) == 3
    assert handler.events[0] == handler.events[1] == handler.events[2]


def test_a_handler_that_keeps_failing_leaves_its_batch_for_the_next_drain(
        dynamo: Dynamo) -> None:
    table = dynamo.table(NEW_AND_OLD)
    write(dynamo, table, range(2))
    handler = Recorder(failures=3)
    with pytest.raises(RuntimeError, match="handler down"):
        drain([table], handler, attempts=3)
    drain([table], handler)
    assert handler.keys() == ["k0000", "k0001"] * 4


def test_a_table_without_a_stream_delivers_nothing(dynamo: Dynamo) -> None:
    table = dynamo.table()
    write(dynamo, table, ["a"])
    assert drain([table], Recorder()) == 0


def wait_for(condition: Any, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_pump_thread_delivers_new_records_and_retries_a_failed_batch(
        dynamo: Dynamo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_streams, "RECORDS_PER_SHARD", 4)
    table = dynamo.table(NEW_AND_OLD)
    handler = Recorder(failures=1)
    pump = StreamPump([table], handler, interval=0.02, retry_pause=0.02).start()
    try:
        written = write(dynamo, table, range(10))  # three shards, the last one open
        wait_for(lambda: len(set(handler.keys())) == 10)
    finally:
        pump.stop()
    assert handler.events[0] == handler.events[1]  # the failed batch, again
    delivered = handler.keys()[len(handler.events[0]["Records"]):]
    assert delivered == written


def test_stopping_the_pump_delivers_what_is_left(dynamo: Dynamo) -> None:
    table = dynamo.table(NEW_AND_OLD)
    handler = Recorder()
    pump = StreamPump([table], handler, interval=3600).start()
    written = write(dynamo, table, range(5))
    pump.stop()
    assert handler.keys() == written


def test_a_pump_started_at_latest_skips_what_was_there(dynamo: Dynamo,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """make run starts so: records of a restored snapshot were applied before it was taken."""
    monkeypatch.setattr(store_streams, "RECORDS_PER_SHARD", 3)
    table = dynamo.table(NEW_AND_OLD)
    write(dynamo, table, range(7))
    handler = Recorder()
    pump = StreamPump([table], handler, interval=3600, start="LATEST").start()
    written = write(dynamo, table, ["new1", "new2", "new3"])
    pump.stop()
    assert handler.keys() == written


def test_lambda_record_keeps_plain_values() -> None:
    record = {"eventID": "1", "eventName": "MODIFY", "dynamodb": {
        "Keys": {"pk": {"S": "a"}}, "NewImage": {"l": {"L": [{"B": b"\xff"}, {"N": "1"}]}},
        "SequenceNumber": "5", "SizeBytes": 1, "StreamViewType": NEW_AND_OLD}}
    converted = stream_pump.lambda_record(record, "arn:aws:dynamodb:r:1:table/t/stream/x")
    assert converted["dynamodb"]["NewImage"] == {"l": {"L": [{"B": "/w=="}, {"N": "1"}]}}
    assert converted["eventSourceARN"] == "arn:aws:dynamodb:r:1:table/t/stream/x"
    assert record["dynamodb"]["NewImage"]["l"]["L"][0] == {"B": b"\xff"}  # input untouched


def test_the_pump_follows_a_table_that_was_replaced(dynamo: Dynamo) -> None:
    table = dynamo.table(NEW_AND_OLD)
    handler = Recorder()
    pump = StreamPump([table], handler, interval=0.02).start()
    try:
        write(dynamo, table, ["old"])
        wait_for(lambda: handler.keys() == ["old"])
        dynamo.client.delete_table(TableName=table)
        dynamo.client.create_table(
            TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": NEW_AND_OLD})
        write(dynamo, table, ["new"])
        wait_for(lambda: handler.keys() == ["old", "new"])
    finally:
        pump.stop()


def test_a_write_to_the_store_in_this_process_wakes_the_pump(dynamo: Dynamo) -> None:
    """make run's store and pump share a process: records go out without waiting for a poll."""
    table = dynamo.table(NEW_AND_OLD)
    handler = Recorder()
    pump = StreamPump([table], handler, interval=3600).start()
    try:
        time.sleep(0.1)  # the pump is waiting now
        written = write(dynamo, table, ["a", "b"])
        wait_for(lambda: handler.keys() == written)
    finally:
        pump.stop()
