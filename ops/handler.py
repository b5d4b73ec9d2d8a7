"""The request handler of `make run`'s API server: Chalice's, speaking strict HTTP/1.1.

A request runs only once all of it arrived (ops/framing.py); every refusal,
HEAD and OPTIONS is answered in the contract; idle and slow clients are let
go; the event carries the request's source (ops/addresses.py); no secret and
no client address reaches the log (ops/redact.py, keyed hashes).
"""
from __future__ import annotations

import json
import sys
from typing import Any, BinaryIO, cast

from chalice.local import ChaliceRequestHandler, LocalGatewayException

from chalicelib.siteverify import PATHS as SITEVERIFY_PATHS
from ops import request_log
from ops.addresses import X_FORWARDED_FOR, Network, log_tag, source_ip
from ops.demo_server import DEMO_PATHS, demo_response, remember_rotated_demo_secret, utf8_path
from ops.framing import Deadline, HeadReader, Malformed, read_body
from ops.redact import redact

DEFAULT_IDLE_TIMEOUT = 30.0      # seconds a connection may send or take nothing
DEFAULT_REQUEST_DEADLINE = 30.0  # seconds from a request's first line to its last body byte
MAX_EMPTY_LINES = 4
JSON_TYPE = "application/json; charset=utf-8"


