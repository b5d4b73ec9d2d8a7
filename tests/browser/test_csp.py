"""A page under a strict Content-Security-Policy (no inline script or style, no
eval) embeds the captcha from the real API on another origin and solves it: no
CSP violation, the solver runs in Web Workers, the closed shadow roots draw and
style the widget, and the token it produces verifies."""
from __future__ import annotations

import pytest
import requests

from tests.browser.browser_support import FakeApi, FakeApiServer, requires_chromium

pytestmark = [pytest.mark.browser, pytest.mark.e2e, requires_chromium, pytest.mark.timeout(600)]

HASHES = 262144
# Records every violation the document sees (init scripts run whatever the policy).
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__violations.push(e.violatedDirective + ' ' + e.blockedURI);
});
window.__workers = 0;
(function () {
  var W = window.Worker;
  window.Worker = function (url, opts) { window.__workers++; return new W(url, opts); };
  window.Worker.prototype = W.prototype;
})();
"""
SITE_JS = """
function onSolved(token) { document.getElementById('out').textContent = 'solved'; }
"""


def policies(api: str) -> dict[str, str]:
    return {
        # The policy, verbatim: no 'unsafe-inline', no 'unsafe-eval', no WebAssembly.
        "issue": f"script-src 'self' {api}; style-src 'self'; worker-src blob: {api}",
        # Stricter everywhere else, WebAssembly allowed.
        "locked-down": (f"default-src 'none'; script-src 'self' {api} 'wasm-unsafe-eval'; "
                        f"style-src 'self'; worker-src blob: {api}; connect-src {api}; "
                        "form-action 'self'; base-uri 'none'"),
    }


@pytest.fixture(scope="module")
def site():
    with FakeApiServer(FakeApi()) as srv:
        srv.api.pages["site.js"] = SITE_JS
        yield srv


@pytest.mark.parametrize("policy", ["issue", "locked-down"])
def test_strict_csp_page_solves_the_captcha(live, site, browser, policy):
    csp = policies(live.base_url)[policy]
    name = f"strict-{policy}.html"
    site.api.pages[name] = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>strict</title>'
        f'<script src="/page/site.js"></script></head><body><main><form action="/form" method="post">'
        f'<div class="workproof-captcha" id="cap" data-key="{live.site_key}" data-hashes="{HASHES}"'
        f' data-callback="onSolved" data-response-field="g-recaptcha-response"></div>'
        f'<button id="send" type="submit">send</button></form><p id="out"></p></main>'
        f'<script src="{live.base_url}/lib/captcha.js"></script></body></html>')
    site.api.page_headers[name] = {"Content-Security-Policy": csp}
    context = browser.new_context()
    context.add_init_script(WATCH)
    page = context.new_page()
    # (Playwright evaluates string predicates with eval, which this policy forbids:
    # every check below is a function.)
    response = page.goto(f"{site.url}/page/{name}")
    assert response.headers["content-security-policy"] == csp
    page.wait_for_function("() => document.getElementById('cap').dataset.workproofState === 'idle'")
    assert page.evaluate("document.getElementById('cap').shadowRoot") is None, "the root stays closed"
    box = page.locator("#cap").bounding_box()
    assert box["width"] >= 280 and box["height"] >= 70, "styled by its constructed sheet"
    page.locator("#cap").click()
    page.wait_for_function("() => document.getElementById('out').textContent === 'solved'",
                           timeout=180000)
    token = page.evaluate("WorkProofCaptcha.getResponse()")
    assert page.evaluate("window.__violations") == []
    assert page.evaluate("window.__workers") >= 1
    assert page.evaluate("document.querySelector('script[src*=\"/lib/worker.\"]')") is None, \
        "solved in workers, not by the main-thread fallback"
    page.click("#send")
    page.wait_for_url("**/form")
    assert site.api.posted_forms[-1]["g-recaptcha-response"] == token
    answer = requests.post(live.base_url + "/token/verify",
                           data={"secret": live.secret, "token": token, "hashes": HASHES}, timeout=30).json()
    assert answer["success"] is True, answer
    context.close()
