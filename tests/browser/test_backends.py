"""Existing captcha backends, unchanged but for their verify URL, accept the
token the widget produced in headless Chromium, once:

- recaptcha2 (PyPI, pinned): `recaptcha2.verify(secret, response, endpoint=...)`,
  a reCAPTCHA client whose URL is an argument (it verifies with a GET);
- flask-hcaptcha (PyPI, pinned): a Flask extension that POSTs the form's
  h-captcha-response to its class constant `hCaptcha.VERIFY_URL`.

Against the real `make run` stack, and against `make store` + stock
`chalice local` (the dev stage)."""
from __future__ import annotations

import json

import pytest

from tests.browser.browser_support import have_live_server, requires_chromium
from tests.e2e.devstack import chalice_local, make_store

pytestmark = [pytest.mark.browser, pytest.mark.e2e, requires_chromium, pytest.mark.timeout(600)]

HASHES = 131072


def solve_in_browser(browser, site, api_base: str, site_key: str, field: str) -> str:
    """A visitor solves the widget on the site's page; the form posts `field`."""
    name = f"{field}-{abs(hash(api_base))}.html"
    site.api.pages[name] = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sign up</title></head>'
        f'<body><form action="/form" method="post"><input name="user" value="dana">'
        f'<div class="workproof-captcha" data-key="{site_key}" data-hashes="{HASHES}"'
        f' data-response-field="{field}"></div><button id="send">send</button></form>'
        f'<script src="{api_base}/lib/captcha.js"></script></body></html>')
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site.url}/page/{name}")
    page.locator(".workproof-captcha").click()
    page.wait_for_function("document.querySelector('.workproof-captcha').dataset.workproofState"
                           " === 'solved'", timeout=180000)
    page.click("#send")
    page.wait_for_url("**/form")
    context.close()
    return site.api.posted_forms[-1][field]


def recaptcha_backend(api_base: str, secret: str, token: str) -> dict:
    import recaptcha2

    return recaptcha2.verify(secret, token, remoteip="203.0.113.7",
                             endpoint=f"{api_base}/recaptcha/api/siteverify")


def hcaptcha_backend(api_base: str, secret: str, site_key: str, token: str) -> bool:
    """A Flask app verifying its form the way flask-hcaptcha's README shows."""
    from flask import Flask
    from flask_hcaptcha import hCaptcha

    app = Flask(__name__)
    app.config.update(HCAPTCHA_SITE_KEY=site_key, HCAPTCHA_SECRET_KEY=secret)
    hcaptcha = hCaptcha(app)
    hCaptcha.VERIFY_URL = f"{api_base}/siteverify"  # the one change: Workproof's URL
    with app.test_request_context("/signup", method="POST", data={"h-captcha-response": token}):
        return hcaptcha.verify()


def check_backends(browser, site, api_base: str, site_key: str, secret: str) -> None:
    token = solve_in_browser(browser, site, api_base, site_key, "g-recaptcha-response")
    first = recaptcha_backend(api_base, secret, token)
    assert first["success"] is True and first["error-codes"] == [], first
    assert first["hostname"] == "127.0.0.1" and first["hashes"] >= HASHES
    assert recaptcha_backend(api_base, secret, token) == {
        "success": False, "error-codes": ["timeout-or-duplicate"]}

    token = solve_in_browser(browser, site, api_base, site_key, "h-captcha-response")
    assert hcaptcha_backend(api_base, secret, site_key, token) is True
    assert hcaptcha_backend(api_base, secret, site_key, token) is False


def test_backends_against_make_run(browser, site, request):
    live = have_live_server(request)
    check_backends(browser, site, live.base_url, live.site_key, live.secret)


def test_backends_against_make_store_and_chalice_local(browser, site, tmp_path):
    state = tmp_path / "state"
    store, _store_url, command = make_store(state)  # served by the command `make store` prints
    try:
        demo = json.loads((state / "demo.json").read_text())
        server, base = chalice_local(command, tmp_path)
        try:
            check_backends(browser, site, base, demo["site_key"], demo["secret"])
        finally:
            server.stop()
    finally:
        store.stop()
