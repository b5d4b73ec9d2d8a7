"""The two-URL switch in headless Chromium against the real `make run` stack: sites
built on real captcha packages (tests/browser/django_site.py: django-recaptcha and
django-turnstile, unchanged but for their URL settings) load Workproof's
/recaptcha/api.js or /turnstile/v0/api.js; the visitor clicks, the widget solves, the
form is sent and the package's own verify accepts the token once; a tampered token is
refused. Hand-written pages use grecaptcha's and turnstile's JavaScript APIs."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.browser_support import requires_chromium
from tests.browser.django_site import DjangoSite, configure
from tests.browser.tls_front import TlsFront

pytestmark = [pytest.mark.browser, pytest.mark.e2e, requires_chromium, pytest.mark.timeout(600)]

SOLVE_MS = 180000
RECAPTCHA_TEST_SITE_KEY = "6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI"
RECAPTCHA_TEST_SECRET = "6LeIxAcTAAAAAGG-vFI1TnRWxMZNFuojJ4WifJWe"


@pytest.fixture(scope="module")
def front(live: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsFront]:
    with TlsFront(live.base_url, tmp_path_factory.mktemp("tls")) as tls:
        yield tls


@pytest.fixture(scope="module")
def django_site(live: Any, front: TlsFront) -> Iterator[DjangoSite]:
    configure(live.base_url, live.site_key, live.secret, front.domain)
    with DjangoSite() as site:
        yield site


@pytest.fixture()
def trusted(front: TlsFront, monkeypatch: pytest.MonkeyPatch) -> None:
    """The backend trusts the front's certificate, as a host trusts a private CA."""
    monkeypatch.setenv("SSL_CERT_FILE", str(front.cert))


@pytest.fixture()
def visitor(browser: Any) -> Iterator[Any]:
    context = browser.new_context(ignore_https_errors=True)  # the front's own certificate
    page = context.new_page()
    page.console_lines = []
    page.on("console", lambda message: page.console_lines.append(message.text))
    yield page
    context.close()


def solve(page: Any, url: str, container: str) -> str:
    """The visitor opens the form, fills it and clicks the captcha; the solved token."""
    page.goto(url)
    page.fill("input[name=name]", "dana")
    page.locator(f"{container} [data-workproof-state]").click()  # the widget in the container
    page.wait_for_function(f"document.querySelector('{container} [data-workproof-state]')"
                           ".dataset.workproofState === 'solved'", timeout=SOLVE_MS)
    return page.evaluate(f"document.querySelector('{container} input[type=hidden]').value")


def send(page: Any) -> str:
    page.click("#send")
    page.wait_for_load_state()
    return page.evaluate("document.body.innerText").strip()


def tamper(page: Any, field: str) -> None:
    page.evaluate("""field => { const input = document.querySelector(`input[name="${field}"]`);
                     const last = input.value.slice(-1);
                     input.value = input.value.slice(0, -1) + (last === 'A' ? 'B' : 'A'); }""", field)


def test_django_recaptcha_switched_by_recaptcha_domain(visitor, django_site, front, trusted):
    url = f"{django_site.url}/recaptcha"
    token = solve(visitor, url, ".g-recaptcha")
    assert len(token) == 32
    assert visitor.evaluate("grecaptcha.getResponse()") == token
    # The package's data-callback ran (its own script logs it).
    assert any(line.startswith("reCAPTCHA validated for") for line in visitor.console_lines)
    posted = visitor.evaluate("[...new FormData(document.forms[0]).keys()]")
    assert "g-recaptcha-response" in posted
    assert send(visitor) == "welcome dana"
    # The same token again: spent.
    visitor.goto(url)
    visitor.fill("input[name=name]", "dana")
    visitor.evaluate("""token => { const input = document.createElement('input');
        input.type = 'hidden'; input.name = 'g-recaptcha-response'; input.value = token;
        document.forms[0].appendChild(input); }""", token)
    assert send(visitor).startswith("refused")
    # A tampered token is refused, and the real one stays unspent by it.
    solve(visitor, url, ".g-recaptcha")
    tamper(visitor, "g-recaptcha-response")
    assert send(visitor).startswith("refused")


