"""The browser fixtures for every test in this folder: `pw`, `browser`, and the
ones most files share (a module may define its own of the same name)."""
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.browser_support import (  # noqa: F401 - pw, browser: fixtures
    FakeApi,
    FakeApiServer,
    browser,
    have_live_server,
    pw,
)


@pytest.fixture(scope="module")
def live(request: pytest.FixtureRequest) -> Any:
    """The real `make run` stack (base_url, site_key, secret), or a skip."""
    return have_live_server(request)


@pytest.fixture(scope="module")
def site() -> Iterator[FakeApiServer]:
    """A site on another origin than the API: serves its pages and records posted forms."""
    with FakeApiServer(FakeApi()) as srv:
        yield srv


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:  # noqa: F811 - the browser fixture, imported above
    """A fresh browser context's page."""
    context = browser.new_context()
    yield context.new_page()
    context.close()
