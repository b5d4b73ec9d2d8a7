"""`make run`'s API server: Chalice's local server, run programmatically.

Its handler reads chunked bodies, never logs a secret, answers unknown
paths with the contract, serves the demo page, and listens with a backlog
of 128 so bursts of clients are not reset.
"""
from __future__ import annotations

import json
import re
import sys
from http.server import HTTPServer
from socketserver import ThreadingMixIn
from typing import Any

from ops.paths import DEMO_FILE, ROOT

MAX_LOCAL_BODY = 1024 * 1024
_SECRET_RE = re.compile(r"((?:^|[?&;])secret=)[^&;\s]*", re.IGNORECASE)


def redact(text: str) -> str:
    """Hide the value of every `secret` query parameter in a log line."""
    return _SECRET_RE.sub(r"\1[redacted]", text)


DEMO_PATHS = ("/", "/demo/demo.js", "/demo/verify", "/demo/link")


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
    if method != "POST":
        return 200, {"Content-Type": "application/json"}, '{"success":false,"error":"wrong_method"}'
    form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    api = f"http://{server.server_address[0]}:{server.server_address[1]}"

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


def _handler_class() -> type:
    from chalice.local import ChaliceRequestHandler, LocalGatewayException

    class RequestHandler(ChaliceRequestHandler):
        """Chalice's handler, plus chunked bodies, redacted logs, contract 404s."""

        disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall per answer

        def _read_chunked(self) -> bytes:
            body = bytearray()
            while True:
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024).strip():
                        pass  # trailers
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline(8)
                if len(body) > MAX_LOCAL_BODY:
                    raise ValueError("body too large")

        def _parse_payload(self):
            headers = dict(self.headers)
            if "chunked" in self.headers.get("transfer-encoding", "").lower():
                body = self._read_chunked()
                headers = {k: v for k, v in headers.items() if k.lower() != "transfer-encoding"}
                headers["Content-Length"] = str(len(body))
                return headers, body or None
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_LOCAL_BODY:
                raise ValueError("body too large")
            return headers, (self.rfile.read(length) if length > 0 else None)

        def _generic_handle(self) -> None:
            try:
                if self.path.split("?")[0] in DEMO_PATHS:
                    _headers, body = self._parse_payload()
                    status, out_headers, out = demo_response(
                        self.command, self.path.split("?")[0], body or b"", self.server)
                    self._send_http_response(status, out_headers, out)
                    return
                super()._generic_handle()
            except (ValueError, OSError):
                self.close_connection = True
                self._send_http_response(200, {"Content-Type": "application/json",
                                               "Connection": "close"},
                                         '{"success":false,"error":"bad_request"}')

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
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD" and getattr(self, "request_version", "HTTP/0.9") != "HTTP/0.9":
                self.wfile.write(body)

        def _send_error_response(self, error: LocalGatewayException) -> None:
            # API Gateway's "Missing Authentication Token" means "no such path".
            self._send_http_response(200, {"Content-Type": "application/json"},
                                     '{"success":false,"error":"not_found"}')

        def log_message(self, format: str, *args: Any) -> None:
            line = f"{self.address_string()} - - [{self.log_date_time_string()}] {format % args}\n"
            sys.stderr.write(redact(line))

    return RequestHandler


class _Server(ThreadingMixIn, HTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True


def api_server(host: str, port: int, stage: str = "dev") -> Any:
    """Chalice's LocalDevServer over app.py, with the handler and backlog above."""
    from chalice.cli import factory
    from chalice.local import LocalDevServer, create_local_server  # noqa: F401

    session_factory = factory.CLIFactory(project_dir=str(ROOT))
    config = session_factory.create_config_obj(chalice_stage_name=stage)
    app = session_factory.load_chalice_app()
    from chalice.local import CustomLocalChalice, LocalChalice

    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, handler_cls=_handler_class(),
                          server_cls=_Server)
