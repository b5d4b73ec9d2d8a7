"""The operator dashboard in headless Chromium against the real `make run` stack.

Work is mined through the real /pow/job + /pow/submit (tests/solver.py) for a
site made for this module; the page is signed in to, every view must show
that data (the chart's points at the hours the shares were credited), the
overview must refresh itself while visible and stop while hidden, and any
console error fails the test. Screenshots of every view at desktop
(1280x800) and phone (390x844) widths go to the test's tmp dir.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from tests.browser.browser_support import requires_chromium
from tests.solver import solve

pytestmark = [pytest.mark.browser, pytest.mark.e2e, requires_chromium, pytest.mark.timeout(600)]

HOUR = 3600
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
CHART = "window.workproofDashboard.charts"


@dataclass
class World:
    """A site of its own, with work mined into it by this module."""

    base: str
    site_key: str
    secret: str
    hours: set[int] = field(default_factory=set)  # hours shares were credited in
    users: dict[str, int] = field(default_factory=dict)
    link_code: str = ""
    token: str = ""

    def post(self, path: str, **params: Any) -> dict[str, Any]:
        return requests.post(self.base + path, data=params, timeout=60).json()

    def api(self, path: str, **params: Any) -> dict[str, Any]:
        return requests.get(self.base + path, params={"secret": self.secret, **params},
                            timeout=60).json()

    def mine(self, submits: int = 1, **account: Any) -> dict[str, Any]:
        """The last submit's answer, with the job chain's token (if a token was mined)."""
        job = answer = self.post("/pow/job", site=self.site_key, **account)
        assert answer["success"], answer
        for _ in range(submits):
            before = time.time()
            answer = self.post("/pow/submit", job=answer["job"],
                               nonce=solve(answer["job"], answer["difficulty"], answer["count"]))
            assert answer["success"], answer
            self.hours |= {int(t) - int(t) % HOUR for t in (before, time.time())}
            if "user" in account:
                self.users[account["user"]] = self.users.get(account["user"], 0) + answer["hashes"]
            if "redirect" in answer:
                break
        return {**answer, "token": job.get("token")}


def new_world(live: Any, name: str) -> World:
    made = live.admin("create-site", name)
    return World(live.base_url, made["site_key"], made["secret"])


@pytest.fixture(scope="module")
def world(live) -> World:
    w = new_world(live, "dashboard-browser")
    w.mine(3, user="alice")
    w.mine(1, user="bob")
    w.mine(1, user="émile ünïcode")
    code = w.post("/link/create", secret=w.secret, url="https://example.com/file.zip",
                  hashes=65536)["url"].rsplit("/", 1)[1]
    w.link_code = code
    w.mine(link=code)
    w.token = w.mine(token="", hashes=65536)["token"]
    return w


class Console:
    """Every console error and uncaught exception of a page."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))


def wait_js(page: Any, expression: str, timeout: float = 30.0) -> Any:
    """Poll a page expression until truthy (wait_for_function evaluates strings, which the
    dashboard's CSP rightly forbids)."""
    deadline = time.time() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        time.sleep(0.2)


def open_page(browser: Any, world: World, viewport: dict[str, int], **context: Any):
    ctx = browser.new_context(viewport=viewport, **context)
    page = ctx.new_page()
    console = Console(page)
    page.goto(world.base + "/dashboard")
    page.wait_for_selector("#view-signin:not([hidden])")
    return ctx, page, console


def sign_in(page: Any, world: World) -> None:
    page.fill("#signin-key", world.site_key)
    page.fill("#signin-secret", world.secret)
    page.click("#signin-submit")
    page.wait_for_selector("#view-overview:not([hidden])")


def chart_points(page: Any, name: str) -> dict[int, list[float]]:
    """hour -> the values of every series at that hour, as uPlot holds them."""
    data = page.evaluate(f"{CHART}.{name} ? {CHART}.{name}.data : null")
    assert data, f"no {name} chart"
    return {int(x): [series[i] for series in data[1:]] for i, x in enumerate(data[0])}


def site_hours(world: World) -> dict[int, int]:
    return {e["time"]: e["hashesTotal"] for e in world.api("/stats/site")["history"]}


def grouped(number: int, separator: str) -> str:
    """`number` with its thousands grouped as Intl.NumberFormat does in en-US / de-DE."""
    return format(number, ",").replace(",", separator)


