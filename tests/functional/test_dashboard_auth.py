"""The dashboard's door: sign-in, the session cookie, CSRF, sign-out, rotation, throttling.

Every rule of issue 11's item 2, through the real app (chalice.test.Client,
moto): the secret is sent once in a POST body and never answered, logged or
put in a URL; the session is a signed, expiring, HttpOnly SameSite=Strict
cookie checked on every request; sign-out and a rotated secret end it.
"""
from __future__ import annotations

import base64
import dataclasses
import json
import logging
import time

import pytest

from chalicelib import config, library, pow, sites
from chalicelib.dashboard import session as dashboard_session
from chalicelib.dashboard.session import SESSION_SECONDS
from tests.fixtures import create_site, credit
from tests.functional.dashboard_client import (
    JSON,
    Dashboard,
    at_address,
    fail,
    freeze_dashboard_clock,
    parse_set_cookie,
)
from tests.functional.store import aws  # noqa: F401 - the shared store

# Every dashboard route but the sign-in, with a harmless request each.
GETS = ["session", "overview", "users", "user?name=alice", "links", "settings"]
POSTS = {"signout": {}, "user/withdraw": {"name": "alice", "amount": 1},
         "user/reset": {"name": "alice"}, "settings/origins": {"origins": []},
         "settings/levels": {"reset": True}, "settings/captcha": {"reset": True},
         "settings/rotate": {"secret": "x"},
         "links/create": {"url": "https://example.com/", "hashes": 1},
         "links/disable": {"code": "a" * 12}, "links/enable": {"code": "a" * 12},
         "links/delete": {"code": "a" * 12}}
NOW = 1_764_000_030  # 30 s into a minute


@pytest.fixture
def dash(client):
    return Dashboard(client)


@pytest.fixture
def signed_in(dash, site):
    assert dash.sign_in(site.site_key, site.secret)["success"] is True
    return dash


# --- the page ---------------------------------------------------------------------------

PAGE_FILES = ["uPlot.min.css", "dashboard.css", "uPlot.iife.min.js", "dashboard.js",
              "dashboard-overview.js", "dashboard-users.js", "dashboard-links.js",
              "dashboard-settings.js"]

def test_page_is_served_with_a_strict_content_security_policy(client):
    response = client.http.get("/dashboard")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    page = response.body.decode()
    for name in PAGE_FILES:  # its own files only, at their immutable names, in load order
        hashed = library.hashed_name(name)
        tag = f'<script src="/lib/{hashed}">' if name.endswith(".js") else \
            f'<link rel="stylesheet" href="/lib/{hashed}">'
        assert tag in page, name
    scripts = [page.index(f'/lib/{library.hashed_name(name)}"') for name in PAGE_FILES
               if name.endswith(".js")]
    assert scripts == sorted(scripts)
    # Without the script, the sign-in form posts (never a GET: the secret stays out of URLs).
    assert '<form id="signin-form" method="post" action="/dashboard/signin"' in page


def test_page_refuses_other_methods(client):
    response = client.http.post("/dashboard", body=b"")
    assert json.loads(response.body) == fail("wrong_method")


@pytest.mark.parametrize("name", PAGE_FILES)
def test_page_files_are_served_from_lib(client, name):
    response = client.http.get(f"/lib/{library.hashed_name(name)}")
    assert response.status_code == 200
    assert client.http.get(f"/lib/{name}").headers["Location"] == library.hashed_name(name)
    assert response.headers["Content-Type"].startswith(
        "text/javascript" if name.endswith(".js") else "text/css")


# --- sign-in ------------------------------------------------------------------------------

def test_sign_in_answers_the_site_and_a_csrf_token_never_the_secret(dash, site, monkeypatch):
    freeze_dashboard_clock(monkeypatch, NOW)
    answer = dash.sign_in(site.site_key, site.secret)
    assert answer == {"success": True, "site": {"name": "test", "siteKey": site.site_key},
                      "csrf": answer["csrf"], "expires": NOW + SESSION_SECONDS}
    assert len(answer["csrf"]) == 43  # base64url of a 256-bit HMAC
    assert site.secret not in dash.last.body.decode()


def test_session_cookie_is_httponly_samesite_strict_and_scoped(dash, site):
    dash.sign_in(site.site_key, site.secret)
    cookie = parse_set_cookie(dash.last.headers["Set-Cookie"])
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/dashboard"
    assert cookie["max-age"] == str(SESSION_SECONDS)
    assert cookie["secure"] is False  # plain HTTP (make run): a Secure cookie would never return
    assert site.secret not in cookie["value"]


