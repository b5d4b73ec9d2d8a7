"""Accessibility and languages of the captcha widget, the shortlink page and the
demo page, in headless Chromium: axe-core finds no WCAG 2.2 AA violation in any
widget state (idle, working, paused, solved, failed) nor in any of its languages;
right-to-left scripts are laid out right to left; the widget is solved with the
keyboard alone; a click anywhere in its box starts it; screen readers hear the
progress at most every 25 %."""
from __future__ import annotations

import pytest

from chalicelib import i18n
from tests.browser.axe import OPEN_SHADOW_ROOTS, assert_accessible, passes_checked
from tests.browser.browser_support import FakeApi, FakeApiServer, have_live_server, requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.timeout(300)]

NEVER_DONE = 2**34  # a token target the stand-in's jobs cannot reach during a test
ROOT_OF = "document.getElementById('{id}').shadowRoot"


def widget_page(*, key: str = "SITEKEY", hashes: int = 65536, lang: str | None = None,
                title: str = "Sign up") -> str:
    lang_attr = f' data-lang="{lang}"' if lang else ""
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>'
            f'<body><main><h1>{title}</h1><form id="f" action="/form" method="post">'
            f'<label for="email">E-mail</label> <input id="email" name="email" type="email">'
            f'<div class="workproof-captcha" id="cap" data-key="{key}" data-hashes="{hashes}"{lang_attr}>'
            f'</div><button id="send" type="submit">Send</button></form></main>'
            f'<script src="/lib/captcha.js"></script></body></html>')


def all_languages_page() -> str:
    boxes = "".join(
        f'<div class="workproof-captcha" id="cap-{code}" data-key="SITEKEY" data-lang="{code}"></div>'
        for code in i18n.strings())
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Every language</title>'
            f'</head><body><main><h1>Every language</h1><form>{boxes}</form></main>'
            '<script src="/lib/captcha.js"></script></body></html>')


@pytest.fixture(scope="module")
def server():
    # 16 puzzles per job: a 65,536-hash token moves its progress in 16 steps of 6.25 %.
    api = FakeApi(difficulty=4096, count=16)
    api.pages["languages.html"] = all_languages_page()
    with FakeApiServer(api) as srv:
        yield srv


@pytest.fixture()
def page(browser, server):
    context = browser.new_context()
    context.add_init_script(OPEN_SHADOW_ROOTS)
    p = context.new_page()
    yield p
    context.close()


def open_widget(page, server, name: str, **kwargs) -> None:
    server.api.pages[name] = widget_page(**kwargs)
    page.goto(f"{server.url}/page/{name}")
    page.wait_for_function("document.getElementById('cap').dataset.workproofState === 'idle'")


def state(page, widget_id: str = "cap") -> str:
    return page.evaluate(f"document.getElementById('{widget_id}').dataset.workproofState")


def wait_state(page, wanted: str, timeout: int = 60000) -> None:
    page.wait_for_function(f"document.getElementById('cap').dataset.workproofState === '{wanted}'",
                           timeout=timeout)


def inner(page, selector: str, widget_id: str = "cap"):
    return page.evaluate(f"{ROOT_OF.format(id=widget_id)}.querySelector('{selector}').textContent")


def test_every_language_is_rendered_translated_and_passes_axe(page, server):
    page.goto(f"{server.url}/page/languages.html")
    page.wait_for_function("document.querySelectorAll('[data-workproof-state=idle]').length === "
                           f"{len(i18n.strings())}")
    for code, table in i18n.strings().items():
        box = page.evaluate(f"(() => {{ const b = {ROOT_OF.format(id='cap-' + code)}.querySelector('.box');"
                            "return {lang: b.lang, dir: getComputedStyle(b).direction,"
                            " label: b.getAttribute('aria-label'),"
                            " text: b.querySelector('.label').textContent,"
                            " status: b.querySelector('.status').textContent}; })()")
        assert box == {"lang": code, "dir": i18n.direction(code), "label": table["captchaLabel"],
                       "text": table["verify"], "status": table["idleHint"]}, code
    assert_accessible(page, "the widget in every language")
    assert passes_checked(page) > 10


