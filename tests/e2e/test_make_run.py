"""End to end: the real `make run`, the admin command, raw HTTP like real clients."""
from __future__ import annotations

import hashlib
import http.client as httpclient
import json
import re
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from tests.fixtures import Http, settled
from tests.solver import solve

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def site(live_server):
    """A site made with the admin command, as an operator would."""
    created = live_server.admin("create-site", "e2e-shop")
    assert set(created) == {"name", "site_key", "secret"}
    assert len(created["site_key"]) == 32 and len(created["secret"]) == 32
    return created


@pytest.fixture
def http(live_server, site):
    return Http(live_server.base_url, site["secret"])


def raw(base_url: str, method: str, path: str, body: bytes | None = None,
        headers: dict[str, str] | None = None) -> tuple[int, dict]:
    parts = urlsplit(base_url)
    conn = httpclient.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    assert response.getheader("Content-Type", "").startswith("application/json")
    return response.status, json.loads(data)


def test_php_http_build_query_post(live_server, site, http):
    # PHP's client: http_build_query body, form content type, file_get_contents.
    status, body = raw(live_server.base_url, "POST", "/user/withdraw",
                       urlencode({"secret": site["secret"], "name": "nobody", "amount": "5"}).encode(),
                       {"Content-Type": "application/x-www-form-urlencoded"})
    assert (status, body) == (200, {"success": False, "error": "unknown_user"})


def test_post_without_content_type_and_params_in_query(live_server, site):
    status, body = raw(live_server.base_url, "POST",
                       f"/user/balance?secret={site['secret']}&name=nobody")
    assert (status, body) == (200, {"success": False, "error": "unknown_user"})


def test_chunked_body_is_read(live_server, site):
    parts = urlsplit(live_server.base_url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    payload = urlencode({"secret": site["secret"], "token": "x" * 32, "hashes": "5"}).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in (payload[:10], payload[10:])) + b"0\r\n\r\n"
    sock.sendall(b"POST /token/verify HTTP/1.1\r\nHost: x\r\nContent-Type: "
                 b"application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n"
                 b"Connection: close\r\n\r\n" + chunks)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    # invalid_token (not invalid_secret, not missing_input): the body was read.
    assert json.loads(data.split(b"\r\n\r\n", 1)[1]) == {"success": False, "error": "invalid_token"}


def test_json_body_and_unknown_paths(live_server, site):
    status, body = raw(live_server.base_url, "POST", "/user/reset",
                       json.dumps({"secret": site["secret"], "name": "x"}).encode(),
                       {"Content-Type": "application/json"})
    assert body == {"success": True}
    for path in ("/nope", "/a/b/c/d/e/f/g/h", "/api/user/balance", "/demo"):
        assert raw(live_server.base_url, "GET", path) == (200, {"success": False, "error": "not_found"})
    assert raw(live_server.base_url, "GET", "/user/withdraw")[1] == {"success": False, "error": "wrong_method"}


def test_mine_a_user_withdraw_and_list(live_server, site, http):
    job = http.post("/pow/job", site=site["site_key"], user="alice@example.com")
    answer = http.post("/pow/submit", job=job["job"], nonce=solve(job["job"], job["difficulty"], job["count"]))
    assert answer["success"] is True and answer["hashes"] == 65536 and answer["total"] == 65536
    assert http.get("/user/balance", name="alice@example.com") == {
        "success": True, "name": "alice@example.com", "total": 65536, "withdrawn": 0, "balance": 65536}
    assert http.post("/user/withdraw", name="alice@example.com", amount=65000) == {
        "success": True, "name": "alice@example.com", "amount": 65000}
    assert http.post("/user/withdraw", name="alice@example.com", amount=537) == {
        "success": False, "error": "insufficent_funds"}
    # Top, list and stats trail the ledger by the stream pump's interval.
    top = settled(lambda: http.get("/user/top"), lambda a: a["users"] and
                  a["users"][0]["withdrawn"] == 65000)
    assert top["users"] == [
        {"name": "alice@example.com", "total": 65536, "withdrawn": 65000, "balance": 536}]
    assert http.get("/user/list") == {"success": True, "users": [
        {"name": "alice@example.com", "total": 65536, "withdrawn": 65000, "balance": 536}],
        "nextPage": None}
    stats = settled(lambda: http.get("/stats/site"), lambda a: a["hashesTotal"] > 0)
    assert stats["hashesTotal"] == 65536 and stats["name"] == "e2e-shop"
    assert len(stats["history"]) == 168


