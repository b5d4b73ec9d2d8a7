"""/pow/job and /pow/submit through the app: every error, every account kind."""
from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

import pytest

from tests.fixtures import Api, create_site, credit
from tests.solver import find_bad_nonce, solve

MIN_WORK = 512


@pytest.fixture(autouse=True)
def small_work(app_settings):
    app_settings(WORKPROOF_MIN_WORK=str(MIN_WORK))


class Miner:
    def __init__(self, api: Api) -> None:
        self.api = api

    def call(self, path: str, headers: dict[str, str] | None = None, **params) -> dict:
        response = self.api.client.http.post(
            path, body=urlencode(params),
            headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        return json.loads(response.body)

    def job(self, **params) -> dict:
        params.setdefault("site", self.api.site.site_key)
        return self.call("/pow/job", **params)

    def submit(self, job: dict, nonce: str | None = None) -> dict:
        return self.call("/pow/submit", job=job["job"],
                         nonce=nonce if nonce is not None else solve(job["job"], job["difficulty"], job["count"]))


@pytest.fixture
def miner(api: Api) -> Miner:
    return Miner(api)


def payload(job_text: str) -> dict:
    part = job_text.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_user_mining_credits_exactly_the_work_and_chains(miner, api):
    job = miner.job(user="alice")
    assert set(job) == {"success", "job", "difficulty", "count", "expires"}
    assert job["difficulty"] * job["count"] == MIN_WORK
    first = miner.submit(job)
    assert first["success"] is True and first["hashes"] == MIN_WORK and first["total"] == MIN_WORK
    assert set(first) == {"success", "hashes", "total", "job", "difficulty", "count", "expires"}
    second = miner.submit(first)
    assert second["hashes"] == first["difficulty"] * first["count"]
    assert second["total"] == MIN_WORK + second["hashes"]
    assert api.get("/user/balance", name="alice") == {
        "success": True, "name": "alice", "total": second["total"], "withdrawn": 0,
        "balance": second["total"]}


def test_job_writes_nothing_so_users_do_not_exist_before_a_share(miner, api):
    miner.job(user="ghost")
    assert api.get("/user/balance", name="ghost") == {"success": False, "error": "unknown_user"}


def test_a_job_is_credited_once(miner):
    job = miner.job(user="bob")
    nonce = solve(job["job"], job["difficulty"], job["count"])
    assert miner.submit(job, nonce)["success"] is True
    assert miner.submit(job, nonce) == {"success": False, "error": "duplicate_share"}


def test_refused_shares_credit_nothing_and_leave_the_job_usable(miner, api):
    job = miner.job(user="carol")
    good = solve(job["job"], job["difficulty"], job["count"]).split(",")
    bad = list(good)
    bad[-1] = str(find_bad_nonce(job["job"], len(bad) - 1, job["difficulty"]))
    assert miner.submit(job, ",".join(bad)) == {"success": False, "error": "invalid_share"}
    assert miner.submit(job, ",".join(good[:-1])) == {"success": False, "error": "bad_request"}
    assert miner.submit(job, "01") == {"success": False, "error": "bad_request"}
    assert miner.submit(job, str(2**53)) == {"success": False, "error": "bad_request"}
    assert api.get("/user/balance", name="carol")["error"] == "unknown_user"
    assert miner.submit(job, ",".join(good))["hashes"] == MIN_WORK


@pytest.mark.parametrize("params, error", [
    ({}, "missing_input"),
    ({"user": "a", "anonymous": "1"}, "bad_request"),
    ({"user": "a", "token": ""}, "bad_request"),
    ({"link": "x", "user": "a"}, "bad_request"),
    ({"user": "n" * 257}, "bad_request"),
    ({"token": "nosuchtoken"}, "invalid_token"),
    ({"link": "nosuchlink00"}, "invalid_link"),
    ({"token": "", "hashes": "0"}, "bad_request"),
    ({"user": "a", "difficulty": "abc"}, "bad_request"),
])
def test_job_errors(miner, params, error):
    assert miner.job(**params) == {"success": False, "error": error}


def test_unknown_or_disabled_site_is_invalid_site(miner, api):
    assert miner.job(site="x" * 32, user="a") == {"success": False, "error": "invalid_site"}
    assert miner.job(site="", user="a") == {"success": False, "error": "missing_input"}
    from chalicelib import sites
    job = miner.job(user="a")
    sites.update_site(api.site.site_key, disabled=True)
    sites.clear_cache()
    assert miner.job(user="a") == {"success": False, "error": "invalid_site"}
    assert miner.submit(job) == {"success": False, "error": "invalid_site"}


def test_origins_restrict_a_site(miner, api):
    from chalicelib import sites
    sites.update_site(api.site.site_key, origins=["https://good.example"])
    sites.clear_cache()
    ok = miner.call("/pow/job", headers={"Origin": "https://good.example"},
                    site=api.site.site_key, user="a")
    assert ok["success"] is True
    assert miner.call("/pow/job", headers={"Origin": "https://evil.example"},
                      site=api.site.site_key, user="a") == {"success": False, "error": "invalid_site"}


@pytest.mark.parametrize("params, error", [
    ({}, "missing_input"),
    ({"job": "v1.x.y"}, "missing_input"),
    ({"nonce": "1"}, "missing_input"),
    ({"job": "v1.eyJ9.AAAA", "nonce": "1"}, "invalid_job"),
    ({"job": "garbage", "nonce": "1"}, "invalid_job"),
    ({"job": "v1." + "A" * 100_000 + ".x", "nonce": "1"}, "bad_request"),
])
def test_submit_errors(miner, params, error):
    assert miner.call("/pow/submit", **params) == {"success": False, "error": error}


def test_a_forged_difficulty_is_refused(miner):
    job = miner.job(user="mallory")
    version, part, mac = job["job"].split(".")
    fields = payload(job["job"])
    fields["d"] = 1
    forged = base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")
    text = f"{version}.{forged}.{mac}"
    assert miner.call("/pow/submit", job=text, nonce=solve(text, 1, job["count"])) == {
        "success": False, "error": "invalid_job"}


B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def other_padding_bits(text: str) -> str:
    """The same bytes in another base64url spelling: the last character's lowest bit is
    padding (unused) when the text's length is 2 or 3 modulo 4."""
    assert len(text) % 4 in (2, 3)
    return text[:-1] + B64URL[B64URL.index(text[-1]) ^ 1]


@pytest.mark.parametrize("how", ["mac padded", "mac padding bits", "payload padded",
                                 "payload padding bits", "mac with a stray character"])
def test_a_job_in_another_base64_spelling_is_refused(miner, api, how):
    """Only the spelling the server signed verifies (the replay guard keys on the job id, so
    no double credit either way, but a MAC holds for one string only)."""
    job = miner.job(user="spelling")
    version, part, mac = job["job"].split(".")
    if how == "mac padded":
        mac += "="
    elif how == "mac padding bits":
        mac = other_padding_bits(mac)
    elif how == "mac with a stray character":
        mac = mac[:10] + "!" + mac[10:]
    elif len(part) % 4 == 0:
        pytest.skip("this payload's length has no padding")
    elif how == "payload padded":
        part += "=" * (-len(part) % 4)
    else:
        part = other_padding_bits(part)
    text = f"{version}.{part}.{mac}"
    assert text != job["job"]
    assert miner.call("/pow/submit", job=text, nonce=solve(text, job["difficulty"], job["count"])) \
        == {"success": False, "error": "invalid_job"}
    assert miner.submit(job)["success"] is True  # the job as signed still holds


def test_another_sites_job_cannot_credit_this_site(miner, api):
    other = create_site("other")
    job = miner.job(site=other.site_key, user="alice")
    assert miner.submit(job)["success"] is True
    assert api.get("/user/balance", name="alice") == {"success": False, "error": "unknown_user"}


def test_jobs_issued_before_reset_all_are_stale(miner, api):
    credit(api.site.site_key, "dave", 100)
    job = miner.job(user="dave")
    assert api.post("/user/reset-all") == {"success": True, "affected": 1}
    assert miner.submit(job) == {"success": False, "error": "invalid_job"}
    assert api.get("/user/balance", name="dave")["total"] == 0
    fresh = miner.submit(miner.job(user="dave"))
    assert api.get("/user/balance", name="dave")["total"] == fresh["hashes"]


def test_new_token_mined_to_target_then_verified_once(miner, api):
    job = miner.job(token="", hashes="1000")
    token = job["token"]
    assert len(token) == 32 and token.isalnum()
    assert 16 <= job["count"] <= 64 and job["difficulty"] * job["count"] >= 1000
    done = miner.submit(job)
    assert done["total"] >= 1000
    assert api.post("/token/verify", token=token, hashes=1000) == {
        "success": True, "hashes": done["total"], "created": api.last and json.loads(api.last.body)["created"]}
    assert api.post("/token/verify", token=token, hashes=1000) == {"success": False, "error": "invalid_token"}
    # A verified token takes no more work.
    assert miner.submit(done) == {"success": False, "error": "invalid_token"}
    assert miner.job(token=token) == {"success": False, "error": "invalid_token"}


def test_token_continues_from_its_recorded_hashes(miner, api):
    first = miner.submit(miner.job(token="", hashes="600"))
    token = payload(first["job"])["account"]
    resumed = miner.job(token=token, hashes="2000")
    assert payload(resumed["job"])["total"] == first["total"]
    again = miner.submit(resumed)
    assert again["total"] == first["total"] + again["hashes"]
    verified = api.post("/token/verify", token=token, hashes=2000)
    assert verified["success"] is True and verified["hashes"] == again["total"]


def test_another_sites_token_is_invalid(miner, api):
    other = create_site("other")
    job = miner.job(site=other.site_key, token="", hashes="600")
    miner.submit(job)
    assert miner.job(token=job["token"]) == {"success": False, "error": "invalid_token"}
    assert api.post("/token/verify", token=job["token"], hashes=1) == {
        "success": False, "error": "invalid_token"}


def test_link_visit_redirects_only_when_done(miner, api):
    target = "HTTPS://Example.ORG:443/private/./path?x=1"
    url = api.post("/link/create", url=target, hashes=1500)["url"]
    code = url.rsplit("/", 1)[1]
    job = miner.job(link=code)
    assert "private" not in json.dumps(job) and "example.org" not in json.dumps(job)
    answer = miner.submit(job)
    while "redirect" not in answer:
        assert answer["total"] < 1500
        answer = miner.submit(answer)
    # The redirect goes to the target's serialized form (what the page's host is read from).
    assert answer["total"] >= 1500 and answer["redirect"] == "https://example.org/private/path?x=1"
    # Each visit solves the link's hashes on its own.
    fresh = miner.submit(miner.job(link=code))
    assert fresh["total"] == fresh["hashes"]


def test_another_sites_link_is_invalid(miner, api):
    url = api.post("/link/create", url="https://example.org/", hashes=600)["url"]
    other = create_site("other")
    assert miner.job(site=other.site_key, link=url.rsplit("/", 1)[1]) == {
        "success": False, "error": "invalid_link"}


def test_anonymous_work_counts_in_stats_only(miner, api):
    answer = miner.submit(miner.job(anonymous="1"))
    stats = api.get("/stats/site")
    assert stats["hashesTotal"] == answer["hashes"]
    assert api.get("/user/top")["users"] == []


def test_failures_carry_only_success_and_error(miner):
    assert miner.call("/pow/submit") == {"success": False, "error": "missing_input"}
    response = miner.api.client.http.get("/pow/job")
    assert json.loads(response.body) == {"success": False, "error": "wrong_method"}
