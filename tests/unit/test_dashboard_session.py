"""Dashboard sessions without a store: the signed cookie, its binding, CSRF, paths."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from chalicelib.dashboard import session as ds
from chalicelib.dashboard.wire import Call
from chalicelib.http import stage_prefix
from chalicelib.params import Params
from chalicelib.sites import SessionAnchor, SiteInfo

SITE = SiteInfo(site_key="K" * 32, name="shop", epoch=0, disabled=False)
NOW_MS = 1_764_000_000_123


def anchor(secret_hash: str = "a" * 64, after: int = 0) -> SessionAnchor:
    return SessionAnchor(SITE, secret_hash, after)


def test_a_session_round_trips_and_expires():
    session, cookie = ds.issue(anchor(), NOW_MS)
    assert ds.decode(cookie, NOW_MS // 1000) == session
    assert session.expires == NOW_MS // 1000 + ds.SESSION_SECONDS
    assert ds.decode(cookie, session.expires - 1) == session
    with pytest.raises(ds.SignedOut):
        ds.decode(cookie, session.expires)


def test_sessions_are_unique_and_carry_no_secret_hash():
    first, cookie = ds.issue(anchor(), NOW_MS)
    second, _ = ds.issue(anchor(), NOW_MS)
    assert first.sid != second.sid
    assert "a" * 64 not in cookie


def test_binding_follows_the_secret_hash():
    session, _ = ds.issue(anchor("a" * 64), NOW_MS)
    key = ds._mac_keys()[0][1]
    assert session.binding == ds.binding(key, "a" * 64)
    assert session.binding != ds.binding(key, "b" + "a" * 63)


def test_a_session_is_issued_after_the_sign_out_cutoff():
    session, _ = ds.issue(anchor(after=NOW_MS), NOW_MS)
    assert session.issued_ms == NOW_MS + 1


def test_csrf_token_is_bound_to_the_session():
    first, _ = ds.issue(anchor(), NOW_MS)
    second, _ = ds.issue(anchor(), NOW_MS)
    ds.check_csrf(first, ds.csrf_token(first))
    for wrong in (None, "", ds.csrf_token(second), ds.csrf_token(first)[:-1], "é"):
        with pytest.raises(ds.InvalidCsrf):
            ds.check_csrf(first, wrong)


@pytest.mark.parametrize("header,value", [
    (None, None), ("", None), ("other=1", None), ("workproof_dashboard=s1.a.b", "s1.a.b"),
    ("a=1; workproof_dashboard=s1.x.y; b=2", "s1.x.y"), ('workproof_dashboard="s1.q.r"', "s1.q.r"),
])
def test_cookie_value_is_read_from_the_cookie_header(header, value):
    assert ds.cookie_value(header) == value


def test_set_cookie_attributes():
    assert ds.set_cookie("v", "/api/dashboard", secure=True) == \
        "workproof_dashboard=v; HttpOnly; Max-Age=28800; Path=/api/dashboard; SameSite=Strict; Secure"
    assert ds.clear_cookie("/dashboard", secure=False) == \
        'workproof_dashboard=""; HttpOnly; Max-Age=0; Path=/dashboard; SameSite=Strict'


def _request(path: str, resource: str, uri_params=None, proto="https") -> SimpleNamespace:
    return SimpleNamespace(context={"path": path, "resourcePath": resource,
                                    "identity": {"sourceIp": "192.0.2.1"}},
                           uri_params=uri_params, headers={"x-forwarded-proto": proto,
                                                           "host": "abc.execute-api.aws"})


@pytest.mark.parametrize("path,resource,params,prefix", [
    ("/dashboard", "/dashboard", None, ""),
    ("/api/dashboard", "/dashboard", None, "/api"),
    ("/api/dashboard/overview", "/dashboard/overview", None, "/api"),
    ("/v1/api/l/Abc", "/l/{code}", {"code": "Abc"}, "/v1/api"),
])
def test_stage_prefix_is_what_precedes_the_route(path, resource, params, prefix):
    assert stage_prefix(_request(path, resource, params)) == prefix


def test_deployed_cookie_is_scoped_to_the_stage_and_secure():
    call = Call(_request("/api/dashboard/signin", "/dashboard/signin"), Params({}), NOW_MS)
    assert call.cookie_path == "/api/dashboard"
    assert call.https is True
    assert call.source == "192.0.2.1"
    assert call.now == NOW_MS // 1000


def test_the_dashboard_source_is_the_apps_ipv6_64():
    request = _request("/api/dashboard/signin", "/dashboard/signin")
    request.context["identity"]["sourceIp"] = "2001:db8:1:2:aaaa::1"
    assert Call(request, Params({}), NOW_MS).source == "2001:db8:1:2::/64"
