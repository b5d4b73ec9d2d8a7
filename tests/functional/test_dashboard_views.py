"""What the dashboard shows and does, against what the HTTP API says and does.

Each figure must be the API's own (read through the same code); each action
(withdraw, reset, origins) must have exactly the API's effect. Work is mined
through the real /pow/job + /pow/submit.
"""
from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib import links
from tests.deploy.powsolve import mine
from tests.fixtures import create_site, credit
from tests.functional.dashboard_client import Dashboard, fail, freeze_dashboard_clock
from tests.functional.store import aws, freeze_clock, put_users  # noqa: F401 - the shared store
from tests.streams import drain

HOUR = 3600
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def dash(client, site):
    dashboard = Dashboard(client)
    assert dashboard.sign_in(site.site_key, site.secret)["success"] is True
    return dashboard


def same_clock(monkeypatch: Any) -> int:
    """The API and the dashboard read the same `now` (so rates compare exactly)."""
    import time

    now = int(time.time())
    freeze_clock(monkeypatch, now)
    freeze_dashboard_clock(monkeypatch, now)
    return now


def balance_of(api, name: str) -> dict[str, Any]:
    return {k: v for k, v in api.get("/user/balance", name=name).items() if k != "success"}


def api_json(api, path: str, **body: Any) -> dict[str, Any]:
    """A JSON-bodied API call: the same value types the dashboard's page sends."""
    return api.raw("POST", path, json.dumps({"secret": api.site.secret, **body}), JSON)


# --- overview -------------------------------------------------------------------------

def test_overview_is_the_stats_site_figures_hour_by_hour(client, api, dash, site, monkeypatch):
    mine(client, site, submits=2, user="alice")
    mine(client, site, user="bob")
    now = same_clock(monkeypatch)
    overview = dash.get("overview")
    figures = api.get("/stats/site")
    assert overview["success"] is True and figures["hashesTotal"] >= 3 * 65536
    assert overview["hashesTotal"] == figures["hashesTotal"]
    assert overview["hashesPerSecond"] == figures["hashesPerSecond"]
    assert overview["hours"] == [entry["time"] for entry in figures["history"]]
    assert overview["series"]["hashes"] == [entry["hashesTotal"] for entry in figures["history"]]
    assert overview["now"] == now


def test_hashes_per_second_now_is_the_last_minutes_rate_and_idle_reads_0(client, api, dash, site,
                                                                         monkeypatch):
    import time

    mine(client, site, submits=3, user="alice")
    now = int(time.time())
    mined = api.get("/user/balance", name="alice")["total"]
    freeze_dashboard_clock(monkeypatch, now)
    # The last minute's accepted hashes over its 60 s (not this hour's ÷ its seconds so far).
    assert dash.get("overview")["hashesPerSecond"] == round(mined / 60, 2)
    # Idle for a while: 0, though this hour's history still holds the hashes.
    freeze_dashboard_clock(monkeypatch, now + 80)
    idle = dash.get("overview")
    assert idle["hashesPerSecond"] == 0
    assert idle["hashesTotal"] == mined


def test_overview_has_168_zero_filled_hours_of_every_metric(dash, monkeypatch):
    now = same_clock(monkeypatch)
    overview = dash.get("overview")
    hours = overview["hours"]
    assert len(hours) == 168
    assert hours[-1] == now - now % HOUR
    assert all(b - a == HOUR for a, b in zip(hours, hours[1:], strict=False))
    assert set(overview["series"]) == {"hashes", "captchasSolved", "captchasVerified", "linkVisits"}
    for series in overview["series"].values():
        assert series == [0] * 168


def test_overview_counts_captchas_and_link_visits_in_their_hour(client, api, dash, site,
                                                                 monkeypatch):
    token = mine(client, site, token="", hashes=65536)
    assert api.post("/token/verify", token=token, hashes=65536)["success"] is True
    mine(client, site, token="", hashes=65536)  # solved, never verified
    code = api.post("/link/create", url="https://example.com/a", hashes=65536)["url"][-12:]
    mine(client, site, link=code)
    same_clock(monkeypatch)
    series = dash.get("overview")["series"]
    assert (series["captchasSolved"][-1], series["captchasVerified"][-1],
            series["linkVisits"][-1]) == (2, 1, 1)
    assert sum(series["captchasSolved"]) == 2


def test_overview_is_per_site(client, dash):
    other = create_site("other")
    mine(client, other, user="alice")
    assert dash.get("overview")["hashesTotal"] == 0


# --- users ----------------------------------------------------------------------------

