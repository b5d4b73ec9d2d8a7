"""Pages written for Coinhive's JavaScript API run unchanged against Workproof
once they load /lib/coinhive.min.js (or authedmine.min.js, captcha.min.js)
from the API instead of Coinhive's: the page shapes below follow Coinhive's
documented examples. Workproof's indicator and consent rules still apply; the
AuthedMine build asks before any work."""
from __future__ import annotations

import pytest
import requests

from tests.browser.axe import OPEN_SHADOW_ROOTS, assert_accessible
from tests.browser.browser_support import requires_chromium

pytestmark = [pytest.mark.browser, pytest.mark.e2e, requires_chromium, pytest.mark.timeout(600)]


def miner_page(api: str, script: str, body: str) -> str:
    """Coinhive's JavaScript Miner documentation, Synopsis, with the script's host changed."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Coinhive page</title></head>
<body>
<p>Hashes/s: <span id="hps">0</span>, total: <span id="total">0</span>, accepted: <span id="accepted">0</span></p>
<script src="{api}/lib/{script}"></script>
<script>
{body}
	// Update stats once per second
	setInterval(function() {{
		var hashesPerSecond = miner.getHashesPerSecond();
		var totalHashes = miner.getTotalHashes();
		var acceptedHashes = miner.getAcceptedHashes();

		// Output to HTML elements...
		document.getElementById('hps').textContent = hashesPerSecond;
		document.getElementById('total').textContent = totalHashes;
		document.getElementById('accepted').textContent = acceptedHashes;
	}}, 1000);
</script>
</body></html>"""


ANONYMOUS = """
	var miner = new CoinHive.Anonymous('{key}', {{throttle: 0.3}});

	// Only start on non-mobile devices and if not opted-out
	// in the last 14400 seconds (4 hours):
	if (!miner.isMobile() && !miner.didOptOut(14400)) {{
		miner.start();
	}}

	// Listen on events
	window.events = [];
	miner.on('found', function() {{ window.events.push('found'); }})
	miner.on('accepted', function() {{ window.events.push('accepted'); }})
	miner.on('optin', function(params) {{ window.events.push('optin:' + params.status); }})
"""

USER = """
	var miner = new CoinHive.User('{key}', 'john-doe', {{
		threads: 2,
		autoThreads: false,
		throttle: 0.2,
		forceASMJS: false
	}});
	window.events = [];
	miner.on('open', function() {{ window.events.push('open'); }});
	miner.on('authed', function(params) {{ window.events.push('authed'); }});
	miner.on('job', function(params) {{ window.events.push('job'); }});
	miner.on('accepted', function(params) {{ window.events.push('accepted'); }});
	miner.on('close', function(params) {{ window.events.push('close'); }});
	miner.start(CoinHive.FORCE_MULTI_TAB);
"""

TOKEN = """
	var miner = new CoinHive.Token('{key}', 65536);
	window.events = [];
	miner.on('authed', function(params) {{ window.events.push('authed'); }});
	miner.on('accepted', function(params) {{ window.events.push('accepted'); }});
	miner.start();
"""

CAPTCHA = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Coinhive captcha</title></head><body>
<form action="/form" method="post">
	<div class="coinhive-captcha" data-hashes="1024" data-key="{key}" data-whitelabel="false"
	     data-disable-elements="input[type=submit]">
		<em>Loading Captcha...<br>
		If it doesn't load, please disable Adblock!</em>
	</div>
	<input type="submit" value="Submit">
