"""Benchmark: `make run`'s memory and share time over many real shares, then its snapshot.

Starts `make run`'s program (`python -m ops.local`, what `make run` runs
after setting up .venv) on free ports with its state in a temporary folder
and WORKPROOF_MIN_WORK=1 (so this script's solver costs nothing: a share's
cost is then all server), and mines N user shares through the HTTP API
exactly as a browser does (/pow/job, then /pow/submit), over 1,000 users,
from 4 client threads. Every N/10 shares it prints the server process's
resident memory (VmRSS) and peak (VmHWM) and the milliseconds per share of
that window. At the end it sends SIGTERM to the server's process group and
reports how long the snapshot took and how many items it holds.
Usage: .venv/bin/python bench/make_run_memory.py [N]     (make bench-memory; N = 100000)
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.solver import solve  # noqa: E402 - an independent solver, from docs/contract.md

CLIENTS, USERS = 4, 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def memory_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process, MiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


def start(state: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k != "WORKPROOF_SIGNING_KEYS"}
    env.update(WORKPROOF_PORT=str(port), WORKPROOF_STORE_PORT=str(free_port()),
               WORKPROOF_STATE_DIR=str(state), WORKPROOF_MIN_WORK="1")
    log = open(state / "server.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "ops.local"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            requests.get(f"{base}/ping-readiness", timeout=2)
            return process, base
        except requests.RequestException:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit((state / "server.log").read_text()) from None
            time.sleep(0.3)


def mine(base: str, site_key: str, shares: range, failures: list[str]) -> None:
    with requests.Session() as session:
        for i in shares:
            job = session.post(f"{base}/pow/job", timeout=60,
                               data={"site": site_key, "user": f"u{i % USERS}"}).json()
            done = session.post(f"{base}/pow/submit", timeout=60, data={
                "job": job["job"],
                "nonce": solve(job["job"], job["difficulty"], job["count"])}).json()
            if not done.get("success"):
                failures.append(json.dumps(done))


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    step = max(total // 10, CLIENTS)
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        process, base = start(state)
        site_key = json.loads((state / "demo.json").read_text())["site_key"]
        rss, peak = memory_mib(process.pid)
        print(f"make run (python -m ops.local), WORKPROOF_MIN_WORK=1, {CLIENTS} clients, "
              f"{USERS} users; at start: RSS {rss:.0f} MiB")
        print("| shares | wall ms per share, this window (job + submit) | RSS MiB | peak RSS MiB |")
        print("|---:|---:|---:|---:|")
        failures: list[str] = []
        lock = threading.Lock()
        done = 0
        while done < total:
            count = min(step, total - done)
            began = time.perf_counter()
            with ThreadPoolExecutor(CLIENTS) as pool:
                for worker in range(CLIENTS):
                    pool.submit(mine, base, site_key,
                                range(done + worker, done + count, CLIENTS), failures)
            elapsed = time.perf_counter() - began
            with lock:
                done += count
            rss, peak = memory_mib(process.pid)
            print(f"| {done:,} | {elapsed * 1000 / count:.2f} | {rss:.0f} | {peak:.0f} |",
                  flush=True)
        began = time.perf_counter()
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=600)
        snapshot = json.loads((state / "store.json").read_text())
        items = sum(len(v) for v in snapshot.values())
        print(f"SIGTERM to the process group: exited {process.returncode} after "
              f"{time.perf_counter() - began:.1f} s with a snapshot of {items:,} items")
        for line in (state / "server.log").read_text().splitlines():
            if line.startswith(("Stream consumer:", "Snapshot of")):
                print(f"  server: {line}")
        print(f"refused shares: {len(failures)}" + (f" (first: {failures[0]})" if failures else ""))


if __name__ == "__main__":
    main()
