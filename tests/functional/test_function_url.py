"""The second front door (docs/contract.md §4): CloudFront in front of the API
function's URL. Function URL events (payload 2.0) with the origin secret are
served as API Gateway's REST events are, the viewer CloudFront names being
the source; without it they are `forbidden`, before any DynamoDB call."""
from __future__ import annotations

import io
import json
import logging
import re
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from chalicelib import front_door, lambda_app, siteverify, tokens
from chalicelib.dashboard.session import COOKIE_NAME
from tests.deploy.botocore_recorder import RECORDER
from tests.fixtures import credit
from tests.functional.store import aws  # noqa: F401 - aws: the shared store
from tests.solver import solve
from tests.url_events import FORM, VIEWER_HOST, answer_of, url_event

MIN_WORK = 512
ORIGIN = "https://shop.example"
FORBIDDEN = {"success": False, "error": "forbidden"}


@pytest.fixture
def origin_secret(aws: None, app_settings: Any) -> Iterator[str]:  # noqa: F811
    """The stack's origin secret in Secrets Manager, named by the function's setting."""
    value = "wp-origin-" + secrets.token_urlsafe(32)
    arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name=f"workproof-test/origin-secret-{secrets.token_hex(4)}", SecretString=value)["ARN"]
    app_settings(WORKPROOF_ORIGIN_SECRET_ARN=arn, WORKPROOF_MIN_WORK=str(MIN_WORK))
    lambda_app.forget_origin_secret()
    yield value
    lambda_app.forget_origin_secret()


class Door:
    """Requests through CloudFront: function URL events carrying the origin secret."""

    def __init__(self, app: Any, secret: str) -> None:
        self.app, self.secret = app, secret

    def send(self, method: str, path: str, params: dict[str, Any] | None = None,
             **event: Any) -> dict[str, Any]:
        """The raw 2.0 answer; `params` go in the query (GET) or a form body."""
        event.setdefault("secret", self.secret)
        if params is not None and method == "GET":
            event["query"] = urlencode(params)
        elif params is not None:
            event["body"] = urlencode(params)
            event["headers"] = {"content-type": FORM, **event.get("headers", {})}
        response: dict[str, Any] = self.app(url_event(method, path, **event), None)
        return response

    def call(self, method: str, path: str, params: dict[str, Any] | None = None,
             **event: Any) -> dict[str, Any]:
        response = self.send(method, path, params, **event)
        assert response["statusCode"] == 200, response
        return answer_of(response)


@pytest.fixture
def door(app: Any, origin_secret: str) -> Door:
    return Door(app, origin_secret)


def dynamo_calls() -> int:
    return sum(RECORDER.actions.values())


