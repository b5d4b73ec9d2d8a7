"""POST /siteverify (and /recaptcha/api/siteverify, /turnstile/v0/siteverify):
reCAPTCHA's / Turnstile's request and answer over the one-time tokens of
/token/verify, through the app with moto."""
from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib import siteverify, tokens
from chalicelib.store import idempotency
from chalicelib.store.transactions import Transaction
from tests.fixtures import create_site
from tests.functional.store import aws, freeze_clock  # noqa: F401 - aws: the shared store
from tests.solver import solve

MIN_WORK = 512
NOW = 1_764_001_800
PATHS = ["/siteverify", "/recaptcha/api/siteverify", "/turnstile/v0/siteverify"]


@pytest.fixture(autouse=True)
def small_work(app_settings):
    app_settings(WORKPROOF_MIN_WORK=str(MIN_WORK))


def refused(*codes: str) -> dict[str, Any]:
    return {"success": False, "error-codes": list(codes)}


class Backend:
    """A site's backend calling siteverify the way reCAPTCHA libraries do."""

    def __init__(self, client: Any, secret: str) -> None:
        self.client, self.secret = client, secret

    def raw(self, method: str, path: str, body: bytes | str = b"",
            headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = self.client.http.request(method, path, body=body, headers=headers or {})
        assert response.status_code == 200, response.body
        assert response.headers["Content-Type"].startswith("application/json")
        assert "Access-Control-Allow-Origin" not in response.headers
        return json.loads(response.body)

    def verify(self, path: str = "/siteverify", **params: Any) -> dict[str, Any]:
        params.setdefault("secret", self.secret)
        return self.raw("POST", path, urlencode(params),
                        {"Content-Type": "application/x-www-form-urlencoded"})

    def token_verify(self, token: str, hashes: int) -> dict[str, Any]:
        return self.raw("POST", "/token/verify",
                        urlencode({"secret": self.secret, "token": token, "hashes": hashes}),
                        {"Content-Type": "application/x-www-form-urlencoded"})


@pytest.fixture
def backend(client, site) -> Backend:
    return Backend(client, site.secret)


def mine(client: Any, site_key: str, hashes: int, origin: str | None = "https://shop.example",
         **label: str) -> dict:
    """A token mined as the widget does: /pow/job with the widget's hashes, then the submit
    (with the widget's `action` and `cdata`, if any)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if origin:
        headers["Origin"] = origin

    def post(path: str, **params: Any) -> dict:
        return json.loads(client.http.post(path, body=urlencode(params), headers=headers).body)

    job = post("/pow/job", site=site_key, token="", hashes=hashes)
    done = post("/pow/submit", job=job["job"], nonce=solve(job["job"], job["difficulty"], job["count"]),
                **label)
    assert done["success"] is True and done["total"] >= hashes, done
    return {"token": job["token"], "hashes": done["total"]}


def write_token(site_key: str, name: str, hashes: int, target: int, now: int) -> None:
    """A token as the share path leaves it (first share at `now`)."""
    tx = Transaction()
    tokens.stage_credit(tx, site_key, name, hashes, now, new=True, target=target, host="shop.example")
    tx.commit()


def freeze(monkeypatch, now: int) -> None:
    """The clock of both verify endpoints and of the idempotency keys."""
    clock = SimpleNamespace(time=lambda: float(now))
    monkeypatch.setattr(siteverify, "time", clock)
    monkeypatch.setattr(idempotency, "time", clock)
    freeze_clock(monkeypatch, now)


def test_success_answers_recaptchas_shape_then_timeout_or_duplicate(client, site, backend):
    mined = mine(client, site.site_key, 2048)
    created = tokens.usable(site.site_key, mined["token"], 0).created
    answer = backend.verify(response=mined["token"], remoteip="203.0.113.9")
    assert answer == {"success": True, "challenge_ts": siteverify.iso8601(created),
                      "hostname": "shop.example", "hashes": mined["hashes"], "action": "", "cdata": "",
                      "error-codes": []}
    assert answer["challenge_ts"].endswith("Z") and len(answer["challenge_ts"]) == 20
    assert backend.verify(response=mined["token"]) == refused("timeout-or-duplicate")


@pytest.mark.parametrize("path", PATHS)
def test_every_path_answers(client, site, backend, path):
    mined = mine(client, site.site_key, MIN_WORK)
    assert backend.verify(path, response=mined["token"])["success"] is True
    assert backend.verify(path, response=mined["token"]) == refused("timeout-or-duplicate")


def test_one_token_is_spent_for_both_verify_endpoints(client, site, backend):
    first = mine(client, site.site_key, MIN_WORK)
    assert backend.token_verify(first["token"], MIN_WORK)["success"] is True
    assert backend.verify(response=first["token"]) == refused("timeout-or-duplicate")
    second = mine(client, site.site_key, MIN_WORK)
    assert backend.verify(response=second["token"])["success"] is True
    assert backend.token_verify(second["token"], MIN_WORK) == {"success": False, "error": "invalid_token"}


def test_json_multipart_query_and_get_bodies(client, site, backend):
    for send in (
        lambda t: backend.raw("POST", "/siteverify", json.dumps({"secret": site.secret, "response": t}),
                              {"Content-Type": "application/json"}),
        lambda t: backend.raw("POST", "/siteverify",
                              b"--b\r\nContent-Disposition: form-data; name=\"secret\"\r\n\r\n"
                              + site.secret.encode() + b"\r\n--b\r\nContent-Disposition: form-data; "
                              b"name=\"response\"\r\n\r\n" + t.encode() + b"\r\n--b--\r\n",
                              {"Content-Type": "multipart/form-data; boundary=b"}),
        lambda t: backend.raw("POST", "/siteverify?" + urlencode({"secret": site.secret, "response": t})),
        # Old reCAPTCHA libraries verify with a GET.
        lambda t: backend.raw("GET", "/recaptcha/api/siteverify?"
                              + urlencode({"secret": site.secret, "response": t})),
    ):
        mined = mine(client, site.site_key, MIN_WORK)
        assert send(mined["token"])["success"] is True


def test_input_errors(client, site, backend):
    assert backend.verify(secret="", response="") == refused("missing-input-secret", "missing-input-response")
    assert backend.verify(secret="") == refused("missing-input-secret", "missing-input-response")
    assert backend.verify(secret="", response="x") == refused("missing-input-secret")
    assert backend.verify() == refused("missing-input-response")
    assert backend.verify(secret="x" * 32, response="abc") == refused("invalid-input-secret")
    assert backend.verify(secret="x" * 5000, response="abc") == refused("invalid-input-secret")
    assert backend.verify(secret="x" * 32) == refused("invalid-input-secret")
    assert backend.verify(response="nope") == refused("invalid-input-response")
    assert backend.verify(response="n" * 300) == refused("invalid-input-response")
    assert backend.verify(response="abc", hashes=0) == refused("bad-request")
    assert backend.verify(response="abc", hashes="x") == refused("bad-request")
    assert backend.verify(response="abc", idempotency_key="k" * 65) == refused("bad-request")
    assert backend.raw("POST", "/siteverify", b"{not json", {"Content-Type": "application/json"}) == \
        refused("bad-request")
    assert backend.raw("POST", "/siteverify", b"a=1", {"Content-Type": "application/xml"}) == \
        refused("bad-request")
    assert backend.raw("PUT", "/siteverify", urlencode({"secret": site.secret, "response": "x"}),
                       {"Content-Type": "application/x-www-form-urlencoded"}) == refused("bad-request")
    assert backend.raw("POST", "/siteverify", json.dumps({"secret": site.secret, "response": 5}),
                       {"Content-Type": "application/json"}) == refused("invalid-input-response")


def test_hcaptcha_sitekey_must_match_the_secret(client, site, backend):
    mined = mine(client, site.site_key, MIN_WORK)
    assert backend.verify(response=mined["token"], sitekey="y" * 32) == refused("sitekey-secret-mismatch")
    assert backend.verify(response=mined["token"], sitekey=site.site_key)["success"] is True


def test_another_sites_token_is_an_invalid_response(client, site, backend):
    other = create_site("other")
    mined = mine(client, other.site_key, MIN_WORK)
    assert backend.verify(response=mined["token"]) == refused("invalid-input-response")
    assert Backend(client, other.secret).verify(response=mined["token"])["success"] is True


def test_the_widgets_target_must_be_reached_and_a_short_token_is_not_spent(client, site, backend,
                                                                           monkeypatch):
    freeze(monkeypatch, NOW)
    write_token(site.site_key, "short", hashes=1000, target=4096, now=NOW - 60)
    assert backend.verify(response="short") == refused("invalid-input-response")
    # /token/verify asks only for the hashes its caller names.
    assert backend.token_verify("short", 1000)["success"] is True
    write_token(site.site_key, "asked", hashes=5000, target=4096, now=NOW - 60)
    assert backend.verify(response="asked", hashes=6000) == refused("invalid-input-response")
    assert backend.verify(response="asked", hashes=5000)["hashes"] == 5000


def test_expired_token_is_timeout_or_duplicate(client, site, backend, monkeypatch):
    freeze(monkeypatch, NOW)
    write_token(site.site_key, "old", hashes=512, target=512, now=NOW - 3600)
    write_token(site.site_key, "young", hashes=512, target=512, now=NOW - 3599)
    assert backend.verify(response="old") == refused("timeout-or-duplicate")
    assert backend.verify(response="young")["success"] is True


def test_a_token_without_host_answers_an_empty_hostname(client, site, backend):
    mined = mine(client, site.site_key, MIN_WORK, origin=None)
    assert backend.verify(response=mined["token"])["hostname"] == ""


def test_idempotency_key_repeats_the_success_for_five_minutes(client, site, backend, monkeypatch):
    freeze(monkeypatch, NOW)
    write_token(site.site_key, "tok", hashes=512, target=512, now=NOW - 10)
    first = backend.verify(response="tok", idempotency_key="retry-1")
    assert first["success"] is True
    assert backend.verify(response="tok", idempotency_key="retry-1") == first
    assert backend.verify(response="tok") == refused("timeout-or-duplicate")
    assert backend.verify(response="tok", idempotency_key="retry-2") == refused("timeout-or-duplicate")
    assert backend.verify(response="other", idempotency_key="retry-1") == refused("bad-request")
    freeze(monkeypatch, NOW + 299)
    assert backend.verify(response="tok", idempotency_key="retry-1") == first
    freeze(monkeypatch, NOW + 301)
    assert backend.verify(response="tok", idempotency_key="retry-1") == refused("timeout-or-duplicate")


def test_idempotency_key_repeats_a_refusal(client, site, backend, monkeypatch):
    freeze(monkeypatch, NOW)
    write_token(site.site_key, "unsolved", hashes=100, target=512, now=NOW - 10)
    assert backend.verify(response="unsolved", idempotency_key="k") == refused("invalid-input-response")
    assert backend.verify(response="unsolved", idempotency_key="k") == refused("invalid-input-response")


def test_always_http_200_and_internal_errors_are_codes(client, site, backend, monkeypatch,
                                                       app_settings):
    app_settings(WORKPROOF_ERROR_STATUS="rest")
    assert backend.verify(secret="x" * 32, response="a") == refused("invalid-input-secret")

    def broken(*_args, **_kwargs):
        raise RuntimeError("store unreachable")

    monkeypatch.setattr(tokens, "verify", broken)
    assert backend.verify(response="abc") == refused("internal-error")
