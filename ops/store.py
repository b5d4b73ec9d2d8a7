"""The embedded DynamoDB-compatible store behind `make run` and the race tests.

moto's DynamoDB served behind one lock per request (moto is not atomic
under threads; real DynamoDB is), with the fixes of `install_dynamodb_fixes`,
snapshotted to a file on exit and restored on start.
"""
from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any


def install_dynamodb_fixes() -> None:
    """Make this process's moto DynamoDB behave as DynamoDB does where Workproof relies on it.

    moto keeps no reference to items it no longer holds (it kept every item
    object it ever made, for its dashboard). Transactions roll back through
    an undo log of the items they touch instead of copies of whole tables,
    and honour ClientRequestToken (ops/store_txn.py); streams keep one record per changing write, in
    rolling shards with a retention, compactly (ops/store_streams.py), read
    through the Streams API as on DynamoDB (ops/store_stream_api.py). The
    store server also deletes expired items (ops/store_ttl.py).
    Idempotent; call it before creating tables (the store server does, and
    so do the tests' moto fixtures).
    """
    from ops import store_stream_api, store_streams, store_txn

    _untrack_instances()
    store_txn.install()
    store_streams.install()
    store_stream_api.install()


def _untracked_new(cls: type, *_args: Any, **_kwargs: Any) -> Any:
    return object.__new__(cls)


def _untrack_instances() -> None:
    """moto keeps every model object it ever made, for its dashboard: every item,
    and every copy of one (~5 KB a share, for good). DynamoDB's are made untracked."""
    import moto.dynamodb.models
    import moto.dynamodbstreams.models  # noqa: F401 - their classes register on import
    from moto.core.model_instances import model_data

    for service in ("dynamodb", "dynamodbstreams"):
        for model in model_data[service].values():
            model.__new__ = staticmethod(_untracked_new)  # type: ignore[assignment]
            model.instances_tracked = []


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
    """moto's DynamoDB on host:port, in a background thread, serialised.

    Expired items (TTL) are deleted every `ttl_interval` seconds, under the lock.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 8001, serialise: bool = True,
                 ttl_interval: float = 60.0) -> None:
        import logging

        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        from ops.store_ttl import TtlSweeper

        install_dynamodb_fixes()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per store call

        app = DomainDispatcherApplication(create_backend_app)
        lock = None
        if serialise:
            app = SerialisedApp(app)
            lock = app.lock
        self.sweeper = TtlSweeper(ttl_interval, (lambda: lock) if lock else None)
        self.server = make_server(host, port, app, threaded=True)
        self.server.socket.listen(128)
        self.host, self.port = host, self.server.server_port
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> StoreServer:
        self._thread.start()
        self.sweeper.start()
        return self

    def stop(self) -> None:
        self.sweeper.stop()
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
