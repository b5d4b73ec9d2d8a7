"""Real browser against the real `make run` stack (the `live_server` fixture):
a captcha on another origin solved by a click, its token posted by the form and
verified by the site's backend exactly once; a shortlink visited and followed;
the demo page; a user miner credited; the JS solver accepted by the server."""
from __future__ import annotations

import pytest
import requests

from tests.browser.browser_support import requires_chromium

pytestmark = [pytest.mark.browser, pytest.mark.e2e, requires_chromium, pytest.mark.timeout(600)]

TOKEN_INPUT = "document.querySelector('input[name=\"coinhive-captcha-token\"]')"
HASHES = 262144


def pow_requests(page, live):
    seen = []
    page.on("request", lambda r: seen.append(r.url) if r.url.startswith(live.base_url + "/pow/") else None)
    return seen


def captcha_page(live, engine=""):
    extra = f' data-engine="{engine}"' if engine else ""
    return (f'<!doctype html><meta charset="utf-8"><title>site</title>'
            f'<form action="/form" method="post"><input name="user" value="carol">'
            f'<div class="workproof-captcha" data-key="{live.site_key}" data-hashes="{HASHES}"{extra}></div>'
            f'<button id="send" type="submit">send</button></form>'
            f'<script src="{live.base_url}/lib/captcha.js"></script>')


def verify(live, token, hashes=HASHES):
    return requests.post(live.base_url + "/token/verify",
                         data={"secret": live.secret, "token": token, "hashes": hashes}, timeout=30).json()


@pytest.mark.parametrize("engine", ["", "js"])
def test_captcha_click_post_and_verify_once(live, site, page, engine):
    name = f"captcha{engine}.html"
    site.api.pages[name] = captcha_page(live, engine)
    seen = pow_requests(page, live)
    page.goto(f"{site.url}/page/{name}")
    page.wait_for_timeout(1500)
    assert seen == [], "nothing is requested before the click"
    page.locator(".workproof-captcha").click(position={"x": 24, "y": 24})
    page.wait_for_function(f"{TOKEN_INPUT} && {TOKEN_INPUT}.value", timeout=120000)
    token = page.evaluate(f"{TOKEN_INPUT}.value")
    assert len(token) == 32
    page.click("#send")
    page.wait_for_url("**/form")
    assert site.api.posted_forms[-1]["coinhive-captcha-token"] == token
    first = verify(live, token)
    assert first["success"] is True and first["hashes"] >= HASHES, first
    assert verify(live, token) == {"success": False, "error": "invalid_token"}


def test_shortlink_visited_and_followed(live, site, page):
    target = f"{site.url}/target?from=live"
    made = requests.post(live.base_url + "/link/create",
                         data={"secret": live.secret, "url": target, "hashes": HASHES}, timeout=30).json()
    assert made["success"], made
    html = requests.get(made["url"], timeout=30).text
    assert "127.0.0.1" in html and "target?from" not in html
    page.goto(made["url"])
    page.wait_for_url("**/target?from=live", timeout=120000)
    assert "landed" in page.inner_text("h1")


def test_user_miner_is_credited(live, site, page):
    site.api.pages["miner.html"] = (
        f'<!doctype html><meta charset="utf-8"><title>miner</title>'
        f'<script src="{live.base_url}/lib/workproof.js"></script>')
    page.goto(f"{site.url}/page/miner.html")
    page.evaluate(f"window.m = new WorkProof.User('{live.site_key}', 'browser-bob', {{threads: 2}});"
                  "window.acc = 0; m.on('accepted', e => { window.acc += e.hashes; }); m.start();")
    page.wait_for_function("window.acc > 0", timeout=120000)
    page.evaluate("m.stop()")
    page.wait_for_timeout(2000)  # a submit in flight at stop() is still credited, and counted
    accepted = page.evaluate("m.getAcceptedHashes()")
    balance = requests.get(live.base_url + "/user/balance",
                           params={"secret": live.secret, "name": "browser-bob"}, timeout=30).json()
    assert balance["success"] and balance["total"] == accepted, (balance, accepted)


def test_demo_page_captcha_round_trip(live, page):
    front = requests.get(live.base_url + "/", timeout=30)
    if front.headers.get("Content-Type", "").startswith("application/json"):
        pytest.skip("the local server does not serve the demo page at / yet "
                    f"(answered {front.text[:60]!r}); ops/server.py must route / to demo.html")
    seen = pow_requests(page, live)
    page.goto(live.base_url + "/")
    assert page.title() == "Workproof demo"
    page.wait_for_timeout(1000)
    assert seen == [], "the demo page hashes nothing until asked"
    page.locator("#captcha-form .workproof-captcha").click(position={"x": 24, "y": 24})
    page.wait_for_function(f"{TOKEN_INPUT} && {TOKEN_INPUT}.value", timeout=180000)
    page.click("#captcha-submit")
    page.wait_for_function("document.getElementById('captcha-result').textContent.indexOf('verified') >= 0",
                           timeout=30000)
    assert '"verified": true' in page.inner_text("#captcha-result")
