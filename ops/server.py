"""`make run`'s API server: Chalice's local server, run programmatically.

Its handler speaks strict HTTP/1.1 (ops/framing.py: a request runs only
once all of it arrived; chunked bodies read; sizes checked before reading),
answers every refusal, HEAD and OPTIONS in the contract, lets idle and slow
clients go, never logs a secret (ops/redact.py), serves the demo page, and
listens with a backlog of 128 so bursts of clients are not reset.
"""
from __future__ import annotations

import json
import os
import sys
from http.server import HTTPServer
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import quote

from ops import request_log
from ops.addresses import Network, family, log_tag, source_ip, url_host
from ops.framing import MAX_BODY_BYTES, Deadline, HeadReader, Malformed, read_body
from ops.paths import DEMO_FILE, ROOT
from ops.redact import redact

MAX_LOCAL_BODY = MAX_BODY_BYTES
ENV_IDLE_TIMEOUT = "WORKPROOF_IDLE_TIMEOUT"
ENV_REQUEST_DEADLINE = "WORKPROOF_REQUEST_DEADLINE"
DEFAULT_IDLE_TIMEOUT = 30.0      # seconds a connection may send or take nothing
DEFAULT_REQUEST_DEADLINE = 30.0  # seconds from a request's first line to its last body byte
MAX_EMPTY_LINES = 4
JSON_TYPE = "application/json; charset=utf-8"
# Everything printable in ASCII stays as sent; only other bytes are escaped.
_ASCII_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))


def utf8_path(path: str) -> str | None:
    """The request target with raw UTF-8 bytes percent-encoded, as API Gateway reads them.

    http.server decodes the request line as Latin-1, so raw UTF-8 in a query
    would reach the app as mojibake; None when the bytes are not UTF-8.
    """
    if path.isascii():
        return path
    raw = path.encode("latin-1")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return quote(raw, safe=_ASCII_SAFE)


DEMO_PATHS = ("/", "/demo/demo.js", "/demo/demo.css", "/demo/verify", "/demo/link")


def demo_response(method: str, path: str, body: bytes, server: Any) -> tuple[int, dict, str]:
    """The demo page, and its backend calls made with the demo site's secret."""
    import urllib.parse
    import urllib.request

    from ops import demo

    site = json.loads(DEMO_FILE.read_text())
    if path == "/":
        return (200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
                demo.render_demo_page(site["site_key"]))
    if path == "/demo/demo.js":
        return (200, {"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-store"},
                demo.demo_script())
    if path == "/demo/demo.css":
        return (200, {"Content-Type": "text/css; charset=utf-8", "Cache-Control": "no-store"},
                demo.demo_style())
    if method != "POST":
        return 200, {"Content-Type": "application/json"}, '{"success":false,"error":"wrong_method"}'
    form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    api = f"http://{url_host(server.server_address[0])}:{server.server_address[1]}"

    def call(endpoint: str, **params: Any) -> dict:
        # Exactly what a site's backend does: POST the parameters with the secret.
        data = urllib.parse.urlencode({"secret": site["secret"], **params}).encode()
        with urllib.request.urlopen(f"{api}{endpoint}", data=data, timeout=10) as answer:
            return json.loads(answer.read())

    if path == "/demo/verify":
        result = demo.verify_demo_form(
            form, lambda token, hashes: call("/token/verify", token=token, hashes=hashes))
    else:
        result = demo.create_demo_link(
            form, lambda url, hashes: call("/link/create", url=url, hashes=hashes))
    return 200, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(result)


DASHBOARD_ROTATE_PATH = "/dashboard/settings/rotate"


def remember_rotated_demo_secret(path: str, body: str | bytes) -> bool:
    """Keep `.workproof/demo.json` in step when the dashboard rotates the demo site's
    secret: the demo page's backend calls use that file's secret. True if it changed."""
    if path != DASHBOARD_ROTATE_PATH or not DEMO_FILE.exists():
        return False
    try:
        answer = json.loads(body)
        demo = json.loads(DEMO_FILE.read_text())
    except ValueError:
        return False
    if not isinstance(answer, dict) or answer.get("success") is not True \
            or answer.get("siteKey") != demo.get("site_key") or not answer.get("secret"):
        return False
    demo["secret"] = answer["secret"]
    partial = DEMO_FILE.with_suffix(".tmp")
    partial.touch(mode=0o600)
    partial.write_text(json.dumps(demo, indent=2) + "\n")
    partial.replace(DEMO_FILE)
    return True


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


