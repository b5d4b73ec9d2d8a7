"""The library's behaviour in a real browser against the stand-in API (no server
stack needed): consent (nothing before the click or start()), the indicator and
its pause rules, throttle, stop, retries, captcha and shortlink flows."""
from __future__ import annotations

import urllib.request

import pytest

from tests.browser.browser_support import FakeApi, FakeApiServer, requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.timeout(300)]

# Counts workers the page creates and terminates, and every fetch it makes.
SPY = """
window.__spy = {workers: 0, terminated: 0, fetches: []};
(function () {
  var W = window.Worker;
  if (W) {
    window.Worker = function (url, opts) { window.__spy.workers++; return new W(url, opts); };
    window.Worker.prototype = W.prototype;
    var term = W.prototype.terminate;
    W.prototype.terminate = function () { window.__spy.terminated++; return term.call(this); };
  }
  var f = window.fetch;
  window.fetch = function (url, init) { window.__spy.fetches.push(String(url)); return f.apply(this, arguments); };
})();
"""

CAPTCHA_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>captcha</title></head><body>
<form id="f" action="/form" method="post">
  <input name="comment" value="hi">
  <div class="workproof-captcha" data-key="SITEKEY" data-hashes="131072" data-callback="done"
       data-disable-elements="#send"></div>
  <button id="send" type="submit">send</button>
</form>
<script>window.doneToken = null; function done(t) { window.doneToken = t; }</script>
<script src="/lib/captcha.js"></script>
</body></html>"""

MINER_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>miner</title></head><body>
<div id="ind" style="width:200px;height:40px;background:#eee">working</div>
<div style="height:3000px"></div>
<script src="/lib/workproof.js"></script>
<script>
window.events = [];
window.makeMiner = function (kind, opts) {
  opts = opts || {};
  if (opts.useIndicator) { opts.indicator = document.getElementById('ind'); }
  var m = kind === 'user' ? new WorkProof.User('SITEKEY', 'alice', opts)
        : kind === 'token' ? new WorkProof.Token('SITEKEY', opts.target || 65536, opts)
        : new WorkProof.Anonymous('SITEKEY', opts);
  ['open', 'authed', 'close', 'error', 'job', 'found', 'accepted', 'pause', 'resume', 'done'].forEach(function (e) {
    m.on(e, function (d) { window.events.push([e, d]); });
  });
  window.miner = m;
  return true;
};
</script>
</body></html>"""

TOKEN_INPUT = "document.querySelector('input[name=\"coinhive-captcha-token\"]')"


@pytest.fixture(scope="module")
def server():
    api = FakeApi(difficulty=8192, count=8)
    api.pages["captcha.html"] = CAPTCHA_PAGE
    api.pages["miner.html"] = MINER_PAGE
    with FakeApiServer(api) as srv:
        yield srv


@pytest.fixture()
def page(browser, server):
    server.api.log.clear()
    context = browser.new_context()
    context.add_init_script(SPY)
    p = context.new_page()
    yield p
    context.close()


def events(page, name):
    return [d for e, d in page.evaluate("window.events") if e == name]


def test_captcha_does_nothing_before_the_click_then_solves_and_posts(page, server):
    api = server.api
    page.goto(server.url + "/page/captcha.html")
    page.wait_for_timeout(1500)
    assert api.pow_calls("/pow/job") == 0
    assert page.evaluate("__spy.workers") == 0
    assert page.evaluate("__spy.fetches") == []
    assert page.evaluate(f"{TOKEN_INPUT}.value") == "", "the field is there, empty, until solved"
    assert page.is_disabled("#send"), "data-disable-elements applies until verified"
    page.locator(".workproof-captcha").click(position={"x": 24, "y": 24})
    page.wait_for_function(f"{TOKEN_INPUT} && {TOKEN_INPUT}.value", timeout=60000)
    token = page.evaluate(f"{TOKEN_INPUT}.value")
    assert page.evaluate("window.doneToken") == token, "data-callback gets the token"
    assert api.tokens[token] >= 131072
    assert page.is_enabled("#send")
    page.click("#send")
    page.wait_for_url("**/form")
    assert api.posted_forms[-1]["coinhive-captcha-token"] == token
    assert api.posted_forms[-1]["comment"] == "hi"


def test_captcha_works_from_the_keyboard(page, server):
    page.goto(server.url + "/page/captcha.html")
    page.keyboard.press("Tab")  # the comment field
    page.keyboard.press("Tab")  # the captcha's verify button (in its closed shadow root)
    assert server.api.pow_calls("/pow/job") == 0
    page.keyboard.press("Enter")
    page.wait_for_function(f"{TOKEN_INPUT} && {TOKEN_INPUT}.value", timeout=60000)


def test_captcha_language_follows_the_browser(browser, server):
    context = browser.new_context(locale="de-DE")
    p = context.new_page()
    p.goto(server.url + "/page/miner.html")
    assert p.evaluate("WorkProof.strings().verify") == "Ich bin ein Mensch"
    assert p.evaluate("WorkProof.strings('fr').verify") == "Je suis un humain"
    assert p.evaluate("WorkProof.strings('xx').verify") == "Verify I am human"
    context.close()


