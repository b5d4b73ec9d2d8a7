"""The least captcha work siteverify accepts when the backend sends no `hashes`:
the site's `captcha_hashes` (dashboard, admin command), by default its base
work, so a page asking for less (`hashes=1`) does not pass."""
from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib import sites, tokens
from chalicelib.pressure import Levels
from chalicelib.store.transactions import Transaction
from ops import admin
from tests.functional.dashboard_client import Dashboard, fail
from tests.functional.store import aws  # noqa: F401 - the shared store
from tests.solver import solve

MIN_WORK = 512
SHORT = {"success": False, "error-codes": ["invalid-input-response"]}


@pytest.fixture(autouse=True)
def small_work(app_settings):
    app_settings(WORKPROOF_MIN_WORK=str(MIN_WORK))


@pytest.fixture
def dash(client, site):
    dashboard = Dashboard(client)
    assert dashboard.sign_in(site.site_key, site.secret)["success"] is True
    return dashboard


def post(client: Any, path: str, **params: Any) -> dict[str, Any]:
    response = client.http.post(path, body=urlencode(params),
                                headers={"Content-Type": "application/x-www-form-urlencoded",
                                         "Origin": "https://shop.example"})
    assert response.status_code == 200
    return json.loads(response.body)


def captcha(client: Any, site_key: str, hashes: int) -> tuple[str, int]:
    """A token mined as the widget does with `data-hashes`: its name and its hashes."""
    job = post(client, "/pow/job", site=site_key, token="", hashes=hashes)
    name, total = job["token"], 0
    while total < hashes or total == 0:
        done = post(client, "/pow/submit", job=job["job"],
                    nonce=solve(job["job"], job["difficulty"], job["count"]))
        assert done["success"] is True, done
        total, job = done["total"], done
    return name, total


def siteverify(client: Any, secret: str, token: str, **params: Any) -> dict[str, Any]:
    return post(client, "/siteverify", secret=secret, response=token, **params)


def test_by_default_a_token_needs_the_sites_base_work(client, site):
    name, hashes = captcha(client, site.site_key, 1)
    assert hashes == MIN_WORK  # a page asking for 1 hash still gets one job of base work
    assert siteverify(client, site.secret, name)["hashes"] == MIN_WORK
    # A token short of the base (not one the share path makes today) does not pass.
    tx = Transaction()
    tokens.stage_credit(tx, site.site_key, "light", MIN_WORK - 1, int(time.time()), new=True,
                        target=1)
    tx.commit()
    assert siteverify(client, site.secret, "light") == SHORT
    # Levels of its own: the base is their first.
    sites.set_levels(site.site_key, Levels(works=(4 * MIN_WORK, 8 * MIN_WORK), step_up=10,
                                           ceiling=20))
    sites.clear_cache()
    name, hashes = captcha(client, site.site_key, 1)
    assert hashes == 4 * MIN_WORK
    sites.set_levels(site.site_key, Levels(works=(8 * MIN_WORK,), step_up=10, ceiling=20))
    assert siteverify(client, site.secret, name) == SHORT
    assert siteverify(client, site.secret, name, hashes=4 * MIN_WORK)["success"] is True


def test_a_token_short_of_the_sites_setting_fails_and_is_not_spent(client, site, dash):
    assert dash.post("settings/captcha", hashes=4 * MIN_WORK) == {
        "success": True, "captcha": {"hashes": 4 * MIN_WORK, "custom": True}}
    asked_little, hashes = captcha(client, site.site_key, 1)
    assert hashes < 4 * MIN_WORK
    assert siteverify(client, site.secret, asked_little) == SHORT
    # The backend naming its own `hashes` decides for itself; the token was not spent.
    assert siteverify(client, site.secret, asked_little, hashes=MIN_WORK)["success"] is True
    enough, hashes = captcha(client, site.site_key, 4 * MIN_WORK)
    answer = siteverify(client, site.secret, enough)
    assert answer["success"] is True and answer["hashes"] == hashes >= 4 * MIN_WORK
    # Back to the base work.
    assert dash.post("settings/captcha", reset=True)["captcha"] == {"hashes": MIN_WORK,
                                                                    "custom": False}
    name, _ = captcha(client, site.site_key, 1)
    assert siteverify(client, site.secret, name)["success"] is True


def test_the_dashboard_shows_and_checks_the_setting(dash):
    assert dash.get("settings")["captcha"] == {"hashes": MIN_WORK, "custom": False}
    for bad in (0, -1, 2**53, "many", 1.5):
        assert dash.post("settings/captcha", hashes=bad) == fail("bad_request")
    assert dash.post("settings/captcha") == fail("missing_input")
    dash.post("settings/captcha", hashes=3000)
    assert dash.get("settings")["captcha"] == {"hashes": 3000, "custom": True}


def test_the_admin_command_sets_it(client, site, capsys, monkeypatch):
    monkeypatch.setenv("WORKPROOF_MIN_WORK", str(MIN_WORK))  # the command reads its environment

    def run(*argv: str) -> tuple[int, Any, str]:
        code = admin.main(list(argv))
        out, err = capsys.readouterr()
        return code, json.loads(out) if code == 0 else None, err

    code, shown, _ = run("set-captcha-hashes", site.site_key, str(2 * MIN_WORK))
    assert (code, shown) == (0, {"site_key": site.site_key, "custom": True,
                                 "captchaHashes": 2 * MIN_WORK})
    capsys.readouterr()
    name, _ = captcha(client, site.site_key, 1)
    assert siteverify(client, site.secret, name) == SHORT
    capsys.readouterr()
    assert run("set-captcha-hashes", site.site_key, "--default")[1] == {
        "site_key": site.site_key, "custom": False, "captchaHashes": MIN_WORK}
    assert siteverify(client, site.secret, name)["success"] is True
    for argv in ([site.site_key], [site.site_key, "0"], [site.site_key, "5", "--default"]):
        code, _, err = run("set-captcha-hashes", *argv)
        assert code == 1 and err.startswith("error: ") and err.count("\n") == 1
