"""One source cannot hurt anyone else: per-source limits through the app, and
work that rises with a source's own accepted rate and with the site's pressure."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice import local

from chalicelib import front_door, limits, pressure, recent_sources, sites
from chalicelib.store.models import Guard
from tests.fixtures import Api
from tests.solver import solve
from tests.streams import drain

MIN_WORK = 512
FLOODER, HONEST = "198.51.100.66", "203.0.113.7"


@pytest.fixture(autouse=True)
def limits_on(app_settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    app_settings(WORKPROOF_MIN_WORK=str(MIN_WORK), WORKPROOF_SOURCE_LIMITS="on")
    # The buckets' clock stands still: no refill between requests of a test.
    monkeypatch.setattr(front_door, "clock", lambda: 1000.0)
    yield
    front_door.configure(0.0)


class Source:
    """Requests from one client address (what API Gateway reports as sourceIp)."""

    def __init__(self, api: Api, address: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.api, self.address, self.monkeypatch = api, address, monkeypatch

    def call(self, method: str, path: str, **params: Any) -> tuple[dict[str, Any], dict[str, str]]:
        self.monkeypatch.setattr(local.LambdaEventConverter, "LOCAL_SOURCE_IP", self.address)
        if method == "GET":
            response = self.api.client.http.get(f"{path}?{urlencode(params)}")
        else:
            response = self.api.client.http.request(
                method, path, body=urlencode(params).encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert response.status_code == 200
        return json.loads(response.body), dict(response.headers)

    def job(self, **account: Any) -> dict[str, Any]:
        return self.call("POST", "/pow/job", site=self.api.site.site_key, **account)[0]

    def submit(self, job: dict[str, Any]) -> dict[str, Any]:
        nonce = solve(job["job"], job["difficulty"], job["count"])
        return self.call("POST", "/pow/submit", job=job["job"], nonce=nonce)[0]


@pytest.fixture
def flooder(api: Api, monkeypatch: pytest.MonkeyPatch) -> Source:
    return Source(api, FLOODER, monkeypatch)


@pytest.fixture
def honest(api: Api, monkeypatch: pytest.MonkeyPatch) -> Source:
    return Source(api, HONEST, monkeypatch)


@pytest.fixture
def patient(monkeypatch: pytest.MonkeyPatch) -> None:
    """The buckets' clock moves 1 s per request: a source at its sustained job rate."""
    ticks = iter(range(10**6))
    monkeypatch.setattr(front_door, "clock", lambda: 1000.0 + next(ticks))


def guards() -> int:
    return sum(1 for _ in Guard.scan())


def test_a_job_flood_is_refused_busy_while_another_source_is_served(flooder, honest):
    first = int(limits.RULES[limits.POW_JOB].first or 0)
    answers = [flooder.call("POST", "/pow/job", site=flooder.api.site.site_key, anonymous=1)
               for _ in range(first + 5)]
    assert first == 4 and all(body["success"] for body, _ in answers[:first])
    for body, headers in answers[first:]:
        assert body == {"success": False, "error": "busy"}
        assert int(headers["Retry-After"]) >= 1
        # The browser may read the busy answer and its Retry-After cross-origin.
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert "Retry-After" in headers["Access-Control-Expose-Headers"]
    assert honest.job(anonymous=1)["success"] is True


def test_garbage_submits_run_dry_fast_but_never_stop_valid_work_from_their_address(
        flooder, honest):
    job = flooder.job(anonymous=1)
    before = guards()
    answers = [flooder.call("POST", "/pow/submit", job=job["job"], nonce="1")
               for _ in range(40)]
    codes = [body["error"] for body, _ in answers]
    # Junk draws on its own bucket (20 tokens, 4 a piece): five are told what
    # was wrong, the rest only to wait.
    assert set(codes[:5]) <= {"invalid_share", "bad_request"} and len(codes[:5]) == 5
    assert codes[5:] == ["busy"] * 35
    assert all(int(headers["Retry-After"]) >= 1 for _, headers in answers[5:])
    assert guards() == before
    # A neighbour behind the same address (or the flooder itself) with valid
    # work is credited: junk cannot drain what work needs.
    answer = flooder.submit(job)
    assert answer["success"] is True and guards() == before + 1


def test_junk_job_requests_leave_the_job_tokens_to_the_neighbours(flooder):
    answers = [flooder.call("POST", "/pow/job", site="x" * 32, anonymous=1)[0]
               for _ in range(30)]
    assert answers[:5] == [{"success": False, "error": "invalid_site"}] * 5
    assert answers[5:] == [{"success": False, "error": "busy"}] * 25
    first = int(limits.RULES[limits.POW_JOB].first or 0)
    assert all(flooder.job(anonymous=1)["success"] for _ in range(first))