def test_user_miner_waits_for_start_shows_badge_and_gets_credited(page, server):
    page.goto(server.url + "/page/miner.html")
    page.evaluate("makeMiner('user', {threads: 2})")
    page.wait_for_timeout(500)
    assert page.evaluate("__spy.workers") == 0 and server.api.pow_calls("/pow/job") == 0
    assert page.evaluate("document.querySelector('workproof-indicator')") is None
    page.evaluate("miner.start()")
    assert page.evaluate("!!document.querySelector('workproof-indicator')")
    assert page.evaluate("document.querySelector('workproof-indicator').shadowRoot") is None, "closed shadow root"
    page.wait_for_function("window.events.filter(e => e[0] === 'accepted').length >= 2", timeout=60000)
    accepted = page.evaluate("miner.getAcceptedHashes()")
    assert accepted == sum(e["hashes"] for e in events(page, "accepted"))
    assert server.api.users["alice"] >= accepted
    assert page.evaluate("miner.getTotalHashes()") > 0
    assert page.evaluate("miner.getHashesPerSecond()") > 0
    assert [e for e, _ in page.evaluate("window.events")][:2] == ["open", "authed"]


def test_stop_terminates_workers_and_requests(page, server):
    page.goto(server.url + "/page/miner.html")
    page.evaluate("makeMiner('user', {threads: 2}); miner.start()")
    page.wait_for_function("window.events.some(e => e[0] === 'accepted')", timeout=60000)
    page.evaluate("miner.stop()")
    assert page.evaluate("__spy.terminated") == page.evaluate("__spy.workers") == 2
    assert page.evaluate("document.querySelector('workproof-indicator')") is None
    assert not page.evaluate("miner.isRunning()")
    calls = len(server.api.log)
    page.wait_for_timeout(1500)
    assert len(server.api.log) == calls
    assert events(page, "close")


def progress_while(page, ms):
    before = page.evaluate("miner.getTotalHashes()")
    page.wait_for_timeout(ms)
    return page.evaluate("miner.getTotalHashes()") - before


def test_pauses_when_indicator_is_covered_hidden_or_offscreen(page, server):
    page.goto(server.url + "/page/miner.html")
    page.evaluate("makeMiner('user', {threads: 1, useIndicator: true}); miner.start()")
    page.wait_for_function("miner.getTotalHashes() > 0", timeout=30000)
    checks = [
        ("document.getElementById('ind').style.visibility = 'hidden'",
         "document.getElementById('ind').style.visibility = ''"),
        ("document.getElementById('ind').style.opacity = '0'",
         "document.getElementById('ind').style.opacity = ''"),
        ("var o = document.createElement('div'); o.id = 'cover';"
         "o.style.cssText = 'position:fixed;inset:0;background:#fff;z-index:10'; document.body.appendChild(o)",
         "document.getElementById('cover').remove()"),
        ("window.scrollTo(0, 2000)", "window.scrollTo(0, 0)"),
        ("Object.defineProperty(document, 'hidden', {value: true, configurable: true});"
         "document.dispatchEvent(new Event('visibilitychange'))",
         "delete document.hidden; document.dispatchEvent(new Event('visibilitychange'))"),
    ]
    count = "n => window.events.filter(e => e[0] === n).length"
    for hide, show in checks:
        pauses, resumes = page.evaluate(count, "pause"), page.evaluate(count, "resume")
        page.evaluate(hide)
        page.wait_for_function(f"({count})('pause') > {pauses}", timeout=5000)
        page.wait_for_timeout(400)  # a task in flight (~100 ms) may finish
        assert progress_while(page, 800) == 0, hide
        page.evaluate(show)
        page.wait_for_function(f"({count})('resume') > {resumes}", timeout=5000)
        assert progress_while(page, 800) > 0, show


def test_badge_pause_button_is_visitor_control(page, server):
    page.goto(server.url + "/page/miner.html")
    page.evaluate("makeMiner('anonymous', {threads: 1}); miner.start()")
    page.wait_for_function("miner.getTotalHashes() > 0", timeout=30000)
    box = page.locator("workproof-indicator").bounding_box()
    # the pause button is the badge's right-most control
    page.mouse.click(box["x"] + box["width"] - 30, box["y"] + box["height"] / 2)
    page.wait_for_function("miner.isPaused()", timeout=3000)
    page.wait_for_timeout(400)
    assert progress_while(page, 800) == 0
    page.evaluate("miner.resume()")
    assert progress_while(page, 1000) > 0


@pytest.fixture()
def big_jobs(server):
    """Jobs of 8 x 2^20 hashes, so that solving (not the round trips) takes the time."""
    server.api.difficulty = 2**20
    yield
    server.api.difficulty = 8192


