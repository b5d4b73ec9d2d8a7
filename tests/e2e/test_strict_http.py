"""`make run`'s server speaks strict HTTP, over raw sockets (ops/server.py, ops/framing.py).

A request runs only when all of it arrived; every refusal is the contract's
`bad_request` with a status line; HEAD has no body, OPTIONS a JSON one; idle
and slow clients are let go; a client hanging up is one log line; no spelling
of `secret` puts its value into the log. The stack runs with short timeouts
(2 s idle, 3 s per request) so the slow cases take seconds.
"""
from __future__ import annotations

import json
import re
import secrets
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.fixtures import LiveServer, start_stack, stop_stack

pytestmark = pytest.mark.e2e

IDLE, DEADLINE = 2, 3
BAD = {"success": False, "error": "bad_request"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("strict")
    process, server = start_stack(tmp, {"WORKPROOF_IDLE_TIMEOUT": str(IDLE),
                                        "WORKPROOF_REQUEST_DEADLINE": str(DEADLINE)})
    try:
        rows = tmp / "users.csv"
        rows.write_text("name,total,withdrawn\nrich,100000,0\nrené,7,0\n", encoding="utf-8")
        server.admin("import-users", server.site_key, str(rows))
        yield server
    finally:
        stop_stack(process)


class Raw:
    """One raw TCP connection to the stack."""

    def __init__(self, server: LiveServer, timeout: float = 15) -> None:
        parts = urlsplit(server.base_url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)

    def send(self, data: bytes) -> Raw:
        self.sock.sendall(data)
        return self

    def hang_up_writing(self) -> Raw:
        self.sock.shutdown(socket.SHUT_WR)
        return self

    def read_all(self) -> bytes:
        data = b""
        while chunk := self.sock.recv(65536):
            data += chunk
        self.sock.close()
        return data

    def read_response(self) -> tuple[int, dict[str, str], bytes]:
        """One response (Content-Length framed), leaving the connection open."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(65536)
            assert chunk, f"connection closed after {data!r}"
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        status, headers = parse_head(head)
        return status, headers, rest


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1."), lines[0]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers


def answer(data: bytes) -> tuple[int, dict[str, str], dict]:
    """A whole connection's single response: status, headers, decoded JSON body."""
    head, _, body = data.partition(b"\r\n\r\n")
    status, headers = parse_head(head)
    assert headers["content-type"].startswith("application/json"), headers
    return status, headers, json.loads(body)


def balance(server: LiveServer, name: str = "rich") -> int:
    raw = Raw(server).send(f"GET /user/balance?secret={server.secret}&name={name} HTTP/1.1\r\n"
                           f"Host: x\r\nConnection: close\r\n\r\n".encode()).read_all()
    return answer(raw)[2]["balance"]


def form_post(path: str, body: bytes, length: int | None = None, extra: str = "") -> bytes:
    size = len(body) if length is None else length
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {size}\r\n{extra}\r\n").encode() + body


def withdraw_body(server: LiveServer, amount: str) -> bytes:
    return f"secret={server.secret}&name=rich&amount={amount}".encode()


# --- bodies: all of it, or nothing runs -------------------------------------------------

def test_a_body_cut_short_by_a_hang_up_is_bad_request_and_never_runs(stack):
    before = balance(stack)
    body = withdraw_body(stack, "40000")
    # "...&amount=4" arrives, the rest never does: not a withdrawal of 4.
    raw = Raw(stack).send(form_post("/user/withdraw", body[:-4], length=len(body)))
    status, headers, decoded = answer(raw.hang_up_writing().read_all())
    assert (status, decoded) == (200, BAD)
    assert balance(stack) == before


def test_a_body_that_stops_arriving_times_out_as_bad_request_and_never_runs(stack):
    before = balance(stack)
    body = withdraw_body(stack, "40000")
    started = time.monotonic()
    raw = Raw(stack).send(form_post("/user/withdraw", body[:-4], length=len(body)))
    assert answer(raw.read_all())[2] == BAD
    assert time.monotonic() - started < DEADLINE + 3
    assert balance(stack) == before


def test_a_whole_body_runs(stack):
    before = balance(stack)
    raw = Raw(stack).send(form_post("/user/withdraw", withdraw_body(stack, "3"), extra="Connection: close\r\n"))
    assert answer(raw.read_all())[2] == {"success": True, "name": "rich", "amount": 3}
    assert balance(stack) == before - 3


def chunked_post(path: str, chunks: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Transfer-Encoding: chunked\r\n\r\n").encode() + chunks


def test_a_chunked_body_with_extensions_and_trailers_runs(stack):
    before = balance(stack)
    body = withdraw_body(stack, "2")
    chunks = b"%x;note=1\r\n%s\r\n%X\r\n%s\r\n0\r\nX-Trailer: t\r\n\r\n" % (
        10, body[:10], len(body) - 10, body[10:])
    assert answer(Raw(stack).send(chunked_post("/user/withdraw", chunks)).hang_up_writing()
                  .read_all())[2] == {"success": True, "name": "rich", "amount": 2}
    assert balance(stack) == before - 2


@pytest.mark.parametrize("size_line", [
    b"-1", b"0x10", b"+10", b" 10", b"10 ", b"1_0", b"", b"g", b"FFFFFFFFFFFFFFFFFFFF",
    b"999999999", b"100001", b"1" * 1000,
])
def test_a_bad_chunk_size_is_bad_request_at_once(stack, size_line):
    # Validated before anything is read or allocated: no hang, no MemoryError.
    before = balance(stack)
    started = time.monotonic()
    raw = Raw(stack).send(chunked_post("/user/withdraw", size_line + b"\r\n" + b"x" * 16))
    assert answer(raw.read_all())[2] == BAD
    assert time.monotonic() - started < IDLE
    assert balance(stack) == before


@pytest.mark.parametrize("chunks", [
    b"5\r\nabc",                            # data cut short, then hang-up
    b"5\r\nabcdefg\r\n0\r\n\r\n",          # more data than the size said
    b"5\r\nabcde\r\n",                      # no last chunk
    b"5\r\nabcde\r\n0\r\nX: y\r\n",          # trailers never ended
])
def test_a_chunked_body_cut_short_or_misframed_is_bad_request(stack, chunks):
    raw = Raw(stack).send(chunked_post("/user/withdraw", chunks)).hang_up_writing()
    assert answer(raw.read_all())[2] == BAD


@pytest.mark.parametrize("headers", [
    "Content-Length: -1\r\n", "Content-Length: 1e3\r\n", "Content-Length: 5, 6\r\n",
    "Content-Length: 5\r\nContent-Length: 6\r\n", "Content-Length: 99999999999999999999\r\n",
    "Content-Length: 1048577\r\n", "Transfer-Encoding: gzip\r\n",
    "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "Transfer-Encoding: gzip, chunked\r\n",
])
def test_bad_framing_headers_are_bad_request(stack, headers):
    raw = Raw(stack).send(f"POST /user/withdraw HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
    assert answer(raw.read_all())[2] == BAD


@pytest.mark.parametrize("field", [
    "Content-Length : {length}", "Transfer-Encoding : chunked", "Content-Length\t: {length}",
    "X-Note\t: 1", "Content-Length: {length}\r\n folded: line",
])
def test_whitespace_before_a_colon_is_bad_request_and_the_body_never_runs(stack, field):
    # RFC 9112 5.1: a proxy may read such a field where this server would not, so the body,
    # itself a request, must never run as a second, pipelined one.
    before = balance(stack)
    smuggled = form_post("/user/withdraw", withdraw_body(stack, "1"), extra="Connection: close\r\n")
    head = f"POST /user/balance HTTP/1.1\r\nHost: x\r\n{field.format(length=len(smuggled))}\r\n\r\n"
    data = Raw(stack).send(head.encode() + smuggled).read_all()
    assert data.count(b"HTTP/1.") == 1, data
    status, headers, decoded = answer(data)
    assert (status, decoded) == (200, BAD) and headers["connection"] == "close"
    assert balance(stack) == before


# --- request lines, methods ---------------------------------------------------------------

@pytest.mark.parametrize("line", [
    b"GARBAGE\r\n\r\n", b"GET /user/balance\r\n", b"GET / HTTP/9.9\r\n\r\n", b"   \r\n\r\n",
    b"GET / HTTP/1.1 extra\r\n\r\n", b"GET / FTP/1.1\r\n\r\n", b"\x00\x01\x02\r\n\r\n",
])
def test_a_malformed_request_line_gets_a_bad_request_answer(stack, line):
    status, headers, decoded = answer(Raw(stack).send(line).read_all())
    assert (status, decoded) == (200, BAD) and headers["connection"] == "close"


def test_a_request_line_cut_short_is_answered_not_run(stack):
    raw = Raw(stack).send(f"GET /user/balance?secret={stack.secret}&name=rich".encode())
    assert answer(raw.hang_up_writing().read_all())[2] == BAD


def test_head_answers_headers_only_and_keeps_the_connection_usable(stack):
    raw = Raw(stack)
    raw.send(f"HEAD /user/balance?secret={stack.secret}&name=rich HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    status, headers, rest = raw.read_response()
    assert status == 200 and headers["content-type"].startswith("application/json")
    assert int(headers["content-length"]) > 0 and rest == b""
    # The next request on the same connection is read from the right place.
    raw.send(f"GET /user/balance?secret={stack.secret}&name=rich HTTP/1.1\r\nHost: x\r\n"
             f"Connection: close\r\n\r\n".encode())
    status, headers, body = answer(raw.read_all())
    assert body["success"] is True and body["name"] == "rich"


@pytest.mark.parametrize("path,cors,body", [
    ("/pow/job", True, {"success": True}),
    ("/pow/submit", True, {"success": True}),
    ("/user/balance", False, {"success": False, "error": "wrong_method"}),
    ("/user/withdraw", False, {"success": False, "error": "wrong_method"}),
    ("/no/such/path", False, {"success": False, "error": "not_found"}),
    ("/siteverify", False, {"success": False, "error-codes": ["bad-request"]}),
])
def test_options_answers_contract_json(stack, path, cors, body):
    raw = Raw(stack).send(f"OPTIONS {path} HTTP/1.1\r\nHost: x\r\nOrigin: https://shop.example\r\n"
                          f"Access-Control-Request-Method: POST\r\n"
                          f"Access-Control-Request-Headers: content-type\r\nConnection: close\r\n\r\n"
                          .encode())
    status, headers, decoded = answer(raw.read_all())
    assert (status, decoded) == (200, body)
    # A CORS preflight succeeds only where the contract opens CORS (the proof-of-work API).
    assert ("access-control-allow-origin" in headers) is cors
    if cors:
        assert headers["access-control-allow-origin"] == "*"
        assert "POST" in headers["access-control-allow-methods"]
        assert "content-type" in headers["access-control-allow-headers"].lower()


@pytest.mark.parametrize("path,body", [
    ("/user/balance", {"success": False, "error": "wrong_method"}),
    ("/recaptcha/api/siteverify", {"success": False, "error-codes": ["bad-request"]}),
])
def test_a_method_no_route_declares_answers_contract_json(stack, path, body):
    raw = Raw(stack).send(f"TRACE {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                          .encode())
    status, _headers, decoded = answer(raw.read_all())
    assert (status, decoded) == (200, body)


# --- query bytes ------------------------------------------------------------------------

def test_raw_utf8_in_the_query_is_read_as_utf8(stack):
    raw = Raw(stack).send(b"GET /user/balance?secret=" + stack.secret.encode() + b"&name=ren\xc3\xa9 "
                          b"HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer(raw.read_all())[2] == {"success": True, "name": "ren\u00e9", "total": 7,
                                        "withdrawn": 0, "balance": 7}


def test_raw_bytes_that_are_not_utf8_are_bad_request(stack):
    raw = Raw(stack).send(b"GET /user/balance?secret=" + stack.secret.encode() + b"&name=ren\xe9 "
                          b"HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer(raw.read_all())[2] == BAD


# --- slow, idle and vanishing clients -------------------------------------------------------

def test_an_idle_connection_is_closed(stack):
    started = time.monotonic()
    assert Raw(stack).read_all() == b""
    assert IDLE - 0.5 < time.monotonic() - started < IDLE + 3


def test_a_slow_head_is_cut_at_the_request_deadline(stack):
    # One header byte a second keeps the idle timer happy, not the deadline.
    raw = Raw(stack).send(b"GET /user/balance HTTP/1.1\r\n")
    started = time.monotonic()
    try:
        for byte in b"X-Slow: " + b"a" * 20:
            raw.send(bytes([byte]))
            time.sleep(IDLE / 2)
            if time.monotonic() - started > DEADLINE + 4:
                break
    except (BrokenPipeError, ConnectionResetError):
        pass
    data = raw.read_all()
    assert time.monotonic() - started < DEADLINE + 5
    assert answer(data)[2] == BAD


def log_of(stack: LiveServer) -> str:
    with open(f"{stack.state_dir}/server.log", encoding="utf-8", errors="replace") as log:
        return log.read()


def test_a_client_hanging_up_is_one_quiet_log_line(stack):
    for _ in range(3):
        # Reset before the answer is written: a request and an immediate RST.
        raw = Raw(stack).send(form_post("/user/balance", b"x" * 10, length=1000))
        raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        raw.sock.close()
    time.sleep(1)
    log = log_of(stack)
    assert "Traceback" not in log and "Exception" not in log


# --- the log --------------------------------------------------------------------------------

def test_no_spelling_of_secret_puts_its_value_in_the_log(stack):
    values = [f"S{i}{secrets.token_hex(12)}" for i in range(12)]
    lines = [
        f"GET /user/balance?secret={values[0]}&name=a HTTP/1.1",
        f"GET /user/balance?%73ecret={values[1]}&name=a HTTP/1.1",
        f"GET /user/balance?SECRET={values[2]} HTTP/1.1",
        f"GET /user/balance?name=a&Secret={values[3]} HTTP/1.1",
        f"GET /user/balance?%2573ecret={values[4]} HTTP/1.1",
        f"GET /user/balance?secret%3D{values[5]} HTTP/1.1",
        f"GET /user/balance;secret={values[6]} HTTP/1.1",
        f"GET /x/secret={values[7]}/y HTTP/1.1",
        f"GET /user/balance?%53%45%43%52%45%54={values[8]} HTTP/1.1",
        f"GET /user/balance?secret={values[9]}",                       # HTTP/0.9: refused, logged
        f"GET /user/balance?secret={values[10]} HTTP/1.1 extra",       # malformed, logged
    ]
    before = len(log_of(stack))
    for line in lines:
        Raw(stack).send(line.encode() + b"\r\nHost: x\r\nConnection: close\r\n\r\n").read_all()
    # In a body: never logged, whatever the framing.
    Raw(stack).send(form_post("/user/balance", f"Secret={values[11]}".encode(),
                              extra="Connection: close\r\n")).read_all()
    time.sleep(0.5)
    log = log_of(stack)
    # Each request left one line: the app's (route, never path or query:
    # ops/request_log.py) or, for the two the server refused, its own, redacted.
    written = log[before:].splitlines()
    app_lines = [line for line in written if re.match(r"\d\d:\d\d:\d\d  (GET|POST) /", line)]
    assert len(app_lines) == len(lines) - 2 + 1, written
    assert sum("[redacted]" in line for line in written) >= 2, written
    leaked = [value for value in values if value in log or value[1:] in log]
    assert leaked == []
