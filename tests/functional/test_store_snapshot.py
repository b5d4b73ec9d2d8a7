"""make run's snapshot: every item of every table to a file on exit, and back on start."""
from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from chalicelib.store import models
from ops import tables as admin_tables
from ops.store import install_dynamodb_fixes, restore, snapshot

ITEMS = [
    {"pk": {"S": "a"}, "n": {"N": "12"}, "b": {"B": b"\x00\xff"}, "bs": {"BS": [b"\x01"]},
     "m": {"M": {"l": {"L": [{"S": "x"}, {"B": b"\x02"}, {"BOOL": True}, {"NULL": True}]}}},
     "ss": {"SS": ["p", "q"]}, "ns": {"NS": ["1", "2"]}},
    {"pk": {"S": "b"}},
]


def fresh_store() -> Any:
    install_dynamodb_fixes()
    models.bind()
    admin_tables.create_tables("local")
    return boto3.client("dynamodb")


def contents(client: Any) -> dict[str, list[dict[str, Any]]]:
    return {model.Meta.table_name: sorted(
        client.scan(TableName=model.Meta.table_name)["Items"], key=lambda i: json.dumps(
            i, sort_keys=True, default=repr)) for model in models.all_models()}


def test_a_snapshot_restores_every_item_exactly(tmp_path: Path) -> None:
    path = tmp_path / "store.json"
    with mock_aws():
        client = fresh_store()
        sites, links = models.Site.Meta.table_name, models.Link.Meta.table_name
        for item in ITEMS:
            client.put_item(TableName=sites, Item=item)
        client.put_item(TableName=links, Item={"pk": {"S": "L#x"}, "u": {"S": "https://e.x/"}})
        before = contents(client)
        assert snapshot(path) == 3
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with mock_aws():
        client = fresh_store()
        assert restore(path) == 3
        assert contents(client) == before


def test_tables_the_snapshot_names_but_the_store_lacks_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "store.json"
    with mock_aws():
        client = fresh_store()
        path.write_text(json.dumps({"gone-table": [{"pk": {"S": "x"}}],
                                    models.Site.Meta.table_name: [{"pk": {"S": "kept"}}]}))
        assert restore(path) == 1
        assert client.scan(TableName=models.Site.Meta.table_name)["Items"] == [
            {"pk": {"S": "kept"}}]


def test_no_snapshot_restores_nothing(tmp_path: Path) -> None:
    with mock_aws():
        fresh_store()
        assert restore(tmp_path / "none.json") == 0
