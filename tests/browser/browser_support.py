"""Helpers for the real-browser tests: Chromium from Debian, driven by Playwright,
and a small stand-in of the proof-of-work API that checks every nonce with hashlib.

The stand-in lets the client be tested without the server stack: it serves
the library at `/lib/` exactly as the API does (chalicelib.pages.library_response:
a stable name redirects to its hashed name), test pages at `/page/<name>` (with the headers the test sets in
`page_headers`), the shortlink page at `/l/<code>`, and implements docs/contract.md §2's `/pow/job` and
`/pow/submit` (exact target formula, one submit per job, tokens, links).
Tests that need the real server use the `live_server` fixture instead.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "chalicelib" / "static"
CHROMIUM = os.environ.get("WORKPROOF_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# What strict sites send: scripts from the site only, no 'wasm-unsafe-eval'.
NO_WASM_CSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; worker-src 'self' blob:"
TYPES = {".js": "text/javascript; charset=utf-8", ".html": "text/html; charset=utf-8",
         ".css": "text/css; charset=utf-8"}


def puzzle_holds(job: str, index: int, nonce: str, difficulty: int) -> bool:
    """docs/contract.md §2's formula, verbatim."""
    digest = hashlib.sha256(f"{job}:{index}:{nonce}".encode("ascii")).digest()
    return int.from_bytes(digest, "big") < 2**256 // difficulty


def valid_nonce_text(nonce: str) -> bool:
    return (nonce.isdigit() and nonce.isascii() and (nonce == "0" or nonce[0] != "0")
            and len(nonce) <= 16 and int(nonce) < 2**53)


def fake_job_text(rng_bytes: int = 150) -> str:
    """A job string shaped like the server's: v1.<base64url payload>.<base64url mac>."""
    payload = base64.urlsafe_b64encode(secrets.token_bytes(rng_bytes)).decode().rstrip("=")
    mac = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return f"v1.{payload}.{mac}"


def chromium_available() -> bool:
    if not Path(CHROMIUM).exists():
        return False
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


requires_chromium = pytest.mark.skipif(
    not chromium_available(),
    reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium) and the playwright package")


@dataclass
class FakeJob:
    account: tuple[str, str]
    difficulty: int
    count: int
    expires: float
    total: int


