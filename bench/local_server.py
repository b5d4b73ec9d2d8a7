"""Benchmark: `make run`'s API server against stock `chalice local`, same run.

Both serve the same app over the same locked embedded store, in this
process, on free ports. Measured for each: milliseconds per request on one
keep-alive connection and with a new connection per request, connection
failures when 64 clients connect at once, and whether a chunked body is read.
Ratios are stock / ours. Usage: .venv/bin/python bench/local_server.py [N]
"""
from __future__ import annotations

import http.client
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_servers() -> tuple[int, int, str]:
    from ops import local, server, store

    embedded = store.StoreServer("127.0.0.1", free_port()).start()
    local.local_environment(embedded.url)
    os.environ.setdefault("WORKPROOF_SIGNING_KEYS", "bench:" + "A" * 43)
    from chalice.local import LocalDevServer

    from chalicelib import sites
    from chalicelib.store import models
    from ops import tables as admin_tables

    models.bind()
    admin_tables.create_tables("local")
    _info, secret = sites.create_site("bench")
    ours = server.api_server("127.0.0.1", free_port())
    # Chalice's own handler and server class: what `chalice local` runs.
    stock = LocalDevServer(ours.app_object, ours._wrapped_handler.keywords["config"],
                           "127.0.0.1", free_port())
    for each in (ours, stock):
        each._wrapped_handler.func.log_message = lambda *a, **k: None
        threading.Thread(target=each.serve_forever, daemon=True).start()
    return ours.port, stock.port, secret


def keep_alive_ms(port: int, path: str, n: int) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    conn.getresponse().read()
    start = time.perf_counter()
    for _ in range(n):
        conn.request("GET", path)
        conn.getresponse().read()
    conn.close()
    return (time.perf_counter() - start) / n * 1000


def new_connection_ms(port: int, path: str, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", path)
        conn.getresponse().read()
        conn.close()
    return (time.perf_counter() - start) / n * 1000


def burst(port: int, path: str, clients: int = 64) -> tuple[int, float]:
    """(failed connections, slowest answer in ms) when `clients` connect at once."""
    barrier = threading.Barrier(clients)
    failures: list[int] = []
    times: list[float] = []

    def one() -> None:
        barrier.wait()
        start = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            times.append((time.perf_counter() - start) * 1000)
        except OSError:
            failures.append(1)

    threads = [threading.Thread(target=one) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(failures), max(times, default=0.0)


def chunked_read(port: int, secret: str) -> str:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    body = f"secret={secret}&token={'x' * 32}&hashes=5".encode()
    sock.sendall(b"POST /token/verify HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                 b"Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n"
                 + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    # invalid_token means the body was read; invalid_secret means it arrived empty.
    return data.split(b"\r\n\r\n", 1)[1].decode()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    ours, stock, secret = start_servers()
    path = f"/user/balance?name=nobody&secret={secret}"
    rounds = {name: {"keep": [], "new": [], "failed": [], "slowest": []} for name in ("ours", "stock")}
    for _ in range(3):  # interleaved rounds; medians
        for name, port in (("ours", ours), ("stock", stock)):
            rounds[name]["keep"].append(keep_alive_ms(port, path, n))
            rounds[name]["new"].append(new_connection_ms(port, path, n))
            failed, slowest = burst(port, path)
            rounds[name]["failed"].append(failed)
            rounds[name]["slowest"].append(slowest)
    med = {name: {k: statistics.median(v) for k, v in r.items()} for name, r in rounds.items()}
    print(f"{n} requests per measure, 3 interleaved rounds, medians")
    print("| server | keep-alive ms/req | new connection ms/req | 64 at once: failed | slowest ms |"
          " chunked body |")
    print("|---|---:|---:|---:|---:|---|")
    for name, port in (("make run (ours)", ours), ("stock chalice local", stock)):
        m = med["ours" if "ours" in name else "stock"]
        print(f"| {name} | {m['keep']:.1f} | {m['new']:.1f} | {m['failed']:.0f} | {m['slowest']:.0f} |"
              f" {chunked_read(port, secret)} |")
    print(f"keep-alive: stock / ours = {med['stock']['keep'] / med['ours']['keep']:.1f}x; "
          f"new connection: stock / ours = {med['stock']['new'] / med['ours']['new']:.2f}x; "
          f"slowest of a 64-client burst: stock / ours = "
          f"{med['stock']['slowest'] / max(med['ours']['slowest'], 0.001):.1f}x")


if __name__ == "__main__":
    main()
