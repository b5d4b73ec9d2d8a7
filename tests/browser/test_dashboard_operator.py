"""The dashboard an operator lives in, at 1280x800 and 390x844 in headless Chromium
against the real `make run` stack: a bad levels save is answered next to the levels
form, in view; links are created, disabled and deleted from the Links view (the
visitor of a disabled link gets its page, 410); the rate reads in H/s..GH/s; the
switch snippets carry the site key; the local sign-in text names `make run`.
One screenshot per size goes to the test's tmp dir.
"""
from __future__ import annotations

import re

import pytest
import requests

from tests.browser.browser_support import requires_chromium
from tests.browser.test_dashboard import DESKTOP, PHONE, new_world, open_page, sign_in, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.e2e, requires_chromium, pytest.mark.timeout(600)]

IN_VIEW = """(id => { const r = document.getElementById(id).getBoundingClientRect();
  return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight + 1; })"""  # + sub-pixel rounding


def feedback_text(page, box: str, role: str) -> str:
    return wait_js(page, f"(document.querySelector('{box} [role={role}]') || {{}}).textContent")


def check_levels_feedback(page) -> None:
    """A bad save answers under the levels form, visible without scrolling further."""
    page.click("nav a[data-view='settings']")
    wait_js(page, "document.getElementById('levels-works').value.length > 0")
    page.fill("#levels-works", "4096,1024")  # not rising
    page.locator("#levels-form button[type=submit]").scroll_into_view_if_needed()
    page.click("#levels-form button[type=submit]")
    text = feedback_text(page, "#levels-feedback", "alert")
    assert text.startswith("Levels must rise")
    assert page.evaluate("document.getElementById('status').textContent") == ""  # not at the top
    assert page.evaluate("document.getElementById('levels-feedback').closest('form').id") == "levels-form"
    assert page.evaluate(f"{IN_VIEW}('levels-feedback')"), "the message is off-screen"
    # Right under the buttons that caused it.
    gap = page.evaluate("document.getElementById('levels-feedback').getBoundingClientRect().top"
                        " - document.getElementById('levels-reset').getBoundingClientRect().bottom")
    assert 0 <= gap <= 24, gap


def check_links(page, world, label: str, tmp_path) -> None:
    page.click("nav a[data-view='links']")
    page.fill("#link-target", "https://Example.com/get?file=<b>x</b>")
    page.fill("#link-hashes", "4096")
    page.click("#link-create-form button[type=submit]")
    created = feedback_text(page, "#link-create-feedback", "status")
    code = re.search(r"/l/([A-Za-z0-9]+) ", created).group(1)
    row = f"#links-table tbody tr[data-code='{code}']"
    page.wait_for_selector(row)
    target = "https://example.com/get?file=%3Cb%3Ex%3C/b%3E"
    assert page.inner_text(f"{row} td.target") == target
    assert page.query_selector("#links-table td.target b") is None  # text, never markup
    assert page.inner_text(f"{row} .state") == "Active"
    assert requests.get(f"{world.base}/l/{code}", timeout=60).status_code == 200

    page.click(f"{row} button:has-text('Disable')")
    said = feedback_text(page, f"#link-feedback-{code}", "status")
    assert said.startswith("Disabled")
    assert page.inner_text(f"{row} .state") == "Disabled"
    page.screenshot(path=str(tmp_path / f"{label}-links-disabled.png"))
    assert page.evaluate(f"{IN_VIEW}('link-feedback-{code}')"), page.evaluate(
        f"[JSON.stringify(document.getElementById('link-feedback-{code}').getBoundingClientRect()),"
        " window.innerHeight, window.scrollY]")
    visit = requests.get(f"{world.base}/l/{code}", timeout=60)
    assert visit.status_code == 410 and "This link is disabled" in visit.text
    job = requests.post(f"{world.base}/pow/job", data={"site": world.site_key, "link": code}, timeout=60)
    assert job.json() == {"success": False, "error": "invalid_link"}

    page.click(f"{row} button:has-text('Delete')")
    page.wait_for_selector("#confirm[open]")
    assert target in page.inner_text("#confirm-text")
    page.click("#confirm-ok")
    assert feedback_text(page, "#links-list-feedback", "status") == f"Deleted the link {code}."
    assert page.query_selector(row) is None
    assert requests.get(f"{world.base}/l/{code}", timeout=60).json() == \
        {"success": False, "error": "invalid_link"}


@pytest.mark.parametrize("viewport,label", [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_an_operators_day_at_both_sizes(browser, live, tmp_path, viewport, label):
    world = new_world(live, f"dashboard-operator-{label}")
    world.mine(2, user="alice")
    ctx, page, console = open_page(browser, world, viewport, locale="en-US")
    # A local run (make run): the sign-in text names it.
    assert page.is_visible("#view-signin .local-only")
    assert "make run" in page.inner_text("#view-signin")
    sign_in(page, world)

    # The rate in the miner's units, one function everywhere.
    rate = wait_js(page, "document.getElementById('ov-rate').textContent !== '–'"
                         " && document.getElementById('ov-rate').textContent")
    assert re.fullmatch(r"\d+(\.\d+)? (H|kH|MH|GH)/s", rate), rate
    assert page.evaluate("[7336462.6, 0, 12.345, 999.9, 1234, 999999, 1.5e9, 2.5e12]"
                         ".map(window.workproofDashboard.rate)") == \
        ["7.34 MH/s", "0 H/s", "12.3 H/s", "1 kH/s", "1.23 kH/s", "1 MH/s", "1.5 GH/s", "2,500 GH/s"]

    check_levels_feedback(page)
    page.screenshot(path=str(tmp_path / f"{label}-levels-feedback.png"))
    for name in ("recaptchaFront", "turnstileFront"):
        assert f'data-sitekey="{world.site_key}"' in page.inner_text(f"#snippet-{name}")
    for name in ("recaptchaBack", "turnstileBack"):
        assert "secret=YOUR_SECRET" in page.inner_text(f"#snippet-{name}")
    assert world.secret not in page.content()

    check_links(page, world, label, tmp_path)
    ctx.close()
    assert console.errors == []
    print(f"screenshots in {tmp_path}")
