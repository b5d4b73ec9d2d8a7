"""Speed: one moto store with every table for the whole session.

Creating the six tables takes ~0.5 s, so a fresh store per test would make
the functional suite take minutes. Modules opt in by overriding the `aws`
fixture of tests/fixtures.py with `shared_aws` (see `tests/functional/store.py`):
every table is emptied before and after each test, which is what a fresh
store would give them.
"""
from __future__ import annotations

from typing import Iterator

import pytest
from moto import mock_aws


@pytest.fixture(scope="session")
def shared_tables() -> Iterator[None]:
    with mock_aws():
        from chalicelib import admin_tables, models

        models.bind()
        admin_tables.create_tables("local")
        yield
