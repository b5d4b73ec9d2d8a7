"""Who pays, through `make run` (the real server, real loopback sources):

  office   50 captchas from one address (127.0.0.2) over a minute;
  flood    while neighbours behind that address solve 20 captchas, the same
           address sends 20 junk requests a second (garbage submits, unknown
           sites), and then lands shares as fast as one Python core can;
  stop     a site at honest traffic (one captcha a second from other
           addresses) is pushed up its levels by 20 attacking addresses for a
           minute; the attack stops, honest traffic goes on: the level is
           read every 10 s until it is back at the base.

The base work is scaled down (4,096 hashes) so a Python solver plays a fast
device; sizes are reported as multiples of the base. Each captcha is a job,
a solve, a submit and the backend's /siteverify; `busy` is waited out as the
widget does (Retry-After). Usage: .venv/bin/python bench/shared_address.py
"""
from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ops.pow_solver import solve  # noqa: E402
from tests.fixtures import start_stack, stop_stack  # noqa: E402

BASE = 4096
OFFICE = "127.0.0.2"


class Stack:
    def __init__(self, server: Any) -> None:
        self.server, self.url = server, urlsplit(server.base_url)

    def call(self, source: str, path: str, **params: Any) -> tuple[dict[str, Any], int]:
        """(answer, Retry-After or 0) of one POST from `source`."""
        connection = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=30,
                                                source_address=(source, 0))
        try:
            connection.request("POST", path, body=urlencode(params),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
            response = connection.getresponse()
            return json.loads(response.read()), int(response.getheader("Retry-After") or 0)
        finally:
            connection.close()

    def until_served(self, source: str, path: str, **params: Any) -> tuple[dict[str, Any], float]:
        """The answer once not `busy`, and the seconds spent waiting for it."""
        waited = 0.0
        while True:
            answer, retry = self.call(source, path, **params)
            if answer.get("error") != "busy":
                return answer, waited
            time.sleep(retry)
            waited += retry

    def captcha(self, source: str) -> dict[str, Any]:
        job, waited = self.until_served(source, "/pow/job", site=self.server.site_key, token="",
                                        hashes=1)
        work = job["difficulty"] * job["count"]
        done, more = self.until_served(source, "/pow/submit", job=job["job"],
                                       nonce=solve(job["job"], job["difficulty"], job["count"]))
        verified, _ = self.call("127.0.0.1", "/siteverify", secret=self.server.secret,
                                response=job["token"])
        return {"work": work / BASE, "waited": waited + more,
                "verified": bool(done.get("success") and verified.get("success"))}


def summary(name: str, results: list[dict[str, Any]]) -> str:
    works = sorted(r["work"] for r in results)
    waits = sorted(r["waited"] for r in results)
    ok = sum(r["verified"] for r in results)
    return (f"| {name} | {ok} of {len(results)} | {works[0]:.2f}× / {works[len(works) // 2]:.2f}× "
            f"/ {works[-1]:.2f}× | {waits[-1]:.0f} s |")


def office(stack: Stack) -> str:
    results = []
    for _ in range(50):
        results.append(stack.captcha(OFFICE))
        time.sleep(1.2)
    return summary("office: 50 captchas from one address in a minute", results)


def _in_background(target: Any, seconds: float) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()

    def loop() -> None:
        end = time.time() + seconds
        while not stop.is_set() and time.time() < end:
            target()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread, stop


def flood(stack: Stack) -> list[str]:
    rows = []
    junk_sent = [0]

    def junk() -> None:
        stack.call(OFFICE, "/pow/submit", job="v1.forged.job", nonce="1")
        stack.call(OFFICE, "/pow/job", site="x" * 32, anonymous=1)
        junk_sent[0] += 2
        time.sleep(0.1)

    thread, stop = _in_background(junk, 40)
    neighbours = [stack.captcha(OFFICE) for _ in range(20)]
    stop.set()
    thread.join()
    rows.append(summary(f"neighbours while the address sends junk ({junk_sent[0]} requests)",
                        neighbours))
    landed = [0]

    def work() -> None:
        job, retry = stack.call(OFFICE, "/pow/job", site=stack.server.site_key, anonymous=1)
        if job.get("error") == "busy":
            time.sleep(retry)
            return
        done, _ = stack.call(OFFICE, "/pow/submit", job=job["job"],
                             nonce=solve(job["job"], job["difficulty"], job["count"]))
        landed[0] += bool(done.get("success"))

    started = time.time()
    thread, stop = _in_background(work, 60)
    neighbours = [stack.captcha(OFFICE) for _ in range(20)]
    stop.set()
    thread.join()
    rate = landed[0] / (time.time() - started)
    rows.append(summary(f"neighbours while the address lands shares flat out "
                        f"({landed[0]}, {rate:.2f} a second)", neighbours))
    return rows


def level(env: dict[str, str]) -> tuple[int, float]:
    shown = json.loads(subprocess.run(
        [sys.executable, "-m", "chalicelib.admin", "show-levels", STATE["site"]], cwd=ROOT, env=env,
        capture_output=True, text=True, check=True).stdout)
    return int(shown["level"]), float(shown["minWorkNow"]) / BASE


STATE: dict[str, str] = {}


def attack_then_stop(stack: Stack, env: dict[str, str]) -> list[str]:
    STATE["site"] = stack.server.site_key
    subprocess.run([sys.executable, "-m", "chalicelib.admin", "set-levels", stack.server.site_key,
                    "--works", ",".join(str(BASE * 2**i) for i in range(4)),
                    "--step-up", "120", "--ceiling", "100000"],
                   cwd=ROOT, env=env, capture_output=True, check=True)
    honest: list[dict[str, Any]] = []
    counter = [0]

    def visitor() -> None:
        counter[0] += 1
        honest.append({"at": time.time(), **stack.captcha(f"127.0.2.{counter[0] % 250 + 1}")})
        time.sleep(1.0)

    honest_thread, honest_stop = _in_background(visitor, 400)
    time.sleep(90)  # the site learns its honest rate
    attackers = []
    for i in range(20):
        def attack(address: str = f"127.0.1.{i + 1}") -> None:
            job, retry = stack.call(address, "/pow/job", site=stack.server.site_key, anonymous=1)
            if job.get("error") == "busy":
                time.sleep(retry)
                return
            stack.call(address, "/pow/submit", job=job["job"],
                       nonce=solve(job["job"], job["difficulty"], job["count"]))
        attackers.append(_in_background(attack, 60))
    trace = []
    start = time.time()
    stopped_at = start + 60
    while time.time() < stopped_at + 240:
        trace.append((time.time() - start, *level(env)))
        if time.time() > stopped_at + 30 and trace[-1][1] == 0 and len(trace) > 8:
            break
        time.sleep(10)
    honest_stop.set()
    honest_thread.join()
    for thread, _ in attackers:
        thread.join()
    top = max(t[1] for t in trace)
    back = next((t[0] - 60 for t in trace if t[0] > 60 and t[1] == 0), None)
    after = [h for h in honest if h["at"] > stopped_at + (back or 240)]
    rows = ["level every 10 s (s since the attack began: level, min work ×base): "
            + ", ".join(f"{t:.0f}: {lv} ({w:.0f}×)" for t, lv, w in trace),
            f"top level {top}; back at the base {back:.0f} s after the attack stopped"
            if back is not None else f"top level {top}; not back at the base within 240 s"]
    if after:
        rows.append(summary("honest captchas once back", after))
    return rows


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        process, server = start_stack(Path(tmp), {"WORKPROOF_MIN_WORK": str(BASE),
                                                  "WORKPROOF_SOURCE_LIMITS": "on"})
        env = {**os.environ, "AWS_ENDPOINT_URL_DYNAMODB": server.store_url,
               "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
               "AWS_DEFAULT_REGION": "us-east-1"}
        try:
            stack = Stack(server)
            print("| scenario | captchas verified | work min / median / max | longest busy wait |")
            print("|---|---|---|---|")
            print(office(stack), flush=True)
            for row in flood(stack):
                print(row, flush=True)
            for row in attack_then_stop(stack, env):
                print(row, flush=True)
        finally:
            stop_stack(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
