"""Function URL events (payload 2.0) as the REST events Chalice routes, and
its answers back (chalicelib/function_url.py); the origin secret's check
(chalicelib/lambda_app.py). Events from AWS's documented sample (tests/url_events.py)."""
from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from chalicelib import function_url, lambda_app
from chalicelib.function_url import match_route, rest_event, url_response
from tests.url_events import EDGE_ADDRESS, SAMPLE, URL_HOST, VIEWER_HOST, url_event

APP_ROUTES = ["/", "/token/verify", "/l/{code}", "/lib/{name}", "/dashboard", "/dashboard/{path}",
              "/dashboard/signin", *("".join(f"/{{p{i}}}" for i in range(d)) for d in range(1, 13))]


def test_the_documented_sample_is_a_function_url_event_and_a_rest_event_is_not():
    assert function_url.is_function_url_event(SAMPLE)
    rest = rest_event(url_event("GET", "/token/verify"), APP_ROUTES)
    assert rest is not None and not function_url.is_function_url_event(rest)
    assert not function_url.is_function_url_event({"version": "2.0", "requestContext": {}})
    assert not function_url.is_function_url_event(["2.0"])


@pytest.mark.parametrize("path,expected", [
    ("/token/verify", ("/token/verify", {})),
    ("/token/verify/", ("/token/verify", {})),
    ("/l/Ab3", ("/l/{code}", {"code": "Ab3"})),
    ("/dashboard/signin", ("/dashboard/signin", {})),
    ("/dashboard/links", ("/dashboard/{path}", {"path": "links"})),
    ("/x/verify", ("/{p0}/{p1}", {"p0": "x", "p1": "verify"})),
    ("/token", ("/{p0}", {"p0": "token"})),
    ("/", ("/", {})),
    # Captures are percent-decoded ("+" is no space in a path); literals match decoded too.
    ("/l/a%20b+c", ("/l/{code}", {"code": "a b+c"})),
    ("/l/a%2Fb", ("/l/{code}", {"code": "a/b"})),
    ("/tok%65n/verify", ("/token/verify", {})),
])
def test_the_most_specific_route_wins_as_in_api_gateway(path, expected):
    assert match_route(path, APP_ROUTES) == expected


def test_literals_win_from_the_left():
    routes = ["/{a}/b", "/a/{b}", "/{a}/{b}"]
    assert match_route("/a/b", routes) == ("/a/{b}", {"b": "b"})
    assert match_route("/x/b", routes) == ("/{a}/b", {"a": "x"})
    assert match_route("/x/y", routes) == ("/{a}/{b}", {"a": "x", "b": "y"})


@pytest.mark.parametrize("path", ["/" + "/".join("x" * 13), "//token", "/l//", "token", ""])
def test_paths_no_route_has_the_shape_of(path):
    assert match_route(path, APP_ROUTES) is None


def test_the_rest_event_from_the_documented_sample():
    event = copy.deepcopy(SAMPLE)
    event["rawPath"] = "/l/Ab3"
    event["headers"].update({"x-workproof-origin": "s3cret", "x-workproof-viewer": "2001:db8::7",
                             "x-forwarded-host": VIEWER_HOST, "host": URL_HOST})
    rest = rest_event(event, APP_ROUTES)
    assert rest is not None
    assert rest["headers"] == {
        "header1": "value1", "header2": "value1,value2", "cookie": "cookie1; cookie2",
        "x-workproof-viewer": "2001:db8::7", "x-forwarded-host": VIEWER_HOST,
        "host": VIEWER_HOST, "x-forwarded-proto": "https"}
    assert rest["multiValueQueryStringParameters"] == {"parameter1": ["value1", "value2"],
                                                       "parameter2": ["value"]}
    assert rest["queryStringParameters"] == {"parameter1": "value2", "parameter2": "value"}
    assert rest["pathParameters"] == {"code": "Ab3"}
    assert (rest["httpMethod"], rest["body"], rest["isBase64Encoded"]) == \
        ("POST", "Hello from client!", False)
    context = rest["requestContext"]
    assert context["resourcePath"] == "/l/{code}" and context["path"] == "/l/Ab3"
    assert context["httpMethod"] == "POST" and context["requestId"] == "id"
    assert context["identity"]["sourceIp"] == "2001:db8::7"  # not the edge's 123.123.123.123
    assert context["domainName"] == VIEWER_HOST


def test_the_stage_prefix_of_a_function_url_request_is_empty():
    from chalice.app import Request

    from chalicelib.http import base_url

    for path in ("/l/Ab3", "/l/a%20b", "/token/verify/"):
        rest = rest_event(url_event("GET", path), APP_ROUTES)
        assert rest is not None
        assert base_url(Request(rest)) == f"https://{VIEWER_HOST}"


@pytest.mark.parametrize("viewer,source", [("198.51.100.4", "198.51.100.4"),
                                           (" 2001:db8::1 ", "2001:db8::1"),
                                           ("198.51.100.4, 192.0.2.1", ""), ("", ""), (None, "")])
def test_the_source_is_the_viewer_or_nothing(viewer, source):
    rest = rest_event(url_event("GET", "/token/verify", viewer=viewer,
                                headers={"x-forwarded-for": "192.0.2.66"}), APP_ROUTES)
    assert rest is not None and rest["requestContext"]["identity"]["sourceIp"] == source


@pytest.mark.parametrize("sent,host", [(VIEWER_HOST, VIEWER_HOST), ("a.example:8443", "a.example:8443"),
                                       ("[2001:db8::1]", "[2001:db8::1]"), (None, URL_HOST),
                                       ("evil.example/\"><script>", URL_HOST), ("a b", URL_HOST)])
