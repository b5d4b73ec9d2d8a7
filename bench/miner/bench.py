"""Workproof solver benchmark: hashes per second per worker in headless Chromium.

Every solver runs in its own dedicated Web Worker, one at a time, on the real
job format of DESIGN.md section 2 (`job:i:nonce`, jobs shaped like the
server's signed jobs), with exact hash counts. Solvers are interleaved over
several rounds (the machine's speed drifts), OpenSSL's single-core
`openssl speed -bytes 16 sha256` runs in every round too, and the report
gives medians and ratios.

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


def openssl_rate(seconds: int) -> float:
    out = subprocess.run(["openssl", "speed", "-seconds", str(seconds), "-bytes", "16", "sha256"],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"^sha256\s+([\d.]+)k", out, re.M)
    if not m:
        raise RuntimeError("cannot parse openssl speed output:\n" + out)
    return float(m.group(1)) * 1000 / 16  # 16-byte messages per second


class Handler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript", ".wasm": "application/wasm"}

    def log_message(self, *args):
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0, help="per solver per round")
    ap.add_argument("--json", default=str(HERE / "results" / "latest.json"))
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(ROOT)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/bench/miner/bench.html"
    jobs = [real_job() for _ in range(8)]
    salts = [[job, i] for i in range(32) for job in jobs]
    rates: dict[str, list[float]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page()
        page.goto(url)
        page.evaluate("allReady")
        names = page.evaluate("solverNames")
        print(f"Chromium {browser.version}; job length {len(jobs[0])} chars; "
              f"{args.rounds} rounds x {args.seconds:g} s per solver", flush=True)
        for name in names:  # warm-up (JIT tiers, wasm compile)
            page.evaluate("a => runFor(a[0], a[1], a[2])", [name, 300, salts[:4]])
        for r in range(args.rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            round_salts = salts[r * 16 % len(salts):] + salts[:r * 16 % len(salts)]
            for name in order:
                res = page.evaluate("a => runFor(a[0], a[1], a[2])", [name, args.seconds * 1000, round_salts])
                rates.setdefault(name, []).append(res["hashes"] / res["ms"] * 1000)
            rates.setdefault("openssl (1 core, 16 B)", []).append(openssl_rate(max(1, round(args.seconds))))
            print(f"round {r + 1}: " + ", ".join(f"{n} {v[-1] / 1e6:.2f}" for n, v in rates.items()) + " MH/s",
                  flush=True)
        browser.close()
    httpd.shutdown()

    med = {n: statistics.median(v) for n, v in rates.items()}
    ours, ours_js = med["workproof-wasm-simd"], med["workproof-js"]
    ossl = med["openssl (1 core, 16 B)"]
    print()
    print("| solver (one worker each) | median MH/s | min | max | × Cap | × OpenSSL |")
    print("|---|---:|---:|---:|---:|---:|")
    for n, v in rates.items():
        print(f"| {n} | {med[n] / 1e6:.2f} | {min(v) / 1e6:.2f} | {max(v) / 1e6:.2f} | "
              f"{med[n] / med['cap']:.2f} | {med[n] / ossl:.2f} |")
    print()
    print(f"WASM SIMD vs Cap: {ours / med['cap']:.2f}x (target >= 3); vs OpenSSL: {ours / ossl:.2f}x (target >= 1)")
    print(f"JS fallback vs plain JS: {ours_js / med['plain-js']:.2f}x; vs hash-wasm loop: "
          f"{ours_js / med['hash-wasm']:.2f}x (target >= 1.5)")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"rates": rates, "median": med, "rounds": args.rounds,
                                           "seconds": args.seconds}, indent=2))


if __name__ == "__main__":
    main()
