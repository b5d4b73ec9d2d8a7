"""`make run`: the embedded store, the tables, the demo site and the API server.

`make store` (`--store-only`): the same without the API, for `chalice local`.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from chalicelib import config
from ops import addresses, local_stage
from ops.paths import DEMO_FILE, SIGNING_FILE, SNAPSHOT_FILE, STATE_DIR
from ops.server import api_server
from ops.store import StoreServer, restore, snapshot
from ops.stream_pump import StreamPump

ENV_API_PORT = "WORKPROOF_PORT"
ENV_STORE_PORT = "WORKPROOF_STORE_PORT"
ENV_HOST = "WORKPROOF_HOST"
# Diagnostics only: serve moto without the lock, to show what it breaks.
ENV_STORE_UNLOCKED = "WORKPROOF_STORE_UNLOCKED"


def local_environment(store_url: str) -> None:
    """Fake credentials, a region and the store endpoint, for this process."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault(config.ENV_REGION, config.DEFAULT_REGION)
    os.environ[config.ENV_DYNAMODB_ENDPOINT] = store_url
    # Locally every request's line is shown (deployed: a sample of the successful reads').
    os.environ.setdefault(config.ENV_LOG_SAMPLE, "1")


def checked_settings() -> config.Settings:
    """The app's settings as the app will read them, or exit with the app's one-line message."""
    try:
        return config.Settings.from_environ(os.environ)
    except config.SettingsError as error:
        raise SystemExit(f"error: {error}") from None


def checked_proxies() -> tuple[tuple[addresses.Network, ...], str]:
    """The trusted proxies and the header they write, or exit with one line naming
    the variable."""
    try:
        return addresses.trusted_proxies(os.environ), addresses.proxy_header(os.environ)
    except addresses.SettingError as error:
        raise SystemExit(f"error: {error}") from None


def checked_moto() -> None:
    """The store's moto is the tested one, or exit with one line saying which is which."""
    from ops.moto_fence import UntestedMoto, require_tested_moto

    try:
        require_tested_moto()
    except UntestedMoto as error:
        raise SystemExit(f"error: {error}") from None


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
        stored: dict[str, str] = json.loads(DEMO_FILE.read_text())
        if sites.get_site(stored.get("site_key", "")) is not None:
            return stored
    info, secret = sites.create_site("demo")
    demo = {"name": info.name, "site_key": info.site_key, "secret": secret}
    STATE_DIR.mkdir(mode=0o700, exist_ok=True)
    DEMO_FILE.write_text(json.dumps(demo, indent=2) + "\n")
    os.chmod(DEMO_FILE, 0o600)
    return demo


def stream_handler() -> Callable[[dict[str, Any]], None] | None:
    """The app's DynamoDB stream consumer, `chalicelib.streams.handle_event`, if it has one."""
    import importlib
    import importlib.util

    if importlib.util.find_spec("chalicelib.streams") is None:
        return None
    handler: Callable[[dict[str, Any]], None] = importlib.import_module("chalicelib.streams").handle_event
    return handler


def start_stream_pump() -> StreamPump | None:
    """Feed the stream tables' records to the consumer, as Lambda would when deployed.

    Started after the snapshot is restored, at the streams' ends: what the
    snapshot holds was consumed before it was taken.
    """
    from ops import tables as admin_tables

    handler = stream_handler()
    tables = admin_tables.stream_table_names("local")
    if handler is None or not tables:
        return None
    return StreamPump(tables, handler, start="LATEST").start()


def _check_port_free(host: str, port: int, variable: str) -> None:
    import socket

    with socket.socket(addresses.family(host)) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise SystemExit(f"error: {host}:{port} is in use (another `make run`?); "
                             f"set {variable} to another port") from None


