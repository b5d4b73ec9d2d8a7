"""The solver in a real browser (no server needed): every nonce it returns is
checked here with hashlib and docs/contract.md §2's exact formula; the JS
fallback solves with WebAssembly disabled and never hangs."""
from __future__ import annotations

import hashlib
import random

import pytest

from tests.browser.browser_support import (
    FakeApi,
    FakeApiServer,
    fake_job_text,
    puzzle_holds,
    requires_chromium,
    valid_nonce_text,
)

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.timeout(300)]

SOLVER_PAGE = """<!doctype html><meta charset="utf-8"><title>solver</title>
<script>
window.startWorker = function (engine) {
  return new Promise(function (resolve, reject) {
    var w = new Worker((location.pathname.indexOf('/csp/') === 0 ? '/csp' : '') + '/lib/worker.js');
    var pending = {}, id = 0;
    w.onmessage = function (ev) {
      var m = ev.data;
      if (m.type === 'ready') { window.solverWorker = w; resolve(m.engine); return; }
      var cb = pending[m.id]; delete pending[m.id]; if (cb) cb(m);
    };
    w.onerror = function (e) { reject(new Error('worker error ' + e.message)); };
    window.call = function (msg) {
      return new Promise(function (res) { msg.id = ++id; pending[msg.id] = res; w.postMessage(msg); });
    };
    w.postMessage({type: 'init', engine: engine});
  });
};
// Solves puzzles 0..count-1 from search index s0 of each (default 0).
window.solveAll = async function (job, count, difficulty, s0, chunk) {
  var out = [];
  for (var i = 0; i < count; i++) {
    var s = s0 || 0, hashes = 0, r;
    for (;;) {
      r = await call({type: 'task', job: job, i: i, difficulty: difficulty, s0: s, count: chunk || 200000});
      if (r.type === 'error') throw new Error(r.message);
      hashes += r.hashes; s += chunk || 200000;
      if (r.nonce !== null || r.exhausted) break;
    }
    out.push({i: i, nonce: r.nonce, hashes: hashes});
  }
  return out;
};
</script>"""


@pytest.fixture(scope="module")
def fake_api():
    api = FakeApi()
    api.pages["solver.html"] = SOLVER_PAGE
    with FakeApiServer(api) as server:
        yield server


def open_solver(browser, fake_api, engine):
    page = browser.new_page()
    page.goto(fake_api.url + "/page/solver.html")
    got = page.evaluate("e => startWorker(e)", engine)
    return page, got


def check_results(job, results, difficulty, count):
    assert len(results) == count
    for r in results:
        nonce = r["nonce"]
        assert nonce is not None, r
        assert valid_nonce_text(nonce), nonce
        assert puzzle_holds(job, r["i"], nonce, difficulty), (job, r)


@pytest.mark.parametrize("engine", ["wasm-simd", "wasm", "js"])
def test_solver_nonces_hold_exactly(browser, fake_api, engine):
    page, got = open_solver(browser, fake_api, engine)
    assert got == engine
    for job in (fake_job_text(150), fake_job_text(20), "v1.x.y"):
        difficulty, count = 4096, 32
        results = page.evaluate("a => solveAll(a[0], a[1], a[2])", [job, count, difficulty])
        check_results(job, results, difficulty, count)
    page.close()


@pytest.mark.parametrize("engine", ["wasm-simd", "wasm", "js"])
def test_every_block_layout(browser, fake_api, engine):
    """Jobs of 64 consecutive lengths put `job:i:` at every offset of a SHA-256 block; for
    each, every nonce phase (one-block, folded high digits, two-block) is searched from its
    start and the first nonce found is checked, and no earlier candidate passes."""
    page, got = open_solver(browser, fake_api, engine)
    assert got == engine
    difficulty = 64
    rng = random.Random(7)
    layouts = set()
    for length in range(200, 264):
        job = "v1." + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
                              for _ in range(length - 3))
        plan = page.evaluate("a => call({type: 'plan', job: a[0], i: a[1]})", [job, 5])
        for ph in plan["phases"]:
            layouts.add((ph["m"], ph["after"]))
            r = page.evaluate("a => call({type: 'task', job: a[0], i: 5, difficulty: a[1], s0: a[2], count: 100000})",
                              [job, difficulty, ph["s"]])
            nonce = r["nonce"]
            assert nonce is not None and len(nonce) == ph["n"], (length, ph, r)
            assert puzzle_holds(job, 5, nonce, difficulty), (length, ph, nonce)
            first = ph["first"]
            assert int(nonce) - first + 1 == r["hashes"], "hash count is exact"
            if length % 8 == 0:
                for x in range(first, int(nonce)):
                    assert not puzzle_holds(job, 5, str(x), difficulty), ("missed", length, ph, x)
    assert {(4, 0), (4, 1)} <= layouts and any(m < 4 for m, _ in layouts)
    page.close()