class SourceEvents:
    """Chalice's event converter, with the request's source in the event.

    chalice.local reports 127.0.0.1 for every request; API Gateway reports
    the client's address, which per-source limits depend on.
    """

    def __init__(self, converter: Any) -> None:
        self._converter = converter
        self.source_ip = ""

    def create_lambda_event(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        event: dict[str, Any] = self._converter.create_lambda_event(*args, **kwargs)
        event["requestContext"]["identity"]["sourceIp"] = self.source_ip
        return event


class RequestHandler(ChaliceRequestHandler):
    """Chalice's handler, speaking strict HTTP/1.1 and the contract on every answer."""

    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall per answer
    # Set per server by `handler_class`:
    timeout: float = DEFAULT_IDLE_TIMEOUT  # per read or write: idle and stalled clients are let go
    request_deadline: float = DEFAULT_REQUEST_DEADLINE  # first line to last body byte
    proxies: tuple[Network, ...] = ()  # whose forwarding header counts
    proxy_header = X_FORWARDED_FOR  # the one they write (X-Forwarded-For or Forwarded)
    default_request_version = "HTTP/1.0"  # refusals before a version is read get a status line
    body: bytes = b""
    head_only = False
    path: str
    rfile: BinaryIO | HeadReader  # a HeadReader over the connection's while a request is read
    _stream: BinaryIO  # the connection's own rfile
    _deadline: Deadline | None = None
    _events: SourceEvents
    _source_tag: str

    def setup(self) -> None:
        super().setup()
        self._stream = cast(BinaryIO, self.rfile)  # what StreamRequestHandler.setup made
        self._events = SourceEvents(self.local_gateway.event_converter)
        # Duck-typed: the gateway only calls create_lambda_event.
        self.local_gateway.event_converter = self._events  # type: ignore[assignment]
        self._source_tag = log_tag(source_ip(self.client_address[0], [], ()))

    def _note_source(self) -> None:
        """This request's source, for the app's event and (as a keyed hash) the log."""
        source = source_ip(self.client_address[0], self.headers.get_all(self.proxy_header) or [],
                           self.proxies, self.proxy_header)
        self._events.source_ip = source
        self._source_tag = log_tag(source)
        request_log.set_source_tag(self._source_tag)

    # --- reading a request ------------------------------------------------------
    def _new_request(self) -> HeadReader:
        """Forget the last request; the reader of the next one's head."""
        reader = HeadReader(self._stream)
        self.rfile = reader
        self._deadline = None
        self.body, self.head_only = b"", False
        self.command, self.requestline, self.request_version = "", "", "HTTP/1.1"
        return reader

    def handle_one_request(self) -> None:
        reader = self._new_request()
        try:
            if self._read_request(reader):
                self._run()
        except Malformed as exc:
            expired = self._deadline is not None and self._deadline.expired
            self._refuse("read deadline passed" if expired else str(exc))
        except TimeoutError:
            self.log_message("client idle past %ss: connection closed", self.timeout)
            if self._deadline:  # a request had begun: say why it was not served
                self._refuse("timed out")
            self.close_connection = True
        except ConnectionError as exc:
            self.log_message("client closed the connection (%s)", type(exc).__name__)
            self.close_connection = True
        finally:
            if self._deadline:
                self._deadline.cancel()
            self.rfile = self._stream
            request_log.set_source_tag(None)

    def _read_request_line(self, reader: HeadReader) -> bool:
        """The request line (its deadline starts); False when the client is done."""
        self.raw_requestline = reader.readline(65537)
        for _ in range(MAX_EMPTY_LINES):  # RFC 9112: empty lines before a request are ignored
            if self.raw_requestline not in (b"\r\n", b"\n"):
                break
            self.raw_requestline = reader.readline(65537)
        if not self.raw_requestline:
            self.close_connection = True  # nothing to answer
            return False
        self._deadline = Deadline(self.connection, self.request_deadline)
        if len(self.raw_requestline) > 65536:
            raise Malformed("request line over 64 kB")
        if reader.cut_short or len(self.raw_requestline.split()) != 3:
            # Not `method target version` (an HTTP/0.9 line, garbage, a
            # line cut short): answered, never read as a request.
            self.requestline = self.raw_requestline.decode("latin-1").rstrip("\r\n")
            raise Malformed("malformed request line")
        return True

    def _read_request(self, reader: HeadReader) -> bool:
        """All of the request, strictly framed; False when there is nothing to run."""
        if not self._read_request_line(reader):
            return False
        reader.start_head()
        if not self.parse_request():
            return False  # answered by send_error, in the contract
        if reader.cut_short:
            raise Malformed("head ended before its empty line")
        reader.check_field_lines()
        self.body = read_body(self.headers, reader)
        if self._deadline:
            self._deadline.cancel()
        return True

    def _run(self) -> None:
        self.head_only = self.command == "HEAD"
        handler = getattr(self, "do_" + self.command, None)
        if handler is None:
            self.send_error(501, f"unsupported method {self.command!r}")
            return
        handler()
        self.wfile.flush()

    def _refuse(self, reason: str) -> None:
        try:
            self.send_error(400, reason)
        except OSError:
            self.log_message("client gone before its bad_request answer")
        self.close_connection = True

    def _parse_payload(self) -> tuple[dict[str, str], bytes | None]:
        headers = {k: v for k, v in self.headers.items() if k.lower() != "transfer-encoding"}
        headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
        headers["Content-Length"] = str(len(self.body))
        return headers, (self.body or None)

    # --- answering ---------------------------------------------------------------
    def _generic_handle(self) -> None:
        path = utf8_path(self.path)
        if path is None:
            self._refuse("request target is not UTF-8")
            return
        self.path = path
        self._note_source()
        if self.path.split("?")[0] in DEMO_PATHS:
            status, out_headers, out = demo_response(
                self.command, self.path.split("?")[0], self.body, self.server)
            self._send_http_response(status, out_headers, out)
            return
        if self.command == "OPTIONS":
            self._options()
            return
        if self.head_only:
            self.command = "GET"  # HEAD is GET without the body (RFC 9110)
        super()._generic_handle()

    def _options(self) -> None:
        """CORS preflight where a route allows it; elsewhere the contract's answer."""
        headers, _body = self._parse_payload()
        try:
            answer = self.local_gateway.handle_request(
                method="OPTIONS", path=self.path, headers=headers, body=None)
        except LocalGatewayException as error:
            self._send_error_response(error)
            return
        if answer.get("body") is not None:  # a route's own OPTIONS view (the catch-alls)
            self._send_http_response(answer["statusCode"], dict(answer["headers"]), answer["body"])
        elif "Access-Control-Allow-Origin" in answer["headers"]:
            self._send_http_response(200, {**answer["headers"], "Content-Type": JSON_TYPE},
                                     '{"success":true}')
        else:
            self._send_http_response(200, {"Content-Type": JSON_TYPE},
                                     refusal(self.path, "wrong_method").decode())

    def _send_http_response_with_body(self, code: int, headers: dict[str, Any],
                                      body: str | bytes) -> None:
        if not self.head_only:
            super()._send_http_response_with_body(code, headers, body)
            return
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Type", headers.pop("Content-Type", JSON_TYPE))
        self._send_headers(headers)

    def _send_http_response(self, code: int, headers: Any, body: Any) -> None:
        if body is not None and self.command == "POST":
            remember_rotated_demo_secret(self.path.split("?")[0], body)
        super()._send_http_response(code, headers, body)

    # The base class bound do_* to its own _generic_handle: rebind to ours.
    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's own errors (414, 400, 501...) in the contract, not HTML."""
        error = {404: "not_found", 501: "wrong_method"}.get(code, "bad_request")
        body = refusal(getattr(self, "path", ""), error)
        self.log_error("code %d, message %s", code, message)
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and not self.head_only:
            self.wfile.write(body)

    def _send_error_response(self, error: LocalGatewayException) -> None:
        # API Gateway's "Missing Authentication Token" means "no such path".
        self._send_http_response(200, {"Content-Type": JSON_TYPE},
                                 '{"success":false,"error":"not_found"}')

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The app printed this request's line (ops/request_log.py): one line per request.
        if not request_log.take_printed():
            super().log_request(code, size)

    def log_message(self, format: str, *args: Any) -> None:
        message = redact(format % args)
        # The client as a keyed hash: addresses are personal data, never logged in the clear.
        sys.stderr.write(f"source={self._source_tag} - - [{self.log_date_time_string()}] {message}\n")



def refusal(path: str, code: str) -> bytes:
    """The server's own refusal of a request the app never sees (a method no
    route declares, a malformed one): the contract's error, in siteverify's
    shape on its paths (which answer every such request `bad-request`)."""
    if path.split("?", 1)[0] in SITEVERIFY_PATHS:
        return json.dumps({"success": False, "error-codes": ["bad-request"]}).encode()
    return json.dumps({"success": False, "error": code}).encode()


def handler_class(idle_timeout: float, request_deadline: float,
                  proxies: tuple[Network, ...] = (),
                  proxy_header: str = X_FORWARDED_FOR) -> type[RequestHandler]:
    """The handler with this server's timeouts, trusted proxies and the header they write."""
    return type("RequestHandler", (RequestHandler,), {
        "timeout": idle_timeout, "request_deadline": request_deadline, "proxies": proxies,
        "proxy_header": proxy_header})
