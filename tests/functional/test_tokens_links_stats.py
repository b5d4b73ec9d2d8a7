"""docs/contract.md §1: /token/verify, /link/create (+ its page), /stats/*."""
from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from chalicelib import sites, stats, tokens
from chalicelib.store.models import Guard
from chalicelib.store.transactions import Transaction
from tests.fixtures import create_site
from tests.functional.store import as_secret, aws, freeze_clock  # noqa: F401 - aws: shared store

HOUR = 3600
DAY = 24 * HOUR
# A fixed "now": half an hour into an hour (so the current hour's rate is exact).
NOW = 1_764_000_000 - 1_764_000_000 % HOUR + 1800
THIS_HOUR = NOW - NOW % HOUR


def fail(code: str) -> dict[str, Any]:
    return {"success": False, "error": code}


def mine_token(site_key: str, name: str, hashes: int, now: int, *, new: bool = True) -> None:
    """What an accepted proof-of-work submit does to a token."""
    tx = Transaction()
    tokens.stage_credit(tx, site_key, name, hashes, now, new=new)
    tx.commit()


def add_hashes(site_key: str, hashes: int, at: int) -> None:
    """What an accepted submit leaves for the stats: its guard (the stream does the rest)."""
    Guard(secrets.token_urlsafe(16), expires=at + 600, site_key=site_key, hashes=hashes,
          credited_at=at, kind="user", first=0, reached=0).save()


# --- /token/verify ---------------------------------------------------------------------

@pytest.fixture
def clock(monkeypatch) -> int:
    freeze_clock(monkeypatch, NOW)
    return NOW


def test_verify(api, clock):
    mine_token(api.site.site_key, "tok1", 1024, NOW - 60)
    assert api.post("/token/verify", token="tok1", hashes=1024) == {
        "success": True, "hashes": 1024, "created": NOW - 60}


def test_verify_answers_the_recorded_hashes_not_the_asked(api, clock):
    mine_token(api.site.site_key, "tok1", 1000, NOW - 60)
    mine_token(api.site.site_key, "tok1", 500, NOW - 30, new=False)
    answer = api.post("/token/verify", token="tok1", hashes=256)
    assert answer == {"success": True, "hashes": 1500, "created": NOW - 60}
    assert type(answer["created"]) is int and type(answer["hashes"]) is int


def test_verify_is_once(api, clock):
    mine_token(api.site.site_key, "tok1", 512, NOW - 60)
    assert api.post("/token/verify", token="tok1", hashes=512)["success"] is True
    assert api.post("/token/verify", token="tok1", hashes=512) == fail("invalid_token")
    assert api.post("/token/verify", token="tok1", hashes=1) == fail("invalid_token")


def test_short_token_is_not_consumed(api, clock):
    mine_token(api.site.site_key, "tok1", 100, NOW - 60)
    assert api.post("/token/verify", token="tok1", hashes=256) == fail("invalid_token")
    assert api.post("/token/verify", token="tok1", hashes=101) == fail("invalid_token")
    mine_token(api.site.site_key, "tok1", 200, NOW - 10, new=False)
    assert api.post("/token/verify", token="tok1", hashes=256) == {
        "success": True, "hashes": 300, "created": NOW - 60}


def test_unknown_token(api, clock):
    assert api.post("/token/verify", token="nope", hashes=1) == fail("invalid_token")
    assert api.post("/token/verify", token="x" * 257, hashes=1) == fail("invalid_token")


def test_token_valid_for_one_hour(api, clock):
    mine_token(api.site.site_key, "old", 512, NOW - HOUR)            # expires right now
    mine_token(api.site.site_key, "older", 512, NOW - 2 * HOUR)
    mine_token(api.site.site_key, "young", 512, NOW - HOUR + 1)     # one second left
    assert api.post("/token/verify", token="old", hashes=1) == fail("invalid_token")
    assert api.post("/token/verify", token="older", hashes=1) == fail("invalid_token")
    assert api.post("/token/verify", token="young", hashes=1) == {
        "success": True, "hashes": 512, "created": NOW - HOUR + 1}


def test_token_expires_with_the_real_clock(api):
    # No frozen clock: a token written an hour and a bit ago is refused.
    mine_token(api.site.site_key, "old", 512, int(time.time()) - HOUR - 5)
    assert api.post("/token/verify", token="old", hashes=1) == fail("invalid_token")