def test_session_cookie_is_secure_over_https(client, site):
    dash = Dashboard(client, {"X-Forwarded-Proto": "https"})
    dash.sign_in(site.site_key, site.secret)
    assert parse_set_cookie(dash.last.headers["Set-Cookie"])["secure"] is True


def test_session_answers_who_is_signed_in(signed_in, site):
    answer = signed_in.get("session")
    assert answer["site"] == {"name": "test", "siteKey": site.site_key}
    assert answer["csrf"] == signed_in.csrf


@pytest.mark.parametrize("which", ["wrong secret", "other site's secret", "unknown site key",
                                   "secret as a number", "secret too long"])
def test_failed_sign_in_sets_no_cookie(dash, site, which):
    other = create_site("other")
    key, secret = {
        "wrong secret": (site.site_key, site.secret[:-1] + ("A" if site.secret[-1] != "A" else "B")),
        "other site's secret": (site.site_key, other.secret),
        "unknown site key": ("X" * 32, site.secret),
        "secret as a number": (site.site_key, 12345),
        "secret too long": (site.site_key, "a" * 300),
    }[which]
    assert dash.sign_in(key, secret) == fail("invalid_secret")
    assert "Set-Cookie" not in dash.last.headers
    assert dash.get("session") == fail("signed_out")


@pytest.mark.parametrize("body", [{"site_key": "k"}, {"secret": "s"}, {}])
def test_sign_in_without_key_or_secret(dash, body):
    dash._send("POST", "/dashboard/signin", json.dumps(body), JSON)
    assert json.loads(dash.last.body) == fail("missing_input")


def test_secret_in_the_url_is_refused(dash, site):
    answer = dash._send("POST", f"/dashboard/signin?secret={site.secret}",
                        json.dumps({"site_key": site.site_key, "secret": site.secret}), JSON)
    assert answer == fail("bad_request")
    assert "Set-Cookie" not in dash.last.headers


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain",
                                          "multipart/form-data; boundary=x"])
def test_sign_in_from_a_plain_form_is_refused(dash, site, content_type):
    """An HTML form on another site can send these without asking (login CSRF)."""
    body = json.dumps({"site_key": site.site_key, "secret": site.secret})
    if content_type.startswith("application/x-www"):
        body = f"site_key={site.site_key}&secret={site.secret}"
    assert dash._send("POST", "/dashboard/signin", body,
                      {"Content-Type": content_type}) == fail("bad_request")
    assert "Set-Cookie" not in dash.last.headers


def test_sign_in_is_a_post(dash):
    assert dash.get("signin") == fail("wrong_method")


def test_disabled_site_cannot_sign_in_and_its_sessions_end(signed_in, dash, site):
    sites.update_site(site.site_key, disabled=True)
    assert signed_in.get("session") == fail("signed_out")
    assert Dashboard(dash.client).sign_in(site.site_key, site.secret) == fail("invalid_secret")


# --- the session on every request ----------------------------------------------------------

@pytest.mark.parametrize("path", GETS)
def test_every_view_needs_a_session(dash, path):
    name, _, query = path.partition("?")
    assert dash._send("GET", f"/dashboard/{name}" + (f"?{query}" if query else "")) == \
        fail("signed_out")


@pytest.mark.parametrize("path", sorted(POSTS))
def test_every_action_needs_a_session(dash, path):
    assert dash.post(path, csrf="x", **POSTS[path]) == fail("signed_out")


def _tampered(cookie: str, how: str) -> str:
    version, payload, mac = cookie.split(".")
    fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    if how == "mac":
        return f"{version}.{payload}.{mac[:-2]}{'AA' if mac[-2:] != 'AA' else 'BB'}"
    if how == "longer expiry":
        fields["e"] += 3600
    elif how == "other site":
        fields["s"] = "Y" * 32
    raw = base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")
    return f"{version}.{raw}.{mac}"


@pytest.mark.parametrize("how", ["mac", "longer expiry", "other site"])
def test_tampered_cookie_is_signed_out_and_cleared(signed_in, how):
    signed_in.cookie = _tampered(signed_in.cookie, how)
    assert signed_in.get("session") == fail("signed_out")
    assert parse_set_cookie(signed_in.last.headers["Set-Cookie"])["max-age"] == "0"
    assert signed_in.cookie is None


