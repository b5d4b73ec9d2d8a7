"""Helpers shared by the functional tests: an emptied shared store, the clock."""
from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import pytest


def empty_tables() -> None:
    """Delete every item of every table (what a freshly created store holds)."""
    from chalicelib import sites, stats
    from chalicelib.store import models
    from ops import stream_pump
    from ops import tables as admin_tables

    # No models.bind() here: it drops the cached botocore clients (~0.1 s each).
    recreate = False
    for model in models.all_models():
        if model.count() > 500:
            # moto reads and deletes slowly (~1 ms an item): drop a big table.
            model.delete_table()
            recreate = True
            continue
        with model.batch_write() as batch:
            for item in model.scan():
                batch.delete(item)
    if recreate:
        admin_tables.create_tables("local")
    # The emptying is not the next test's business: skip its stream records.
    stream_pump.drain(admin_tables.stream_table_names("local"), lambda _event: None)
    sites.clear_cache()
    stats._global_cache.clear()


@pytest.fixture
def aws(shared_tables: None) -> Iterator[None]:
    """Overrides tests/fixtures.py's `aws`: the shared store, emptied."""
    empty_tables()
    yield
    empty_tables()


def as_secret(api: Any, secret: Any, path: str, method: str = "GET", **params: Any) -> dict[str, Any]:
    """Call `path` with this exact `secret` value in the query string."""
    return api.raw(method, f"{path}?{urlencode({'secret': secret, **params})}")


def freeze_clock(monkeypatch: Any, now: int) -> None:
    """The API's operations read the time as `time.time()` in chalicelib.api."""
    from chalicelib import api

    monkeypatch.setattr(api, "time", SimpleNamespace(time=lambda: float(now)))


def put_users(site_key: str, users: dict[str, tuple[int, int]]) -> None:
    """Write many users (name -> (total, withdrawn)) fast, then let the streams run.

    For read-path tests that need thousands of users (top, list): one
    transaction per user through `ledger.credit` would take minutes on moto.
    The items have exactly the shape `ledger.stage_credit` gives them in the
    site's current epoch (the reset-all counter is not maintained); the
    rank entries come from the real stream consumer.
    """
    from chalicelib import ledger
    from chalicelib.store.models import User
    from tests.streams import drain

    epoch = ledger.current_epoch(site_key)
    with User.batch_write() as batch:
        for name, (total, withdrawn) in users.items():
            batch.save(User(User.user_pk(site_key, name), name=name, epoch=epoch, total=total,
                            withdrawn=withdrawn, balance=total - withdrawn))
    drain()