def mine(send: Any, site_key: str, hashes: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A captcha token as the widget mines it: (job answer, submit answer)."""
    job = send("/pow/job", site=site_key, token="", hashes=hashes)
    done = send("/pow/submit", job=job["job"], nonce=solve(job["job"], job["difficulty"], job["count"]))
    return job, done


def test_a_captcha_through_the_front_door_answers_as_through_api_gateway(door, client, site):
    def rest(path: str, **params: Any) -> dict[str, Any]:
        return json.loads(client.http.post(path, body=urlencode(params), headers={
            "Content-Type": FORM, "Origin": ORIGIN}).body)

    def url(path: str, **params: Any) -> dict[str, Any]:
        return door.call("POST", path, params, headers={"origin": ORIGIN})

    answers = []
    for send in (rest, url):
        job, done = mine(send, site.site_key, 2048)
        created = tokens.usable(site.site_key, job["token"], 0).created
        verify = {"secret": site.secret, "response": job["token"]}
        assert door.call("POST", "/siteverify", verify) == {
            "success": True, "challenge_ts": siteverify.iso8601(created), "hostname": "shop.example",
            "hashes": done["total"], "action": "", "cdata": "", "error-codes": []}
        assert door.call("POST", "/siteverify", verify) == \
            {"success": False, "error-codes": ["timeout-or-duplicate"]}
        answers.append((job, done))
    (rest_job, rest_done), (url_job, url_done) = answers
    assert url_done["success"] is True and url_done["total"] >= 2048
    # (Each token's expiry is its own submit's time plus the same lifetime.)
    assert {k: v for k, v in url_done.items() if k not in ("job", "expires")} == \
        {k: v for k, v in rest_done.items() if k not in ("job", "expires")}
    assert url_done["expires"] >= rest_done["expires"]
    assert sorted(url_job) == sorted(rest_job) and url_job["success"] is True
    assert {k: url_job[k] for k in ("difficulty", "count")} == \
        {k: rest_job[k] for k in ("difficulty", "count")}


@pytest.mark.parametrize("sent", [None, "", "wrong", "wp-origin-almost"])
def test_a_direct_hit_is_forbidden_before_any_dynamodb_call(door, site, sent):
    params = {"site": site.site_key, "anonymous": 1}
    assert door.call("POST", "/pow/job", params)["success"] is True  # the door is open...
    before = dynamo_calls()
    assert before > 0
    response = door.send("POST", "/pow/job", params, origin=sent)  # ...but not to this one
    assert response["statusCode"] == 200 and answer_of(response) == FORBIDDEN
    assert door.call("GET", "/user/balance", {"secret": site.secret, "name": "x"},
                     origin=sent) == FORBIDDEN
    assert dynamo_calls() == before


def test_forbidden_carries_403_under_rest_statuses(door, app_settings, origin_secret):
    app_settings(WORKPROOF_ERROR_STATUS="rest", WORKPROOF_ORIGIN_SECRET_ARN=_arn())
    response = door.send("GET", "/user/balance", {"name": "x"}, origin="wrong")
    assert response["statusCode"] == 403 and answer_of(response) == FORBIDDEN
    assert door.send("GET", "/no/such/path", origin=None)["statusCode"] == 403


def _arn() -> str:
    from chalicelib import config

    return config.settings().origin_secret_id


def test_no_configured_secret_closes_the_door(door, app_settings, site):
    app_settings(WORKPROOF_ORIGIN_SECRET_ARN="")
    before = dynamo_calls()
    assert door.call("POST", "/pow/job", {"site": site.site_key, "anonymous": 1}) == FORBIDDEN
    assert door.call("GET", "/lib/workproof.js", origin="") == FORBIDDEN
    assert dynamo_calls() == before


@pytest.fixture
def limits_on(app_settings: Any, origin_secret: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    app_settings(WORKPROOF_SOURCE_LIMITS="on", WORKPROOF_MIN_WORK=str(MIN_WORK),
                 WORKPROOF_ORIGIN_SECRET_ARN=_arn())
    monkeypatch.setattr(front_door, "clock", lambda: 1000.0)  # no refill within a test
    yield
    front_door.configure(0.0)


FIRST_JOBS = 4  # a source new to the container starts with 4 job tokens (§4)


def jobs(door: Door, site_key: str, count: int, **event: Any) -> list[dict[str, Any]]:
    return [door.call("POST", "/pow/job", {"site": site_key, "anonymous": 1}, **event)
            for _ in range(count)]


def test_each_viewer_is_a_source_and_forwarded_for_changes_nothing(door, site, limits_on):
    answers = [door.call("POST", "/pow/job", {"site": site.site_key, "anonymous": 1},
                         viewer="198.51.100.66", headers={"x-forwarded-for": f"192.0.2.{i}"})
               for i in range(FIRST_JOBS + 1)]
    assert all(answer["success"] for answer in answers[:FIRST_JOBS])
    assert answers[FIRST_JOBS] == {"success": False, "error": "busy"}
    # Another viewer behind the same edge has its own bucket.
    assert jobs(door, site.site_key, 1, viewer="203.0.113.7")[0]["success"] is True
    # The same requests without the secret are refused, whatever they claim.
    assert jobs(door, site.site_key, 1, viewer="203.0.113.8", origin=None) == [FORBIDDEN]


def test_an_ipv6_viewer_is_its_64(door, site, limits_on):
    for i in range(FIRST_JOBS):
        assert jobs(door, site.site_key, 1, viewer=f"2001:db8:5:6::{i + 1:x}")[0]["success"]
    assert jobs(door, site.site_key, 1, viewer="2001:db8:5:6:ffff::1") == \
        [{"success": False, "error": "busy"}]
    assert jobs(door, site.site_key, 1, viewer="2001:db8:5:7::1")[0]["success"] is True


def test_a_missing_or_garbled_viewer_is_the_unknown_source(door, site, limits_on):
    assert all(answer["success"] for answer in jobs(door, site.site_key, FIRST_JOBS, viewer=None))
    assert jobs(door, site.site_key, 1, viewer="not-an-address") == \
        [{"success": False, "error": "busy"}]
    assert jobs(door, site.site_key, 1, viewer="198.51.100.1")[0]["success"] is True


def test_a_repeated_query_key_the_last_one_wins_and_commas_stay(door, site):
    credit(site.site_key, "a,b", 700)
    query = urlencode([("secret", site.secret), ("name", "a"), ("name", "a,b")])
    assert door.call("GET", "/user/balance", query=query) == \
        {"success": True, "name": "a,b", "total": 700, "withdrawn": 0, "balance": 700}


@pytest.mark.parametrize("base64_body", [False, True])
def test_form_bodies_plain_or_base64(door, site, base64_body):
    credit(site.site_key, "alice", 300)
    body = urlencode({"secret": site.secret, "name": "alice", "amount": 100})
    assert door.call("POST", "/user/withdraw", body=body, base64_body=base64_body,
                     headers={"content-type": FORM}) == \
        {"success": True, "name": "alice", "amount": 100}
    assert door.call("GET", "/user/balance", {"secret": site.secret, "name": "alice"}) == \
        {"success": True, "name": "alice", "total": 300, "withdrawn": 100, "balance": 200}


def test_cookies_come_as_a_list_and_leave_as_one(door, site):
    response = door.send("POST", "/dashboard/signin", headers={"content-type": "application/json"},
                         body=json.dumps({"site_key": site.site_key, "secret": site.secret}))
    assert answer_of(response)["success"] is True
    assert not any(name.lower() == "set-cookie" for name in response["headers"])
    [cookie] = response["cookies"]
    assert cookie.startswith(f"{COOKIE_NAME}=") and "Path=/dashboard" in cookie
    assert "Secure" in cookie and "HttpOnly" in cookie
    session = cookie.split(";", 1)[0]
    answer = door.call("GET", "/dashboard/session", cookies=["theme=dark", session])
    assert answer["success"] is True and answer["site"] == {"name": "test", "siteKey": site.site_key}
    assert door.call("GET", "/dashboard/session", cookies=["theme=dark"]) == \
        {"success": False, "error": "signed_out"}


def test_a_cors_preflight_is_answered_as_api_gateway_does(door):
    asked = {"origin": ORIGIN, "access-control-request-method": "POST",
             "access-control-request-headers": "content-type"}
    answer = door.send("OPTIONS", "/pow/job", headers=asked)
    assert answer["statusCode"] == 200 and answer["body"] == ""
    headers = answer["headers"]
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert set(headers["Access-Control-Allow-Methods"].split(",")) == \
        {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    assert "Content-Type" in headers["Access-Control-Allow-Headers"].split(",")
    assert headers["Access-Control-Max-Age"] == "600"
    assert headers["Access-Control-Expose-Headers"] == "Retry-After"
    # A route without CORS gets none; nor does a direct hit.
    assert door.call("OPTIONS", "/token/verify", headers=asked) == \
        {"success": False, "error": "wrong_method"}
    assert door.call("OPTIONS", "/pow/job", headers=asked, origin=None) == FORBIDDEN


@pytest.mark.parametrize("path", ["/no/such/path", "/token", "/token/verify/extra",
                                  "/" + "/".join("x" * 13), "//pow/job"])
def test_unknown_paths_are_not_found(door, path):
    assert door.call("POST", path, {"a": 1}) == {"success": False, "error": "not_found"}


def test_links_and_their_page_use_the_viewers_host_with_no_stage(door, site):
    answer = door.call("POST", "/link/create", {"secret": site.secret,
                                                "url": "https://example.com/x", "hashes": 512})
    base = f"https://{VIEWER_HOST}"
    assert re.fullmatch(re.escape(base) + r"/l/[A-Za-z0-9]+", answer["url"]), answer
    code = answer["url"].rsplit("/", 1)[1]
    page = door.send("GET", f"/l/{code}", headers={"accept": "text/html"})
    assert page["statusCode"] == 200 and page["headers"]["Content-Type"].startswith("text/html")
    from chalicelib import library

    assert f'<script src="{base}/lib/{library.hashed_name("workproof.js")}"></script>' in page["body"]
    assert f'data-api="{base}"' in page["body"]
    assert f"connect-src 'self' {base};" in page["headers"]["Content-Security-Policy"]


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    """What the request log (Powertools' handler) writes, from now on."""
    from chalicelib import observe

    handler = observe.LOGGER.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def test_the_secret_never_reaches_the_log(door, site, capsys, log, origin_secret):
    assert door.call("GET", "/user/balance", {"secret": site.secret, "name": "x"}) == \
        {"success": False, "error": "unknown_user"}
    wrong = origin_secret[:-4] + "XXXX"
    assert door.call("GET", "/user/balance", {"secret": site.secret, "name": "x"},
                     origin=wrong) == FORBIDDEN
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    assert [(line["message"], line["result"]) for line in lines] == \
        [("request", "unknown_user"), ("function url request refused", "forbidden")]
    assert lines[1]["reason"] == "wrong origin header" and lines[1]["status"] == 200
    printed = capsys.readouterr()
    for text in (log.getvalue(), printed.out, printed.err):
        assert origin_secret not in text and wrong not in text
        assert "x-workproof-origin" not in text.lower()