B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.mark.parametrize("how", ["padded", "padding bits"])
def test_a_cookie_mac_in_another_base64_spelling_is_signed_out(signed_in, how):
    version, payload, mac = signed_in.cookie.split(".")
    assert len(mac) % 4 == 3  # 32 bytes: the last character carries 2 unused bits
    mac = mac + "=" if how == "padded" else mac[:-1] + B64URL[B64URL.index(mac[-1]) ^ 1]
    signed_in.cookie = f"{version}.{payload}.{mac}"
    assert signed_in.get("session") == fail("signed_out")


def _signed_cookie(fields: object) -> str:
    """A cookie whose MAC holds over any payload (as if the signing key had signed it)."""
    kid, key = dashboard_session._mac_keys()[0]
    if isinstance(fields, dict):
        fields = {"k": kid, **fields}
    payload = base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")
    signed = f"s1.{payload}"
    mac = base64.urlsafe_b64encode(dashboard_session._mac(key, signed)).decode().rstrip("=")
    return f"{signed}.{mac}"


@pytest.mark.parametrize("change", [{"e": "9999999999"}, {"e": None}, {"e": 1.5e10}, {"t": "1"},
                                    {"t": True}, {"s": 5}, {"i": ["x"]}, {"b": None}, "list"])
def test_a_signed_cookie_with_ill_typed_fields_is_signed_out(signed_in, change):
    version, payload, _mac = signed_in.cookie.split(".")
    fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    signed_in.cookie = _signed_cookie(list(fields.values()) if change == "list"
                                      else {**fields, **change})
    assert signed_in.get("session") == fail("signed_out")
    assert signed_in.last.headers["Set-Cookie"]  # cleared


def test_the_forger_above_makes_sessions_that_hold(signed_in):
    """So the two tests above fail on the types, not on the MAC."""
    version, payload, _mac = signed_in.cookie.split(".")
    fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    signed_in.cookie = _signed_cookie(fields)
    assert signed_in.get("session")["success"] is True


@pytest.mark.parametrize("junk", ["", "garbage", "s1.e30.AAAA", "s1..", "é" * 10, "x" * 5000])
def test_junk_cookie_is_signed_out(dash, junk):
    dash.cookie = junk
    assert dash.get("overview") == fail("signed_out")


@pytest.fixture
def signing_keys():
    """Set the deployment's signing keys for one test (the settings' own afterwards)."""
    before = config.settings()
    yield lambda keys: config.use(dataclasses.replace(before, signing_keys=tuple(keys)))
    config.use(before)


def test_session_signed_with_a_retired_key_is_signed_out(signed_in, signing_keys):
    signing_keys([("other", b"A" * 32)])
    assert signed_in.get("session") == fail("signed_out")


def test_session_survives_a_signing_key_roll_while_the_old_key_verifies(
        client, signed_in, site, signing_keys):
    old = pow.signing_keys()
    signing_keys([("new", b"B" * 32), *old])
    assert signed_in.get("session")["success"] is True
    fresh = Dashboard(client)  # signed with the new key
    assert fresh.sign_in(site.site_key, site.secret)["success"] is True
    # Once the old key is retired, only the sessions it signed end.
    signing_keys([("new", b"B" * 32)])
    assert signed_in.get("session") == fail("signed_out")
    assert fresh.get("session")["success"] is True


def test_a_job_mac_is_no_session_mac(signed_in):
    """Session keys are derived with their own label: the raw signing key signs nothing here."""
    kid, key = pow.signing_keys()[0]
    import hashlib
    import hmac

    version, payload, _mac = signed_in.cookie.split(".")
    raw = hmac.new(key, f"{version}.{payload}".encode(), hashlib.sha256).digest()
    signed_in.cookie = f"{version}.{payload}." + base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert signed_in.get("session") == fail("signed_out")


def test_session_expires_after_eight_hours(dash, site, monkeypatch):
    freeze_dashboard_clock(monkeypatch, NOW)
    dash.sign_in(site.site_key, site.secret)
    freeze_dashboard_clock(monkeypatch, NOW + SESSION_SECONDS - 1)
    assert dash.get("session")["success"] is True
    freeze_dashboard_clock(monkeypatch, NOW + SESSION_SECONDS)
    assert dash.get("session") == fail("signed_out")


# --- CSRF ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", sorted(POSTS))
@pytest.mark.parametrize("token", ["", "wrong", "other session"])
def test_actions_without_the_csrf_token_are_refused_and_change_nothing(client, signed_in, site,
                                                                        path, token):
    credit(site.site_key, "alice", 100)
    if token == "other session":
        second = Dashboard(client)
        second.sign_in(site.site_key, site.secret)
        token = second.csrf
        # A second session of the same site has its own token.
        assert token != signed_in.csrf
    answer = signed_in._send("POST", f"/dashboard/{path}", json.dumps(POSTS[path]),
                             dict(JSON, **({"X-Workproof-Csrf": token} if token else {})))
    assert answer == fail("invalid_csrf")
    assert signed_in.get("session")["success"] is True
    assert signed_in.get("user", name="alice")["user"] == {
        "name": "alice", "total": 100, "withdrawn": 0, "balance": 100}
    assert sites.authenticate(site.secret).site_key == site.site_key