def _wait_for_signal() -> None:
    """Block until Ctrl-C or SIGTERM (the store serves from its own thread)."""
    import threading

    threading.Event().wait()


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m ops.local", description=__doc__)
    parser.add_argument("--store-only", action="store_true",
                        help="`make store`: the embedded store, its tables, the demo site and "
                             "the signing key, without the API (serve it with `chalice local`)")
    store_only = parser.parse_args(argv).store_only
    checked_settings()  # before anything starts: a bad value is one line, no traceback
    proxies, proxy_header = checked_proxies()
    checked_moto()
    host = os.environ.get(ENV_HOST, "127.0.0.1")
    api_port = int(os.environ.get(ENV_API_PORT, "8000"))
    store_port = int(os.environ.get(ENV_STORE_PORT, "8001"))
    unlocked = os.environ.get(ENV_STORE_UNLOCKED) == "1"
    ports = [(store_port, ENV_STORE_PORT)] + ([] if store_only else [(api_port, ENV_API_PORT)])
    for port, variable in ports:
        _check_port_free(host, port, variable)
    store = StoreServer(host, store_port, serialise=not unlocked).start()
    if unlocked:
        # Frequent thread switches make moto's interleavings show up at once.
        sys.setswitchinterval(1e-6)
        print("WARNING: store served WITHOUT its lock: writes are not atomic", flush=True)
    local_environment(store.url)
    # Generated in both modes: `chalice local`'s dev stage reads the file.
    os.environ.setdefault(config.ENV_SIGNING_KEYS, signing_keys_spec())
    settings = checked_settings()

    from chalicelib.store import models
    from ops import request_log
    from ops import tables as admin_tables

    request_log.install()
    models.bind(settings.tables, settings.region)
    admin_tables.create_tables("local")
    restored = restore(SNAPSHOT_FILE, store.lock)
    pump = start_stream_pump()
    demo = ensure_demo_site()
    server = None if store_only else api_server(host, api_port, proxies=proxies,
                                               proxy_header=proxy_header)
    print(f"Workproof store on {store.url} ({restored} items restored from {SNAPSHOT_FILE})")
    # The secret stays in the file (0600): start-up lines end up in logs and terminals' scrollback.
    print(f"Demo site: site_key={demo['site_key']} (its secret is in {DEMO_FILE})")
    if pump:
        print(f"Stream consumer fed from {', '.join(pump.reader.table_names)}")
    if store_only:
        local_stage.write_project(store.url)
        print(f"Signing key in {SIGNING_FILE}. Serve the API on http://{addresses.url_host(host)}:"
              f"{api_port} with:\n  {local_stage.serve_command(host, api_port)}", flush=True)
    else:
        api = f"http://{addresses.url_host(host)}:{api_port}"
        print(f"Workproof API on {api}  (demo page: {api}/)", flush=True)
        print(f"Dashboard on {api}/dashboard  (sign in with the demo site's key and secret)", flush=True)

    def stop(_signum: int, _frame: Any) -> None:
        # A signal to the whole process group (make and us) can arrive twice:
        # the first one stops serving, later ones must not cut the snapshot short.
        for each in (signal.SIGTERM, signal.SIGINT):
            signal.signal(each, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        if server is None:
            _wait_for_signal()
        else:
            server.server.serve_forever()  # LocalDevServer's own banner would misprint IPv6
    except KeyboardInterrupt:
        pass
    finally:
        for each in (signal.SIGTERM, signal.SIGINT):
            signal.signal(each, signal.SIG_IGN)
        started = time.monotonic()
        if pump:
            delivered = pump.stop()  # what the last requests wrote, before the snapshot
            print(f"\nStream consumer: {delivered} records delivered at stop "
                  f"in {time.monotonic() - started:.1f} s", flush=True)
        started = time.monotonic()
        count = snapshot(SNAPSHOT_FILE, store.lock)
        print(f"Snapshot of {count} items written to {SNAPSHOT_FILE} "
              f"in {time.monotonic() - started:.1f} s", flush=True)
        store.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
