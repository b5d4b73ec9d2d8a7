"""Helpers shared by the functional tests: an emptied shared store, the clock."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Iterator

import pytest


def empty_tables() -> None:
    """Delete every item of every table (what a freshly created store holds)."""
    from chalicelib import models, sites, stats

    # No models.bind() here: it drops the cached botocore clients (~0.1 s each).
    for model in models.all_models():
        with model.batch_write() as batch:
            for item in model.scan():
                batch.delete(item)
    sites.clear_cache()
    stats._global_cache.clear()


@pytest.fixture
def aws(shared_tables: None) -> Iterator[None]:
    """Overrides tests/fixtures.py's `aws`: the shared store, emptied."""
    empty_tables()
    yield
    empty_tables()


def freeze_clock(monkeypatch: Any, now: int) -> None:
    """The API's operations read the time as `time.time()` in chalicelib.api."""
    from chalicelib import api

    monkeypatch.setattr(api, "time", SimpleNamespace(time=lambda: float(now)))