def test_token_mined_then_verified_exactly_once(live_server, site, http):
    job = http.post("/pow/job", site=site["site_key"], token="", hashes=100000)
    answer = http.post("/pow/submit", job=job["job"], nonce=solve(job["job"], job["difficulty"], job["count"]))
    assert answer["total"] >= 100000
    verified = http.post("/token/verify", token=job["token"], hashes=100000)
    assert verified["success"] is True and verified["hashes"] == answer["total"]
    assert isinstance(verified["created"], int)
    assert http.post("/token/verify", token=job["token"], hashes=100000) == {
        "success": False, "error": "invalid_token"}


def test_shortlink_page_then_mined_redirect(live_server, site, http):
    # A reader of userinfo sees one host, the browser goes to another: refused.
    assert http.post("/link/create", url="https://paypal.com@evil.example/", hashes=70000) == {
        "success": False, "error": "invalid_url"}
    target = "https://Evil.EXAMPLE:443/secret/./path?x=1"
    url = http.post("/link/create", url=target, hashes=70000)["url"]
    assert url.startswith(live_server.base_url + "/l/")
    page = requests.get(url, timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "evil.example" in page.text and "70000" in page.text.replace(",", "").replace("\u202f", "")
    assert "secret" not in page.text and "path" not in page.text
    code = url.rsplit("/", 1)[1]
    job = http.post("/pow/job", site=site["site_key"], link=code)
    answer = job
    while "redirect" not in answer:
        answer = http.post("/pow/submit", job=answer["job"],
                           nonce=solve(answer["job"], answer["difficulty"], answer["count"]))
        assert answer["success"] is True
    assert answer["redirect"] == "https://evil.example/secret/path?x=1"  # the serialized URL


def test_admin_rotate_disable_and_errors(live_server):
    created = live_server.admin("create-site", "rotating")
    old = Http(live_server.base_url, created["secret"])
    assert old.post("/user/reset", name="x") == {"success": True}
    rotated = live_server.admin("rotate-secret", created["site_key"])
    assert rotated["secret"] != created["secret"]
    assert old.post("/user/reset", name="x") == {"success": False, "error": "invalid_secret"}
    new = Http(live_server.base_url, rotated["secret"])
    assert new.post("/user/reset", name="x") == {"success": True}
    listed = live_server.admin("list-sites")["sites"]
    assert any(s["site_key"] == created["site_key"] for s in listed)
    assert all("secret" not in json.dumps(s).lower() for s in listed)
    live_server.admin("disable-site", created["site_key"])
    assert new.post("/user/reset", name="x") == {"success": False, "error": "invalid_secret"}


def test_secrets_never_reach_the_log(live_server, site, http):
    http.get("/user/balance", name="nobody")
    log = open(f"{live_server.state_dir}/server.log").read()
    # The start-up lines say where the demo site's secret is, never the secret itself.
    assert f"Demo site: site_key={live_server.site_key} (its secret is in " \
           f"{live_server.state_dir}/demo.json)" in log
    assert live_server.secret not in log
    served = log.split("Workproof API on", 1)[1]
    # Each request is the app's one readable line (ops/request_log.py): its route and
    # site, never its path or query, where secrets travel.
    assert re.search(rf"\n\d\d:\d\d:\d\d  GET /user/balance  site={site['site_key']}  "
                     r"source=[0-9a-f]{8}  unknown_user  [0-9.]+ ms\n", served)
    assert site["secret"] not in served and live_server.secret not in served


def test_demo_file_is_private(live_server):
    import os
    import stat

    mode = os.stat(f"{live_server.state_dir}/demo.json").st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_a_burst_of_64_connections_is_not_reset(live_server, site):
    barrier = threading.Barrier(64)

    def call(_):
        barrier.wait()
        return requests.get(f"{live_server.base_url}/user/balance",
                            params={"secret": site["secret"], "name": "nobody"}, timeout=60).json()

    with ThreadPoolExecutor(64) as pool:
        answers = list(pool.map(call, range(64)))
    assert answers == [{"success": False, "error": "unknown_user"}] * 64


def test_demo_page_and_its_backend(live_server):
    page = requests.get(live_server.base_url + "/", timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert live_server.site_key in page.text and live_server.secret not in page.text
    link = requests.post(live_server.base_url + "/demo/link",
                         data={"url": "https://example.com/", "hashes": "70000"}, timeout=30).json()
    assert link["success"] is True and link["url"].startswith(live_server.base_url + "/l/")
    refused = requests.post(live_server.base_url + "/demo/verify",
                            data={"coinhive-captcha-token": "x" * 32}, timeout=30).json()
    assert refused == {"success": False, "verified": False, "error": "invalid_token"}


def test_store_snapshot_survives_a_restart(tmp_path):
    from tests.fixtures import start_stack, stop_stack

    process, server = start_stack(tmp_path)
    try:
        rows = tmp_path / "users.csv"
        rows.write_text("name,total,withdrawn\nkept,500,100\n")
        server.admin("import-users", server.site_key, str(rows))
    finally:
        stop_stack(process)  # SIGTERM: the store is written to store.json
    process, again = start_stack(tmp_path)
    try:
        assert again.site_key == server.site_key  # the demo site is kept, not recreated
        assert Http(again.base_url, again.secret).get("/user/balance", name="kept") == {
            "success": True, "name": "kept", "total": 500, "withdrawn": 100, "balance": 400}
    finally:
        stop_stack(process)


def test_protocol_errors_keep_the_contract(live_server):
    # The HTTP server's own refusals (request line over 64 kB, an unknown
    # method) answer JSON too, never the standard library's HTML page.
    answer = requests.get(live_server.base_url + "/user/balance", params={"name": "a" * 100_000},
                          timeout=30)
    assert (answer.status_code, answer.json()) == (200, {"success": False, "error": "bad_request"})
    status, body = raw(live_server.base_url, "BREW", "/user/balance")
    assert (status, body) == (200, {"success": False, "error": "wrong_method"})


def test_library_redirect_and_immutable_file_over_http_head_and_get(live_server):
    """The stable name's 307 and the hashed file, GET and HEAD (same headers, no body),
    and a revalidation's 304, through make run's strict HTTP server."""
    parts = urlsplit(live_server.base_url)

    def exchange(method: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
        conn = httpclient.HTTPConnection(parts.hostname, parts.port, timeout=30)
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    for method in ("GET", "HEAD"):
        status, headers, body = exchange(method, "/lib/captcha.js?render=explicit")
        assert (status, body) == (307, b""), method
        assert re.fullmatch(r"captcha\.[0-9a-f]{12}\.js", headers["location"])
        assert headers["cache-control"] == "public, max-age=300"
        assert headers["access-control-allow-origin"] == "*"
    hashed = "/lib/" + headers["location"]
    status, got, body = exchange("GET", hashed)
    assert status == 200 and hashlib.sha256(body).hexdigest()[:12] == hashed.split(".")[-2]
    assert got["cache-control"] == "public, max-age=31536000, immutable"
    status, head, head_body = exchange("HEAD", hashed)
    assert (status, head_body) == (200, b"")
    assert {k: head[k] for k in ("content-type", "cache-control", "etag", "content-length")} == \
        {k: got[k] for k in ("content-type", "cache-control", "etag", "content-length")}
    status, _, body = exchange("GET", hashed, {"If-None-Match": got["etag"]})
    assert (status, body) == (304, b"")
    status, _, body = exchange("GET", "/lib/captcha.000000000000.js")
    assert (status, json.loads(body)) == (200, {"success": False, "error": "not_found"})