def test_another_sites_token(api, clock):
    other = create_site("other")
    mine_token(other.site_key, "tok1", 512, NOW - 60)
    assert api.post("/token/verify", token="tok1", hashes=1) == fail("invalid_token")
    # Not consumed by the refusal: its own site verifies it.
    assert as_secret(api, other.secret, "/token/verify", "POST", token="tok1", hashes=1) == {
        "success": True, "hashes": 512, "created": NOW - 60}


def test_token_names_are_per_site(api, clock):
    other = create_site("other")
    mine_token(other.site_key, "same", 512, NOW - 60)
    mine_token(api.site.site_key, "same", 64, NOW - 50)
    assert api.post("/token/verify", token="same", hashes=64) == {
        "success": True, "hashes": 64, "created": NOW - 50}
    assert as_secret(api, other.secret, "/token/verify", "POST", token="same", hashes=64) == {
        "success": True, "hashes": 512, "created": NOW - 60}


@pytest.mark.parametrize("hashes", ["0", "-1", "1.5", "abc", "true", str(2**53), "9" * 41])
def test_verify_bad_hashes(api, clock, hashes):
    mine_token(api.site.site_key, "tok1", 512, NOW - 60)
    assert api.post("/token/verify", token="tok1", hashes=hashes) == fail("bad_request")
    # Not consumed.
    assert api.post("/token/verify", token="tok1", hashes=1)["success"] is True


def test_verify_missing_input(api, clock):
    mine_token(api.site.site_key, "tok1", 512, NOW - 60)
    assert api.post("/token/verify", token="tok1") == fail("missing_input")
    assert api.post("/token/verify", hashes=1) == fail("missing_input")
    assert api.post("/token/verify") == fail("missing_input")
    assert api.post("/token/verify", token="", hashes=1) == fail("missing_input")
    assert api.post("/token/verify", token="tok1", hashes="") == fail("missing_input")


# --- /link/create and the shortlink page ------------------------------------------------

LINK_CODE = re.compile(r"^http://localhost/l/([A-Za-z0-9]+)$")


def create_link(api, url: str, hashes: int = 1024) -> str:
    answer = api.post("/link/create", url=url, hashes=hashes)
    assert set(answer) == {"success", "url"} and answer["success"] is True, answer
    return answer["url"]


def page_of(api, short_url: str) -> str:
    response = api.client.http.get(urlsplit(short_url).path)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    return response.body.decode("utf-8")


def test_link_create(api):
    short = create_link(api, "https://example.com/some/page?x=1", 4096)
    assert LINK_CODE.match(short), short
    page = page_of(api, short)
    assert "example.com" in page
    assert "4096" in page
    assert "some/page" not in page and "x=1" not in page


def test_each_link_gets_its_own_code(api):
    assert create_link(api, "https://example.com/") != create_link(api, "https://example.com/")


def test_link_url_uses_the_public_base_url(api, app_settings):
    app_settings(WORKPROOF_PUBLIC_URL="https://links.example.org/base/")
    short = create_link(api, "https://example.com/")
    assert re.match(r"^https://links\.example\.org/base/l/[A-Za-z0-9]+$", short), short


def test_link_url_follows_the_request_host(api):
    body = f"secret={api.site.secret}&url=https%3A%2F%2Fexample.com%2F&hashes=256"
    answer = api.raw("POST", "/link/create", body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "Host": "api.example.net", "X-Forwarded-Proto": "https"})
    assert re.match(r"^https://api\.example\.net/l/[A-Za-z0-9]+$", answer["url"]), answer


