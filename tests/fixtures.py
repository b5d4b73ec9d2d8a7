"""Fixtures: moto-backed app client, sites, the locked store server."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import urlencode

import pytest
from moto import mock_aws


@dataclass
class SiteCreds:
    site_key: str
    secret: str


@pytest.fixture
def aws() -> Iterator[None]:
    """moto in-process, with every table created."""
    with mock_aws():
        from chalicelib import admin_tables, models, sites, stats

        models.bind()
        admin_tables.create_tables("local")
        sites.clear_cache()
        stats._global_cache.clear()
        yield


@pytest.fixture
def app(aws: None) -> Any:
    import app as app_module

    return app_module.app


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    from chalice.test import Client

    with Client(app) as test_client:
        yield test_client


def create_site(name: str = "test") -> SiteCreds:
    from chalicelib import sites

    info, secret = sites.create_site(name)
    return SiteCreds(info.site_key, secret)


@pytest.fixture
def site(aws: None) -> SiteCreds:
    return create_site("test")


class Api:
    """Calls the app the way Coinhive clients do; answers the decoded JSON."""

    def __init__(self, client: Any, site: SiteCreds) -> None:
        self.client, self.site = client, site
        self.last = None

    def _answer(self, response: Any) -> dict[str, Any]:
        self.last = response
        assert response.status_code == 200, response.body
        assert response.headers["Content-Type"].startswith("application/json")
        return json.loads(response.body)

    def get(self, path: str, secret: bool = True, **params: Any) -> dict[str, Any]:
        if secret:
            params.setdefault("secret", self.site.secret)
        query = urlencode(params)
        return self._answer(self.client.http.get(f"{path}?{query}" if query else path))

    def post(self, path: str, secret: bool = True, **params: Any) -> dict[str, Any]:
        if secret:
            params.setdefault("secret", self.site.secret)
        return self._answer(self.client.http.post(
            path, body=urlencode(params),
            headers={"Content-Type": "application/x-www-form-urlencoded"}))

    def raw(self, method: str, path: str, body: bytes | str = b"",
            headers: dict[str, str] | None = None) -> dict[str, Any]:
        return self._answer(self.client.http.request(method, path, body=body,
                                                     headers=headers or {}))


@pytest.fixture
def api(client: Any, site: SiteCreds) -> Api:
    return Api(client, site)


def credit(site_key: str, name: str, hashes: int) -> None:
    """Credit a user outside the proof-of-work path (test setup)."""
    from chalicelib import ledger, sites

    info = sites.get_site(site_key)
    assert info is not None
    ledger.credit(info, name, hashes)
