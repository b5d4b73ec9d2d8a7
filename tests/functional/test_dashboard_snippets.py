"""Settings' snippets (the two-URL switch from reCAPTCHA and Turnstile, with the
site's key and the API's public base filled in, never the secret) and the
sign-in text, which names `make run` on a local run's page only."""
from __future__ import annotations

import json

import pytest

from tests.functional.dashboard_client import Dashboard
from tests.functional.store import aws  # noqa: F401 - the shared store

SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:workproof-prod/signing-key-AbCdEf"


@pytest.fixture
def dash(client, site):
    dashboard = Dashboard(client)
    assert dashboard.sign_in(site.site_key, site.secret)["success"] is True
    return dashboard


def test_the_two_url_switch_snippets_carry_the_key_and_base_never_the_secret(dash, site,
                                                                            app_settings):
    app_settings(WORKPROOF_PUBLIC_URL="https://pow.example.org/api")
    answer = dash.get("settings")
    snippets = answer["snippets"]
    key = site.site_key
    assert snippets["recaptchaFront"] == (
        '<!-- was https://www.google.com/recaptcha/api.js -->\n'
        '<script src="https://pow.example.org/api/recaptcha/api.js" async defer></script>\n'
        '<form action="/your-form-handler" method="post">\n'
        '  <!-- your fields -->\n'
        f'  <div class="g-recaptcha" data-sitekey="{key}"></div>\n'
        '  <button type="submit">Send</button>\n'
        '</form>\n')
    assert snippets["recaptchaBack"] == (
        '# Your backend: the same verify call, at this URL instead of\n'
        '# https://www.google.com/recaptcha/api/siteverify\n'
        '# (the form field g-recaptcha-response holds the token; the secret is yours, '
        'never shown here)\n'
        'curl -d "secret=YOUR_SECRET" -d "response=$TOKEN" \\\n'
        '  https://pow.example.org/api/recaptcha/api/siteverify\n'
        '# {"success":true,"challenge_ts":"…","hostname":"…","hashes":…,"action":"",'
        '"cdata":"","error-codes":[]}\n')
    assert '<script src="https://pow.example.org/api/turnstile/v0/api.js" async defer>' \
        in snippets["turnstileFront"]
    assert f'<div class="cf-turnstile" data-sitekey="{key}"></div>' in snippets["turnstileFront"]
    assert "  https://pow.example.org/api/turnstile/v0/siteverify\n" in snippets["turnstileBack"]
    assert "cf-turnstile-response" in snippets["turnstileBack"]
    assert site.secret not in json.dumps(answer)


def test_the_snippets_follow_the_request_host_without_a_public_url(dash):
    dash.headers.update({"Host": "api.example.net", "X-Forwarded-Proto": "https"})
    snippets = dash.get("settings")["snippets"]
    assert '<script src="https://api.example.net/recaptcha/api.js" async defer>' \
        in snippets["recaptchaFront"]
    assert "  https://api.example.net/turnstile/v0/siteverify\n" in snippets["turnstileBack"]


def test_the_sign_in_text_names_make_run_on_a_local_run_only(client, app_settings):
    local = client.http.get("/dashboard").body.decode()
    assert 'data-where="local"' in local and "<code>make run</code>" in local
    app_settings(WORKPROOF_SIGNING_SECRET_ARN=SECRET_ARN, WORKPROOF_SIGNING_KEYS="",
                 WORKPROOF_SIGNING_KEY_FILE="")
    deployed = client.http.get("/dashboard").body.decode()
    # The text stays in the page but the deployed page's style hides it (dashboard.css).
    assert 'data-where="deployed"' in deployed


def test_every_snippet_names_the_stable_script_urls_that_survive_a_deploy(dash, app_settings):
    """A hashed name answers only until the next deploy changes its file: what an
    operator pastes names the stable URLs, which redirect to the current file."""
    import re

    from chalicelib import library

    app_settings(WORKPROOF_PUBLIC_URL="https://pow.example.org/api")
    snippets = dash.get("settings")["snippets"]
    named = {src for text in snippets.values()
             for src in re.findall(r'<script src="https://pow\.example\.org/api([^"]+)"', text)}
    assert {"/lib/captcha.js", "/lib/workproof.js", "/recaptcha/api.js", "/turnstile/v0/api.js"} <= named
    stable = {f"/lib/{name}" for name in library.PLAIN_NAMES} | set(library.COMPAT_SCRIPTS)
    assert named <= stable, named - stable
