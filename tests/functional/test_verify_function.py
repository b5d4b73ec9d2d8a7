"""The verify function (app.py `verify_handler`, deploy/merge-template.json
`Verify`): CloudFront sends the four verification paths to its URL, so a
site's backend checks tokens on a reserved concurrency of their own. It is
the same app behind the same origin-secret check: the same answers as the
API function's handler, and every other route served there too."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib import siteverify, tokens
from tests.fixtures import credit
from tests.functional.store import aws  # noqa: F401 - aws: the shared store
from tests.functional.test_function_url import (  # noqa: F401 - origin_secret: a fixture
    FORBIDDEN,
    ORIGIN,
    Door,
    dynamo_calls,
    mine,
    origin_secret,
)
from tests.url_events import answer_of

SITEVERIFY_PATHS = ["/siteverify", "/recaptcha/api/siteverify", "/turnstile/v0/siteverify"]


@pytest.fixture
def verify_door(app: Any, origin_secret: str) -> Door:  # noqa: F811
    """Requests CloudFront routes to the verify function's URL."""
    import app as app_module

    return Door(app_module.verify_handler, origin_secret)


@pytest.fixture
def api_door(app: Any, origin_secret: str) -> Door:  # noqa: F811
    return Door(app, origin_secret)


def _token(api_door: Door, site_key: str) -> tuple[str, int, int]:
    """A captcha token mined through the API function: (token, hashes, created)."""
    job, done = mine(lambda path, **params: api_door.call("POST", path, params, headers={"origin": ORIGIN}),
                     site_key, 2048)
    return job["token"], done["total"], tokens.usable(site_key, job["token"], 0).created


@pytest.mark.parametrize("path", SITEVERIFY_PATHS)
def test_a_captcha_mined_through_the_api_function_is_verified_by_the_verify_function(
        api_door: Door, verify_door: Door, site: Any, path: str) -> None:
    token, hashes, created = _token(api_door, site.site_key)
    verify = {"secret": site.secret, "response": token}
    assert verify_door.call("POST", path, verify) == {
        "success": True, "challenge_ts": siteverify.iso8601(created), "hostname": "shop.example",
        "hashes": hashes, "action": "", "cdata": "", "error-codes": []}
    # Spent for both functions: they read and write the same tables.
    assert verify_door.call("POST", path, verify) == {"success": False, "error-codes": ["timeout-or-duplicate"]}
    assert api_door.call("POST", path, verify) == {"success": False, "error-codes": ["timeout-or-duplicate"]}


def test_both_handlers_give_the_same_answers_to_the_same_requests(
        api_door: Door, verify_door: Door, site: Any) -> None:
    requests = [("POST", "/siteverify", {"secret": site.secret, "response": "not-a-token"}),
                ("POST", "/siteverify", {"secret": "wrong", "response": "x"}),
                ("GET", "/siteverify", {"secret": site.secret}),
                ("POST", "/token/verify", {"secret": site.secret, "token": "nope", "hashes": 1}),
                ("POST", "/token/verify", {"secret": site.secret}),
                ("PUT", "/token/verify", {"secret": site.secret, "token": "x", "hashes": 1})]
    for method, path, params in requests:
        assert verify_door.send(method, path, params) == api_door.send(method, path, params), (method, path)


def test_token_verify_through_the_verify_function(api_door: Door, verify_door: Door, site: Any) -> None:
    token, hashes, created = _token(api_door, site.site_key)
    params = {"secret": site.secret, "token": token, "hashes": hashes}
    assert verify_door.call("POST", "/token/verify", params) == {"success": True, "hashes": hashes,
                                                                 "created": created}
    assert verify_door.call("POST", "/token/verify", params) == {"success": False, "error": "invalid_token"}


@pytest.mark.parametrize("sent", [None, "", "wrong"])
def test_a_direct_hit_on_the_verify_function_is_forbidden_before_any_dynamodb_call(
        verify_door: Door, site: Any, sent: str | None) -> None:
    params = {"secret": site.secret, "response": "x"}
    assert verify_door.call("POST", "/siteverify", params)["success"] is False  # the door is open...
    before = dynamo_calls()
    response = verify_door.send("POST", "/siteverify", params, origin=sent)  # ...but not to this one
    assert response["statusCode"] == 200 and answer_of(response) == FORBIDDEN
    assert dynamo_calls() == before


def test_every_other_route_is_served_there_too(verify_door: Door, site: Any) -> None:
    """The same app: a path CloudFront never sends it still gets the API's answer."""
    credit(site.site_key, "alice", 42)
    assert verify_door.call("GET", "/user/balance", {"secret": site.secret, "name": "alice"}) == {
        "success": True, "name": "alice", "total": 42, "withdrawn": 0, "balance": 42}
    job = verify_door.call("POST", "/pow/job", {"site": site.site_key, "anonymous": 1})
    assert job["success"] is True and job["job"]
    assert verify_door.call("GET", "/no/such/path") == {"success": False, "error": "not_found"}