</form>
<script src="{api}/lib/captcha.min.js" async></script>
</body></html>"""


def serve(site, name: str, html: str) -> str:
    site.api.pages[name] = html
    return f"{site.url}/page/{name}"


def pow_calls(page, live):
    seen = []
    page.on("request", lambda r: seen.append(r.url) if r.url.startswith(live.base_url + "/pow/") else None)
    return seen


def test_documented_user_miner_is_credited_and_shows_the_indicator(live, site, browser):
    url = serve(site, "user.html", miner_page(live.base_url, "coinhive.min.js", USER.format(key=live.site_key)))
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("window.events.filter(e => e === 'accepted').length >= 1", timeout=120000)
    assert page.evaluate("!!document.querySelector('workproof-indicator')"), "Workproof's indicator"
    assert page.evaluate("document.querySelector('workproof-indicator').shadowRoot") is None
    assert page.evaluate("window.events.slice(0, 3)") == ["open", "authed", "job"]
    assert page.evaluate("[miner.getNumThreads(), miner.getThrottle(), miner.getAutoThreadsEnabled()]") \
        == [2, 0.2, False]
    page.evaluate("miner.stop()")
    page.wait_for_timeout(2000)  # a submit in flight at stop() is still credited
    accepted = page.evaluate("miner.getAcceptedHashes()")
    assert accepted > 0 and page.evaluate("miner.isRunning()") is False
    balance = requests.get(live.base_url + "/user/balance",
                           params={"secret": live.secret, "name": "john-doe"}, timeout=30).json()
    assert balance["total"] == accepted
    assert int(page.inner_text("#accepted")) <= accepted
    context.close()


def test_documented_token_miner_verifies_once(live, site, browser):
    url = serve(site, "token.html", miner_page(live.base_url, "coinhive.min.js", TOKEN.format(key=live.site_key)))
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("!miner.isRunning() && miner.getAcceptedHashes() >= 65536", timeout=120000)
    token = page.evaluate("miner.getToken()")
    verify = {"secret": live.secret, "token": token, "hashes": 65536}
    assert requests.post(live.base_url + "/token/verify", data=verify, timeout=30).json()["success"] is True
    assert requests.post(live.base_url + "/token/verify", data=verify, timeout=30).json() == {
        "success": False, "error": "invalid_token"}
    context.close()


def test_authedmine_asks_first_and_nothing_runs_before_allow(live, site, browser):
    url = serve(site, "authed.html",
                miner_page(live.base_url, "authedmine.min.js", ANONYMOUS.format(key=live.site_key)))
    context = browser.new_context()
    context.add_init_script(OPEN_SHADOW_ROOTS)  # to audit and press the question's buttons
    page = context.new_page()
    seen = pow_calls(page, live)
    page.goto(url)
    allow = page.locator("workproof-indicator button.main")
    allow.wait_for()
    page.wait_for_timeout(1500)
    assert seen == [] and page.evaluate("miner.getTotalHashes()") == 0, "no work before Allow"
    assert_accessible(page, "the AuthedMine opt-in question")
    allow.click()
    page.wait_for_function("window.events.indexOf('accepted') >= 0", timeout=120000)
    assert page.evaluate("window.events[0]") == "optin:accepted"
    assert seen, "work started after Allow"
    page.evaluate("miner.stop()")
    context.close()


def test_authedmine_cancel_stops_and_is_remembered(live, site, browser):
    url = serve(site, "authed-cancel.html",
                miner_page(live.base_url, "authedmine.min.js", ANONYMOUS.format(key=live.site_key)))
    context = browser.new_context()
    context.add_init_script(OPEN_SHADOW_ROOTS)
    page = context.new_page()
    seen = pow_calls(page, live)
    page.goto(url)
    page.locator("workproof-indicator button:not(.main):not([hidden])").last.click()
    page.wait_for_function("!miner.isRunning()")
    assert page.evaluate("window.events") == ["optin:canceled"]
    assert page.evaluate("miner.didOptOut(14400)") is True
    assert page.evaluate("document.querySelector('workproof-indicator')") is None
    # The documented snippet then does not start at all on the next visit.
    page.reload()
    page.wait_for_timeout(1000)
    assert page.evaluate("miner.isRunning()") is False
    assert page.evaluate("document.querySelector('workproof-indicator')") is None
    assert seen == []
    context.close()


def test_if_exclusive_tab_lets_one_tab_work(live, site, browser):
    url = serve(site, "tabs.html", miner_page(live.base_url, "coinhive.min.js", ANONYMOUS.format(key=live.site_key)))
    context = browser.new_context()
    first, second = context.new_page(), context.new_page()
    first.goto(url)
    first.wait_for_function("miner.getTotalHashes() > 0", timeout=60000)
    second.goto(url)
    second.wait_for_timeout(3000)
    assert second.evaluate("miner.isRunning() && miner.getTotalHashes() === 0"), "the second tab waits"
    first.evaluate("miner.stop()")
    second.wait_for_function("miner.getTotalHashes() > 0", timeout=30000)
    second.evaluate("miner.stop()")
    context.close()


def test_coinhive_captcha_markup_posts_the_token(live, site, browser):
    url = serve(site, "captcha.html", CAPTCHA.format(key=live.site_key, api=live.base_url))
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("document.querySelector('.coinhive-captcha').dataset.workproofState === 'idle'")
    assert page.is_disabled("input[type=submit]")
    assert not page.locator("em").is_visible(), "the loading text is replaced by the widget"
    page.locator(".coinhive-captcha").click()
    page.wait_for_function("document.querySelector('.coinhive-captcha').dataset.workproofState === 'solved'",
                           timeout=120000)
    page.click("input[type=submit]")
    page.wait_for_url("**/form")
    token = site.api.posted_forms[-1]["coinhive-captcha-token"]
    answer = requests.post(live.base_url + "/token/verify",
                           data={"secret": live.secret, "token": token, "hashes": 1024}, timeout=30).json()
    assert answer["success"] is True, answer
    context.close()
