"""`make run` tells sources apart: each loopback address is its own source, `X-Forwarded-For`
(or `Forwarded`, under WORKPROOF_PROXY_HEADER) counts only from a proxy named in
WORKPROOF_TRUSTED_PROXIES, and the log shows a source only as a keyed hash."""
from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from tests.fixtures import ROOT, LiveServer, _free_port, start_stack, stop_stack

pytestmark = pytest.mark.e2e

PROXY = "127.0.0.4"
_LINE = re.compile(r"\d\d:\d\d:\d\d  GET /user/balance  site=\S+  source=([0-9a-f]{8})  unknown_user  ")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    process, server = start_stack(tmp_path_factory.mktemp("sources"),
                                  {"WORKPROOF_TRUSTED_PROXIES": f"{PROXY},192.0.2.0/24"})
    try:
        yield server
    finally:
        stop_stack(process)


def _log(server: LiveServer) -> str:
    return (Path(server.state_dir) / "server.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def forwarded_stack(tmp_path_factory):
    process, server = start_stack(tmp_path_factory.mktemp("forwarded"),
                                  {"WORKPROOF_TRUSTED_PROXIES": PROXY,
                                   "WORKPROOF_PROXY_HEADER": "Forwarded"})
    try:
        yield server
    finally:
        stop_stack(process)


def source_seen(server: LiveServer, client: str, forwarded_for: str | None = None,
                header: str = "X-Forwarded-For") -> str:
    """The source tag of the log line of one request sent from the loopback address `client`."""
    since = len(_log(server))
    parts = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30, source_address=(client, 0))
    headers = {header: forwarded_for} if forwarded_for is not None else {}
    query = urlencode({"secret": server.secret, "name": "nobody"})
    conn.request("GET", f"/user/balance?{query}", headers=headers)
    answer = json.loads(conn.getresponse().read())
    conn.close()
    assert answer == {"success": False, "error": "unknown_user"}
    deadline = time.monotonic() + 10
    while not (tags := _LINE.findall(_log(server)[since:])) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(tags) == 1, _log(server)[since:]
    return tags[0]


def test_two_loopback_addresses_are_two_sources(stack: LiveServer) -> None:
    first, second = source_seen(stack, "127.0.0.2"), source_seen(stack, "127.0.0.3")
    assert first != second
    assert source_seen(stack, "127.0.0.2") == first
    assert source_seen(stack, "127.0.0.3") == second


def test_forwarded_for_from_an_unnamed_peer_is_ignored(stack: LiveServer) -> None:
    direct = source_seen(stack, "127.0.0.2")
    assert source_seen(stack, "127.0.0.2", "127.0.0.3") == direct
    assert source_seen(stack, "127.0.0.2", f"127.0.0.3, {PROXY}") == direct


def test_a_named_proxy_forwards_its_client(stack: LiveServer) -> None:
    client = source_seen(stack, "127.0.0.3")
    assert source_seen(stack, PROXY, "127.0.0.3") == client
    # The client's own part of the header is skipped; a trusted hop on the right too.
    assert source_seen(stack, PROXY, "127.0.0.2, 127.0.0.3, 192.0.2.9") == client
    proxy_itself = source_seen(stack, PROXY)
    assert proxy_itself not in (client, source_seen(stack, "127.0.0.2"))
    assert source_seen(stack, PROXY, "not-an-address") == proxy_itself
    # An entry with a port (Azure Application Gateway's IP:port) is its address.
    assert source_seen(stack, PROXY, "127.0.0.3:4711") == client
    # Forwarded is not the header this stack's proxies write: it is ignored.
    assert source_seen(stack, PROXY, "for=127.0.0.3", header="Forwarded") == proxy_itself


def test_a_named_proxy_writing_forwarded(forwarded_stack: LiveServer) -> None:
    client = source_seen(forwarded_stack, "127.0.0.3")
    proxy_itself = source_seen(forwarded_stack, PROXY)
    assert source_seen(forwarded_stack, PROXY, 'for=127.0.0.2, for="127.0.0.3:4711";proto=http',
                       header="Forwarded") == client
    assert source_seen(forwarded_stack, PROXY, "for=_hidden", header="Forwarded") == proxy_itself
    # X-Forwarded-For is what a client could write past such a proxy: ignored.
    assert source_seen(forwarded_stack, PROXY, "127.0.0.3") == proxy_itself


def test_the_log_never_shows_a_client_address(stack: LiveServer) -> None:
    source_seen(stack, "127.0.0.2")
    source_seen(stack, PROXY, "127.0.0.3")
    # A framing refusal is logged by the server itself: also without the address.
    parts = urlsplit(stack.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30,
                                      source_address=("127.0.0.2", 0))
    conn.putrequest("POST", "/user/balance")
    conn.putheader("Content-Length", "abc")
    conn.endheaders()
    assert json.loads(conn.getresponse().read()) == {"success": False, "error": "bad_request"}
    conn.close()
    log = _log(stack)
    assert "127.0.0.2" not in log and "127.0.0.3" not in log and PROXY not in log
    assert re.search(r"^source=[0-9a-f]{8} - - \[.*Content-Length", log, re.MULTILINE), log


def test_a_bad_trusted_proxies_value_stops_make_run_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k != "WORKPROOF_SIGNING_KEYS"}
    env.update({"WORKPROOF_PORT": str(_free_port()), "WORKPROOF_STORE_PORT": str(_free_port()),
                "WORKPROOF_STATE_DIR": str(tmp_path / "state"),
                "WORKPROOF_TRUSTED_PROXIES": "10.0.0.1,proxy.example"})
    done = subprocess.run(["make", "--no-print-directory", "run"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if not re.match(r"make(\[\d+\])?: ", line)]
    assert errors == ["error: WORKPROOF_TRUSTED_PROXIES=10.0.0.1,proxy.example: 'proxy.example' is "
                      "not an address or a network (e.g. 10.0.0.1,192.168.0.0/16,::1)"]
    assert not (tmp_path / "state").exists()