@pytest.mark.parametrize("viewport,label,locale,separator", [
    (DESKTOP, "desktop", "en-US", ","), (PHONE, "phone", "de-DE", ".")])
def test_every_view_shows_the_mined_work(browser, world, tmp_path, viewport, label, locale, separator):
    ctx, page, console = open_page(browser, world, viewport, locale=locale)
    page.screenshot(path=str(tmp_path / f"{label}-signin.png"))
    sign_in(page, world)
    assert world.secret not in page.url and world.secret not in page.content()

    # Overview: the chart has the credited hashes at the hours they were credited.
    mined = sum(world.users.values()) + 2 * 65536  # users, the link visit and the token
    wait_js(page, f"{CHART}.hashes && {CHART}.hashes.data[1].reduce((a, b) => a + b, 0) >= {mined}")
    points = chart_points(page, "hashes")
    assert len(points) == 24
    credited = {hour: values[0] for hour, values in points.items() if values[0]}
    assert set(credited) <= world.hours and sum(credited.values()) == mined
    assert {h: v for h, v in site_hours(world).items() if v} == credited
    assert page.inner_text("#ov-total") == grouped(mined, separator)
    page.screenshot(path=str(tmp_path / f"{label}-overview.png"), full_page=True)
    page.click("[data-range='168']")
    wait_js(page, f"{CHART}.hashes.data[0].length === 168")
    assert {h: v[0] for h, v in chart_points(page, "hashes").items() if v[0]} == credited
    page.screenshot(path=str(tmp_path / f"{label}-overview-7days.png"), full_page=True)

    # Users: the top list and a user's figures, in the browser's locale.
    page.click("nav a[data-view='users']")
    page.wait_for_selector("#users-table tbody tr")
    names = page.eval_on_selector_all("#users-table tbody td.name", "cells => cells.map(c => c.textContent)")
    assert names == ["alice", "bob", "émile ünïcode"]
    assert page.inner_text("#users-table tbody tr:first-child td:nth-child(3)") == \
        grouped(world.users["alice"], separator)
    page.click("#users-table tbody tr:first-child button")
    page.wait_for_selector("#user-card:not([hidden])")
    assert page.inner_text("#user-card-name") == "alice"
    page.screenshot(path=str(tmp_path / f"{label}-users.png"), full_page=True)

    # Links: the link, its host and its work.
    page.click("nav a[data-view='links']")
    row = f"#links-table tbody tr[data-code='{world.link_code}']"
    page.wait_for_selector(row)
    cells = page.eval_on_selector_all(f"{row} td", "cells => cells.map(c => c.textContent)")
    assert cells[:3] == [world.link_code, "https://example.com/file.zip", grouped(65536, separator)]
    page.screenshot(path=str(tmp_path / f"{label}-links.png"), full_page=True)

    # Settings: the snippets carry the site key.
    page.click("nav a[data-view='settings']")
    wait_js(page, "document.getElementById('snippet-miner').textContent.length > 0")
    assert world.site_key in page.inner_text("#snippet-captcha")
    assert f'new WorkProof.User("{world.site_key}"' in page.inner_text("#snippet-miner")
    page.screenshot(path=str(tmp_path / f"{label}-settings.png"), full_page=True)

    assert world.secret not in page.content()
    ctx.close()
    assert console.errors == []
    print(f"screenshots in {tmp_path}")


@pytest.mark.parametrize("fragment", ["constructor", "__proto__", "toString", "hasOwnProperty",
                                      "no-such-view"])
def test_a_fragment_naming_no_view_shows_the_overview(browser, live, fragment):
    """Route names are looked up among the views only, never in an object's prototype."""
    w = new_world(live, "dashboard-fragments")
    ctx, page, console = open_page(browser, w, DESKTOP)
    sign_in(page, w)
    page.click("nav a[data-view='users']")
    page.wait_for_selector("#view-users:not([hidden])")
    # Followed while signed in (hashchange)...
    page.goto(f"{w.base}/dashboard#{fragment}")
    page.wait_for_selector("#view-overview:not([hidden])")
    # ...and on a fresh load with the session cookie.
    page.reload()
    page.wait_for_selector("#view-overview:not([hidden])")
    assert page.get_attribute("nav a[data-view='overview']", "aria-current") == "page"
    assert page.is_hidden("#view-users") and page.is_hidden("#view-signin")
    ctx.close()
    assert console.errors == []