def test_throttle_is_honoured(page, server, big_jobs):
    page.goto(server.url + "/page/miner.html")
    page.evaluate("makeMiner('anonymous', {threads: 1}); miner.start()")
    page.wait_for_function("miner.getTotalHashes() > 0", timeout=30000)
    full = progress_while(page, 2500)
    page.evaluate("miner.setThrottle(0.75)")
    page.wait_for_timeout(500)
    throttled = progress_while(page, 2500)
    assert 0 < throttled < 0.55 * full, (throttled, full)
    assert page.evaluate("miner.getThrottle()") == 0.75


def test_network_errors_are_retried_with_backoff(page, server):
    server.api.fail_next = 2
    page.goto(server.url + "/page/miner.html")
    page.evaluate("makeMiner('token', {threads: 1, target: 65536}); miner.start()")
    page.wait_for_function("window.events.some(e => e[0] === 'done')", timeout=60000)
    errors = [e for e in events(page, "error") if e["error"] == "connection_error"]
    assert len(errors) == 2 and errors[1]["retryIn"] > errors[0]["retryIn"] * 1.2
    token = page.evaluate("miner.getToken()")
    assert server.api.tokens[token] >= 65536


def test_expired_job_is_replaced(page, server):
    api = server.api
    page.goto(server.url + "/page/miner.html")
    api.job_lifetime = -1  # the first job is already expired when submitted
    page.evaluate("makeMiner('token', {threads: 1, target: 65536}); miner.start()")
    page.wait_for_function("window.events.some(e => e[0] === 'job')", timeout=30000)
    api.job_lifetime = 300
    page.wait_for_function("window.events.some(e => e[0] === 'done')", timeout=60000)
    assert api.pow_calls("/pow/job") >= 2


def test_shortlink_page_shows_host_mines_and_redirects(page, server):
    api = server.api
    target = server.url + "/target?from=link#frag"
    api.links["AbCd1234"] = (target, 65536)
    html = urllib.request.urlopen(server.url + "/l/AbCd1234").read().decode()
    assert '<span class="host" dir="ltr">127.0.0.1</span>' in html
    assert "target?from" not in html, "the page reveals only the host"
    page.goto(server.url + "/l/AbCd1234")
    page.wait_for_url("**/target?from=link#frag", timeout=60000)
    assert "landed" in page.inner_text("h1")


# Keeps the (closed) shadow roots a page attaches, to read what the visitor sees there.
SHADOWS = """
window.__shadows = [];
(function () {
  var attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    var root = attach.call(this, init); window.__shadows.push(root); return root;
  };
})();
"""
# The shortlink page's progress bar and status line, as shown in its panel.
LINK_PANEL = """(() => {
  const root = window.__shadows.find(r => r.querySelector('[role=progressbar]'));
  if (!root) return null;
  const bar = root.querySelector('[role=progressbar]');
  return {now: Number(bar.getAttribute('aria-valuenow')),
          width: bar.firstChild.style.width,
          status: root.querySelector('[role=status]').textContent};
})()"""


def test_shortlink_page_pause_and_progress(page, server, big_jobs):
    api = server.api
    api.links["Slow5678"] = (server.url + "/target?slow=1", 2**26)
    page.add_init_script(SHADOWS)
    page.goto(server.url + "/l/Slow5678")
    panel = page.locator("#wp-panel")
    page.wait_for_function("document.title.indexOf('127.0.0.1') >= 0")
    page.wait_for_function(f"({LINK_PANEL} || {{now: 0}}).now > 0", timeout=60000)
    shown = page.evaluate(LINK_PANEL)
    assert 0 < shown["now"] < 100 and shown["width"] == f"{shown['now']}%"
    # The status line says how far the work is (its words come from i18n.js).
    assert f"{shown['now']}%" in shown["status"], shown

    box = panel.bounding_box()
    page.mouse.click(box["x"] + box["width"] - 30, box["y"] + box["height"] - 15)  # pause
    page.wait_for_timeout(500)  # a puzzle already being solved may still land
    paused = page.evaluate(LINK_PANEL)
    assert paused["status"] == "Paused"
    page.wait_for_timeout(2500)
    assert "/l/Slow5678" in page.url, "paused: no redirect"
    assert page.evaluate(LINK_PANEL) == paused, "paused: no progress"

    page.mouse.click(box["x"] + box["width"] - 30, box["y"] + box["height"] - 15)  # resume
    page.wait_for_function(f"({LINK_PANEL} || {{now: 0}}).now > {paused['now']}", timeout=60000)
    page.wait_for_url("**/target?slow=1", timeout=120000)


def test_restart_after_stop_continues(page, server, big_jobs):
    page.goto(server.url + "/page/miner.html")
    page.evaluate("makeMiner('token', {threads: 1, target: 8 * 2 ** 20}); miner.start()")
    page.wait_for_function("miner.getTotalHashes() > 0", timeout=30000)
    page.evaluate("miner.stop()")
    assert not page.evaluate("miner.isRunning()")
    page.wait_for_timeout(300)
    page.evaluate("miner.start()")
    page.wait_for_function("window.events.some(e => e[0] === 'done')", timeout=120000)
    token = page.evaluate("miner.getToken()")
    assert server.api.tokens[token] >= 8 * 2**20
    assert page.evaluate("miner.getAcceptedHashes()") == server.api.tokens[token]
