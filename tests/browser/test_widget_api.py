"""The captcha's integration surface, as reCAPTCHA / hCaptcha / Turnstile
integrators know it: the field a backend reads (data-response-field), the
JavaScript API (render, reset, getResponse), callbacks as options or as the
names of global functions (callback, expired-callback, error-callback),
explicit rendering with ?render=explicit&onload=..., a language per widget."""
from __future__ import annotations

import pytest

from chalicelib import i18n
from tests.browser.axe import OPEN_SHADOW_ROOTS
from tests.browser.browser_support import FakeApi, FakeApiServer, requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.timeout(300)]

FIELDS = ["coinhive-captcha-token", "g-recaptcha-response", "h-captcha-response", "cf-turnstile-response"]


def page_html(body: str, script: str = "/lib/captcha.js") -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>api</title></head>'
            f'<body>{body}<script src="{script}"></script></body></html>')


@pytest.fixture(scope="module")
def server():
    api = FakeApi(difficulty=4096, count=8)
    with FakeApiServer(api) as srv:
        yield srv


def open_page(page, server, name: str, html: str) -> None:
    server.api.pages[name] = html
    page.goto(f"{server.url}/page/{name}")


def solved(page, selector: str = ".workproof-captcha") -> None:
    page.wait_for_function(f"document.querySelector('{selector}').dataset.workproofState === 'solved'",
                           timeout=60000)


@pytest.mark.parametrize("field", FIELDS)
def test_the_form_posts_the_field_its_backend_reads(page, server, field):
    attr = "" if field == FIELDS[0] else f' data-response-field="{field}"'
    open_page(page, server, f"field-{field}.html", page_html(
        f'<form action="/form" method="post"><input name="comment" value="hi">'
        f'<div class="workproof-captcha" data-key="SITEKEY" data-hashes="65536"{attr}></div>'
        f'<button id="send">send</button></form>'))
    page.locator(".workproof-captcha").click()
    solved(page)
    token = page.evaluate("WorkProofCaptcha.getResponse()")
    page.click("#send")
    page.wait_for_url("**/form")
    posted = server.api.posted_forms[-1]
    assert posted[field] == token and posted["comment"] == "hi"
    assert set(posted) == {"comment", field}, "exactly one response field"
    assert server.api.tokens[token] >= 65536


def test_an_unknown_response_field_falls_back_to_coinhives(page, server):
    open_page(page, server, "field-bad.html", page_html(
        '<form><div class="workproof-captcha" data-key="SITEKEY" data-response-field="x"></div></form>'))
    page.wait_for_function("document.querySelector('.workproof-captcha').dataset.workproofState === 'idle'")
    assert page.evaluate("document.querySelector('input[type=hidden]').name") == "coinhive-captcha-token"


def test_render_reset_and_get_response_with_function_callbacks(page, server):
    open_page(page, server, "explicit.html", page_html(
        '<form><div id="first"></div><div id="second"></div></form>'
        '<script>window.calls = [];'
        'function ready() {'
        '  window.ids = [WorkProofCaptcha.render("first", {sitekey: "SITEKEY", hashes: 65536,'
        '      callback: function (t) { calls.push(["first", t]); }}),'
        '    WorkProofCaptcha.render(document.getElementById("second"), {sitekey: "UNKNOWNSITE",'
        '      "error-callback": function (code) { calls.push(["error", code]); },'
        '      "response-field": "h-captcha-response", lang: "ja"})];'
        '}</script>',
        script="/lib/captcha.js?render=explicit&onload=ready"))
    page.wait_for_function("window.ids && window.ids.length === 2")
    assert page.evaluate("window.ids") == [0, 1]
    assert page.evaluate("WorkProofCaptcha.render('first')") == 0, "rendering twice returns its id"
    assert page.evaluate("[WorkProofCaptcha.getResponse(0), WorkProofCaptcha.getResponse(1)]") == ["", ""]
    page.locator("#first").click()
    solved(page, "#first")
    token = page.evaluate("WorkProofCaptcha.getResponse(0)")
    assert page.evaluate("WorkProofCaptcha.getResponse()") == token, "the default id is the first widget"
    page.locator("#second").click()
    page.wait_for_function("document.getElementById('second').dataset.workproofState === 'failed'")
    assert page.evaluate("window.calls") == [["first", token], ["error", "invalid_site"]]
    assert page.evaluate("document.querySelector('#second input').name") == "h-captcha-response"
    page.evaluate("WorkProofCaptcha.reset(0)")
    assert page.evaluate("[WorkProofCaptcha.getResponse(0), document.getElementById('first')"
                         ".dataset.workproofState]") == ["", "idle"]
    with pytest.raises(Exception, match="no widget"):
        page.evaluate("WorkProofCaptcha.getResponse(7)")
    with pytest.raises(Exception, match="missing site key"):
        page.evaluate("WorkProofCaptcha.render(document.createElement('div'), {})")


def test_data_attribute_callbacks_name_global_functions_and_the_token_expires(page, server):
    page.clock.install()
    open_page(page, server, "expiry.html", page_html(
        '<form><div class="workproof-captcha" data-key="SITEKEY" data-hashes="65536"'
        ' data-callback="onOk" data-expired-callback="onExpired" data-lang="de"></div>'
        '<button id="send" disabled>send</button></form>'
        '<script>window.calls = []; function onOk(t) { calls.push(["ok", t]); }'
        'function onExpired() { calls.push(["expired"]); }</script>'))
    page.locator(".workproof-captcha").click()
    solved(page)
    token = page.evaluate("WorkProofCaptcha.getResponse()")
    assert page.evaluate("window.calls") == [["ok", token]]
    page.clock.fast_forward("54:00")
    assert page.evaluate("WorkProofCaptcha.getResponse()") == token
    page.clock.fast_forward("01:30")
    page.wait_for_function("window.calls.length === 2")
    assert page.evaluate("window.calls[1]") == ["expired"]
    assert page.evaluate("WorkProofCaptcha.getResponse()") == "", "an expired token is removed from the form"
    assert page.evaluate("document.querySelector('.workproof-captcha').dataset.workproofState") == "idle"
    assert page.evaluate("document.querySelector('.workproof-captcha').getAttribute('data-lang')") == "de"


def test_script_hl_sets_the_language_of_every_widget(browser, server):
    context = browser.new_context()
    context.add_init_script(OPEN_SHADOW_ROOTS)  # to read the boxes' language
    page = context.new_page()
    open_page(page, server, "hl.html", page_html(
        '<div class="workproof-captcha" id="a" data-key="SITEKEY"></div>'
        '<div class="workproof-captcha" id="b" data-key="SITEKEY" data-lang="ko"></div>',
        script="/lib/captcha.js?hl=pt-BR"))
    page.wait_for_function("document.querySelectorAll('[data-workproof-state=idle]').length === 2")
    labels = page.evaluate("['a', 'b'].map(id => document.getElementById(id).shadowRoot"
                           ".querySelector('.box').getAttribute('aria-label'))")
    assert labels == [i18n.text("pt-BR", "captchaLabel"), i18n.text("ko", "captchaLabel")]
    context.close()