@dataclass
class FakeApi:
    """The stand-in API; state is inspected by the tests."""

    difficulty: int = 4096
    count: int = 16
    link_hashes: int = 65536
    job_lifetime: float = 300.0
    pages: dict[str, str] = field(default_factory=dict)
    page_headers: dict[str, dict[str, str]] = field(default_factory=dict)
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    tokens: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    links: dict[str, tuple[str, int]] = field(default_factory=dict)
    log: list[tuple[str, dict]] = field(default_factory=list)
    posted_forms: list[dict] = field(default_factory=list)
    fail_next: int = 0  # answer this many next /pow/* calls with HTTP 503
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""

    # -- protocol -------------------------------------------------------
    def job_answer(self, account: tuple[str, str], total: int, work: int | None) -> dict:
        kind = account[0]
        k, d = self.count, self.difficulty
        if work is not None:  # token/link: the remaining work in one submit
            d = max(1, -(-work // k))
        text = fake_job_text()
        self.jobs[text] = FakeJob(account, d, k, time.time() + self.job_lifetime, total)
        answer = {"success": True, "job": text, "difficulty": d, "count": k,
                  "expires": int(self.jobs[text].expires)}
        if kind == "token":
            answer["token"] = account[1]
        return answer

    def pow_job(self, p: dict[str, str]) -> dict:
        if p.get("site") != "SITEKEY":
            return {"success": False, "error": "invalid_site"}
        accounts = [a for a in ("user", "token", "link", "anonymous") if a in p]
        if len(accounts) != 1:
            return {"success": False, "error": "missing_input" if not accounts else "bad_request"}
        kind = accounts[0]
        if kind == "user":
            return self.job_answer(("user", p["user"]), 0, None)
        if kind == "anonymous":
            return self.job_answer(("anonymous", ""), 0, None)
        if kind == "link":
            if p["link"] not in self.links:
                return {"success": False, "error": "invalid_link"}
            _, hashes = self.links[p["link"]]
            return self.job_answer(("link", p["link"]), 0, hashes)
        target = int(p.get("hashes") or 0)
        name = p["token"]
        if name == "":
            name = secrets.token_urlsafe(24).replace("-", "a").replace("_", "b")[:32]
            have = 0
        elif name in self.tokens:
            have = self.tokens[name]
        else:
            return {"success": False, "error": "invalid_token"}
        return self.job_answer(("token", name), have, max(1, target - have))

    def pow_submit(self, p: dict[str, str]) -> dict:
        text, nonce = p.get("job", ""), p.get("nonce", "")
        if not text or not nonce:
            return {"success": False, "error": "missing_input"}
        job = self.jobs.get(text)
        if job is None or job.expires < time.time():
            return {"success": False, "error": "invalid_job"}
        nonces = nonce.split(",")
        if len(nonces) != job.count or not all(valid_nonce_text(n) for n in nonces):
            return {"success": False, "error": "bad_request"}
        if text in self.used:
            return {"success": False, "error": "duplicate_share"}
        if not all(puzzle_holds(text, i, n, job.difficulty) for i, n in enumerate(nonces)):
            return {"success": False, "error": "invalid_share"}
        self.used.add(text)
        credit = job.count * job.difficulty
        total = job.total + credit
        kind, name = job.account
        if kind == "user":
            self.users[name] = self.users.get(name, 0) + credit
        if kind == "token":
            self.tokens[name] = self.tokens.get(name, 0) + credit
        answer = {"success": True, "hashes": credit, "total": total}
        if kind == "link":
            url, need = self.links[name]
            if total >= need:
                answer["redirect"] = url
                return answer
            answer.update({k: v for k, v in self.job_answer(job.account, total, need - total).items()
                           if k != "success"})
            return answer
        nxt = self.job_answer(job.account, total, None)
        answer.update({k: v for k, v in nxt.items() if k not in ("success", "token")})
        return answer

    def link_page(self, code: str, accept_language: str | None) -> str:
        from chalicelib.pages import render_link_page

        url, hashes = self.links[code]
        page, _lang = render_link_page(urlsplit(url).hostname or "", hashes, code, "SITEKEY", "",
                                       accept_language)
        return page

    def pow_calls(self, path: str) -> int:
        return sum(1 for p, _ in self.log if p == path)


class _Handler(BaseHTTPRequestHandler):
    """The stand-in's requests; `api` is set per server by `_handler`."""

    api: FakeApi
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status: int, body: bytes, ctype: str, extra: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if "Cache-Control" not in (extra or {}):
            self.send_header("Cache-Control", "no-store")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if getattr(self, "csp", False):
            self.send_header("Content-Security-Policy", NO_WASM_CSP)
        self.end_headers()
        self.wfile.write(body)

    def do_OPTIONS(self):
        self._send(204, b"", "text/plain", {"Access-Control-Allow-Origin": "*",
                                            "Access-Control-Allow-Methods": "POST",
                                            "Access-Control-Allow-Headers": "Content-Type"})

    def do_GET(self):
        path = urlsplit(self.path).path
        self.csp = path.startswith("/csp/")
        if self.csp:  # same content under a CSP that forbids WebAssembly
            path = path[4:]
        if path.startswith("/lib/"):  # the API's own answer: a redirect, the file, or not_found
            from chalicelib.pages import library_response

            answer = library_response(path[5:], self.headers.get("If-None-Match"))
            headers = {k: v for k, v in answer.headers.items() if k != "Content-Type"}
            body = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
            return self._send(answer.status_code, body.encode(),
                              answer.headers.get("Content-Type", "application/json"), headers)
        if path.startswith("/page/") and path[6:] in self.api.pages:
            kind = TYPES.get(Path(path).suffix, TYPES[".html"])
            return self._send(200, self.api.pages[path[6:]].encode(), kind,
                              self.api.page_headers.get(path[6:]))
        if path.startswith("/l/") and path[3:] in self.api.links:
            page = self.api.link_page(path[3:], self.headers.get("Accept-Language"))
            return self._send(200, page.encode(), TYPES[".html"])
        if path.startswith("/target"):
            return self._send(200, b"<!doctype html><title>target</title><h1>landed</h1>",
                              TYPES[".html"])
        self._send(404, b'{"success":false,"error":"not_found"}', "application/json")

    def do_POST(self):
        path = urlsplit(self.path).path
        self.csp = path.startswith("/csp/")
        if self.csp:
            path = path[4:]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace")
        params = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        if path in ("/pow/job", "/pow/submit"):
            with self.api.lock:
                self.api.log.append((path, params))
                if self.api.fail_next > 0:
                    self.api.fail_next -= 1
                    return self._send(503, b"busy", "text/plain",
                                      {"Access-Control-Allow-Origin": "*"})
                answer = self.api.pow_job(params) if path == "/pow/job" else self.api.pow_submit(params)
            return self._send(200, json.dumps(answer).encode(), "application/json",
                              {"Access-Control-Allow-Origin": "*"})
        if path == "/form":
            self.api.posted_forms.append(params)
            return self._send(200, b"<!doctype html><title>posted</title><h1>posted</h1>",
                              TYPES[".html"])
        self._send(404, b'{"success":false,"error":"not_found"}', "application/json")


def _handler(api: FakeApi) -> type[_Handler]:
    return type("Handler", (_Handler,), {"api": api})


class FakeApiServer:
    def __init__(self, api: FakeApi):
        self.api = api
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        api.base_url = self.url
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeApiServer:
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def launch(playwright, extra_args: list[str] | None = None):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                      args=CHROMIUM_ARGS + (extra_args or []))


@pytest.fixture(scope="module")
def pw():
    """One Playwright driver per test module (the sync API allows one at a time)."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(pw):
    b = launch(pw)
    yield b
    b.close()


def have_live_server(request):
    """The server engineer's `live_server` fixture (base_url, site_key, secret), or a skip."""
    try:
        return request.getfixturevalue("live_server")
    except pytest.FixtureLookupError:
        pytest.skip("needs the live_server fixture (tests/conftest.py) for the full server stack")


def which_chromium() -> str | None:
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
