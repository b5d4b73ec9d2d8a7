"""Workproof solver benchmark: hashes per second per worker in headless Chromium.

Every solver runs in its own dedicated Web Worker, one at a time, on the real
job format of docs/contract.md §2 (`job:i:nonce`, jobs shaped like the
server's signed jobs), with exact hash counts. Solvers are interleaved over
several rounds (the machine's speed drifts), OpenSSL's single-core
`openssl speed -bytes 16 sha256` runs in every round too, and the report
gives medians and ratios. Two scenarios: jobs shaped like the server's
(~350 characters: peers hash 6 blocks per nonce, Workproof only the last)
and 80-character jobs (a 2-block message, as in the issue's reference
figures).

    bench/miner/run.sh [--rounds 5] [--seconds 2]
"""
from __future__ import annotations

import argparse
import base64
import functools
import json
import os
import re
import secrets
import statistics
import subprocess
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("WORKPROOF_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def real_job(k: int = 32) -> str:
    """A job string of the server's shape and length: v1.<payload>.<mac>."""
    now = int(time.time())
    fields = {"account": "", "d": 65536, "epoch": 0, "exp": now + 600, "iat": now,
              "id": b64(secrets.token_bytes(16)), "k": k, "kid": "local1", "kind": "token",
              "new": True, "rate": 0, "site": b64(secrets.token_bytes(24)), "target": 2097152,
              "total": 0, "v": 1}
    payload = b64(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode())
    return f"v1.{payload}.{b64(secrets.token_bytes(32))}"


def openssl_rate(seconds: int, elapsed: bool) -> float:
    """`openssl speed -bytes 16 sha256`, single process: 16-byte messages per second.
    By default openssl divides by its CPU time; -elapsed divides by wall-clock time,
    as the browser figures do (they differ when the machine is busy)."""
    cmd = ["openssl", "speed"] + (["-elapsed"] if elapsed else []) + [
        "-seconds", str(seconds), "-bytes", "16", "sha256"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    m = re.search(r"^sha256\s+([\d.]+)k", out, re.M)
    if not m:
        raise RuntimeError("cannot parse openssl speed output:\n" + out)
    return float(m.group(1)) * 1000 / 16


class Handler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript", ".wasm": "application/wasm"}

    def log_message(self, *args):
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=1.5, help="per solver, scenario and round")
    ap.add_argument("--json", default=str(HERE / "results" / "latest.json"))
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(ROOT)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/bench/miner/bench.html"
    jobs = [real_job() for _ in range(8)]
    short = [job[:80] for job in jobs]  # job:i:nonce of 84..93 bytes: two SHA-256 blocks
    scenarios = {
        f"server-shaped job ({len(jobs[0])} chars)": [[job, i] for i in range(32) for job in jobs],
        "short job (80 chars, 2-block message)": [[job, i] for i in range(32) for job in short],
    }
    OPENSSL, OPENSSL_CPU = "openssl 1 core (wall clock)", "openssl 1 core (CPU time)"
    rates: dict[str, dict[str, list[float]]] = {sc: {} for sc in scenarios}
    other: dict[str, list[float]] = {OPENSSL: [], OPENSSL_CPU: []}
    started = time.time()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page()
        page.goto(url)
        page.evaluate("allReady")
        names = page.evaluate("solverNames")
        print(f"Chromium {browser.version}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; "
              f"{args.rounds} rounds x {args.seconds:g} s per solver and scenario", flush=True)
        for name in names:  # warm-up (JIT tiers, wasm compile)
            page.evaluate("a => runFor(a[0], a[1], a[2])", [name, 300, scenarios[next(iter(scenarios))][:4]])
        for r in range(args.rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for sc, salts in scenarios.items():
                shift = r * 16 % len(salts)
                round_salts = salts[shift:] + salts[:shift]
                for name in order:
                    res = page.evaluate("a => runFor(a[0], a[1], a[2])", [name, args.seconds * 1000, round_salts])
                    rates[sc].setdefault(name, []).append(res["hashes"] / res["ms"] * 1000)
            secs = max(1, round(args.seconds))
            other[OPENSSL].append(openssl_rate(secs, elapsed=True))
            other[OPENSSL_CPU].append(openssl_rate(secs, elapsed=False))
            print(f"round {r + 1}/{args.rounds} done ({time.time() - started:.0f} s)", flush=True)
        browser.close()
    httpd.shutdown()

    ossl = statistics.median(other[OPENSSL])
    report = {"rounds": args.rounds, "seconds": args.seconds, "scenarios": {}, "openssl": other}
    for sc in scenarios:
        med = {n: statistics.median(v) for n, v in rates[sc].items()}
        report["scenarios"][sc] = {"rates": rates[sc], "median": med}
        print(f"\n### {sc}\n")
        print("| solver (one worker each) | median MH/s | min | max | x Cap | x OpenSSL |")
        print("|---|---:|---:|---:|---:|---:|")
        for n, v in rates[sc].items():
            print(f"| {n} | {med[n] / 1e6:.2f} | {min(v) / 1e6:.2f} | {max(v) / 1e6:.2f} | "
                  f"{med[n] / med['cap']:.2f} | {med[n] / ossl:.2f} |")
        print(f"\nWASM SIMD: {med['workproof-wasm-simd'] / med['cap']:.2f}x Cap (target >= 3), "
              f"{med['workproof-wasm-simd'] / ossl:.2f}x OpenSSL (target >= 1). "
              f"JS fallback: {med['workproof-js'] / med['plain-js']:.2f}x plain JS, "
              f"{med['workproof-js'] / med['hash-wasm']:.2f}x the hash-wasm loop (target >= 1.5). "
              f"Scalar WASM (no SIMD): {med['workproof-wasm-scalar'] / med['cap']:.2f}x Cap.")
    print()
    for n, v in other.items():
        print(f"{n}, 16-byte messages: median {statistics.median(v) / 1e6:.2f} MH/s "
              f"(min {min(v) / 1e6:.2f}, max {max(v) / 1e6:.2f})")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
