"""The two-URL switch, server side: reCAPTCHA's and Turnstile's script paths serve the
widget behind their APIs like /lib/ files, and the published test secrets answer on
/siteverify and its two aliases only, never as a site's secret elsewhere."""
from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode, urljoin

import pytest

from chalicelib.library import COMPAT_SCRIPTS, STATIC_DIR, with_hashed_references
from chalicelib.test_keys import TEST_SECRETS
from tests.functional.store import aws  # noqa: F401 - aws: the shared store

PATHS = ["/siteverify", "/recaptcha/api/siteverify", "/turnstile/v0/siteverify"]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
PASS = "1x0000000000000000000000000000000AA"
FAIL = "2x0000000000000000000000000000000AA"
SPENT = "3x0000000000000000000000000000000AA"
RECAPTCHA_PASS = "6LeIxAcTAAAAAGG-vFI1TnRWxMZNFuojJ4WifJWe"


def post(client: Any, path: str, **params: Any) -> dict[str, Any]:
    response = client.http.post(path, body=urlencode(params), headers=FORM)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


@pytest.mark.parametrize("path", sorted(COMPAT_SCRIPTS))
def test_compat_scripts_redirect_to_the_widget_behind_their_apis(client, path):
    response = client.http.get(path + "?onload=ready&render=explicit")
    assert response.status_code == 307
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    target = urljoin(path, response.headers["Location"])
    assert re.fullmatch(rf"/lib/{COMPAT_SCRIPTS[path][:-3]}\.[0-9a-f]{{12}}\.js", target), target
    response = client.http.get(target)
    assert response.status_code == 200
    body = response.body.decode()
    for part in ("i18n.js", "_widget.js", "_compat.js"):
        assert with_hashed_references((STATIC_DIR / part).read_text(encoding="utf-8")) in body
    assert body.startswith((STATIC_DIR / "i18n.js").read_text(encoding="utf-8"))
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_compat_scripts_answer_get_only(client):
    for path in COMPAT_SCRIPTS:
        response = client.http.post(path, body="", headers=FORM)
        assert json.loads(response.body) == {"success": False, "error": "wrong_method"}, path


@pytest.mark.parametrize("path", PATHS)
def test_test_secrets_answer_without_a_site(client, path, monkeypatch):
    from chalicelib import siteverify

    monkeypatch.setattr(siteverify, "time", type("Clock", (), {"time": staticmethod(lambda: 1_764_001_800.0)}))
    passed = {"success": True, "challenge_ts": "2025-11-24T16:30:00Z", "hostname": "example.com",
              "hashes": 0, "action": "", "cdata": "", "error-codes": []}
    for secret in (PASS, RECAPTCHA_PASS):
        assert post(client, path, secret=secret, response="XXXX.DUMMY.TOKEN.XXXX") == passed
        assert post(client, path, secret=secret, response="any-other-response") == passed
    assert post(client, path, secret=FAIL, response="XXXX.DUMMY.TOKEN.XXXX") == {
        "success": False, "error-codes": ["invalid-input-response"]}
    assert post(client, path, secret=SPENT, response="XXXX.DUMMY.TOKEN.XXXX") == {
        "success": False, "error-codes": ["timeout-or-duplicate"]}
    assert post(client, path, secret=PASS) == {"success": False, "error-codes": ["missing-input-response"]}


def test_a_real_secret_refuses_the_dummy_token(client, site):
    assert post(client, "/siteverify", secret=site.secret, response="XXXX.DUMMY.TOKEN.XXXX") == {
        "success": False, "error-codes": ["invalid-input-response"]}


def test_test_secrets_authenticate_nothing_else(client):
    for secret in TEST_SECRETS:
        assert post(client, "/token/verify", secret=secret, token="XXXX", hashes=1) == {
            "success": False, "error": "invalid_secret"}
        response = client.http.get("/user/balance?" + urlencode({"secret": secret, "name": "dana"}))
        assert json.loads(response.body) == {"success": False, "error": "invalid_secret"}
        assert post(client, "/user/withdraw", secret=secret, name="dana", amount=1) == {
            "success": False, "error": "invalid_secret"}
        assert post(client, "/link/create", secret=secret, url="https://example.com/", hashes=512) == {
            "success": False, "error": "invalid_secret"}


def test_test_secrets_cannot_be_a_sites_secret():
    from chalicelib.sites import KEY_ALPHABET, KEY_LENGTH

    for secret in TEST_SECRETS:
        assert len(secret) != KEY_LENGTH or not set(secret) <= set(KEY_ALPHABET), secret
