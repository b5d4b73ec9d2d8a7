"""What visitors see of the widget, the miner's badge and the shortlink page, at
desktop (1280x800) and phone (390x844) widths: a box that keeps its height in
every state, a bar at 100 % once verified, a Pause / Resume the keyboard
reaches, words instead of error codes, labels inside their buttons, and the
shortlink's work said as its size and time rather than "small".

Shadow roots are opened (OPEN_SHADOW_ROOTS) only to measure what is drawn."""
from __future__ import annotations

from typing import Any

import pytest

from tests.browser.axe import OPEN_SHADOW_ROOTS
from tests.browser.browser_support import FakeApi, FakeApiServer, requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.timeout(300)]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
BOX = "document.querySelector('.workproof-captcha').shadowRoot.querySelector('.box')"
STATE = "document.querySelector('.workproof-captcha').dataset.workproofState"


@pytest.fixture(scope="module")
def server():
    api = FakeApi(difficulty=4096, count=8)
    api.links["BIGLINK"] = ("https://example.com/file.zip", 2_000_000_000)
    with FakeApiServer(api) as srv:
        yield srv


def widget_page(hashes: int, key: str = "SITEKEY") -> str:
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1"><title>form</title></head>'
            f'<body><form><div class="workproof-captcha" data-key="{key}" data-hashes="{hashes}"></div>'
            '<p><button id="send">Send</button></p></form><script src="/lib/captcha.js"></script></body></html>')


def open_page(browser: Any, server: FakeApiServer, viewport: dict[str, int], name: str, html: str):
    ctx = browser.new_context(viewport=viewport, locale="en-US")
    ctx.add_init_script(OPEN_SHADOW_ROOTS)
    page = ctx.new_page()
    server.api.pages[name] = html
    page.goto(f"{server.url}/page/{name}")
    page.wait_for_function(f"{STATE} === 'idle'")
    return ctx, page


def geometry(page: Any) -> tuple[float, float]:
    """(the widget's height, the Send button's top)."""
    return page.evaluate(f"[{BOX}.getBoundingClientRect().height, "
                         "document.getElementById('send').getBoundingClientRect().top]")


def in_box(page: Any, selector: str, expression: str) -> Any:
    return page.evaluate(f"(el => {expression})({BOX}.querySelector('{selector}'))")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_box_keeps_its_height_and_the_bar_reaches_100_when_verified(browser, server, viewport):
    ctx, page = open_page(browser, server, viewport, "height.html", widget_page(65536))
    idle = geometry(page)
    page.locator(".workproof-captcha").click()
    page.wait_for_function(f"{STATE} === 'solved'", timeout=60000)
    assert geometry(page) == idle, "the Send button stays where it was"
    assert in_box(page, ".bar", "el.getAttribute('aria-valuenow')") == "100"
    assert in_box(page, ".fill", "el.style.width") == "100%"
    assert in_box(page, ".fill", "getComputedStyle(el).transitionDuration") == "0s", \
        "drawn full at once, not half-way through a transition"
    ctx.close()


def test_the_visitor_pauses_and_resumes_from_the_keyboard(browser, server):
    ctx, page = open_page(browser, server, PHONE, "pause.html", widget_page(2**26))
    height = geometry(page)
    assert in_box(page, ".pause", "el.hidden") is True, "nothing to pause before the work starts"
    page.keyboard.press("Tab")  # the verify button
    page.keyboard.press("Enter")
    page.wait_for_function(f"{STATE} === 'working'")
    page.keyboard.press("Tab")  # the pause button, next in the box
    assert page.evaluate(f"{BOX}.getRootNode().activeElement.className") == "pause"
    page.keyboard.press("Enter")
    page.wait_for_function(f"{STATE} === 'paused'")
    assert in_box(page, ".pause", "el.textContent") == "Resume"
    assert in_box(page, ".status", "el.textContent") == "Paused"
    assert geometry(page) == height
    # Paused, the bar stands still (a second is ~10 M hashes here); resumed, it moves on to the end.
    shown = in_box(page, ".fill", "el.style.width")
    page.wait_for_timeout(1000)
    assert in_box(page, ".fill", "el.style.width") == shown
    page.keyboard.press("Space")
    page.wait_for_function(f"{STATE} === 'working'")
    assert in_box(page, ".pause", "el.textContent") == "Pause"
    page.wait_for_function(f"{STATE} === 'solved'", timeout=120000)
    assert in_box(page, ".pause", "el.hidden") is True
    ctx.close()