def test_a_replayed_share_is_refused_by_the_container_that_credited_it(flooder):
    job = flooder.job(anonymous=1)
    nonce = solve(job["job"], job["difficulty"], job["count"])
    assert flooder.call("POST", "/pow/submit", job=job["job"], nonce=nonce)[0]["success"]
    before = guards()
    body, _ = flooder.call("POST", "/pow/submit", job=job["job"], nonce=nonce)
    assert body == {"success": False, "error": "duplicate_share"} and guards() == before


def test_wrong_secrets_are_refused_early_with_the_seed_code(flooder, honest):
    answers = [flooder.call("GET", "/user/balance", name="x", secret="wrong" * 6)
               for _ in range(30)]
    codes = [body["error"] for body, _ in answers]
    assert codes[:10] == ["invalid_secret"] * 10
    # Coinhive's clients know only the seed's codes: internal_error, with Retry-After.
    assert set(codes[11:]) == {"internal_error"}
    assert all(int(headers["Retry-After"]) >= 1 for _, headers in answers[11:])
    body, _ = honest.call("GET", "/user/balance", name="x", secret=honest.api.site.secret)
    assert body == {"success": False, "error": "unknown_user"}


def test_an_ipv6_source_is_its_64(api, monkeypatch):
    first = int(limits.RULES[limits.POW_JOB].first or 0)
    for i in range(first):
        assert Source(api, f"2001:db8:5:6::{i + 1:x}", monkeypatch).job(anonymous=1)["success"]
    assert Source(api, "2001:db8:5:6:ffff::1", monkeypatch).job(anonymous=1) == \
        {"success": False, "error": "busy"}
    assert Source(api, "2001:db8:5:7::1", monkeypatch).job(anonymous=1)["success"] is True


def land(source: Source, shares: int) -> int:
    """`shares` minimum-work shares from `source`, each on a job of its own;
    returns how many were landed before an ask was refused."""
    for landed in range(shares):
        job = source.job(anonymous=1)
        if not job["success"]:
            return landed
        assert source.submit(job)["success"]
    return shares


def test_a_source_over_its_ceiling_waits_until_it_is_back_under(flooder, honest, patient):
    # Fifty in a minute: every ask admitted.
    assert land(flooder, 50) == 50
    # Past 75 within the minute (1.25 a second) its next ask is told to wait
    # (no lottery to retry), while another address is served.
    assert 24 <= land(flooder, 40) < 40
    body, headers = flooder.call("POST", "/pow/job", site=flooder.api.site.site_key, anonymous=1)
    assert body == {"success": False, "error": "busy"} and int(headers["Retry-After"]) >= 1
    assert all(honest.job(anonymous=1)["success"] for _ in range(3))


def work(job: dict[str, Any]) -> int:
    return int(job["difficulty"]) * int(job["count"])


def test_a_sources_jobs_grow_gently_with_its_own_rate(flooder, honest, patient):
    # Fifty shares within a minute (an office's captchas): no bigger jobs.
    land(flooder, 50)
    assert work(flooder.job(anonymous=1)) == MIN_WORK
    # Seventy-five within the minute: just under the ceiling, a quarter more
    # work (the factor is at most 2: tests/unit/test_pressure.py).
    land(flooder, 24)
    grown = work(flooder.job(anonymous=1))
    assert 1.15 * MIN_WORK <= grown <= 1.25 * MIN_WORK + 8
    assert work(honest.job(anonymous=1)) == MIN_WORK
    # The stream consumer publishes it, so a container that saw none of it agrees.
    drain()
    site = sites.get_site(flooder.api.site.site_key)
    assert site is not None and _share_tag(FLOODER) in site.heavy
    assert _share_tag(HONEST) not in site.heavy
    front_door.RATES.clear()
    sites.clear_cache()
    assert work(flooder.job(anonymous=1)) > MIN_WORK
    assert work(honest.job(anonymous=1)) == MIN_WORK


def test_a_job_is_bound_to_the_source_that_asked_for_it(api, flooder, patient, monkeypatch):
    phone = Source(api, "192.0.2.10", monkeypatch)
    job, other = phone.job(anonymous=1), phone.job(anonymous=1)
    nonce = solve(other["job"], other["difficulty"], other["count"])
    # A phone that changed networks mid-job is still credited...
    assert Source(api, "192.0.2.11", monkeypatch).submit(job)["success"] is True
    # ...but a heavy source gains nothing by submitting work asked at the
    # base from elsewhere: it must hold what its own jobs would.
    land(flooder, 75)
    body, _ = flooder.call("POST", "/pow/submit", job=other["job"], nonce=nonce)
    assert body == {"success": False, "error": "invalid_job"}
    # And the submitting source pays an ask of its own: with no job token
    # left, it is told to wait, and the job stays usable.
    drained = Source(api, "192.0.2.12", monkeypatch)
    monkeypatch.setattr(front_door, "clock", lambda: 10**6)  # no refill from here
    while drained.call("POST", "/pow/job", site=api.site.site_key, anonymous=1)[0]["success"]:
        pass
    body, headers = drained.call("POST", "/pow/submit", job=other["job"], nonce=nonce)
    assert body == {"success": False, "error": "busy"} and int(headers["Retry-After"]) >= 1
    assert phone.call("POST", "/pow/submit", job=other["job"], nonce=nonce)[0]["success"]