@pytest.mark.parametrize("code", ["ar", "he", "fa", "ur"])
def test_right_to_left_languages_are_mirrored(page, server, code):
    open_widget(page, server, f"rtl-{code}.html", lang=code)
    layout = page.evaluate(f"(() => {{ const r = {ROOT_OF.format(id='cap')};"
                           "const chk = r.querySelector('.chk').getBoundingClientRect();"
                           "const label = r.querySelector('.label').getBoundingClientRect();"
                           "return {chk: chk.left, label: label.left}; })()")
    assert layout["chk"] > layout["label"], "the check box sits on the right, before the text"


def test_browser_languages_choose_and_match_the_server(browser, server):
    context = browser.new_context(locale="fr-CH")
    p = context.new_page()
    server.api.pages["auto.html"] = widget_page()
    p.goto(f"{server.url}/page/auto.html")
    p.wait_for_function("document.getElementById('cap').dataset.workproofState === 'idle'")
    assert p.evaluate("WorkProofI18n.match()") == "fr"
    tags = ["de-AT", "zh-Hant-HK", "zh-HK", "zh", "zh-Hans-SG", "pt-BR", "pt-PT", "no", "nn",
            "tl", "iw", "in", "sr-Latn", "xx", "EN_gb", "fil-PH", "es-419", ""]
    for tag in tags:
        assert p.evaluate("t => WorkProofI18n.match([t])", tag) == i18n.choose([tag]), tag
    context.close()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_every_widget_state_passes_axe(page, server, lang):
    open_widget(page, server, f"idle-{lang}.html", lang=lang)
    assert_accessible(page, f"the idle widget ({lang})")

    open_widget(page, server, f"working-{lang}.html", lang=lang, hashes=NEVER_DONE)
    page.locator("#cap").click()
    wait_state(page, "working")
    page.wait_for_function(f"{ROOT_OF.format(id='cap')}.querySelector('.status').textContent !== ''")
    assert_accessible(page, f"the working widget ({lang})")

    page.evaluate("Object.defineProperty(document, 'hidden', {value: true, configurable: true});"
                  "document.dispatchEvent(new Event('visibilitychange'))")
    wait_state(page, "paused")
    assert inner(page, ".status") == i18n.text(lang, "pausedHidden")
    assert_accessible(page, f"the paused widget ({lang})")
    page.evaluate("delete document.hidden; document.dispatchEvent(new Event('visibilitychange'))")
    wait_state(page, "working")

    open_widget(page, server, f"failed-{lang}.html", lang=lang, key="UNKNOWNSITE")
    page.locator("#cap").click()
    wait_state(page, "failed")
    assert inner(page, ".status") == i18n.text(lang, "failedSite"), "words, not the code"
    assert_accessible(page, f"the failed widget ({lang})")

    open_widget(page, server, f"solved-{lang}.html", lang=lang)
    page.locator("#cap").click()
    wait_state(page, "solved")
    assert inner(page, ".label") == i18n.text(lang, "verified")
    assert_accessible(page, f"the solved widget ({lang})")


def test_a_click_anywhere_in_the_box_starts_it(page, server):
    open_widget(page, server, "center.html", hashes=NEVER_DONE)
    box = page.locator("#cap").bounding_box()
    bar = page.evaluate(f"(() => {{ const b = {ROOT_OF.format(id='cap')}.querySelector('.bar')"
                        ".getBoundingClientRect(); return {x: b.x, y: b.y, w: b.width, h: b.height}; })()")
    # The middle of the box is the progress bar: it starts the work like the button does.
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    assert bar["x"] <= x <= bar["x"] + bar["w"] and abs(y - (bar["y"] + bar["h"] / 2)) < 12
    page.mouse.click(bar["x"] + bar["w"] / 2, bar["y"] + bar["h"] / 2)
    wait_state(page, "working")
    page.wait_for_function("true")
    # ...and the corner of the box, on its padding, too (a fresh widget).
    open_widget(page, server, "corner.html", hashes=NEVER_DONE)
    box = page.locator("#cap").bounding_box()
    page.mouse.click(box["x"] + box["width"] - 4, box["y"] + box["height"] - 4)
    wait_state(page, "working")