@pytest.mark.parametrize("order", ["total", "balance", "withdrawn"])
def test_top_100_is_the_apis(api, dash, site, order):
    put_users(site.site_key, {f"user{i:03}": (1000 + (i * 7919) % 500, (i * 31) % 900)
                              for i in range(130)})
    answer = dash.get("users", order=order)
    assert answer == {"success": True, "order": order,
                      "users": api.get("/user/top", count=100, order=order)["users"]}
    assert len(answer["users"]) == 100


def test_top_defaults_to_total_and_refuses_other_orders(dash):
    assert dash.get("users")["order"] == "total"
    assert dash.get("users", order="name") == fail("bad_request")


def test_user_search_is_the_apis_balance(api, dash, site):
    credit(site.site_key, "carol@example.com", 4096)
    api.post("/user/withdraw", name="carol@example.com", amount=96)
    assert dash.get("user", name="carol@example.com") == {
        "success": True, "user": balance_of(api, "carol@example.com")}


@pytest.mark.parametrize("name,code", [("nobody", "unknown_user"), ("", "missing_input"),
                                       ("x" * 257, "bad_request")])
def test_user_search_refusals_are_the_apis(api, dash, name, code):
    assert dash.get("user", name=name) == fail(code)
    assert api.get("/user/balance", name=name) == fail(code)


@pytest.mark.parametrize("amount", [1, 30, 100, 101, "7", 0, -1, 1.5, "x", "", True, None,
                                    2**53, "0x10"])
def test_withdraw_has_exactly_the_apis_effect(api, dash, site, amount):
    credit(site.site_key, "by-api", 100)
    credit(site.site_key, "by-dashboard", 100)
    by_api = api_json(api, "/user/withdraw", name="by-api", amount=amount)
    by_dash = dash.post("user/withdraw", name="by-dashboard", amount=amount)
    if by_api["success"]:
        assert by_dash == {"success": True, "name": "by-dashboard", "amount": by_api["amount"],
                           "user": balance_of(api, "by-dashboard")}
    else:
        assert by_dash == by_api
    after_api = api.get("/user/balance", name="by-api")
    after_dash = api.get("/user/balance", name="by-dashboard")
    assert {**after_dash, "name": "by-api"} == after_api


def test_withdraw_answers_the_new_balance(dash, site):
    credit(site.site_key, "alice", 100)
    assert dash.post("user/withdraw", name="alice", amount=40) == {
        "success": True, "name": "alice", "amount": 40,
        "user": {"name": "alice", "total": 100, "withdrawn": 40, "balance": 60}}


@pytest.mark.parametrize("body,code", [({"amount": 5}, "missing_input"),
                                       ({"name": "nobody", "amount": 5}, "unknown_user"),
                                       ({"name": "alice", "amount": "5"}, "invalid_amount"),
                                       ({"name": "alice", "amount": 5.0}, "invalid_amount")])
def test_withdraw_refusals_are_the_apis(api, dash, body, code):
    assert dash.post("user/withdraw", **body) == fail(code)
    assert api_json(api, "/user/withdraw", **body) == fail(code)


def test_reset_has_exactly_the_apis_effect(api, dash, site):
    for name in ("by-api", "by-dashboard", "untouched"):
        credit(site.site_key, name, 500)
        api.post("/user/withdraw", name=name, amount=100)
    assert api.post("/user/reset", name="by-api") == {"success": True}
    assert dash.post("user/reset", name="by-dashboard") == {"success": True, "name": "by-dashboard"}
    zero = {"total": 0, "withdrawn": 0, "balance": 0}
    assert api.get("/user/balance", name="by-dashboard") == {"success": True, "name": "by-dashboard",
                                                            **zero}
    assert api.get("/user/balance", name="by-api") == {"success": True, "name": "by-api", **zero}
    # The per-epoch counter moved too: reset-all finds only the untouched user.
    assert api.post("/user/reset-all") == {"success": True, "affected": 1}


def test_reset_of_an_unknown_user_succeeds_like_the_api(api, dash):
    assert dash.post("user/reset", name="nobody") == {"success": True, "name": "nobody"}
    assert api.post("/user/reset", name="nobody") == {"success": True}


# --- links ------------------------------------------------------------------------------

def _create_links(monkeypatch, site_key: str, count: int, start: int = 1_764_000_000) -> list[str]:
    """`count` links created one second apart (newest last)."""
    codes = []
    for i in range(count):
        monkeypatch.setattr(links, "time", SimpleNamespace(time=lambda i=i: float(start + i)))
        codes.append(links.create(site_key, f"https://host{i}.example.com/file?x={i}", 65536 + i).code)
    monkeypatch.undo()
    return codes


