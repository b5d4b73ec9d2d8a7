"""Strict HTTP/1.1 message framing for `make run`'s server (RFC 9112).

A request runs only when all of it arrived: a head ended by its empty
line, then exactly Content-Length bytes or a well-formed chunked body. A
size is validated before anything is read or allocated; anything else is
`Malformed` and the server answers `bad_request` without running the view
(a withdrawal of 40000 cut short must not run as one of 4).
"""
from __future__ import annotations

import re
import socket
import threading
from email.message import Message
from typing import Any, BinaryIO, Protocol

MAX_BODY_BYTES = 1024 * 1024
MAX_LINE_BYTES = 8192
MAX_TRAILER_LINES = 64
_CONTENT_LENGTH = re.compile(rb"[0-9]{1,19}")
# chunk-size [ BWS ";" chunk-ext ]: 1-8 hex digits (4 GiB is far above any cap).
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,8})(?:[ \t]*;[\x21-\x7e \t]*)?")
# field-line = field-name ":" OWS field-value OWS; field-name is a token (RFC 9110 5.1, 9112 5).
_FIELD_NAME = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class Readable(Protocol):
    """What the framing reads from: a socket's rfile, or a HeadReader over it."""

    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, size: int = -1, /) -> bytes: ...


class Malformed(Exception):
    """The request is not a complete, well-framed HTTP/1.1 message."""


class HeadReader:
    """A request's rfile that remembers whether the head ended early.

    The standard library reads header lines until an empty line *or* the end
    of the stream, so a client that hangs up mid-head would otherwise be
    served as if its head were complete.
    """

    def __init__(self, rfile: BinaryIO) -> None:
        self._rfile = rfile
        self.cut_short = False
        # The head's lines as sent, kept between start_head() and the head's end:
        # the standard library's parser skips what it cannot read, e.g. `Content-Length : 5`.
        self.head_lines: list[bytes] | None = None

    def readline(self, limit: int = -1) -> bytes:
        line = self._rfile.readline(limit)
        if not line.endswith(b"\n") and (limit < 0 or len(line) < limit):
            self.cut_short = True
        if self.head_lines is not None:
            self.head_lines.append(line)
        return line

    def start_head(self) -> None:
        """Keep the lines read from now on (the header fields after the request line)."""
        self.head_lines = []

    def check_field_lines(self) -> None:
        """`Malformed` unless every kept line is `name: value` (the empty line ends them).

        RFC 9112 5.1: whitespace between a field name and its colon is answered
        400, never read (a proxy may read `Content-Length : 5` where we would not:
        a body smuggled as a second request). A line folded onto the previous one
        (obs-fold) is refused too (RFC 9112 5.2).
        """
        lines, self.head_lines = self.head_lines or [], None
        for line in lines:
            if line in (b"\r\n", b"\n"):
                return
            name, colon, _value = line.partition(b":")
            if not colon or not _FIELD_NAME.fullmatch(name):
                if colon and _FIELD_NAME.fullmatch(name.rstrip(b" \t")):
                    raise Malformed("whitespace between a field name and its colon")
                raise Malformed("header line is not `name: value`")

    def read(self, size: int = -1) -> bytes:
        return self._rfile.read(size)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rfile, name)


def _read_exactly(rfile: Readable, size: int) -> bytes:
    data = rfile.read(size) if size else b""
    if len(data) != size:
        raise Malformed(f"body ended after {len(data)} of {size} bytes")
    return data


def _line(rfile: Readable) -> bytes:
    line = rfile.readline(MAX_LINE_BYTES + 1)
    if len(line) > MAX_LINE_BYTES:
        raise Malformed("line too long")
    if not line.endswith(b"\n"):
        raise Malformed("stream ended inside a line")
    return line.rstrip(b"\r\n")


def read_chunked(rfile: Readable, limit: int = MAX_BODY_BYTES) -> bytes:
    body = bytearray()
    while True:
        match = _CHUNK_SIZE.fullmatch(_line(rfile))
        if not match:
            raise Malformed("chunk size is not 1-8 hex digits")
        size = int(match.group(1), 16)
        if size == 0:
            break
        if len(body) + size > limit:
            raise Malformed("chunked body over the limit")
        body += _read_exactly(rfile, size)
        if _read_exactly(rfile, 2) != b"\r\n":
            raise Malformed("chunk data not followed by CRLF")
    for _ in range(MAX_TRAILER_LINES):
        if not _line(rfile):
            return bytes(body)
    raise Malformed("too many trailer lines")


def read_body(headers: Message, rfile: Readable, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body framed by `headers` (an email.message.Message)."""
    encodings = headers.get_all("Transfer-Encoding") or []
    lengths = headers.get_all("Content-Length") or []
    if encodings:
        if lengths:
            raise Malformed("both Transfer-Encoding and Content-Length")
        if [e.strip().lower() for e in ",".join(encodings).split(",")] != ["chunked"]:
            raise Malformed("a transfer coding other than chunked")
        return read_chunked(rfile, limit)
    if not lengths:
        return b""
    values = {value.strip() for value in ",".join(lengths).split(",")}
    if len(values) != 1 or not _CONTENT_LENGTH.fullmatch(next(iter(values)).encode("latin-1")):
        raise Malformed("Content-Length is not one decimal number")
    size = int(next(iter(values)))
    if size > limit:
        raise Malformed("body over the limit")
    return _read_exactly(rfile, size)


class Deadline:
    """Ends reading from a connection `seconds` from now (a slow client's time is up).

    Shutting the socket's read side makes a blocked read return end-of-stream,
    which the framing above turns into `Malformed`; the answer can still be sent.
    """

    def __init__(self, connection: socket.socket, seconds: float) -> None:
        self._connection = connection
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        self.expired = True
        try:
            self._connection.shutdown(socket.SHUT_RD)
        except OSError:
            pass

    def cancel(self) -> None:
        self._timer.cancel()
