"""Fixtures: moto-backed app client, sites, the locked store server."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
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
        from chalicelib import front_door, recent_sources, sites, stats
        from chalicelib.store import models
        from ops import tables as admin_tables
        from ops.store import install_dynamodb_fixes

        install_dynamodb_fixes()
        models.bind()
        admin_tables.create_tables("local")
        sites.clear_cache()
        recent_sources.clear_cache()
        stats._global_cache.clear()
        front_door.LIMITS.clear()
        front_door.RATES.clear()
        yield


@pytest.fixture
def app(aws: None) -> Any:
    import app as app_module

    return app_module.app


# A stage absent from .chalice/config.json, so requests get no stage environment:
# the test client patches a stage's variables into every request, and `dev`'s
# point `chalice local` at the embedded store on 127.0.0.1:8001, not at moto.
TEST_STAGE = "functional-tests"


@pytest.fixture
def app_settings() -> Iterator[Any]:
    """`app_settings(WORKPROOF_MIN_WORK="512", ...)`: the app runs with those variables
    changed, as a function started with them would (settings are read at cold start)."""
    import os

    import app  # noqa: F401 - first: importing it installs the environment's settings
    from chalicelib import config

    before = config.settings()

    def use(**variables: str) -> config.Settings:
        settings = config.Settings.from_environ({**os.environ, **variables})
        config.use(settings)
        return settings

    yield use
    config.use(before)


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    from chalice.test import Client

    with Client(app, stage_name=TEST_STAGE) as test_client:
        yield test_client


def create_site(name: str = "test") -> SiteCreds:
    from chalicelib import sites

    info, secret = sites.create_site(name)
    return SiteCreds(info.site_key, secret)


@pytest.fixture
def site(aws: None) -> SiteCreds:
    return create_site("test")


class Api:
    """Calls the app the way Coinhive clients do; answers the decoded JSON.

    Before each call the stream consumer catches up (`settle`), as it does
    within a second of a write when deployed: tests read what a client sees
    once the off-path work (stats, top, list) is done. Set `settle = False`
    to see the moment right after a write.
    """

    def __init__(self, client: Any, site: SiteCreds) -> None:
        self.client, self.site = client, site
        self.last = None
        self.settle = True

    def _settle(self) -> None:
        if self.settle:
            from tests.streams import drain

            drain()

    def _answer(self, response: Any) -> dict[str, Any]:
        self.last = response
        assert response.status_code == 200, response.body
        assert response.headers["Content-Type"].startswith("application/json")
        return json.loads(response.body)

    def get(self, path: str, with_secret: bool = True, **params: Any) -> dict[str, Any]:
        if with_secret:
            params.setdefault("secret", self.site.secret)
        query = urlencode(params)
        self._settle()
        return self._answer(self.client.http.get(f"{path}?{query}" if query else path))

    def post(self, path: str, with_secret: bool = True, **params: Any) -> dict[str, Any]:
        if with_secret:
            params.setdefault("secret", self.site.secret)
        self._settle()
        return self._answer(self.client.http.post(
            path, body=urlencode(params),
            headers={"Content-Type": "application/x-www-form-urlencoded"}))

    def raw(self, method: str, path: str, body: bytes | str = b"",
            headers: dict[str, str] | None = None) -> dict[str, Any]:
        self._settle()
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


# --- the real `make run` stack, over HTTP -----------------------------------

@dataclass
class LiveServer:
    base_url: str
    store_url: str
    site_key: str
    secret: str
    state_dir: str
    env: dict

    def admin(self, *args: str) -> dict[str, Any]:
        """Run the admin command against this stack's store; its JSON answer."""
        import subprocess
        import sys

        done = subprocess.run([sys.executable, "-m", "chalicelib.admin", *args],
                              env=self.env, capture_output=True, text=True, timeout=60,
                              cwd=ROOT)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def start_stack(tmp: Any, extra_env: dict[str, str] | None = None):
    """Start `make run` on free ports with its state in `tmp`; (process, LiveServer)."""
    import os
    import signal  # noqa: F401
    import subprocess
    import time
    import urllib.request

    api_port, store_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k != "WORKPROOF_SIGNING_KEYS"}
    env.update({"WORKPROOF_PORT": str(api_port), "WORKPROOF_STORE_PORT": str(store_port),
                "WORKPROOF_STATE_DIR": str(tmp), **(extra_env or {})})
    log = open(os.path.join(str(tmp), "server.log"), "w")
    process = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{api_port}"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(f"{base}/ping-readiness", timeout=2).read()
            break
        except Exception:
            if process.poll() is not None or time.time() > deadline:
                raise RuntimeError(open(os.path.join(str(tmp), "server.log")).read()) from None
            time.sleep(0.3)
    demo = json.loads(open(os.path.join(str(tmp), "demo.json")).read())
    admin_env = dict(env)
    admin_env.update({"AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{store_port}",
                      "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                      "AWS_DEFAULT_REGION": "us-east-1"})
    return process, LiveServer(base, f"http://127.0.0.1:{store_port}", demo["site_key"],
                               demo["secret"], str(tmp), admin_env)


def stop_stack(process: Any) -> None:
    import os
    import signal

    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except (ProcessLookupError, Exception):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: Any) -> Iterator[LiveServer]:
    process, server = start_stack(tmp_path_factory.mktemp("stack"))
    try:
        yield server
    finally:
        stop_stack(process)


def settled(read: Any, until: Any, timeout: float = 10.0) -> Any:
    """`read()` once `until(answer)` holds: off-path figures (top, list, stats)
    trail a write by the stream pump's interval. Fails after `timeout` s."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        answer = read()
        if until(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


class Http:
    """A Coinhive-style HTTP client: form bodies like curl -d / http_build_query."""

    def __init__(self, base_url: str, secret: str = "") -> None:
        import requests

        self.base, self.secret = base_url, secret
        self.session = requests.Session()

    def post(self, path: str, data: Any = None, **params: Any) -> dict[str, Any]:
        import requests

        body = dict(data or {}, **params)
        if self.secret and "secret" not in body:
            body["secret"] = self.secret
        # A new connection per call, like PHP's file_get_contents.
        response = requests.post(self.base + path, data=body, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        import requests

        if self.secret and "secret" not in params:
            params["secret"] = self.secret
        response = requests.get(self.base + path, params=params, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()