def test_links_are_listed_newest_first_with_host_and_work(api, dash, site, monkeypatch):
    codes = _create_links(monkeypatch, site.site_key, 3)
    create_site("other")  # with no links: never mixed in
    answer = dash.get("links")
    assert answer == {"success": True, "nextPage": None, "links": [
        {"code": codes[i], "url": f"http://localhost/l/{codes[i]}",
         "target": f"https://host{i}.example.com/file?x={i}",
         "host": f"host{i}.example.com", "hashes": 65536 + i, "created": 1_764_000_000 + i,
         "disabled": False, "visitsStarted": 0, "visitsCompleted": 0, "lastVisit": 0}
        for i in (2, 1, 0)]}


def test_links_of_another_site_are_not_listed(api, dash, monkeypatch):
    other = create_site("other")
    _create_links(monkeypatch, other.site_key, 2)
    assert dash.get("links")["links"] == []


def test_every_link_is_listed_once_across_pages(dash, site, monkeypatch):
    codes = _create_links(monkeypatch, site.site_key, links.LIST_PAGE + 5)
    first = dash.get("links")
    assert len(first["links"]) == links.LIST_PAGE and first["nextPage"]
    second = dash.get("links", page=first["nextPage"])
    assert len(second["links"]) == 5 and second["nextPage"] is None
    listed = [row["code"] for row in first["links"] + second["links"]]
    assert listed == codes[::-1]


@pytest.mark.parametrize("page", ["garbage", "WzEsMl0", "W3RydWUsImFiYyJd", "x" * 300])
def test_a_bad_links_page_is_invalid_page(dash, page):
    assert dash.get("links", page=page) == fail("invalid_page")


def test_link_visits_are_counted(client, api, dash, site):
    code = api.post("/link/create", url="https://example.com/b", hashes=65536)["url"][-12:]
    idle = api.post("/link/create", url="https://example.org/", hashes=65536)["url"][-12:]
    mine(client, site, link=code)
    mine(client, site, link=code)
    rows = {row["code"]: row for row in dash.get("links")["links"]}
    assert (rows[code]["visitsStarted"], rows[code]["visitsCompleted"]) == (2, 2)
    assert rows[code]["lastVisit"] > 0
    assert (rows[idle]["visitsStarted"], rows[idle]["visitsCompleted"], rows[idle]["lastVisit"]) == \
        (0, 0, 0)


# --- settings ---------------------------------------------------------------------------

def test_settings_show_origins_and_snippets_with_the_site_key(dash, site):
    answer = dash.get("settings")
    assert answer["siteKey"] == site.site_key and answer["origins"] == []
    assert answer["api"] == "http://localhost"
    captcha, miner = answer["snippets"]["captcha"], answer["snippets"]["miner"]
    assert f'data-key="{site.site_key}"' in captcha
    assert '<script src="http://localhost/lib/captcha.js" async></script>' in captcha
    assert f'new WorkProof.User("{site.site_key}", "USER-NAME")' in miner
    assert '<script src="http://localhost/lib/workproof.js"></script>' in miner
    assert site.secret not in json.dumps(answer)


@pytest.mark.parametrize("given,stored", [
    (["https://Example.COM"], ["https://example.com"]),
    (["https://example.com:443/", "http://example.com:80"], ["https://example.com", "http://example.com"]),
    (["http://localhost:8080", "http://localhost:8080/"], ["http://localhost:8080"]),
    (["https://bücher.example"], ["https://xn--bcher-kva.example"]),
    (["http://[::1]:8080"], ["http://[::1]:8080"]),
    ([], []),
])
def test_origins_are_stored_as_browsers_send_them(dash, given, stored):
    assert dash.post("settings/origins", origins=given) == {"success": True, "origins": stored}
    assert dash.get("settings")["origins"] == stored


@pytest.mark.parametrize("given", [["ftp://example.com"], ["https://example.com/path"],
                                   ["https://user@example.com"], ["example.com"],
                                   ["https://example.com?x=1"], ["https://example.com/#top"],
                                   ["https://127.1"], ["https://a\\b.example"],
                                   "https://example.com", [5],
                                   ["https://" + "a" * 300 + ".com"], ["https://x.com"] * 33])
def test_bad_origins_are_refused_and_change_nothing(dash, given):
    dash.post("settings/origins", origins=["https://kept.example"])
    assert dash.post("settings/origins", origins=given) == fail("bad_request")
    assert dash.get("settings")["origins"] == ["https://kept.example"]


def test_origins_need_a_list(dash):
    assert dash.post("settings/origins") == fail("missing_input")


def test_origins_take_effect_on_the_miners(client, dash, site):
    dash.post("settings/origins", origins=["https://shop.example"])

    def job(origin: str) -> dict[str, Any]:
        response = client.http.post("/pow/job", body=f"site={site.site_key}&anonymous=1",
                                    headers={"Content-Type": "application/x-www-form-urlencoded",
                                             "Origin": origin})
        return json.loads(response.body)

    assert job("https://elsewhere.example") == fail("invalid_site")
    assert job("https://shop.example")["success"] is True


