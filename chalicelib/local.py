"""`make run`: the embedded DynamoDB-compatible store and the local API server.

The store is moto's DynamoDB served behind one lock per request (moto is
not atomic under threads; real DynamoDB is), snapshotted to a file on exit
and restored on start. The API is Chalice's local server, run
programmatically with a handler that reads chunked bodies, never logs a
secret, answers unknown paths with the contract, and a listen backlog of
128 so bursts of clients are not reset.
"""
from __future__ import annotations

import base64
import json
import os
import re
import secrets
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from http.server import HTTPServer
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ENV_STATE_DIR = "WORKPROOF_STATE_DIR"
STATE_DIR = Path(os.environ.get(ENV_STATE_DIR) or ROOT / ".workproof")
DEMO_FILE = STATE_DIR / "demo.json"
SIGNING_FILE = STATE_DIR / "signing.key"
SNAPSHOT_FILE = STATE_DIR / "store.json"
ENV_API_PORT = "WORKPROOF_PORT"
ENV_STORE_PORT = "WORKPROOF_STORE_PORT"
ENV_HOST = "WORKPROOF_HOST"
# Diagnostics only: serve moto without the lock, to show what it breaks.
ENV_STORE_UNLOCKED = "WORKPROOF_STORE_UNLOCKED"
MAX_LOCAL_BODY = 1024 * 1024
_SECRET_RE = re.compile(r"((?:^|[?&;])secret=)[^&;\s]*", re.IGNORECASE)


def redact(text: str) -> str:
    """Hide the value of every `secret` query parameter in a log line."""
    return _SECRET_RE.sub(r"\1[redacted]", text)


# --- the embedded store ----------------------------------------------------

class SerialisedApp:
    """WSGI middleware: one request at a time, so moto behaves atomically."""

    def __init__(self, app: Callable) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        with self.lock:
            result = self.app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close:
                    close()


class StoreServer:
    """moto's DynamoDB on host:port, in a background thread, serialised."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8001, serialise: bool = True) -> None:
        import logging

        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per store call

        app = DomainDispatcherApplication(create_backend_app)
        if serialise:
            app = SerialisedApp(app)
        self.server = make_server(host, port, app, threaded=True)
        self.server.socket.listen(128)
        self.host, self.port = host, self.server.server_port
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> StoreServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _dynamodb() -> Any:
    import boto3

    return boto3.client("dynamodb")


def snapshot(path: Path) -> int:
    """Write every item of every table to `path` (offline: scans allowed here)."""
    from chalicelib import models

    client = _dynamodb()
    data: dict[str, list] = {}
    for model in models.all_models():
        items: list = []
        for page in client.get_paginator("scan").paginate(TableName=model.Meta.table_name):
            items.extend(page["Items"])
        data[model.Meta.table_name] = items
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, default=_encode_bytes))
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return sum(len(v) for v in data.values())


def _encode_bytes(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"__b64__": base64.b64encode(value).decode()}
    raise TypeError(type(value))


def restore(path: Path) -> int:
    """Load a snapshot written by `snapshot` into (empty) tables."""
    if not path.exists():
        return 0
    data = json.loads(path.read_text())
    client = _dynamodb()
    count = 0
    for table, items in data.items():
        for start in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]
            client.batch_write_item(RequestItems={table: batch})
            count += len(batch)
    return count


# --- the demo (local server only: it holds the demo site's secret) ---------

DEMO_PATHS = ("/", "/demo/verify", "/demo/link")


def demo_response(method: str, path: str, body: bytes, server: Any) -> tuple[int, dict, str]:
    """The demo page, and its backend calls made with the demo site's secret."""
    import urllib.parse
    import urllib.request

    from chalicelib import demo

    site = json.loads(DEMO_FILE.read_text())
    if path == "/":
        return (200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
                demo.render_demo_page(site["site_key"]))
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


# --- the API server --------------------------------------------------------

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


# --- make run ----------------------------------------------------------------

def local_environment(store_url: str) -> None:
    """Fake credentials, a region and the store endpoint, for this process."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = store_url


def signing_keys_spec() -> str:
    """This machine's signing key (generated once, kept out of the repository)."""
    STATE_DIR.mkdir(mode=0o700, exist_ok=True)
    if not SIGNING_FILE.exists():
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        SIGNING_FILE.write_text(f"local1:{key}\n")
        os.chmod(SIGNING_FILE, 0o600)
    return SIGNING_FILE.read_text().strip()


def ensure_demo_site() -> dict[str, str]:
    from chalicelib import sites

    if DEMO_FILE.exists():
        demo = json.loads(DEMO_FILE.read_text())
        if sites.get_site(demo.get("site_key", "")) is not None:
            return demo
    info, secret = sites.create_site("demo")
    demo = {"name": info.name, "site_key": info.site_key, "secret": secret}
    STATE_DIR.mkdir(mode=0o700, exist_ok=True)
    DEMO_FILE.write_text(json.dumps(demo, indent=2) + "\n")
    os.chmod(DEMO_FILE, 0o600)
    return demo


def _check_port_free(host: str, port: int, variable: str) -> None:
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise SystemExit(f"error: {host}:{port} is in use (another `make run`?); "
                             f"set {variable} to another port") from None


def main() -> int:
    host = os.environ.get(ENV_HOST, "127.0.0.1")
    api_port = int(os.environ.get(ENV_API_PORT, "8000"))
    store_port = int(os.environ.get(ENV_STORE_PORT, "8001"))
    unlocked = os.environ.get(ENV_STORE_UNLOCKED) == "1"
    for port, variable in ((store_port, ENV_STORE_PORT), (api_port, ENV_API_PORT)):
        _check_port_free(host, port, variable)
    store = StoreServer(host, store_port, serialise=not unlocked).start()
    if unlocked:
        # Frequent thread switches make moto's interleavings show up at once.
        sys.setswitchinterval(1e-6)
        print("WARNING: store served WITHOUT its lock: writes are not atomic", flush=True)
    local_environment(store.url)
    from chalicelib import config
    os.environ.setdefault(config.ENV_SIGNING_KEYS, signing_keys_spec())

    from chalicelib import admin_tables, models

    models.bind()
    admin_tables.create_tables("local")
    restored = restore(SNAPSHOT_FILE)
    demo = ensure_demo_site()
    server = api_server(host, api_port)
    print(f"Workproof store on {store.url} ({restored} items restored from {SNAPSHOT_FILE})")
    print(f"Demo site: site_key={demo['site_key']} secret={demo['secret']} (in {DEMO_FILE})")
    print(f"Workproof API on http://{host}:{api_port}  (demo page: http://{host}:{api_port}/)",
          flush=True)

    def stop(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        count = snapshot(SNAPSHOT_FILE)
        print(f"\nSnapshot of {count} items written to {SNAPSHOT_FILE}", flush=True)
        store.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