def test_exact_256_bit_comparison(browser, fake_api):
    """The target is floor(2^256 / D) for any D and the comparison is exact on all 256 bits."""
    page = browser.new_page()
    page.goto(fake_api.url + "/page/solver.html")
    page.add_script_tag(url=fake_api.url + "/lib/worker.js")
    for d in (1, 2, 3, 7, 4096, 65537, 2**20 + 1, 10**9 + 7, 2**32, 2**32 + 1, 2**40 + 3, 2**53 - 1):
        words = page.evaluate("d => WorkProofSolver.makeTarget(d).words", d)
        target = 2**256 // d
        if d == 1:
            assert words == [0xFFFFFFFF] * 8
            continue
        assert int.from_bytes(b"".join(w.to_bytes(4, "big") for w in words), "big") == target, d
        # digests equal to the target, one below and one above, differing only in the low word
        for delta, expect in ((0, False), (-1, True), (1, False)):
            value = target + delta
            h = [int.from_bytes(value.to_bytes(32, "big")[4 * j:4 * j + 4], "big") for j in range(8)]
            h = [x - 2**32 if x >= 2**31 else x for x in h]  # the solver's words are signed int32
            got = page.evaluate("a => WorkProofSolver.belowTarget(a[0], WorkProofSolver.makeTarget(a[1]))", [h, d])
            assert got is expect, (d, delta)
    for _ in range(20):
        s = "".join(chr(random.randrange(32, 127)) for _ in range(random.randrange(0, 200)))
        words = page.evaluate("s => Array.from(WorkProofSolver.sha256Words(s), w => w >>> 0)", s)
        assert b"".join(w.to_bytes(4, "big") for w in words) == hashlib.sha256(s.encode()).digest()
    page.close()


def test_large_difficulty_two_block_path(browser, fake_api):
    """A long job (many blocks) at a large difficulty, through the worker's normal path."""
    page, got = open_solver(browser, fake_api, "auto")
    assert got == "wasm-simd"
    job = fake_job_text(400)
    results = page.evaluate("a => solveAll(a[0], a[1], a[2], 0, 1000000)", [job, 2, 2**20])
    check_results(job, results, 2**20, 2)
    page.close()


CAPTCHA_FORM = (
    '<!doctype html><meta charset="utf-8"><form action="/form" method="post">'
    '<div class="workproof-captcha" data-key="SITEKEY" data-hashes="65536"></div>'
    '<button id="send" type="submit">send</button></form>'
    '<script src="{prefix}/lib/captcha.js"></script>')


def wait_for_token(page, timeout=60000):
    page.wait_for_function(
        "() => { var i = document.querySelector('input[name=\"coinhive-captcha-token\"]'); return i && i.value; }",
        timeout=timeout)
    return page.evaluate("document.querySelector('input[name=\"coinhive-captcha-token\"]').value")


def test_js_fallback_under_csp_without_wasm(browser, fake_api):
    """A Content-Security-Policy without 'wasm-unsafe-eval' forbids WebAssembly in the page
    and in the worker: the worker falls back to JS, solves, and the captcha completes
    instead of hanging on 'verifying'."""
    page = browser.new_page()
    page.goto(fake_api.url + "/csp/page/solver.html")
    compile_error = page.evaluate(
        "() => { try { new WebAssembly.Module(new Uint8Array([0,97,115,109,1,0,0,0])); return null; }"
        " catch (e) { return String(e); } }")
    assert compile_error and "Content Security Policy" in compile_error or "unsafe-eval" in compile_error
    assert page.evaluate("e => startWorker(e)", "auto") == "js"
    job = fake_job_text(150)
    results = page.evaluate("a => solveAll(a[0], a[1], a[2])", [job, 16, 2048])
    check_results(job, results, 2048, 16)

    api = fake_api.api
    api.pages["csp-captcha.html"] = CAPTCHA_FORM.format(prefix="/csp")
    page.goto(fake_api.url + "/csp/page/csp-captcha.html")
    page.locator(".workproof-captcha").click(position={"x": 24, "y": 24})
    token = wait_for_token(page)
    assert api.tokens.get(token, 0) >= 65536
    page.close()


def test_no_workers_and_no_webassembly(browser, fake_api):
    """Without Worker and without WebAssembly, the library solves on the page in short
    slices with the JS solver: slower, but it finishes."""
    api = fake_api.api
    api.pages["bare-captcha.html"] = CAPTCHA_FORM.format(prefix="")
    context = browser.new_context()
    context.add_init_script("delete window.WebAssembly; window.Worker = undefined;")
    page = context.new_page()
    page.goto(fake_api.url + "/page/bare-captcha.html")
    page.locator(".workproof-captcha").click(position={"x": 24, "y": 24})
    token = wait_for_token(page)
    assert api.tokens.get(token, 0) >= 65536
    context.close()