def test_a_site_under_pressure_steps_up_its_minimum_work_and_decays(honest, monkeypatch):
    site_key = honest.api.site.site_key
    levels = pressure.Levels(works=(MIN_WORK, 4 * MIN_WORK), step_up=5, ceiling=1000)
    sites.set_levels(site_key, levels)
    for i in range(8):  # eight sources' shares within a minute: over 5 a minute
        source = Source(honest.api, f"192.0.2.{i + 1}", monkeypatch)
        assert source.submit(source.job(anonymous=1))["success"]
    drain()
    sites.clear_cache()
    stepped = Source(honest.api, "192.0.2.200", monkeypatch).job(anonymous=1)
    assert stepped["difficulty"] * stepped["count"] == 4 * MIN_WORK
    state = sites.get_site(site_key).pressure  # type: ignore[union-attr]
    assert pressure.level_now(state, levels, state.hot_at + pressure.DECAY_SECONDS) == 0


def _at_ceiling(site_key: str) -> None:
    """The site at its top level, admitting 2 % of the known sources' new jobs."""
    sites.publish_pressure(site_key, pressure.Pressure(level=0, hot_at=_now(), admit=0.02,
                                                       admit_at=_now(), rate=50.0), {})
    sites.clear_cache()
    recent_sources.clear_cache()


def _job_answers(group: list[Source], site_key: str) -> list[tuple[dict[str, Any], dict[str, str]]]:
    return [source.call("POST", "/pow/job", site=site_key, anonymous=1) for source in group]


def _mostly_busy(answers: list[tuple[dict[str, Any], dict[str, str]]]) -> bool:
    refused = [(body, headers) for body, headers in answers if not body["success"]]
    return len(refused) >= 15 and all(
        body == {"success": False, "error": "busy"} and int(headers["Retry-After"]) > 1
        for body, headers in refused)


def _landed(group: list[Source]) -> None:
    for source in group:
        assert source.submit(source.job(anonymous=1))["success"]
    drain()


def test_at_its_ceiling_a_site_admits_a_source_with_no_recent_work_and_part_of_the_rest(
        honest, monkeypatch):
    """Ten thousand CPUs mining on are, share by share, visitors too; what a visitor
    has that they don't is no share landed lately. Such a source gets its job at
    once; once its work is credited it waits its turn like the rest."""
    site_key = honest.api.site.site_key
    sites.set_levels(site_key, pressure.Levels(works=(MIN_WORK,), step_up=1, ceiling=1))
    known = [Source(honest.api, f"192.0.2.{i + 1}", monkeypatch) for i in range(20)]
    _landed(known)
    _at_ceiling(site_key)
    fresh = [Source(honest.api, f"198.51.100.{i + 1}", monkeypatch) for i in range(20)]
    assert _mostly_busy(_job_answers(known, site_key))
    answers = _job_answers(fresh, site_key)
    assert all(body["success"] for body, _ in answers), "no share landed lately: admitted"
    _landed(fresh)
    _at_ceiling(site_key)
    assert _mostly_busy(_job_answers(fresh, site_key)), "known now: the site's admission"


def test_when_the_record_of_recent_sources_is_full_every_source_is_admitted_alike(
        honest, monkeypatch):
    """An attacker with more addresses than an epoch holds makes every address
    look new; then nobody is preferred (the admission before recent sources)."""
    monkeypatch.setattr(recent_sources, "CAPACITY", 10)
    site_key = honest.api.site.site_key
    sites.set_levels(site_key, pressure.Levels(works=(MIN_WORK,), step_up=1, ceiling=1))
    _landed([Source(honest.api, f"192.0.2.{i + 1}", monkeypatch) for i in range(20)])
    _at_ceiling(site_key)
    assert recent_sources.recent(site_key, _now()).full
    fresh = [Source(honest.api, f"198.51.100.{i + 1}", monkeypatch) for i in range(20)]
    assert _mostly_busy(_job_answers(fresh, site_key))


def test_a_site_at_its_base_level_records_no_sources(honest, monkeypatch):
    """Below pressure nothing is written for it: an idle site pays nothing."""
    site_key = honest.api.site.site_key
    _landed([Source(honest.api, f"192.0.2.{i + 1}", monkeypatch) for i in range(5)])
    assert recent_sources.load(site_key, _now()) == recent_sources.Recent(frozenset(), False)


def _share_tag(address: str) -> str:
    from chalicelib import sizing

    return sizing.share_tag(address)


def _now() -> int:
    import time

    return int(time.time())
