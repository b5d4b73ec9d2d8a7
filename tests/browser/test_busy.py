"""A server over a limit answers `/pow/job` or `/pow/submit` with `busy` and
Retry-After (docs/contract.md §3 and §4): the captcha and the shortlink page tell the
visitor, in their language, that they retry and when, then send the same
request again (a refused submit: the same job and nonces) and finish as usual.
The refusal is injected once per test with Playwright's `page.route`, in front
of the stand-in API."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import i18n
from tests.browser.browser_support import FakeApi, FakeApiServer, requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.timeout(300)]

BUSY_BODY = json.dumps({"success": False, "error": "busy"})
BUSY_HEADERS = {"Retry-After": "1", "Access-Control-Allow-Origin": "*",
                "Access-Control-Expose-Headers": "Retry-After", "Cache-Control": "no-store"}

# Reports every text the widget's or the shortlink panel's status line shows (their shadow
# roots stay closed; this keeps a reference at attachShadow) to the test, across navigations.
STATUS_REPORTER = """
(function () {
  var attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    var root = attach.call(this, init), last = null;
    new MutationObserver(function () {
      var line = root.querySelector('.status, .s');
      if (line && line.textContent !== last) { last = line.textContent; window.reportStatus(last); }
    }).observe(root, {subtree: true, childList: true, characterData: true});
    return root;
  };
})();
"""


@pytest.fixture(scope="module")
def server() -> Iterator[FakeApiServer]:
    with FakeApiServer(FakeApi(difficulty=4096, count=8)) as srv:
        yield srv


# The deployed gateway's throttle and WAF answer the seed's `internal_error`, with Retry-After.
THROTTLED_BODY = json.dumps({"success": False, "error": "internal_error"})
# Lambda's own answer when every instance is busy (the cloudfront door's function URL):
# 429 and its JSON; CloudFront's response headers policy adds CORS and Retry-After: 1.
LAMBDA_THROTTLE = (429, json.dumps({"Message": "Rate Exceeded."}),
                   {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Retry-After",
                    "Retry-After": "1"})


class BusyOnce:
    """Answers the first request to `path` with `busy` (Retry-After: 1); lets the rest through.
    `requests` lists (answer, form body) in the order the page sent them."""

    def __init__(self, path: str, body: str = BUSY_BODY, status: int = 200,
                 headers: dict[str, str] | None = None) -> None:
        self.path, self.body, self.status = path, body, status
        self.headers = BUSY_HEADERS if headers is None else headers
        self.requests: list[tuple[str, str]] = []

    def __call__(self, route: Any) -> None:
        body = route.request.post_data or ""
        if not self.requests:
            self.requests.append(("busy", body))
            route.fulfill(status=self.status, headers=self.headers, content_type="application/json",
                          body=self.body)
        else:
            self.requests.append(("served", body))
            route.continue_()


def watched_page(browser: Any, server: FakeApiServer, path: str, locale: str,
                 body: str = BUSY_BODY, status: int = 200,
                 headers: dict[str, str] | None = None) -> tuple[Any, Any, BusyOnce, list[str]]:
    """A page in `locale` whose status texts are collected and whose first `path` call is busy."""
    context = browser.new_context(locale=locale)
    seen: list[str] = []
    context.expose_function("reportStatus", lambda text: seen.append(text))
    context.add_init_script(STATUS_REPORTER)
    busy = BusyOnce(path, body, status, headers)
    page = context.new_page()
    page.route(server.url + path, busy)
    return context, page, busy, seen


def busy_texts(lang: str, seconds: int = 1) -> set[str]:
    """What the visitor reads while a Retry-After of `seconds` (plus its jitter) runs down."""
    return {i18n.text(lang, "busy", s=str(n)) for n in range(1, seconds + 2)}


def assert_retried_after_busy(busy: BusyOnce) -> None:
    answers = [answer for answer, _ in busy.requests]
    assert answers[:2] == ["busy", "served"], busy.requests
    if busy.path == "/pow/submit":
        assert busy.requests[1][1] == busy.requests[0][1], "the refused submit is resent unchanged"


@pytest.mark.parametrize("path, answer", [
    ("/pow/job", (200, BUSY_BODY, None)), ("/pow/submit", (200, BUSY_BODY, None)),
    ("/pow/job", (200, THROTTLED_BODY, None)), ("/pow/submit", LAMBDA_THROTTLE)])
def test_the_captcha_says_busy_then_retries_and_puts_the_token_in_the_form(browser, server, path,
                                                                         answer):
    status, body, headers = answer
    server.api.pages["busy.html"] = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>busy</title></head><body>'
        '<form><div class="workproof-captcha" data-key="SITEKEY" data-hashes="65536" data-lang="de"></div>'
        '</form><script src="/lib/captcha.js"></script></body></html>')
    context, page, busy, seen = watched_page(browser, server, path, "en-US", body, status, headers)
    try:
        page.goto(server.url + "/page/busy.html")
        page.locator(".workproof-captcha").click()
        page.wait_for_function("document.querySelector('.workproof-captcha').dataset.workproofState"
                               " === 'solved'", timeout=60000)
        token = page.evaluate("document.querySelector('input[name=coinhive-captcha-token]').value")
    finally:
        context.close()
    assert server.api.tokens[token] >= 65536
    assert_retried_after_busy(busy)
    shown = [text for text in seen if text in busy_texts("de")]
    assert shown, f"the visitor was not told: {seen}"
    assert seen.index(shown[0]) < seen.index(i18n.text("de", "verified")), seen
    assert not any(i18n.text("de", "failed") in text for text in seen), "busy is not a failure"


@pytest.mark.parametrize("path", ["/pow/job", "/pow/submit"])
def test_the_shortlink_page_says_busy_then_retries_and_redirects(browser, server, path):
    code = "Busy" + path.rsplit("/", 1)[1]
    server.api.links[code] = (server.url + f"/target?busy={code}", 65536)
    context, page, busy, seen = watched_page(browser, server, path, "fr-FR")
    try:
        page.goto(server.url + f"/l/{code}")
        page.wait_for_url(f"**/target?busy={code}", timeout=60000)
        assert "landed" in page.inner_text("h1")
    finally:
        context.close()
    assert_retried_after_busy(busy)
    shown = [text for text in seen if text in busy_texts("fr")]
    assert shown, f"the visitor was not told: {seen}"
    assert seen.index(shown[0]) < seen.index(i18n.text("fr", "linkDone")), seen
    assert not any(i18n.text("fr", "linkError") in text for text in seen), "busy is not a failure"
