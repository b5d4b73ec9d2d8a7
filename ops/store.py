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
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from ops.addresses import url_host
from ops.moto_fence import require_tested_moto


def install_dynamodb_fixes() -> None:
    """Make this process's moto DynamoDB behave as DynamoDB does where Workproof relies on it.

    moto keeps no reference to items it no longer holds (it kept every item
    object it ever made, for its dashboard). Transactions roll back through
    an undo log of the items they touch instead of copies of whole tables,
    and honour ClientRequestToken (ops/store_txn.py). Streams keep one
    record per changing write, in rolling shards with a retention, compactly
    (ops/store_streams.py), read through the Streams API as on DynamoDB
    (ops/store_stream_api.py). The store server also deletes expired items
    (ops/store_ttl.py).
    Idempotent; call it before creating tables (the store server does, and
    so do the tests' moto fixtures).
    """
    from ops import store_stream_api, store_streams, store_txn
    require_tested_moto()
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
            model.__new__ = staticmethod(_untracked_new)  # type: ignore[method-assign]
            model.instances_tracked = []  # type: ignore[attr-defined]  # a class of moto's models


class SerialisedApp:
    """WSGI middleware: one request at a time, so moto behaves atomically."""

    def __init__(self, app: Callable[..., Iterable[bytes]], lock: Any = None) -> None:
        self.app = app
        self.lock = lock or threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
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

        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        from ops.store_ttl import TtlSweeper

        install_dynamodb_fixes()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per store call

        app: Callable[..., Iterable[bytes]] = DomainDispatcherApplication(create_backend_app)
        # Held by each request (if serialised), the TTL sweeps, snapshot and restore.
        self.lock = threading.Lock()
        if serialise:
            app = SerialisedApp(app, self.lock)
        self.sweeper = TtlSweeper(ttl_interval, lambda: self.lock)
        self.server = make_server(host, port, app, threaded=True)
        self.server.socket.listen(128)
        self.host, self.port = host, self.server.server_port
        self.url = f"http://{url_host(self.host)}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> StoreServer:
        self._thread.start()
        self.sweeper.start()
        return self

    def stop(self) -> None:
        self.sweeper.stop()
        self.server.shutdown()
        self.server.server_close()


def _moto_tables() -> dict[str, Any]:
    from ops.store_ttl import moto_backends

    return {name: table for backend in moto_backends() for name, table in backend.tables.items()}


def snapshot(path: Path, lock: Any = None) -> int:
    """Write every item of every table to `path`; how many.

    Read from the store in this process (make run's), under its `lock`: a
    paged Scan over HTTP costs moto O(table) per page, minutes at 100,000
    items. The file holds, per table, its items as DynamoDB JSON, binary
    values as {"__b64__": base64}.
    """
    from chalicelib.store import models

    tables = _moto_tables()
    with lock or nullcontext():
        data = {model.Meta.table_name: [_binary_marked(item.to_json()["Attributes"])
                                        for item in tables[model.Meta.table_name].all_items()]
                for model in models.all_models() if model.Meta.table_name in tables}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return sum(len(v) for v in data.values())


def _binary_marked(attrs: dict[str, Any]) -> dict[str, Any]:
    return {name: _mark(value) for name, value in attrs.items()}


def _b64(value: str | bytes) -> dict[str, str]:
    # moto keeps a binary value as the request gave it: base64 text, or bytes.
    text = base64.b64encode(value).decode() if isinstance(value, bytes) else value
    return {"__b64__": text}


def _mark(value: dict[str, Any]) -> dict[str, Any]:
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": _b64(inner)}
    if kind == "BS":
        return {"BS": [_b64(v) for v in inner]}
    if kind == "M":
        return {"M": _binary_marked(inner)}
    if kind == "L":
        return {"L": [_mark(v) for v in inner]}
    return value


def restore(path: Path, lock: Any = None) -> int:
    """Load a snapshot written by `snapshot` into the (empty) tables of the store in
    this process; how many items. Tables the snapshot names that do not exist are skipped."""
    if not path.exists():
        return 0
    # Binary values go back to what moto keeps: their base64 text.
    data = json.loads(path.read_text(),
                      object_hook=lambda obj: obj["__b64__"] if set(obj) == {"__b64__"} else obj)
    tables = _moto_tables()
    count = 0
    with lock or nullcontext():
        for name, items in data.items():
            if name not in tables:
                print(f"snapshot: no table {name}: its {len(items)} items are not restored")
                continue
            for item in items:
                tables[name].put_item(item)
            count += len(items)
    return count
