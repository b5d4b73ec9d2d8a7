"""The embedded store of `make run` (moto behind its lock), in this process."""
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The locked store on a free port; the models and the app's code point at it."""
    from chalicelib import ledger, sites
    from chalicelib.store import models
    from ops import tables
    from ops.store import StoreServer

    server = StoreServer("127.0.0.1", 0,
                         serialise=os.environ.get("WORKPROOF_STORE_UNLOCKED") != "1").start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", server.url)
    monkeypatch.setattr(ledger, "RESET_ALL_GRACE_SECONDS", 0.05)
    models.bind()
    tables.create_tables("local")
    sites.clear_cache()
    try:
        yield server
    finally:
        server.stop()
        monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB")
        models.bind()
