"""The embedded store deletes expired items (TTL), as DynamoDB does, with service REMOVEs.

Every test runs in-process (mock_aws) and through the store server.
"""
from __future__ import annotations

import time

import pytest

from ops import store_ttl, stream_pump
from ops.store import StoreServer
from tests.functional.embedded import Dynamo, dynamo_fixture  # noqa: F401 - the fixture

NOW = 1_800_000_000


def ttl_table(dynamo: Dynamo, range_key: bool = False) -> str:
    table = dynamo.table("NEW_AND_OLD_IMAGES", range_key=range_key)
    dynamo.client.update_time_to_live(TableName=table, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "x"})
    return table


def put(dynamo: Dynamo, table: str, pk: str, x: dict | None, sk: str | None = None) -> None:
    item = {"pk": {"S": pk}, **({"x": x} if x else {}), **({"sk": {"S": sk}} if sk else {})}
    dynamo.client.put_item(TableName=table, Item=item)


def keys(dynamo: Dynamo, table: str) -> list[str]:
    return sorted(i["pk"]["S"] for i in dynamo.client.scan(TableName=table)["Items"])


def test_items_past_their_ttl_are_deleted_and_no_others(dynamo: Dynamo) -> None:
    table = ttl_table(dynamo)
    put(dynamo, table, "expired", {"N": str(NOW - 1)})
    put(dynamo, table, "live", {"N": str(NOW + 1)})
    put(dynamo, table, "no-ttl", None)
    put(dynamo, table, "not-a-number", {"S": str(NOW - 1)})
    put(dynamo, table, "ancient", {"N": str(NOW - store_ttl.FIVE_YEARS - 1)})
    other = dynamo.table()  # TTL off: nothing is deleted
    put(dynamo, other, "expired", {"N": str(NOW - 1)})

    assert store_ttl.sweep_expired(NOW) == 1

    assert keys(dynamo, table) == ["ancient", "live", "no-ttl", "not-a-number"]
    assert keys(dynamo, other) == ["expired"]


def test_a_ttl_deletion_is_a_remove_record_by_the_dynamodb_service(dynamo: Dynamo) -> None:
    table = ttl_table(dynamo, range_key=True)
    put(dynamo, table, "a", {"N": str(NOW - 1)}, sk="1")
    dynamo.client.delete_item(TableName=table, Key={"pk": {"S": "a"}, "sk": {"S": "1"}})
    put(dynamo, table, "a", {"N": str(NOW - 1)}, sk="1")
    store_ttl.sweep_expired(NOW)

    records = dynamo.records(table)
    assert [r["eventName"] for r in records] == ["INSERT", "REMOVE", "INSERT", "REMOVE"]
    assert "userIdentity" not in records[1]  # deleted by a caller
    assert records[3]["userIdentity"] == {"Type": "Service",
                                          "PrincipalId": "dynamodb.amazonaws.com"}
    assert records[3]["dynamodb"]["OldImage"]["x"] == {"N": str(NOW - 1)}
    # As Lambda hands it to a consumer:
    event = stream_pump.lambda_record(records[3], dynamo.stream_arn(table))
    assert event["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def test_the_store_server_sweeps_on_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    server = StoreServer("127.0.0.1", 0, ttl_interval=0.05).start()
    try:
        client = boto3.client("dynamodb", endpoint_url=server.url)
        dynamo = Dynamo(client, boto3.client("dynamodbstreams", endpoint_url=server.url), "server")
        table = ttl_table(dynamo)
        put(dynamo, table, "expired", {"N": str(int(time.time()) - 1)})
        put(dynamo, table, "live", {"N": str(int(time.time()) + 3600)})
        deadline = time.monotonic() + 20
        while keys(dynamo, table) != ["live"]:
            assert time.monotonic() < deadline, "not swept"
            time.sleep(0.05)
    finally:
        server.stop()