def test_django_recaptcha_with_recaptchas_test_keys(visitor, django_site, trusted):
    from django.conf import settings

    settings.RECAPTCHA_PUBLIC_KEY, settings.RECAPTCHA_PRIVATE_KEY = \
        RECAPTCHA_TEST_SITE_KEY, RECAPTCHA_TEST_SECRET
    try:
        token = solve(visitor, f"{django_site.url}/recaptcha", ".g-recaptcha")
        assert token == "XXXX.DUMMY.TOKEN.XXXX"
        assert send(visitor) == "welcome dana"
    finally:
        del settings.RECAPTCHA_PUBLIC_KEY, settings.RECAPTCHA_PRIVATE_KEY


def test_django_turnstile_switched_by_its_two_urls(visitor, django_site):
    url = f"{django_site.url}/turnstile"
    token = solve(visitor, url, ".cf-turnstile")
    assert len(token) == 32
    assert visitor.evaluate("turnstile.getResponse()") == token
    assert send(visitor) == "welcome dana"
    solve(visitor, url, ".cf-turnstile")
    tamper(visitor, "cf-turnstile-response")
    assert send(visitor).startswith("refused")


def test_turnstile_explicit_render_execute_and_remove(visitor, site, live):
    """A hand-written page: ?onload=...&render=explicit, render() into a selector, the
    page's execute() starts the work, the callback gets the token, remove() takes it out."""
    site.api.pages["turnstile-explicit.html"] = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>'
        '<form><div id="box"></div><div class="cf-turnstile" data-sitekey="ignored"></div></form><script>'
        'window.got = []; function onTurnstile() { window.id = turnstile.render("#box", {sitekey: "'
        + live.site_key + '", hashes: 65536, callback: function (t) { window.got.push(t); }}); }'
        f'</script><script src="{live.base_url}/turnstile/v0/api.js?onload=onTurnstile&render=explicit">'
        '</script></body></html>')
    visitor.goto(f"{site.url}/page/turnstile-explicit.html")
    visitor.wait_for_function("window.id !== undefined")
    assert visitor.evaluate("document.querySelectorAll('[data-workproof-state]').length") == 1
    assert visitor.evaluate("turnstile.getResponse(window.id)") == ""
    visitor.evaluate("turnstile.execute('#box')")
    visitor.wait_for_function("window.got.length === 1", timeout=SOLVE_MS)
    token = visitor.evaluate("window.got[0]")
    assert visitor.evaluate("turnstile.getResponse()") == token
    assert visitor.evaluate("new FormData(document.forms[0]).get('cf-turnstile-response')") == token
    visitor.evaluate("turnstile.remove(window.id)")
    assert visitor.evaluate("document.querySelectorAll('[data-workproof-state]').length") == 0


def test_grecaptcha_ready_render_and_reset(visitor, site, live):
    site.api.pages["recaptcha-explicit.html"] = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>r</title></head><body>'
        '<form><div id="box"></div></form>'
        f'<script src="{live.base_url}/recaptcha/api.js?render=explicit"></script><script>'
        'grecaptcha.ready(function () { window.id = grecaptcha.render("box", {sitekey: "'
        + live.site_key + '", hashes: 65536}); });</script></body></html>')
    visitor.goto(f"{site.url}/page/recaptcha-explicit.html")
    visitor.wait_for_function("window.id === 0")
    visitor.locator("#box [data-workproof-state]").click()  # the visitor's consent
    visitor.wait_for_function("grecaptcha.getResponse(0).length === 32", timeout=SOLVE_MS)
    visitor.evaluate("grecaptcha.reset(0)")
    assert visitor.evaluate("grecaptcha.getResponse()") == ""
    assert visitor.evaluate("document.querySelector('#box [data-workproof-state]')"
                            ".dataset.workproofState") == "idle"
