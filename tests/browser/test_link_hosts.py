"""In Chromium: the host a shortlink page shows is the host the browser goes to.

Tricky accepted targets (internationalised, full-width, percent-encoded,
IPv6, trailing dot, mixed case) are made into links on the real `make run`
stack; Chromium visits each, solves the work and follows the redirect, which
is intercepted (no network): the host it navigates to must be the host the
page showed. Chromium's own parse of what the operator typed gives that host
too.
"""
from __future__ import annotations

import re
import time

import pytest
import requests

from tests.browser.browser_support import requires_chromium

pytestmark = [pytest.mark.browser, pytest.mark.e2e, requires_chromium, pytest.mark.timeout(600)]

SHOWN_HOST = re.compile(r'<span class="host"[^>]*>([^<]*)</span>')
TRICKY_TARGETS = [
    "https://faß.de/straße?q=ß#ß",
    "https://BÜCHER.example:8443/Kaufen",
    "https://ex%61mple.com/%7Bpath%7D",
    "https://\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com/",
    "https://例え。テスト/",
    "https://ΣΊΣΥΦΟΣ.gr/",
    "http://[0:0:0:0:0:0:0:1]:9/x",
    "https://example.com./",
    "https://a\u0301b.example/{{code}}",
]


def shown_host(live, target: str) -> tuple[str, str]:
    made = requests.post(live.base_url + "/link/create",
                         data={"secret": live.secret, "url": target, "hashes": 1}, timeout=30).json()
    assert made["success"] is True, (target, made)
    html = requests.get(made["url"], timeout=30).text
    hosts = SHOWN_HOST.findall(html)
    assert len(hosts) == 1, html
    return made["url"], hosts[0]


@pytest.mark.parametrize("target", TRICKY_TARGETS)
def test_the_browser_goes_to_the_host_the_page_shows(live, page, target):
    short, host = shown_host(live, target)
    landed: list[str] = []

    def intercept(route):
        if route.request.url.startswith(live.base_url):
            route.continue_()
            return
        landed.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>landed</title>")

    page.route("**/*", intercept)
    page.goto(short)
    deadline = time.monotonic() + 120
    while not landed and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert landed, "the page never redirected"
    page.wait_for_function("document.title === 'landed'", timeout=30000)
    # Where Chromium went, by its own reading of the URL it navigated to.
    assert page.evaluate("location.hostname") == host
    assert page.evaluate("u => new URL(u).hostname", landed[0]) == host
    # And what the operator typed, parsed by Chromium, names that host too.
    assert page.evaluate("t => new URL(t).hostname", target) == host


def test_a_target_that_could_mislead_is_refused(live):
    for target in ("https://paypal.com\\@evil.example/", "https://paypal.com@evil.example/",
                   "http://0x7f.1/", "http://2130706433/"):
        made = requests.post(live.base_url + "/link/create",
                             data={"secret": live.secret, "url": target, "hashes": 1}, timeout=30).json()
        assert made == {"success": False, "error": "invalid_url"}, target