def _handler_class(idle_timeout: float, request_deadline: float,
                   proxies: tuple[Network, ...] = ()) -> type:
    from chalice.local import ChaliceRequestHandler, LocalGatewayException

    class RequestHandler(ChaliceRequestHandler):
        """Chalice's handler, speaking strict HTTP/1.1 and the contract on every answer."""

        disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall per answer
        timeout = idle_timeout  # per read or write: idle and stalled clients are let go
        default_request_version = "HTTP/1.0"  # refusals before a version is read get a status line
        body: bytes = b""
        head_only = False

        def setup(self) -> None:
            super().setup()
            self._stream = self.rfile
            self._events = SourceEvents(self.local_gateway.event_converter)
            self.local_gateway.event_converter = self._events
            self._source_tag = log_tag(source_ip(self.client_address[0], [], ()))

        def _note_source(self) -> None:
            """This request's source, for the app's event and (as a keyed hash) the log."""
            source = source_ip(self.client_address[0], self.headers.get_all("X-Forwarded-For") or [],
                               proxies)
            self._events.source_ip = source
            self._source_tag = log_tag(source)
            request_log.set_source_tag(self._source_tag)

        # --- reading a request ------------------------------------------------------
        def handle_one_request(self) -> None:
            reader = self.rfile = HeadReader(self._stream)
            deadline: Deadline | None = None
            self.body, self.head_only = b"", False
            self.command, self.requestline, self.request_version = "", "", "HTTP/1.1"
            try:
                self.raw_requestline = reader.readline(65537)
                for _ in range(MAX_EMPTY_LINES):  # RFC 9112: empty lines before a request are ignored
                    if self.raw_requestline not in (b"\r\n", b"\n"):
                        break
                    self.raw_requestline = reader.readline(65537)
                if not self.raw_requestline:
                    self.close_connection = True  # the client is done: nothing to answer
                    return
                deadline = Deadline(self.connection, request_deadline)
                if len(self.raw_requestline) > 65536:
                    raise Malformed("request line over 64 kB")
                if reader.cut_short or len(self.raw_requestline.split()) != 3:
                    # Not `method target version` (an HTTP/0.9 line, garbage, a
                    # line cut short): answered, never read as a request.
                    self.requestline = self.raw_requestline.decode("latin-1").rstrip("\r\n")
                    raise Malformed("malformed request line")
                reader.start_head()
                if not self.parse_request():
                    return  # answered by send_error, in the contract
                if reader.cut_short:
                    raise Malformed("head ended before its empty line")
                reader.check_field_lines()
                self.body = read_body(self.headers, reader)
                deadline.cancel()
                self.head_only = self.command == "HEAD"
                handler = getattr(self, "do_" + self.command, None)
                if handler is None:
                    self.send_error(501, f"unsupported method {self.command!r}")
                    return
                handler()
                self.wfile.flush()
            except Malformed as exc:
                reason = "read deadline passed" if deadline and deadline.expired else str(exc)
                self._refuse(reason)
            except TimeoutError:
                self.log_message("client idle past %ss: connection closed", idle_timeout)
                if deadline:  # a request had begun: say why it was not served
                    self._refuse("timed out")
                self.close_connection = True
            except ConnectionError as exc:
                self.log_message("client closed the connection (%s)", type(exc).__name__)
                self.close_connection = True
            finally:
                if deadline:
                    deadline.cancel()
                self.rfile = self._stream
                request_log.set_source_tag(None)

        def _refuse(self, reason: str) -> None:
            try:
                self.send_error(400, reason)
            except OSError:
                self.log_message("client gone before its bad_request answer")
            self.close_connection = True

        def _parse_payload(self):
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
                                         '{"success":false,"error":"wrong_method"}')

        def _send_http_response_with_body(self, code: int, headers: dict, body) -> None:
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
            body = json.dumps({"success": False, "error": error}).encode()
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

    return RequestHandler


class _Server(ThreadingMixIn, HTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: Any) -> None:
        self.address_family = family(address[0])  # ::1 listens on IPv6
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client's network trouble is one log line; anything else keeps its traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            sys.stderr.write(f"source={log_tag(str(client_address[0]))} - - connection error: "
                             f"{type(error).__name__}\n")
            return
        super().handle_error(request, client_address)


def _seconds(variable: str, default: float) -> float:
    value = float(os.environ.get(variable) or default)
    if not value > 0:
        raise SystemExit(f"error: {variable} must be a positive number of seconds")
    return value


def api_server(host: str, port: int, stage: str = "dev", proxies: tuple[Network, ...] = ()) -> Any:
    """Chalice's LocalDevServer over app.py, with the handler and backlog above."""
    from chalice.cli import factory
    from chalice.local import LocalDevServer, create_local_server  # noqa: F401

    session_factory = factory.CLIFactory(project_dir=str(ROOT))
    config = session_factory.create_config_obj(chalice_stage_name=stage)
    app = session_factory.load_chalice_app()
    from chalice.local import CustomLocalChalice, LocalChalice

    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    handler = _handler_class(_seconds(ENV_IDLE_TIMEOUT, DEFAULT_IDLE_TIMEOUT),
                             _seconds(ENV_REQUEST_DEADLINE, DEFAULT_REQUEST_DEADLINE), proxies)
    return LocalDevServer(app, config, host, port, handler_cls=handler, server_cls=_Server)