def _gateway_event(method: str, resource: str, path: str, query: dict[str, str] | None = None,
                   params: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway proxy event of a deployed stage `api` (no custom domain)."""
    return {
        "resource": resource, "path": path, "httpMethod": method, "body": None,
        "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com",
                    "X-Forwarded-Proto": "https"},
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": params, "stageVariables": None, "isBase64Encoded": False,
        "requestContext": {"resourcePath": resource, "httpMethod": method, "stage": "api",
                           "path": "/api" + path},
    }


def test_link_and_its_page_under_a_deployed_stage_path(api, app):
    base = "https://abc123.execute-api.us-east-1.amazonaws.com/api"
    answer = app(_gateway_event("POST", "/link/create", "/link/create", {
        "secret": api.site.secret, "url": "https://example.com/x", "hashes": "512"}), None)
    short = json.loads(answer["body"])["url"]
    assert re.match(re.escape(base) + r"/l/[A-Za-z0-9]+$", short), short
    code = short.rsplit("/", 1)[1]
    page = app(_gateway_event("GET", "/l/{code}", f"/l/{code}", params={"code": code}), None)
    assert page["statusCode"] == 200
    # The page loads the library from the stage, not from the domain's root.
    from chalicelib import library

    assert f'src="{base}/lib/{library.hashed_name("workproof.js")}"' in page["body"]
    assert 'src="/lib/' not in page["body"]


def test_link_page_shows_only_the_host(api):
    short = create_link(api, "https://evil.example:8443/secret-path?q=1#frag")
    page = page_of(api, short)
    assert "evil.example" in page
    for hidden in ("secret-path", "q=1", "frag", "8443"):
        assert hidden not in page.lower(), hidden


@pytest.mark.parametrize("url,shown,hidden", [
    ("https://bücher.example/kaufen", "xn--bcher-kva.example", ["bücher", "kaufen"]),
    ("https://BÜCHER.example/", "xn--bcher-kva.example", ["bücher", "BÜCHER"]),
    # What the browser visits (UTS 46 non-transitional), not IDNA 2003's `fass.de`.
    ("https://faß.de/", "xn--fa-hia.de", ["fass", "faß"]),
    ("https://straße.bücher.de/", "xn--strae-oqa.xn--bcher-kva.de", ["strasse"]),
    ("https://ΣΊΣΥΦΟΣ.gr/", "xn--kxa6akbbkh.gr", ["σ", "Σ"]),
    ("https://例え.テスト/", "xn--r8jz45g.xn--zckzah", ["例"]),
])
def test_link_page_shows_idn_host_in_punycode(api, url, shown, hidden):
    page = page_of(api, create_link(api, url))
    assert shown in page
    for text in hidden:
        assert text not in page


def test_link_page_escapes_nothing_it_should_not_show(api):
    page = page_of(api, create_link(api, "http://Example.COM:8080/<script>alert(1)</script>"))
    assert "example.com" in page
    assert "<script>alert" not in page and "8080" not in page


def test_unknown_link_code(api):
    assert api.get("/l/NoSuchCode12", with_secret=False) == fail("invalid_link")


def test_link_url_of_2048_characters(api):
    base = "https://example.com/"
    assert create_link(api, base + "a" * (2048 - len(base)))
    assert api.post("/link/create", url=base + "a" * (2049 - len(base)), hashes=1) == \
        fail("invalid_url")


@pytest.mark.parametrize("url", [
    "ftp://example.com/file", "javascript:alert(1)", "file:///etc/passwd",
    "data:text/html,hi", "example.com/page", "//example.com/", "http://", "https:///path",
    "http://exa mple.com/", "http://example.com:99999/", "http://a\nb.com/",
    "mailto:someone@example.com", "http://" + "a" * 64 + ".com/",
])
def test_link_invalid_url(api, url):
    assert api.post("/link/create", url=url, hashes=256) == fail("invalid_url")


def test_link_missing_input(api):
    assert api.post("/link/create", hashes=256) == fail("missing_input")
    assert api.post("/link/create", url="https://example.com/") == fail("missing_input")
    assert api.post("/link/create", url="", hashes=256) == fail("missing_input")


@pytest.mark.parametrize("hashes", ["0", "-1", "1.5", "abc", "true", str(2**53)])
def test_link_bad_hashes(api, hashes):
    assert api.post("/link/create", url="https://example.com/", hashes=hashes) == \
        fail("bad_request")


# --- /stats/site -----------------------------------------------------------------------

def zero_history(first_hour: int, hours: int) -> list[dict[str, Any]]:
    return [{"time": first_hour + i * HOUR, "hashesTotal": 0, "hashesPerSecond": 0}
            for i in range(hours)]


def test_stats_site_of_a_new_site(api, clock):
    assert api.get("/stats/site") == {
        "success": True, "hashesPerSecond": 0, "hashesTotal": 0, "xmrPending": 0,
        "xmrPaid": 0, "name": "test",
        "history": zero_history(THIS_HOUR - 167 * HOUR, 168)}


def test_stats_site(api, clock):
    site = api.site.site_key
    add_hashes(site, 1000, NOW)              # the current hour, in two shares
    add_hashes(site, 800, THIS_HOUR)
    add_hashes(site, 7200, NOW - HOUR)       # the previous hour
    add_hashes(site, 360, THIS_HOUR - 167 * HOUR + 5)   # the oldest hour shown
    add_hashes(site, 999, THIS_HOUR - 168 * HOUR)       # too old
    add_hashes(site, 5, NOW + HOUR)          # (clock skew) the next hour
    add_hashes(create_site("other").site_key, 12345, NOW)
    history = zero_history(THIS_HOUR - 167 * HOUR, 168)
    history[0].update(hashesTotal=360, hashesPerSecond=0.1)
    history[-2].update(hashesTotal=7200, hashesPerSecond=2.0)
    history[-1].update(hashesTotal=1800, hashesPerSecond=1.0)   # 1800 hashes in 1800 s
    # Now: the last minute's rate (1000 hashes in it), not the hour's average.
    assert api.get("/stats/site") == {
        "success": True, "hashesPerSecond": 16.67, "hashesTotal": 360 + 7200 + 1800,
        "xmrPending": 0, "xmrPaid": 0, "name": "test", "history": history}


def test_stats_site_sums_every_share_of_the_hour(api, clock):
    for _ in range(40):   # 40 shares, counted off the request path
        add_hashes(api.site.site_key, 90, NOW)
    answer = api.get("/stats/site")
    assert answer["history"][-1] == {"time": THIS_HOUR, "hashesTotal": 3600,
                                     "hashesPerSecond": 2.0}
    assert answer["hashesTotal"] == 3600 and answer["hashesPerSecond"] == 60.0


def test_stats_site_rate_is_the_last_minute_and_reads_zero_once_idle(api, monkeypatch):
    site = api.site.site_key
    add_hashes(site, 6000, NOW - 65)   # in the bucket that began 70 s ago: out
    add_hashes(site, 600, NOW - 55)    # the bucket that began 60 s ago: half inside at NOW + 5
    add_hashes(site, 1200, NOW - 30)
    freeze_clock(monkeypatch, NOW + 5)
    answer = api.get("/stats/site")
    assert answer["hashesPerSecond"] == round((300 + 1200) / 60, 2)
    assert answer["history"][-1]["hashesTotal"] == 7800
    freeze_clock(monkeypatch, NOW + 40)
    assert api.get("/stats/site")["hashesPerSecond"] == 0


def test_stats_site_operator_figures(api, clock):
    sites.update_site(api.site.site_key, xmr_pending="0.25", xmr_paid="3")
    answer = api.get("/stats/site")
    assert (answer["xmrPending"], answer["xmrPaid"], answer["name"]) == (0.25, 3, "test")


def test_stats_site_real_clock_shape(api):
    answer = api.get("/stats/site")
    times = [entry["time"] for entry in answer["history"]]
    assert len(times) == 168
    assert all(t % HOUR == 0 for t in times)
    assert times == sorted(times) and times[-1] - times[0] == 167 * HOUR
    assert abs(times[-1] - time.time()) < 2 * HOUR


# --- /stats/history --------------------------------------------------------------------

def test_history(api, clock):
    site = api.site.site_key
    add_hashes(site, 3600, THIS_HOUR - 3 * HOUR)
    add_hashes(site, 7200, THIS_HOUR - 2 * HOUR + 10)
    add_hashes(site, 900, NOW)
    begin, end = THIS_HOUR - 3 * HOUR + 1234, NOW
    assert api.get("/stats/history", begin=begin, end=end) == {"success": True, "history": [
        {"time": THIS_HOUR - 3 * HOUR, "hashesTotal": 3600, "hashesPerSecond": 1.0},
        {"time": THIS_HOUR - 2 * HOUR, "hashesTotal": 7200, "hashesPerSecond": 2.0},
        {"time": THIS_HOUR - HOUR, "hashesTotal": 0, "hashesPerSecond": 0},
        {"time": THIS_HOUR, "hashesTotal": 900, "hashesPerSecond": 0.5},
    ]}


def test_history_one_hour(api, clock):
    add_hashes(api.site.site_key, 36, THIS_HOUR - 5 * HOUR)
    for begin, end in ((THIS_HOUR - 5 * HOUR, THIS_HOUR - 5 * HOUR),
                       (THIS_HOUR - 5 * HOUR + 1, THIS_HOUR - 4 * HOUR - 1)):
        assert api.get("/stats/history", begin=begin, end=end) == {"success": True, "history": [
            {"time": THIS_HOUR - 5 * HOUR, "hashesTotal": 36, "hashesPerSecond": 0.01}]}


def test_history_future_hours_are_zero(api, clock):
    answer = api.get("/stats/history", begin=NOW + HOUR, end=NOW + 3 * HOUR)
    assert answer == {"success": True, "history": zero_history(THIS_HOUR + HOUR, 3)}


def test_history_of_exactly_366_days(api, clock):
    begin = THIS_HOUR - 366 * DAY + 1800
    add_hashes(api.site.site_key, 7, begin)
    answer = api.get("/stats/history", begin=begin, end=begin + 366 * DAY)
    history = answer["history"]
    assert len(history) == 366 * 24 + 1
    assert history[0] == {"time": begin - 1800, "hashesTotal": 7, "hashesPerSecond": 0}
    assert history[-1]["time"] == begin - 1800 + 366 * DAY


def test_history_over_366_days(api, clock):
    begin = THIS_HOUR - 400 * DAY
    assert api.get("/stats/history", begin=begin, end=begin + 366 * DAY + HOUR) == \
        fail("bad_request")
    assert api.get("/stats/history", begin=0, end=NOW) == fail("bad_request")


def test_history_begin_after_end(api, clock):
    assert api.get("/stats/history", begin=NOW, end=NOW - 1) == fail("bad_request")


@pytest.mark.parametrize("begin,end", [("abc", "1"), ("1", "1.5"), ("-3600", "0"),
                                       ("1e9", "1e9"), ("true", "1")])
def test_history_bad_numbers(api, clock, begin, end):
    assert api.get("/stats/history", begin=begin, end=end) == fail("bad_request")


def test_history_missing_input(api, clock):
    assert api.get("/stats/history", begin=NOW) == fail("missing_input")
    assert api.get("/stats/history", end=NOW) == fail("missing_input")
    assert api.get("/stats/history") == fail("missing_input")
    assert api.get("/stats/history", begin="", end=NOW) == fail("missing_input")


def test_history_is_per_site(api, clock):
    add_hashes(create_site("other").site_key, 3600, THIS_HOUR - HOUR)
    assert api.get("/stats/history", begin=THIS_HOUR - HOUR, end=THIS_HOUR - HOUR) == {
        "success": True, "history": zero_history(THIS_HOUR - HOUR, 1)}


# --- /stats/payout ---------------------------------------------------------------------

def test_payout_defaults(api, clock):
    assert api.get("/stats/payout") == {
        "success": True, "globalDifficulty": 65536, "globalHashrate": 0, "blockReward": 0,
        "payoutPercentage": 0, "payoutPer1MHashes": 0, "xmrToUsd": 0, "updated": 0}


def test_payout_operator_figures(api, clock):
    stats.set_payout({"blockReward": 0.6, "payoutPercentage": 80, "payoutPer1MHashes": 0.00012,
                      "xmrToUsd": 150.5}, NOW - 100)
    assert api.get("/stats/payout") == {
        "success": True, "globalDifficulty": 65536, "globalHashrate": 0, "blockReward": 0.6,
        "payoutPercentage": 80, "payoutPer1MHashes": 0.00012, "xmrToUsd": 150.5,
        "updated": NOW - 100}


def test_payout_global_hashrate_is_last_complete_hour_of_all_sites(api, clock):
    for _ in range(12):  # every share of the hour is counted
        add_hashes(api.site.site_key, 300, THIS_HOUR - HOUR)
    add_hashes(create_site("other").site_key, 7200, THIS_HOUR - 10)
    add_hashes(api.site.site_key, 99999, NOW)              # current hour: not complete
    add_hashes(api.site.site_key, 99999, THIS_HOUR - 2 * HOUR)
    answer = api.get("/stats/payout")
    assert answer["globalHashrate"] == 3.0
    assert answer["globalDifficulty"] == 65536


def test_payout_global_difficulty_is_the_minimum_work(api, clock, app_settings):
    app_settings(WORKPROOF_MIN_WORK="131072")
    assert api.get("/stats/payout")["globalDifficulty"] == 131072
