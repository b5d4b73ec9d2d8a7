"""Speed: one moto store with every table per test module.

Creating the six tables takes ~0.5 s, so a fresh store per test would make
the functional suite take minutes. Modules opt in by importing the `aws`
of tests/functional/store.py, which overrides tests/fixtures.py's `aws`:
every table is emptied before and after each test, which is what a fresh
store would give them. Module scope: the store (and moto's patching) ends
with the module, so modules that use tests/fixtures.py's per-test store are
untouched by it.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws


@pytest.fixture(scope="module")
def shared_tables() -> Iterator[None]:
    with mock_aws():
        from chalicelib.store import models
        from ops import tables as admin_tables
        from ops.store import install_dynamodb_fixes

        install_dynamodb_fixes()
        models.bind()
        admin_tables.create_tables("local")
        yield
