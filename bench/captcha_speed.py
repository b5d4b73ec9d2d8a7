"""`make bench-captcha`: how long an honest visitor waits for the captcha, by device speed.

For each candidate minimum work (`WORKPROOF_MIN_WORK`, passed to a fresh `make run`
stack), headless Chromium renders the captcha as the demo page does
(`data-hashes="4194304"`, captcha.js's default; the server raises a smaller target to
the minimum work) and times SOLVES solves, click -> token in the form, at each slowdown:

- DevTools: `Emulation.setCPUThrottlingRate` ×1, ×4, ×8 (what issue 16 names). It
  slows the page's main thread only, not its Web Workers in proportion
  (docs/abuse-and-costs.md, "Honest visitors stay fast"), so it understates a slow device.
- Model: the solver's per-worker hash rate is measured at ×1 in the same run (every
  worker busy at once, as in a solve), and a device k times slower hashes at that rate
  ÷ k: each ×1 solve time plus (k - 1) × the expected hashing time, work ÷ (threads ×
  rate). Same thread count as this machine.

Ratios are against the ×1 solves of the same stack. Each solve stands for one visitor:
per-source limits and per-source job sizing are off (`WORKPROOF_SOURCE_LIMITS=off`),
since every request of `make run` comes from one loopback source and one visitor's
repeated solves would otherwise grow its own jobs, which is that feature's point.
No site is under pressure (a few shares a second, far below the levels).

Usage: bench/captcha_speed.py [--solves N] [--budget S] [MIN_WORK ...]
Candidates (default: today's 65,536, then 2^22..2^24; a minimum work up to the captcha's
4,194,304 leaves its work unchanged) run in increasing order and stop after the first whose
×4 p95 is over the budget (3 s) by both measures; no new candidate starts after ~9 minutes.
The recommendation follows the model (DevTools throttling understates a slow device).
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CAPTCHA_HASHES = 4194304  # ops/static/demo.html's and captcha.js's data-hashes
THROTTLES = (1, 4, 8)
DEFAULT_CANDIDATES = (65536, 2**22, 2**23, 2**24)
RUN_LIMIT_S = 540.0
RATE_PROBE_MS = 1500  # per-worker rate: every worker hashes this long

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>captcha bench</title></head>
<body><form action="/nowhere" method="post">
<div class="workproof-captcha" data-key="{site_key}" data-hashes="{hashes}"></div></form>
<script>
window.times = []; window.tokens = []; var t0 = 0;
addEventListener('click', function () {{ t0 = performance.now(); }}, true);
document.addEventListener('workproof-verified', function () {{
  window.times.push(performance.now() - t0);
  window.tokens.push(document.querySelector('input[name=coinhive-captcha-token]').value);
}});
</script><script src="/lib/captcha.js"></script></body></html>"""

# Every worker the captcha would start (one per hardware thread) hashes a puzzle nobody
# solves (a huge difficulty) for RATE_PROBE_MS at once; answers hashes/s per worker.
RATE_PROBE = """async (ms) => {
  const n = navigator.hardwareConcurrency || 2;
  const one = () => new Promise((resolve, reject) => {
    const w = new Worker('/lib/worker.js');
    let hashes = 0, spent = 0, size = 200000, until = 0;
    const task = () => w.postMessage({type: 'task', id: 1, job: 'bench', i: 0,
                                       difficulty: 2 ** 50, s0: hashes, count: size});
    w.onmessage = (ev) => {
      const m = ev.data;
      if (m.type === 'ready') { until = performance.now() + ms; task(); return; }
      if (m.type !== 'result') { w.terminate(); reject(new Error(m.message)); return; }
      hashes += m.hashes; spent += m.ms;
      if (m.ms > 5) size = Math.max(10000, Math.round(m.hashes / m.ms * 100));
      if (performance.now() < until) task(); else { w.terminate(); resolve([hashes, spent]); }
    };
    w.postMessage({type: 'init'});
  });
  const all = await Promise.all(Array.from({length: n}, one));
  return {threads: n, perWorker: all.map(([h, s]) => h / s * 1000)};
}"""


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def solve_times(page: Any, solves: int) -> list[float]:
    """Seconds from the visitor's click to the token in the form, `solves` times
    (after one untimed solve: the first compiles the solver)."""
    box = page.locator(".workproof-captcha")
    times: list[float] = []
    before = page.evaluate("window.times.length")
    for n in range(solves + 1):
        box.click()
        try:
            page.wait_for_function(f"window.times.length === {before + n + 1}", timeout=120000)
        except Exception:
            state = page.evaluate("document.querySelector('.workproof-captcha').dataset.workproofState")
            raise SystemExit(f"solve {n} did not finish (the captcha is {state}, "
                             f"times {page.evaluate('window.times')})") from None
        token = page.evaluate("window.tokens[window.tokens.length - 1]")
        if len(token) != 32:
            raise SystemExit(f"no token in the form after solve {n}: {token!r}")
        if n:
            times.append(page.evaluate("window.times[window.times.length - 1]") / 1000)
        page.evaluate("WorkProofCaptcha.reset()")
    return times


