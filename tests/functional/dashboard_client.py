"""A browser-like client of the dashboard over chalice.test.Client: keeps the
session cookie the server set (and drops it when told to), sends the CSRF
header the way dashboard.js does, and keeps every answer for inspection."""
from __future__ import annotations

import json
from http.cookies import SimpleCookie
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from chalicelib.dashboard.session import COOKIE_NAME

JSON = {"Content-Type": "application/json"}


def fail(code: str) -> dict[str, Any]:
    return {"success": False, "error": code}


def parse_set_cookie(header: str) -> dict[str, Any]:
    """The cookie's value and attributes, as a browser would read them."""
    jar: SimpleCookie = SimpleCookie()
    jar.load(header)
    morsel = jar[COOKIE_NAME]
    flags = {part.strip().lower() for part in header.split(";")[1:]}
    return {"value": morsel.value, "path": morsel["path"], "max-age": morsel["max-age"],
            "samesite": morsel["samesite"], "httponly": "httponly" in flags,
            "secure": "secure" in flags}


class Dashboard:
    """Like tests.fixtures.Api, lets the stream consumer catch up before each call
    (`settle`), as it does within a second when deployed."""

    def __init__(self, client: Any, headers: dict[str, str] | None = None) -> None:
        self.settle = True
        self.client = client
        self.cookie: str | None = None
        self.csrf = ""
        self.headers = dict(headers or {})
        self.responses: list[Any] = []

    def _send(self, method: str, path: str, body: str = "",
              headers: dict[str, str] | None = None) -> dict[str, Any]:
        sent = dict(self.headers)
        if self.cookie:
            sent["Cookie"] = f"{COOKIE_NAME}={self.cookie}"
        sent.update(headers or {})
        if self.settle:
            from tests.streams import drain

            drain()
        response = self.client.http.request(method, path, body=body.encode(), headers=sent)
        self.responses.append(response)
        assert response.status_code == 200, response.body
        assert response.headers["Content-Type"].startswith("application/json")
        set_cookie = response.headers.get("Set-Cookie")
        if set_cookie:
            cookie = parse_set_cookie(set_cookie)
            self.cookie = cookie["value"] if cookie["max-age"] != "0" else None
        return json.loads(response.body)

    @property
    def last(self) -> Any:
        return self.responses[-1]

    def sign_in(self, site_key: str, secret: Any) -> dict[str, Any]:
        answer = self._send("POST", "/dashboard/signin",
                            json.dumps({"site_key": site_key, "secret": secret}), JSON)
        if answer["success"]:
            self.csrf = answer["csrf"]
        return answer

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        query = urlencode(params)
        return self._send("GET", f"/dashboard/{path}" + (f"?{query}" if query else ""))

    def post(self, path: str, csrf: str | None = None, **body: Any) -> dict[str, Any]:
        token = self.csrf if csrf is None else csrf
        headers = dict(JSON, **({"X-Workproof-Csrf": token} if token else {}))
        return self._send("POST", f"/dashboard/{path}", json.dumps(body), headers)


def at_address(monkeypatch: Any, address: str) -> None:
    """Requests through chalice's test client come from `address` from now on."""
    from chalice import local

    monkeypatch.setattr(local.LambdaEventConverter, "LOCAL_SOURCE_IP", address)


def freeze_dashboard_clock(monkeypatch: Any, now: float) -> None:
    """The dashboard reads the time as `time.time()` in chalicelib.dashboard.wire."""
    from chalicelib.dashboard import wire

    monkeypatch.setattr(wire, "time", SimpleNamespace(time=lambda: float(now)))