# --- sign-out and rotation ------------------------------------------------------------------

def test_sign_out_ends_the_session_even_if_the_cookie_is_replayed(signed_in):
    cookie = signed_in.cookie
    assert signed_in.post("signout") == {"success": True}
    assert parse_set_cookie(signed_in.last.headers["Set-Cookie"])["max-age"] == "0"
    signed_in.cookie = cookie  # a copy kept by someone else
    assert signed_in.get("session") == fail("signed_out")


def test_sign_out_ends_every_session_of_the_site_then_sign_in_works_again(client, signed_in, site):
    laptop = Dashboard(client)
    laptop.sign_in(site.site_key, site.secret)
    signed_in.post("signout")
    assert laptop.get("session") == fail("signed_out")
    assert laptop.sign_in(site.site_key, site.secret)["success"] is True
    assert laptop.get("overview")["success"] is True


def test_sign_out_of_one_site_leaves_other_sites_signed_in(client, signed_in):
    other = create_site("other")
    theirs = Dashboard(client)
    theirs.sign_in(other.site_key, other.secret)
    signed_in.post("signout")
    assert theirs.get("session")["success"] is True


def test_a_rotated_secret_ends_sessions(client, signed_in, site):
    sites.rotate_secret(site.site_key)  # e.g. by the admin command
    assert signed_in.get("overview") == fail("signed_out")


def test_rotate_from_the_dashboard_shows_the_new_secret_once_and_signs_out(client, signed_in, site):
    laptop = Dashboard(client)
    laptop.sign_in(site.site_key, site.secret)
    answer = signed_in.post("settings/rotate", secret=site.secret)
    assert answer == {"success": True, "siteKey": site.site_key, "secret": answer["secret"]}
    new = answer["secret"]
    assert len(new) == 32 and new.isalnum() and new != site.secret
    assert parse_set_cookie(signed_in.last.headers["Set-Cookie"])["max-age"] == "0"
    assert laptop.get("session") == fail("signed_out")
    assert Dashboard(client).sign_in(site.site_key, site.secret) == fail("invalid_secret")
    again = Dashboard(client)
    assert again.sign_in(site.site_key, new)["success"] is True
    assert new not in again.last.body.decode() and new not in again.get("settings").__repr__()
    # The API takes the new secret and refuses the old one.
    assert sites.authenticate(new).site_key == site.site_key


@pytest.mark.parametrize("secret,code", [
    (None, "secret_required"), ("wrong" * 6, "invalid_secret"), (12345, "invalid_secret"),
    ("other site's", "invalid_secret")])
def test_rotate_without_the_current_secret_is_refused_and_changes_nothing(
        client, signed_in, site, secret, code):
    """A stolen session alone cannot take the site over."""
    if secret == "other site's":
        secret = create_site("other").secret
    body = {} if secret is None else {"secret": secret}
    assert signed_in.post("settings/rotate", **body) == fail(code)
    assert "Set-Cookie" not in signed_in.last.headers
    assert sites.authenticate(site.secret).site_key == site.site_key
    assert signed_in.get("session")["success"] is True


def test_wrong_secrets_at_rotation_count_against_the_sign_in_throttle(
        client, signed_in, site, monkeypatch):
    freeze_dashboard_clock(monkeypatch, NOW)
    for _ in range(5):
        assert signed_in.post("settings/rotate", secret="wrong" * 6) == fail("invalid_secret")
    assert signed_in.post("settings/rotate", secret=site.secret) == fail("too_many_attempts")
    assert sites.authenticate(site.secret).site_key == site.site_key


# --- throttling -------------------------------------------------------------------------------