def test_solved_with_the_keyboard_alone(page, server):
    open_widget(page, server, "keyboard.html")
    page.focus("#email")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "cap", "the widget's button takes the focus"
    assert page.evaluate(f"{ROOT_OF.format(id='cap')}.activeElement.tagName") == "BUTTON"
    assert state(page) == "idle"
    page.keyboard.press("Space")
    wait_state(page, "solved")
    assert page.evaluate("WorkProofCaptcha.getResponse()") != ""
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "send"


def test_screen_readers_hear_progress_at_most_every_quarter(page, server):
    open_widget(page, server, "announce.html")
    page.evaluate(f"""(() => {{
        const root = {ROOT_OF.format(id='cap')};
        window.heard = []; window.values = [];
        new MutationObserver(() => window.heard.push(root.querySelector('[role=status]').textContent))
          .observe(root.querySelector('[role=status]'), {{childList: true, characterData: true, subtree: true}});
        new MutationObserver(() => window.values.push(root.querySelector('[role=progressbar]')
                                                      .getAttribute('aria-valuenow')))
          .observe(root.querySelector('[role=progressbar]'), {{attributes: true,
                                                               attributeFilter: ['aria-valuenow']}});
    }})()""")
    page.locator("#cap").click()
    wait_state(page, "solved")
    steps = page.evaluate("window.heard")
    assert steps == [i18n.text("en", "verifying"), "25% done", "50% done", "75% done",
                     i18n.text("en", "verified")], steps
    assert set(page.evaluate("window.values")) <= {"0", "25", "50", "75", "100"}
    assert server.api.jobs, "the work went through the stand-in API"


def test_shortlink_page_passes_axe_left_to_right_and_right_to_left(browser, server):
    server.api.links["A11yLink"] = (server.url + "/target?a11y=1", NEVER_DONE)
    for locale, lang, direction in (("en-US", "en", "ltr"), ("ar-EG", "ar", "rtl")):
        context = browser.new_context(locale=locale)
        context.add_init_script(OPEN_SHADOW_ROOTS)
        p = context.new_page()
        p.goto(f"{server.url}/l/A11yLink")
        assert p.evaluate("[document.documentElement.lang, document.documentElement.dir]") == [lang, direction]
        assert p.title() == i18n.text(lang, "linkPageTitle", host="127.0.0.1")
        assert p.inner_text("h1") == i18n.text(lang, "linkTitle")
        p.wait_for_function("document.getElementById('wp-panel').shadowRoot"
                            ".querySelector('.s').textContent !== ''")
        assert_accessible(p, f"the shortlink page ({lang})")
        context.close()


def test_demo_page_passes_axe_with_its_miner_running(browser, request):
    live = have_live_server(request)
    context = browser.new_context()
    context.add_init_script(OPEN_SHADOW_ROOTS)
    p = context.new_page()
    p.goto(live.base_url + "/")
    p.wait_for_function("document.querySelector('#captcha-form .workproof-captcha')"
                        ".dataset.workproofState === 'idle'")
    assert_accessible(p, "the demo page")
    p.click("#miner-start")
    p.wait_for_function("document.querySelector('workproof-indicator') &&"
                        " document.querySelector('workproof-indicator').shadowRoot"
                        ".querySelector('[role=status]').textContent !== ''")
    assert_accessible(p, "the demo page with the miner's indicator")
    p.click("#miner-stop")
    context.close()
