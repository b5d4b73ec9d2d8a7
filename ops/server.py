"""`make run`'s API server: Chalice's local server, run programmatically.

Its handler (ops/handler.py) speaks strict HTTP/1.1 (ops/framing.py: a request
runs only once all of it arrived; chunked bodies read; sizes checked before
reading), answers every refusal, HEAD and OPTIONS in the contract, lets idle
and slow clients go, hands the app each request's source, never logs a secret
or a client address, serves the demo page (ops/demo_server.py); the server
listens with a backlog of 128 so bursts of clients are not reset.
"""
from __future__ import annotations

import os
import sys
from http.server import HTTPServer
from socketserver import ThreadingMixIn
from typing import Any

from ops.addresses import X_FORWARDED_FOR, Network, family, log_tag
from ops.handler import DEFAULT_IDLE_TIMEOUT, DEFAULT_REQUEST_DEADLINE, handler_class
from ops.paths import ROOT

ENV_IDLE_TIMEOUT = "WORKPROOF_IDLE_TIMEOUT"
ENV_REQUEST_DEADLINE = "WORKPROOF_REQUEST_DEADLINE"


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


def api_server(host: str, port: int, stage: str = "dev", proxies: tuple[Network, ...] = (),
               proxy_header: str = X_FORWARDED_FOR) -> Any:
    """Chalice's LocalDevServer over app.py, with the handler and backlog above."""
    from chalice.cli import factory
    from chalice.local import LocalDevServer, create_local_server  # noqa: F401

    session_factory = factory.CLIFactory(project_dir=str(ROOT))
    config = session_factory.create_config_obj(chalice_stage_name=stage)
    app = session_factory.load_chalice_app()
    from chalice.local import CustomLocalChalice, LocalChalice

    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    handler = handler_class(_seconds(ENV_IDLE_TIMEOUT, DEFAULT_IDLE_TIMEOUT),
                            _seconds(ENV_REQUEST_DEADLINE, DEFAULT_REQUEST_DEADLINE), proxies,
                            proxy_header)
    return LocalDevServer(app, config, host, port, handler_cls=handler, server_cls=_Server)