def test_five_failures_in_a_minute_refuse_that_address_until_the_minute_ends(
        client, site, monkeypatch):
    freeze_dashboard_clock(monkeypatch, NOW)
    at_address(monkeypatch, "203.0.113.7")
    dash = Dashboard(client)
    for _ in range(5):
        assert dash.sign_in(site.site_key, "wrong" * 6) == fail("invalid_secret")
    # Even the right secret: a refusal in this window must not tell right from wrong.
    assert dash.sign_in(site.site_key, site.secret) == fail("too_many_attempts")
    assert dash.last.headers["Retry-After"] == "30"
    assert "Set-Cookie" not in dash.last.headers
    # Another address is not slowed.
    at_address(monkeypatch, "198.51.100.9")
    assert Dashboard(client).sign_in(site.site_key, site.secret)["success"] is True
    # Nor is another site from the same address (a shared office or NAT address).
    at_address(monkeypatch, "203.0.113.7")
    other = create_site("other")
    assert Dashboard(client).sign_in(other.site_key, other.secret)["success"] is True
    # The next minute, this address may try again.
    at_address(monkeypatch, "203.0.113.7")
    freeze_dashboard_clock(monkeypatch, NOW + 30)
    assert dash.sign_in(site.site_key, site.secret)["success"] is True


def test_four_failures_do_not_throttle(client, site, monkeypatch):
    freeze_dashboard_clock(monkeypatch, NOW)
    dash = Dashboard(client)
    for _ in range(4):
        dash.sign_in(site.site_key, "wrong")
    assert dash.sign_in(site.site_key, site.secret)["success"] is True


def test_successful_sign_ins_use_up_none_of_the_minute(client, site, monkeypatch):
    freeze_dashboard_clock(monkeypatch, NOW)
    for _ in range(8):
        assert Dashboard(client).sign_in(site.site_key, site.secret)["success"] is True
    dash = Dashboard(client)
    for _ in range(5):
        assert dash.sign_in(site.site_key, "wrong" * 6) == fail("invalid_secret")
    assert dash.sign_in(site.site_key, "wrong" * 6) == fail("too_many_attempts")


def test_an_ipv6_source_is_its_64(client, site, monkeypatch):
    freeze_dashboard_clock(monkeypatch, NOW)
    at_address(monkeypatch, "2001:db8:0:1::1")
    for _ in range(5):
        assert Dashboard(client).sign_in(site.site_key, "wrong" * 6) == fail("invalid_secret")
    at_address(monkeypatch, "2001:db8:0:1:ffff::2")  # same /64: same source
    assert Dashboard(client).sign_in(site.site_key, site.secret) == fail("too_many_attempts")
    at_address(monkeypatch, "2001:db8:0:2::1")  # the next /64: another source
    assert Dashboard(client).sign_in(site.site_key, site.secret)["success"] is True


def test_sign_ins_with_a_malformed_site_key_reserve_nothing(client, site, monkeypatch):
    from chalicelib.store.models import SignInFailures

    for key in ("short", "é" * 32, "k" * 64):
        assert Dashboard(client).sign_in(key, "wrong" * 6) == fail("invalid_secret")
    assert list(SignInFailures.scan()) == []


def test_failure_counter_expires_and_stores_no_address(client, site, monkeypatch):
    from chalicelib.store.models import SignInFailures

    freeze_dashboard_clock(monkeypatch, NOW)
    at_address(monkeypatch, "203.0.113.7")
    Dashboard(client).sign_in(site.site_key, "wrong")
    Dashboard(client).sign_in(site.site_key, "wrong")
    items = list(SignInFailures.scan())
    assert len(items) == 1
    assert items[0].pk.startswith("SIGNIN#") and "203.0.113.7" not in items[0].pk
    assert site.site_key not in items[0].pk
    assert (items[0].checks, items[0].expires) == (2, NOW - NOW % 60 + 120)


# --- the secret stays where it was sent ---------------------------------------------------------

def test_secret_and_cookie_never_in_an_answer_or_a_log(client, site, caplog):
    caplog.set_level(logging.DEBUG)
    credit(site.site_key, "alice", 100)
    dash = Dashboard(client)
    dash.sign_in(site.site_key, "wrong")
    dash.sign_in(site.site_key, site.secret)
    cookie = dash.cookie
    for path in GETS:
        name, _, query = path.partition("?")
        dash._send("GET", f"/dashboard/{name}" + (f"?{query}" if query else ""))
    dash.post("user/withdraw", name="alice", amount=1)
    dash.post("user/reset", name="alice")
    dash.post("settings/origins", origins=["https://example.com"])
    dash.post("user/withdraw", name="alice", amount="x")  # a refusal
    dash.post("signout")
    for response in dash.responses:
        assert site.secret not in response.body.decode()
        assert site.secret not in json.dumps(response.headers)
    assert cookie and len(dash.responses) > 10
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert site.secret not in logged
    assert cookie not in logged
    assert dashboard_session.csrf_token(dashboard_session.decode(cookie, int(time.time()))) \
        not in logged
