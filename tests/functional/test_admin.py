"""The operator's command: every subcommand's JSON, and one-line errors."""
from __future__ import annotations

import json
import time
from types import SimpleNamespace

import pytest

from ops import admin
from tests.deploy.powsolve import mine
from tests.fixtures import Api, SiteCreds, credit
from tests.streams import drain


@pytest.fixture
def run(aws, capsys):
    def call(*argv: str) -> tuple[int, dict | None, str]:
        code = admin.main(list(argv))
        out, err = capsys.readouterr()
        return code, (json.loads(out) if out.strip() else None), err
    return call


def test_create_rotate_list_disable(run, api):
    code, created, _ = run("create-site", "Shop")
    assert code == 0 and set(created) == {"name", "site_key", "secret"}
    assert created["name"] == "Shop" and len(created["site_key"]) == 32 and len(created["secret"]) == 32
    code, rotated, _ = run("rotate-secret", created["site_key"])
    assert code == 0 and rotated["secret"] != created["secret"]
    old = Api(api.client, SiteCreds(created["site_key"], created["secret"]))
    new = Api(api.client, SiteCreds(created["site_key"], rotated["secret"]))
    assert old.get("/user/top") == {"success": False, "error": "invalid_secret"}
    assert new.get("/user/top") == {"success": True, "users": []}
    _, listed, _ = run("list-sites")
    mine = [s for s in listed["sites"] if s["site_key"] == created["site_key"]]
    assert mine == [{"name": "Shop", "site_key": created["site_key"], "disabled": False, "origins": [],
                     "epoch": 0, "xmrPending": "0", "xmrPaid": "0"}]
    assert created["secret"] not in json.dumps(listed) and rotated["secret"] not in json.dumps(listed)
    _, disabled, _ = run("disable-site", created["site_key"])
    assert disabled["disabled"] is True
    assert new.get("/user/top") == {"success": False, "error": "invalid_secret"}
    _, enabled, _ = run("disable-site", created["site_key"], "--enable")
    assert enabled["disabled"] is False


def test_set_origins(run, api):
    _, site, _ = run("set-origins", api.site.site_key, "https://shop.example", "http://localhost:8080/")
    assert site["origins"] == ["https://shop.example", "http://localhost:8080"]
    code, _, err = run("set-origins", api.site.site_key, "shop.example")
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: not an origin")
    _, cleared, _ = run("set-origins", api.site.site_key)
    assert cleared["origins"] == []


def test_set_payout_figures_and_site_xmr(run, api):
    _, payout, _ = run("set-payout", "--block-reward", "0.6", "--xmr-to-usd", "150")
    assert payout["blockReward"] == 0.6 and payout["xmrToUsd"] == 150 and payout["updated"] > 0
    answer = api.get("/stats/payout")
    assert answer["blockReward"] == 0.6 and answer["xmrToUsd"] == 150 and answer["payoutPercentage"] == 0
    run("set-payout", "--site", api.site.site_key, "--xmr-pending", "0.25", "--xmr-paid", "2")
    stats = api.get("/stats/site")
    assert (stats["xmrPending"], stats["xmrPaid"]) == (0.25, 2)


def test_delete_user_erases_and_keeps_counts_exact(run, api):
    credit(api.site.site_key, "alice@example.com", 100)
    credit(api.site.site_key, "bob", 50)
    _, deleted, _ = run("delete-user", api.site.site_key, "alice@example.com")
    assert deleted == {"name": "alice@example.com", "deleted": True}
    assert api.get("/user/balance", name="alice@example.com") == {"success": False, "error": "unknown_user"}
    assert [u["name"] for u in api.get("/user/list")["users"]] == ["bob"]
    assert api.post("/user/reset-all") == {"success": True, "affected": 1}
    assert run("delete-user", api.site.site_key, "nobody")[1] == {"name": "nobody", "deleted": False}


def test_import_users_all_or_nothing(run, api, tmp_path):
    good = tmp_path / "users.csv"
    good.write_text("name,total,withdrawn\nalice,500,100\nbob,20,\n")
    assert run("import-users", api.site.site_key, str(good))[1] == {
        "site_key": api.site.site_key, "imported": 2}
    assert api.get("/user/balance", name="alice") == {
        "success": True, "name": "alice", "total": 500, "withdrawn": 100, "balance": 400}
    assert api.get("/user/balance", name="bob")["balance"] == 20
    bad = tmp_path / "bad.csv"
    bad.write_text("carol,10,0\ndave,5,9\n")  # withdrawn > total on line 2
    code, out, err = run("import-users", api.site.site_key, str(bad))
    assert (code, out) == (1, None) and err.startswith("error: line 2")
    assert api.get("/user/balance", name="carol") == {"success": False, "error": "unknown_user"}


def test_errors_are_one_line_and_non_zero(run):
    for argv in (["rotate-secret", "x" * 32], ["disable-site", "nope"], ["delete-user", "nope", "a"]):
        code, out, err = run(*argv)
        assert code == 1 and out is None and err.startswith("error: ") and err.count("\n") == 1


def test_create_tables_is_idempotent(run):
    code, first, _ = run("create-tables")
    assert code == 0 and len(first["tables"]) == 6
    assert run("create-tables")[0] == 0


def test_set_and_show_levels(run, api):
    code, shown, _ = run("show-levels", api.site.site_key)
    assert code == 0 and shown["custom"] is False and shown["level"] == 0
    assert shown["levels"] == [65536, 131072, 262144, 524288]
    assert (shown["stepUp"], shown["ceiling"], shown["admitted"]) == (3000, 6000, 1.0)
    code, set_, _ = run("set-levels", api.site.site_key, "--works", "1024,4096,16384",
                        "--step-up", "60", "--ceiling", "120")
    assert code == 0 and set_["custom"] is True
    assert (set_["levels"], set_["stepUp"], set_["ceiling"], set_["minWorkNow"]) == \
        ([1024, 4096, 16384], 60, 120, 1024)
    # Only the ceiling: the rest stays.
    _, again, _ = run("set-levels", api.site.site_key, "--ceiling", "90")
    assert (again["levels"], again["stepUp"], again["ceiling"]) == ([1024, 4096, 16384], 60, 90)
    code, _, err = run("set-levels", api.site.site_key, "--works", "4096,1024")
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: levels: levels must rise")
    _, back, _ = run("set-levels", api.site.site_key, "--default")
    assert back["custom"] is False and back["levels"] == [65536, 131072, 262144, 524288]


def test_show_levels_reads_the_last_minutes_shares_live(run, api, monkeypatch, capsys):
    from chalicelib import sites
    from chalicelib.pressure import Pressure

    mine(api.client, api.site, submits=2, user="alice")
    drain()
    capsys.readouterr()  # the requests' log lines
    now = int(time.time())
    # What the stream consumer last wrote is stale: not shown.
    sites.publish_pressure(api.site.site_key, Pressure(rate=70.9), {})
    monkeypatch.setattr(admin, "time", SimpleNamespace(time=lambda: float(now)))
    assert run("show-levels", api.site.site_key)[1]["sharesPerMinute"] == 2.0
    monkeypatch.setattr(admin, "time", SimpleNamespace(time=lambda: float(now + 71)))
    assert run("show-levels", api.site.site_key)[1]["sharesPerMinute"] == 0.0