def test_the_public_host_is_the_viewers_if_it_is_a_host(sent, host):
    rest = rest_event(url_event("GET", "/token/verify", host=sent), APP_ROUTES)
    assert rest is not None and rest["headers"]["host"] == host


def test_no_query_no_cookies_no_body():
    rest = rest_event(url_event("GET", "/token/verify", query=""), APP_ROUTES)
    assert rest is not None
    assert rest["multiValueQueryStringParameters"] is None and rest["queryStringParameters"] is None
    assert "cookie" not in rest["headers"] and rest["body"] is None
    blank = rest_event(url_event("GET", "/token/verify", query="a&b=&c=1+2"), APP_ROUTES)
    assert blank is not None
    assert blank["multiValueQueryStringParameters"] == {"a": [""], "b": [""], "c": ["1 2"]}


def test_the_answer_back():
    answer = url_response({
        "statusCode": 200, "body": '{"success":true}',
        "headers": {"Content-Type": "application/json", "Set-Cookie": "a=1; Path=/dashboard"},
        "multiValueHeaders": {"Vary": ["Origin", "Accept-Language"], "set-cookie": ["b=2"],
                              "content-type": ["charset=utf-8"]}})
    assert answer == {"statusCode": 200, "body": '{"success":true}', "isBase64Encoded": False,
                      "headers": {"Content-Type": "application/json, charset=utf-8",
                                  "Vary": "Origin, Accept-Language"},
                      "cookies": ["a=1; Path=/dashboard", "b=2"]}


def test_binary_answers_stay_or_become_base64():
    encoded = base64.b64encode(b"\x00\x01").decode()
    assert url_response({"statusCode": 200, "headers": {}, "body": encoded,
                         "isBase64Encoded": True})["body"] == encoded
    raw = url_response({"statusCode": 200, "headers": {}, "body": b"\x00\x01"})
    assert (raw["body"], raw["isBase64Encoded"]) == (encoded, True)
    assert "cookies" not in raw


class Reads:
    def __init__(self, value: str) -> None:
        self.value, self.ids = value, []

    def __call__(self, secret_id: str) -> str:
        self.ids.append(secret_id)
        return self.value


@pytest.fixture
def secret_store(monkeypatch: pytest.MonkeyPatch) -> Any:
    reads = Reads("the-origin-secret")
    monkeypatch.setattr(lambda_app.secret_refs, "read_secret_string", reads)
    lambda_app.forget_origin_secret()
    yield reads
    lambda_app.forget_origin_secret()


def test_the_secret_is_read_once_per_container(secret_store):
    headers = {"x-workproof-origin": "the-origin-secret"}
    assert [lambda_app.refusal(headers, "arn-1") for _ in range(3)] == [None] * 3
    assert secret_store.ids == ["arn-1"]
    assert lambda_app.refusal(headers, "arn-2") is None and secret_store.ids == ["arn-1", "arn-2"]


@pytest.mark.parametrize("headers,secret_id,why", [
    ({}, "arn", "no origin header"),
    ({"x-workproof-origin": ""}, "arn", "wrong origin header"),
    ({"x-workproof-origin": "the-origin-secreT"}, "arn", "wrong origin header"),
    ({"x-workproof-origin": "the-origin-secret "}, "arn", "wrong origin header"),
    ({"x-workproof-origin": "thé-origin-secret\udcff"}, "arn", "wrong origin header"),
    ({"x-workproof-origin": "the-origin-secret"}, "", "no front door configured"),
    ({"X-Workproof-Origin": "the-origin-secret"}, "arn", None),
])
def test_why_a_request_is_refused(secret_store, headers, secret_id, why):
    assert lambda_app.refusal(headers, secret_id) == why
    assert secret_store.ids == (["arn"] if headers and secret_id else [])


def test_a_rotated_secret_is_taken_up_by_a_warm_container_and_a_flood_reads_once_a_minute(
        secret_store, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(lambda_app.time, "monotonic", lambda: clock[0])
    old, new = {"x-workproof-origin": "the-origin-secret"}, {"x-workproof-origin": "rotated"}
    assert lambda_app.refusal(old, "arn") is None and secret_store.ids == ["arn"]
    # A wrong header within the minute: refused from memory, no read.
    clock[0] += 30
    assert lambda_app.refusal(new, "arn") == "wrong origin header" and secret_store.ids == ["arn"]
    # The secret rotated: the first differing header after the minute reads it again.
    secret_store.value = "rotated"
    clock[0] += 31
    assert lambda_app.refusal(new, "arn") is None and secret_store.ids == ["arn", "arn"]
    assert lambda_app.refusal(old, "arn") == "wrong origin header"
    # A flood of wrong headers: one read a minute, however many requests.
    for _ in range(1000):
        clock[0] += 0.01
        assert lambda_app.refusal({"x-workproof-origin": "guess"}, "arn") == "wrong origin header"
    assert secret_store.ids == ["arn", "arn"]
    clock[0] += 60
    assert lambda_app.refusal({"x-workproof-origin": "guess"}, "arn") == "wrong origin header"
    assert secret_store.ids == ["arn"] * 3


def test_an_empty_secret_opens_nothing(secret_store):
    secret_store.value = ""
    assert lambda_app.refusal({"x-workproof-origin": ""}, "arn") == "the origin secret is empty"


def test_the_edge_address_is_never_the_source():
    rest = rest_event(url_event("GET", "/token/verify", viewer=None), APP_ROUTES)
    assert rest is not None and EDGE_ADDRESS not in str(rest["requestContext"])
