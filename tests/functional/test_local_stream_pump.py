"""make run feeds the app's stream consumer, when the app has one (ops/local.py)."""
from __future__ import annotations

import importlib.machinery
import sys
import types
from typing import Any

import pytest

from chalicelib.store import models
from ops import local
from ops import tables as admin_tables


@pytest.fixture
def consumer(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A `chalicelib.streams` whose handle_event keeps the events it is given."""
    events: list[dict[str, Any]] = []
    module = types.ModuleType("chalicelib.streams")
    module.__spec__ = importlib.machinery.ModuleSpec("chalicelib.streams", None)
    module.handle_event = events.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "chalicelib.streams", module)
    return events


def test_no_consumer_module_means_no_pump(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "STREAM_TABLES", tuple(models.all_models()), raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert local.stream_handler() is None
    assert local.start_stream_pump() is None


def test_no_stream_table_means_no_pump(aws: None, consumer: list,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "STREAM_TABLES", (), raising=False)
    assert local.start_stream_pump() is None


def test_the_pump_starts_after_what_the_tables_hold_and_feeds_the_consumer(
        monkeypatch: pytest.MonkeyPatch, consumer: list) -> None:
    from moto import mock_aws

    from ops.store import install_dynamodb_fixes

    sites = next(t.model for t in models.TABLES if t.suffix == "sites")
    monkeypatch.setattr(models, "STREAM_TABLES", (sites,), raising=False)
    install_dynamodb_fixes()
    with mock_aws():
        models.bind()
        admin_tables.create_tables("local")
        sites("SITE#restored", name="from a snapshot").save()
        pump = local.start_stream_pump()
        assert pump is not None
        sites("SITE#new", name="after start").save()
        pump.stop()
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for event in consumer for r in event["Records"]]
    assert keys == ["SITE#new"]