# --- pressure levels ------------------------------------------------------------------------

def test_settings_show_the_default_levels_as_the_admin_command_does(dash, site):
    from chalicelib import config, sites
    from ops import admin

    base = config.settings().min_work
    shown = dash.get("settings")["pressure"]
    assert shown == {"levels": [base, 2 * base, 4 * base, 8 * base], "stepUp": 3000,
                     "ceiling": 6000, "custom": False, "level": 0, "minWorkNow": base,
                     "admitted": 1.0, "sharesPerMinute": 0.0, "heavySources": 0}
    by_admin = admin._levels_json(sites.get_site(site.site_key))
    assert shown == {k: v for k, v in by_admin.items() if k != "site_key"}


def test_settings_show_where_the_site_stands_now(client, dash, site, monkeypatch):
    import time

    from chalicelib import sites
    from chalicelib.pressure import Pressure, SourceRate

    dash.post("settings/levels", works="1024,4096,16384", step_up=60, ceiling=120)
    mine(client, site, submits=3, user="alice")
    drain()
    dash.settle = False  # the consumer has run: what it wrote is overwritten below
    now = int(time.time())
    freeze_dashboard_clock(monkeypatch, now)
    # The consumer's last figure (130 a minute) is not what is shown: the last
    # minute's shares are, read from the rate buckets when asked.
    sites.publish_pressure(site.site_key, Pressure(level=2, hot_at=now, admit=0.5, admit_at=now,
                                                   rate=130.0), {"tag-a": SourceRate(9.0, 0.1, now),
                                                               "tag-b": SourceRate(8.0, 0.1, now)})
    assert dash.get("settings")["pressure"] == {
        "levels": [1024, 4096, 16384], "stepUp": 60, "ceiling": 120, "custom": True, "level": 2,
        "minWorkNow": 16384, "admitted": 0.5, "sharesPerMinute": 3.0, "heavySources": 2}
    # Once the minute has passed, whatever the consumer last wrote: 0.
    freeze_dashboard_clock(monkeypatch, now + 71)
    assert dash.get("settings")["pressure"]["sharesPerMinute"] == 0.0


def test_levels_are_set_in_part_and_reset_to_the_defaults(dash, site):
    from chalicelib import sites
    from chalicelib.pressure import Levels

    answer = dash.post("settings/levels", works="1024, 4096,16384", step_up=60, ceiling=120)
    assert answer["success"] is True
    assert (answer["pressure"]["levels"], answer["pressure"]["stepUp"],
            answer["pressure"]["ceiling"], answer["pressure"]["custom"]) == ([1024, 4096, 16384], 60, 120, True)
    assert sites.get_site(site.site_key).levels == Levels((1024, 4096, 16384), 60, 120)
    # What is not sent stays.
    dash.post("settings/levels", ceiling=90)
    assert sites.get_site(site.site_key).levels == Levels((1024, 4096, 16384), 60, 90)
    dash.post("settings/levels", works=[2048, 8192])  # a JSON list does too
    assert sites.get_site(site.site_key).levels == Levels((2048, 8192), 60, 90)
    default = dash.get("settings")["pressure"]
    assert default["custom"] is True
    back = dash.post("settings/levels", reset=True)
    assert back["pressure"]["custom"] is False and back["pressure"]["stepUp"] == 3000
    assert sites.get_site(site.site_key).levels is None


@pytest.mark.parametrize("body", [
    {"works": "4096,1024"}, {"works": "1024,1024"}, {"works": "x"}, {"works": "1024,,4096"},
    {"works": "1.5"}, {"works": "-5"}, {"works": "0"}, {"works": str(2**32 + 1)},
    {"works": ",".join(str(2**i) for i in range(10, 19))}, {"works": 5}, {"works": ["1", 2]},
    {"step_up": 0}, {"step_up": "60"}, {"step_up": 10**8}, {"ceiling": 1.5}, {"ceiling": True},
    {"works": "1024", "ceiling": -1},
])
def test_invalid_levels_are_refused_and_change_nothing(dash, site, body):
    from chalicelib import sites
    from chalicelib.pressure import Levels

    dash.post("settings/levels", works="1024,4096", step_up=60, ceiling=120)
    assert dash.post("settings/levels", **body) == fail("invalid_levels")
    assert sites.get_site(site.site_key).levels == Levels((1024, 4096), 60, 120)


def test_levels_need_something_to_set(dash):
    assert dash.post("settings/levels") == fail("missing_input")
    assert dash.post("settings/levels", reset=False) == fail("missing_input")