def measure(browser: Any, min_work: int, solves: int) -> dict[str, Any]:
    from tests.fixtures import start_stack, stop_stack

    state = Path(tempfile.mkdtemp(prefix="workproof-captcha-bench-"))
    process, server = start_stack(state, {"WORKPROOF_MIN_WORK": str(min_work),
                                          "WORKPROOF_SOURCE_LIMITS": "off"})
    try:
        context = browser.new_context()
        page = context.new_page()
        url = server.base_url + "/bench/captcha.html"
        html = PAGE.format(site_key=server.site_key, hashes=CAPTCHA_HASHES)
        page.route(url, lambda route: route.fulfill(status=200, content_type="text/html",
                                                    body=html))
        page.goto(url)
        probe = page.evaluate(RATE_PROBE, RATE_PROBE_MS)
        cdp = context.new_cdp_session(page)
        cdp_times: dict[int, list[float]] = {}
        for rate in THROTTLES:
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
            cdp_times[rate] = solve_times(page, solves)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
        context.close()
    finally:
        stop_stack(process)
    work = max(CAPTCHA_HASHES, min_work)
    per_worker = statistics.mean(probe["perWorker"])
    hashing = work / (probe["threads"] * per_worker)  # expected seconds at ×1
    model = {k: [t + (k - 1) * hashing for t in cdp_times[1]] for k in THROTTLES}
    return {"min_work": min_work, "work": work, "threads": probe["threads"],
            "per_worker": per_worker, "hashing": hashing, "cdp": cdp_times, "model": model}


def row(result: dict[str, Any], k: int) -> str:
    cdp, model = result["cdp"], result["model"]
    base_cdp, base_model = statistics.median(cdp[1]), statistics.median(model[1])
    return (f"| {result['min_work']:,} | {result['work']:,} | ×{k} "
            f"| {percentile(cdp[k], 50):.2f} | {percentile(cdp[k], 95):.2f} "
            f"| {statistics.median(cdp[k]) / base_cdp:.2f}× "
            f"| {percentile(model[k], 50):.2f} | {percentile(model[k], 95):.2f} "
            f"| {statistics.median(model[k]) / base_model:.2f}× |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solves", type=int, default=20)
    parser.add_argument("--budget", type=float, default=3.0, help="×4 p95 budget, seconds")
    parser.add_argument("candidates", nargs="*", type=int, default=list(DEFAULT_CANDIDATES))
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from tests.browser.browser_support import launch

    started = time.monotonic()
    load_start = os.getloadavg()
    results = []
    with sync_playwright() as driver:
        browser = launch(driver)
        try:
            for min_work in sorted(args.candidates):
                if time.monotonic() - started > RUN_LIMIT_S:
                    print(f"(stopped before {min_work:,}: the run's time limit)", flush=True)
                    break
                result = measure(browser, min_work, args.solves)
                results.append(result)
                print(f"min work {min_work:,}: {result['threads']} workers at "
                      f"{result['per_worker'] / 1e6:.2f} MH/s each at ×1, "
                      f"expected hashing {result['hashing']:.2f} s", flush=True)
                if min(percentile(result["model"][4], 95), percentile(result["cdp"][4], 95)) \
                        > args.budget:
                    break  # over the budget by both measures: larger work only takes longer
        finally:
            browser.close()
    load_end = os.getloadavg()
    print()
    print(f"Solve time, click -> token in the form, {args.solves} solves per row, seconds; "
          "ratio = median / the same stack's ×1 median.")
    print("| min work | captcha work | CPU | DevTools p50 | DevTools p95 | DevTools ratio "
          "| model p50 | model p95 | model ratio |")
    print("|---:|---:|:--|---:|---:|---:|---:|---:|---:|")
    for result in results:
        for k in THROTTLES:
            print(row(result, k))
    fitting = [r["min_work"] for r in results if percentile(r["model"][4], 95) <= args.budget]
    print()
    print(f"Load average (1, 5, 15 min): start {load_start[0]:.2f} {load_start[1]:.2f} "
          f"{load_start[2]:.2f}, end {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}; "
          f"{os.cpu_count()} CPUs; {time.monotonic() - started:.0f} s.")
    if fitting:
        print(f"Largest candidate whose modelled ×4 p95 is <= {args.budget:g} s: {max(fitting):,}.")
    else:
        print(f"No candidate's modelled ×4 p95 is <= {args.budget:g} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