def test_names_not_in_nfc_are_marked(browser, live, tmp_path):
    """Two users that look alike: only the one not in NFC carries the mark, in the list and
    on its card."""
    precomposed, decomposed = "\u00c5ngstr\u00f6m", "A\u030angstro\u0308m"
    w = new_world(live, "dashboard-nfc")
    w.mine(1, user=precomposed)
    w.mine(1, user=decomposed)
    ctx, page, console = open_page(browser, w, DESKTOP)
    sign_in(page, w)
    page.click("nav a[data-view='users']")
    wait_js(page, "document.querySelectorAll('#users-table tbody tr').length === 2")
    rows = page.eval_on_selector_all(
        "#users-table tbody td.name",
        "cells => cells.map(c => [c.querySelector('button').textContent, "
        "c.querySelector('.not-nfc') ? c.querySelector('.not-nfc').textContent : null])")
    assert sorted(rows, key=lambda r: r[0]) == sorted(
        [[precomposed, None], [decomposed, "not NFC — looks like another name"]],
        key=lambda r: r[0])
    page.screenshot(path=str(tmp_path / "desktop-users-nfc.png"), full_page=True)
    for name, marked in ((decomposed, True), (precomposed, False)):
        page.fill("#user-name", name)
        page.click("#user-search button[type=submit]")
        wait_js(page, "!document.getElementById('user-card').hidden && "
                      "document.getElementById('user-card-name').firstChild.textContent === "
                      f"{json.dumps(name)}")
        assert page.is_visible("#user-card-name .not-nfc") is marked
    ctx.close()
    assert console.errors == []


def test_settings_show_and_set_the_levels_under_pressure(browser, live, tmp_path):
    w = new_world(live, "dashboard-levels")
    defaults = live.admin("show-levels", w.site_key)
    ctx, page, console = open_page(browser, w, DESKTOP, locale="en-US")
    sign_in(page, w)
    page.click("nav a[data-view='settings']")
    rows = "#levels-table tbody tr"
    wait_js(page, f"document.querySelectorAll('{rows}').length === {len(defaults['levels'])}")
    cells = page.eval_on_selector_all(f"{rows} td:nth-child(2)", "cells => cells.map(c => c.textContent)")
    assert cells == [grouped(work, ",") for work in defaults["levels"]]
    assert page.inner_text("#pressure-level") == "0"
    assert page.inner_text("#pressure-work") == grouped(defaults["minWorkNow"], ",")
    assert page.inner_text("#pressure-admitted") == "100%"
    assert page.input_value("#levels-works") == ",".join(map(str, defaults["levels"]))
    assert page.is_visible(f"{rows}.current") and page.inner_text(f"{rows}.current td:first-child") == "0"
    page.screenshot(path=str(tmp_path / "desktop-settings-levels.png"), full_page=True)

    page.fill("#levels-works", "1024,4096,16384")
    page.fill("#levels-step-up", "60")
    page.fill("#levels-ceiling", "120")
    page.click("#levels-form button[type=submit]")
    wait_js(page, "(document.querySelector('#levels-feedback [role=status]') || {}).textContent === 'Levels saved.'")
    assert page.eval_on_selector_all(f"{rows} td:nth-child(2)", "cells => cells.map(c => c.textContent)") \
        == ["1,024", "4,096", "16,384"]
    shown = live.admin("show-levels", w.site_key)
    assert (shown["levels"], shown["stepUp"], shown["ceiling"], shown["custom"]) == \
        ([1024, 4096, 16384], 60, 120, True)

    page.fill("#levels-works", "4096,1024")  # not rising: refused, nothing changes
    page.click("#levels-form button[type=submit]")
    wait_js(page, "!!document.querySelector('#levels-feedback [role=alert].error')")
    assert live.admin("show-levels", w.site_key)["levels"] == [1024, 4096, 16384]

    page.click("#levels-reset")
    wait_js(page, "document.getElementById('levels-feedback').textContent === 'Back to the default levels.'")
    assert live.admin("show-levels", w.site_key)["custom"] is False
    assert page.input_value("#levels-works") == ",".join(map(str, defaults["levels"]))
    ctx.close()
    assert console.errors == []