def test_a_pause_pressed_before_the_work_first_runs_is_shown_and_kept(browser, server):
    """Pause in the same task as Verify, before the widget's first frame lets the work run:
    the widget says Paused (not Verifying with a Resume button), nothing hashes, and Resume
    carries the work on to the end."""
    ctx, page = open_page(browser, server, PHONE, "early-pause.html", widget_page(2**20))
    page.evaluate(f"(box => {{ box.querySelector('.verify').click(); box.querySelector('.pause').click(); }})({BOX})")
    page.wait_for_function(f"{STATE} === 'paused'", timeout=5000)
    page.wait_for_timeout(1000)
    assert page.evaluate(STATE) == "paused", "still paused a second later: the first frame did not undo it"
    assert in_box(page, ".pause", "el.textContent") == "Resume"
    assert in_box(page, ".status", "el.textContent") == "Paused"
    assert in_box(page, ".fill", "el.style.width") == "0%"
    in_box(page, ".pause", "el.click()")
    page.wait_for_function(f"{STATE} === 'solved'", timeout=120000)
    ctx.close()


def test_a_failure_shows_words_and_keeps_the_code_for_developers(browser, server):
    ctx, page = open_page(browser, server, PHONE, "fail.html", widget_page(65536, key="NOSUCHSITE"))
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    height = geometry(page)
    page.locator(".workproof-captcha").click()
    page.wait_for_function(f"{STATE} === 'failed'", timeout=60000)
    text = page.evaluate(f"{BOX}.innerText")
    assert "invalid_site" not in text and "This site's verification is not set up correctly" in text
    assert page.get_attribute(".workproof-captcha", "data-workproof-error") == "invalid_site"
    assert "Workproof captcha: invalid_site" in warnings
    assert geometry(page) == height
    ctx.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_badge_keeps_its_rate_on_one_line_and_its_label_in_its_button(browser, server, viewport):
    ctx = browser.new_context(viewport=viewport, locale="en-US")
    ctx.add_init_script(OPEN_SHADOW_ROOTS)
    page = ctx.new_page()
    server.api.pages["badge.html"] = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>badge</title></head>'
        '<body><script src="/lib/workproof.js"></script>'
        '<script>new WorkProof.User("SITEKEY", "bob").start();</script></body></html>')
    page.goto(f"{server.url}/page/badge.html")
    root = "document.querySelector('workproof-indicator').shadowRoot"
    page.wait_for_function(f"/H\\/s$/.test({root}.querySelector('.r').textContent)", timeout=60000)
    rate = page.evaluate(f"(r => [r.textContent, r.getBoundingClientRect().height, "
                         f"parseFloat(getComputedStyle(r).lineHeight)])({root}.querySelector('.r'))")
    assert "\u00a0" in rate[0] and rate[1] <= rate[2] * 1.5, f"one line: {rate}"
    button = page.evaluate(f"(b => [b.scrollWidth, b.clientWidth])({root}.querySelector('button'))")
    assert button[0] <= button[1], f"the label fits its button: {button}"
    ctx.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_link_page_says_how_big_the_work_is(browser, server, viewport):
    ctx = browser.new_context(viewport=viewport, locale="en-US")
    page = ctx.new_page()
    page.goto(f"{server.url}/l/BIGLINK")
    page.wait_for_selector("#wp-estimate-row:not([hidden])")
    text = page.inner_text("main")
    assert "small" not in text
    assert page.inner_text("#wp-hashes") == "2,000,000,000"
    assert page.inner_text("#wp-estimate") == "≈ 9 minutes"  # 2e9 hashes at a phone's 4 MH/s
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], "nothing wider than the screen"
    ctx.close()
