"""The embedded store two ways, for tests of ops/store*.py and ops/stream_pump.py.

`dynamo` runs each test twice: in-process under moto's `mock_aws` (what the
functional tests use) and through `make run`'s store server over HTTP. Both
have `install_dynamodb_fixes()` applied. Table names are unique per test.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ops.store import StoreServer, install_dynamodb_fixes


@dataclass
class Dynamo:
    client: Any
    streams: Any
    kind: str

    def table(self, stream: str | None = None, range_key: bool = False) -> str:
        """A new table keyed by `pk` (and `sk`), with a stream of view `stream` if given."""
        name = f"t-{uuid.uuid4().hex[:12]}"
        keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
        attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
        if range_key:
            keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
            attrs.append({"AttributeName": "sk", "AttributeType": "S"})
        extra = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": stream}} \
            if stream else {}
        self.client.create_table(TableName=name, KeySchema=keys, AttributeDefinitions=attrs,
                                 BillingMode="PAY_PER_REQUEST", **extra)
        return name

    def item(self, table: str, pk: str, sk: str | None = None) -> dict[str, Any] | None:
        key = {"pk": {"S": pk}, **({"sk": {"S": sk}} if sk else {})}
        return self.client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def stream_arn(self, table: str) -> str:
        return self.client.describe_table(TableName=table)["Table"]["LatestStreamArn"]

    def shards(self, table: str) -> list[dict[str, Any]]:
        arn = self.stream_arn(table)
        return self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]

    def records(self, table: str) -> list[dict[str, Any]]:
        """Every record of the table's stream, shard after shard."""
        arn = self.stream_arn(table)
        found: list[dict[str, Any]] = []
        for shard in self.shards(table):
            iterator = self.streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"],
                ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while iterator:
                page = self.streams.get_records(ShardIterator=iterator)
                found.extend(page["Records"])
                if not page["Records"]:
                    break
                iterator = page.get("NextShardIterator")
        return found


def moto_backend() -> Any:
    """The moto DynamoDB backend both kinds of store use (this process, default account)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]


@pytest.fixture(name="in_process")
def in_process_fixture() -> Iterator[Dynamo]:
    """The store in this process only (for tests that look at moto's objects)."""
    install_dynamodb_fixes()
    with mock_aws():
        yield Dynamo(boto3.client("dynamodb"), boto3.client("dynamodbstreams"), "in_process")


@pytest.fixture(name="dynamo", params=["in_process", "server"])
def dynamo_fixture(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Dynamo]:
    install_dynamodb_fixes()
    if request.param == "in_process":
        with mock_aws():
            yield Dynamo(boto3.client("dynamodb"), boto3.client("dynamodbstreams"), "in_process")
        return
    server = StoreServer("127.0.0.1", 0).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", server.url)
    try:
        yield Dynamo(boto3.client("dynamodb"), boto3.client("dynamodbstreams",
                                                            endpoint_url=server.url), "server")
    finally:
        server.stop()
