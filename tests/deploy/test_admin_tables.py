"""`create-tables` (admin_tables.create_tables) against moto: shapes, TTL, PITR, idempotence."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from chalicelib.store import models
from ops import tables as admin_tables

SUFFIXES = {table.suffix for table in models.TABLES}


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for env_var in (table.env_var for table in models.TABLES):
        monkeypatch.delenv(env_var, raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    with mock_aws():
        import boto3

        yield boto3.client("dynamodb", region_name="us-east-1")


def test_creates_every_table_of_a_stage(ddb: Any) -> None:
    summary = admin_tables.create_tables("prod")
    assert {s["table"] for s in summary} == {f"workproof-prod-{s}" for s in SUFFIXES}
    assert all(s["created"] for s in summary)
    assert set(ddb.list_tables()["TableNames"]) == {f"workproof-prod-{s}" for s in SUFFIXES}
    for model, suffix, ttl in ((t.model, t.suffix, t.ttl_attribute) for t in models.TABLES):
        name = f"workproof-prod-{suffix}"
        table = ddb.describe_table(TableName=name)["Table"]
        spec = admin_tables.table_spec(model)
        assert table["KeySchema"] == spec["KeySchema"]
        assert sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == \
            spec["AttributeDefinitions"]
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        got = sorted(({"IndexName": g["IndexName"], "KeySchema": g["KeySchema"],
                       "Projection": g["Projection"]}
                      for g in table.get("GlobalSecondaryIndexes", [])),
                     key=lambda g: g["IndexName"])
        assert got == spec.get("GlobalSecondaryIndexes", [])
        assert table["SSEDescription"]["Status"] == "ENABLED"
        assert table["DeletionProtectionEnabled"] is True
        # The stream consumer's tables stream both images (path B maps them).
        stream = spec.get("StreamSpecification")
        if stream:
            assert table["StreamSpecification"] == stream
            assert table["LatestStreamArn"].startswith(table["TableArn"] + "/stream/")
        else:
            assert not table.get("StreamSpecification", {}).get("StreamEnabled"), name
        ttl_desc = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if ttl:
            assert ttl_desc == {"TimeToLiveStatus": "ENABLED", "AttributeName": ttl}
        else:
            assert ttl_desc["TimeToLiveStatus"] == "DISABLED"
        pitr = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
        assert next(s for s in summary if s["table"] == name)["pitr"] is True


def test_is_idempotent(ddb: Any) -> None:
    admin_tables.create_tables("prod")
    ddb.put_item(TableName="workproof-prod-ledger", Item={"pk": {"S": "U#k#alice"},
                                                         "total": {"N": "5"}})
    again = admin_tables.create_tables("prod")
    assert not any(s["created"] for s in again)
    assert all(s["indexes_added"] == [] for s in again)
    # Nothing was recreated: the data is still there.
    item = ddb.get_item(TableName="workproof-prod-ledger", Key={"pk": {"S": "U#k#alice"}})["Item"]
    assert item["total"] == {"N": "5"}


def test_completes_a_table_created_before_an_index_existed(ddb: Any) -> None:
    ddb.create_table(TableName="workproof-prod-ledger", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    summary = {s["model"]: s for s in admin_tables.create_tables("prod")}
    assert summary["User"]["created"] is False
    assert sorted(summary["User"]["indexes_added"]) == ["by_balance", "by_name", "by_total",
                                                       "by_withdrawn"]
    table = ddb.describe_table(TableName="workproof-prod-ledger")["Table"]
    assert {g["IndexName"] for g in table["GlobalSecondaryIndexes"]} == {
        "by_balance", "by_name", "by_total", "by_withdrawn"}
    # An existing deployed table also gets PITR and deletion protection.
    assert table["DeletionProtectionEnabled"] is True


def test_local_stage_uses_default_names_and_skips_pitr(ddb: Any) -> None:
    summary = admin_tables.create_tables("local")
    assert {s["table"] for s in summary} == {f"workproof-dev-{s}" for s in SUFFIXES}
    assert not any(s["pitr"] for s in summary)
    table = ddb.describe_table(TableName="workproof-dev-sites")["Table"]
    assert not table.get("DeletionProtectionEnabled")
    ttl = ddb.describe_time_to_live(TableName="workproof-dev-tokens")["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"


def test_env_vars_override_table_names(ddb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKPROOF_LEDGER_TABLE", "custom-ledger")
    names = {s["model"]: s["table"] for s in admin_tables.create_tables("prod")}
    assert names["User"] == "custom-ledger"
    assert names["Site"] == "workproof-prod-sites"
    assert "custom-ledger" in ddb.list_tables()["TableNames"]


def test_models_work_against_created_tables(ddb: Any) -> None:
    """The created tables accept the models' own reads and index queries."""
    admin_tables.create_tables("prod")
    models.bind(prefix="workproof-prod")
    try:
        models.User("R#site#0#h", name="bob", total=3, withdrawn=0,
                    rank_partition="SITE#site#E#0#0", total_order="x", balance_order="x",
                    withdrawn_order="x").save()
        for index in (models.User.by_total, models.User.by_balance, models.User.by_withdrawn,
                      models.User.by_name):
            assert [u.name for u in index.query("SITE#site#E#0#0")] == ["bob"]
        models.StatsShard("site", 3600, hashes=5).save()
        assert models.StatsShard.get("site", 3600).hashes == 5
    finally:
        models.bind()


def _stream_tables(monkeypatch: pytest.MonkeyPatch) -> tuple[type, type]:
    """Make the first two tables the stream tables."""
    first, second = list(models.all_models())[:2]
    monkeypatch.setattr(models, "STREAM_TABLES", (first, second))
    return first, second


def test_stream_tables_get_a_new_and_old_images_stream(
        ddb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    streamed = set(_stream_tables(monkeypatch))
    summary = {s["model"]: s for s in admin_tables.create_tables("local")}
    for model, suffix in ((t.model, t.suffix) for t in models.TABLES):
        table = ddb.describe_table(TableName=f"workproof-dev-{suffix}")["Table"]
        if model in streamed:
            assert table["StreamSpecification"] == {"StreamEnabled": True,
                                                    "StreamViewType": "NEW_AND_OLD_IMAGES"}
            assert table["LatestStreamArn"]
        else:
            assert "StreamSpecification" not in table
        assert summary[model.__name__]["stream"] is (model in streamed)
    assert sorted(admin_tables.stream_table_names("local")) == sorted(
        f"workproof-dev-{models.table_for(m).suffix}" for m in streamed)


def test_an_existing_table_gains_its_stream(ddb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "STREAM_TABLES", ())
    admin_tables.create_tables("local")
    first, _second = _stream_tables(monkeypatch)
    admin_tables.create_tables("local")
    table = ddb.describe_table(TableName=f"workproof-dev-{models.table_for(first).suffix}")["Table"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