def test_overview_is_live_while_visible_and_stops_while_hidden(browser, world):
    ctx, page, console = open_page(browser, world, DESKTOP)
    polls: list[float] = []
    page.on("request", lambda r: polls.append(time.time()) if r.url.endswith("/dashboard/overview") else None)
    sign_in(page, world)
    wait_js(page, f"!!{CHART}.hashes")
    before = page.evaluate(f"{CHART}.hashes.data[1].reduce((a, b) => a + b, 0)")
    # The chart moves without a reload while work is credited.
    credited = world.mine(user="live-carol")["hashes"]
    wait_js(page, f"{CHART}.hashes.data[1].reduce((a, b) => a + b, 0) >= {before + credited}", 20)

    hidden_at = time.time()
    page.evaluate("Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});"
                  "document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_timeout(11000)
    assert [t for t in polls if t > hidden_at + 0.5] == [], "no polling while hidden"
    assert "paused" in page.get_attribute("#ov-live", "class")

    shown_at = time.time()  # before: the request event may arrive during evaluate()
    page.evaluate("Object.defineProperty(document, 'visibilityState', {value: 'visible', configurable: true});"
                  "document.dispatchEvent(new Event('visibilitychange'))")
    deadline = shown_at + 15
    while len([t for t in polls if t >= shown_at]) < 2 and time.time() < deadline:
        page.wait_for_timeout(200)
    after = [t for t in polls if t >= shown_at]
    assert len(after) >= 2 and after[0] - shown_at < 1, "refreshes at once when shown, then again"
    assert after[1] - after[0] >= 4.5, "every 5 s, not in a burst"
    ctx.close()
    assert console.errors == []


def test_withdraw_and_reset_from_the_page_are_recorded_like_the_api(browser, world):
    world.mine(2, user="payee")
    ctx, page, console = open_page(browser, world, DESKTOP, locale="en-US")
    sign_in(page, world)
    page.click("nav a[data-view='users']")
    page.fill("#user-name", "payee")
    page.click("#user-search button[type=submit]")
    page.wait_for_selector("#user-card:not([hidden])")
    total = world.api("/user/balance", name="payee")["total"]

    page.fill("#withdraw-amount", "1000")
    page.click("#withdraw-form button[type=submit]")
    page.wait_for_selector("#confirm[open]")
    assert "1,000" in page.inner_text("#confirm-text") and "payee" in page.inner_text("#confirm-text")
    page.click("#confirm button[value=cancel]")  # cancelled: nothing happens
    page.wait_for_timeout(500)
    assert world.api("/user/balance", name="payee")["withdrawn"] == 0

    page.click("#withdraw-form button[type=submit]")
    page.click("#confirm-ok")
    wait_js(page, "document.getElementById('withdraw-feedback').textContent.indexOf('Withdrew') === 0")
    assert world.api("/user/balance", name="payee") == {
        "success": True, "name": "payee", "total": total, "withdrawn": 1000, "balance": total - 1000}
    assert page.inner_text("#user-balance") == format(total - 1000, ",")

    page.fill("#withdraw-amount", str(total))  # more than the balance
    page.click("#withdraw-form button[type=submit]")
    page.click("#confirm-ok")
    wait_js(page, "(document.querySelector('#withdraw-feedback [role=alert]') || {textContent: ''}).textContent.indexOf('Not enough') === 0")

    page.click("#reset-user")
    page.click("#confirm-ok")
    wait_js(page, "document.getElementById('user-total').textContent === '0'")
    assert world.api("/user/balance", name="payee") == {
        "success": True, "name": "payee", "total": 0, "withdrawn": 0, "balance": 0}
    ctx.close()
    assert console.errors == []


def test_dark_mode_follows_the_system(browser, world, tmp_path):
    backgrounds = {}
    for scheme in ("light", "dark"):
        ctx, page, console = open_page(browser, world, DESKTOP, color_scheme=scheme)
        sign_in(page, world)
        wait_js(page, f"!!{CHART}.hashes")
        backgrounds[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
        page.screenshot(path=str(tmp_path / f"desktop-{scheme}-overview.png"), full_page=True)
        ctx.close()
        assert console.errors == []
    assert backgrounds == {"light": "rgb(244, 245, 247)", "dark": "rgb(22, 22, 22)"}


def test_wrong_secret_is_refused_and_never_leaves_the_post_body(browser, live):
    w = new_world(live, "dashboard-wrong")
    ctx, page, console = open_page(browser, w, PHONE)
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.fill("#signin-key", w.site_key)
    page.fill("#signin-secret", "not-the-secret-" + w.secret[:8])
    page.click("#signin-submit")
    wait_js(page, "(document.querySelector('#signin-feedback [role=alert]') || {textContent: ''}).textContent.indexOf('do not match') > 0")
    assert page.is_visible("#view-signin") and not page.is_visible("#nav")
    assert page.input_value("#signin-secret") == ""
    assert all("secret" not in u and w.secret[:8] not in u for u in urls)
    ctx.close()
    assert console.errors == []


def test_rotate_shows_the_new_secret_once_and_signs_out(browser, live, tmp_path):
    w = new_world(live, "dashboard-rotate")
    ctx, page, console = open_page(browser, w, DESKTOP)
    sign_in(page, w)
    page.click("nav a[data-view='settings']")
    page.click("#rotate")  # without the current secret, the form asks for it
    assert page.evaluate("document.getElementById('rotate-secret').validity.valueMissing") is True
    assert not page.is_visible("#confirm[open]")
    page.fill("#rotate-secret", w.secret)
    page.click("#rotate")
    page.click("#confirm-ok")
    page.wait_for_selector("#secret-dialog[open]")
    assert page.input_value("#rotate-secret") == ""
    new_secret = page.input_value("#new-secret")
    assert len(new_secret) == 32 and new_secret != w.secret
    page.screenshot(path=str(tmp_path / "desktop-rotated.png"))
    page.click("#secret-dialog button[value=done]")
    page.wait_for_selector("#view-signin:not([hidden])")
    assert new_secret not in page.content()
    assert page.input_value("#signin-key") == w.site_key
    # The old secret is dead for the API, the new one works, and so does signing in with it.
    assert w.api("/stats/site") == {"success": False, "error": "invalid_secret"}
    w.secret = new_secret
    assert w.api("/stats/site")["success"] is True
    page.goto(w.base + "/dashboard#overview")
    page.wait_for_selector("#view-signin:not([hidden])")  # the old session is over
    sign_in(page, w)
    ctx.close()
    assert console.errors == []


def test_captchas_and_link_visits_reach_the_dashboard(browser, world):
    """Counted off the request path (the streams consumer), so they may trail a little."""
    assert world.post("/token/verify", secret=world.secret, token=world.token,
                      hashes=65536)["success"] is True
    ctx, page, console = open_page(browser, world, DESKTOP)
    sign_in(page, world)
    wait_js(page, f"{CHART}.activity && {CHART}.activity.data[1].some(v => v > 0) && "
                  f"{CHART}.activity.data[2].some(v => v > 0) && {CHART}.activity.data[3].some(v => v > 0)",
            timeout=20)
    activity = {h: v for h, v in chart_points(page, "activity").items() if any(v)}
    assert set(activity) <= world.hours | {int(time.time()) - int(time.time()) % HOUR}
    assert [sum(v[i] for v in activity.values()) for i in range(3)] == [1, 1, 1]
    page.click("nav a[data-view='links']")
    row = f"#links-table tbody tr[data-code='{world.link_code}']"
    page.wait_for_selector(row)
    deadline = time.time() + 20
    while True:  # choosing the view shown again reloads it
        cells = page.eval_on_selector_all(f"{row} td", "cells => cells.map(c => c.textContent)")
        if cells[3:5] == ["1", "1"] or time.time() > deadline:
            break
        page.click("nav a[data-view='links']")
        page.wait_for_timeout(500)
    assert cells[3:5] == ["1", "1"] and cells[5] != "never"
    ctx.close()
    assert console.errors == []


def test_the_links_table_fits_its_card_and_messages_stay_with_their_view(browser, world, tmp_path):
    ctx, page, console = open_page(browser, world, DESKTOP, locale="en-US")
    sign_in(page, world)
    page.click("nav a[data-view='users']")
    page.fill("#user-name", "nobody-by-this-name")
    page.click("#user-search button[type=submit]")
    wait_js(page, "document.getElementById('user-search-feedback').textContent.indexOf('No user') === 0")
    assert page.is_visible("#user-search-feedback")
    page.click("nav a[data-view='links']")
    page.wait_for_selector(f"#links-table tbody tr[data-code='{world.link_code}']")
    assert page.evaluate("document.getElementById('user-search-feedback').textContent") == "", \
        "the users view's message left with it"
    drawn, shown = page.evaluate("(card => [card.scrollWidth, card.clientWidth])"
                                 "(document.getElementById('links-table').parentElement)")
    assert drawn <= shown, f"the table overflows its card ({drawn} px in {shown} px)"
    page.screenshot(path=str(tmp_path / "desktop-links-fit.png"), full_page=True)
    ctx.close()
    assert console.errors == []
    print(f"screenshots in {tmp_path}")
