"""siteverify's refusals are the caller's fault: wrong secrets and bogus or
missing responses drain their source's bucket `failure_cost` tokens faster
than honest verifies, on all three siteverify paths."""
from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice import local

from chalicelib import front_door, limits, tokens
from chalicelib.store.transactions import Transaction
from tests.functional.store import aws  # noqa: F401 - the shared store

GUESSER, HONEST = "198.51.100.66", "203.0.113.7"
PATHS = ["/siteverify", "/recaptcha/api/siteverify", "/turnstile/v0/siteverify"]
BUSY = {"success": False, "error-codes": ["internal-error"]}


@pytest.fixture(autouse=True)
def limits_on(app_settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    app_settings(WORKPROOF_MIN_WORK="512", WORKPROOF_SOURCE_LIMITS="on")
    monkeypatch.setattr(front_door, "clock", lambda: 1000.0)  # no refill within a test
    yield
    front_door.configure(0.0)


def verify(client: Any, monkeypatch: pytest.MonkeyPatch, address: str, path: str,
           **params: Any) -> tuple[dict[str, Any], dict[str, str]]:
    monkeypatch.setattr(local.LambdaEventConverter, "LOCAL_SOURCE_IP", address)
    response = client.http.post(path, body=urlencode(params),
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    return json.loads(response.body), dict(response.headers)


def refusals_admitted() -> tuple[int, float]:
    """How many caller-fault requests a full siteverify bucket lets through,
    and the tokens left after them (from the rule, as SourceLimits spends it)."""
    rule = limits.RULES[limits.SITEVERIFY]
    tokens, admitted = rule.capacity, 0
    while tokens >= 1:
        tokens = max(-rule.capacity, tokens - 1 - rule.failure_cost)
        admitted += 1
    return admitted, tokens


@pytest.mark.parametrize("refusal", [
    ({"secret": "wrong" * 6, "response": "x"}, "invalid-input-secret"),
    ({"response": "bogus"}, "invalid-input-response"),
    ({}, "missing-input-response"),
])
def test_refused_verifies_run_a_source_dry_long_before_honest_ones(
        client, site, monkeypatch, refusal):
    params, code = refusal
    params = {"secret": site.secret, **params}
    rule = limits.RULES[limits.SITEVERIFY]
    admitted, left = refusals_admitted()
    # Honest verifies would get `capacity` through; refusals far fewer.
    assert admitted == math.ceil(rule.capacity / (1 + rule.failure_cost))
    assert admitted * 10 < rule.capacity
    answers = [verify(client, monkeypatch, GUESSER, PATHS[i % 3], **params)
               for i in range(admitted + 3)]
    assert [body for body, _ in answers[:admitted]] == \
        [{"success": False, "error-codes": [code]}] * admitted
    wait = math.ceil((1 - left) / rule.per_second)
    for body, headers in answers[admitted:]:
        assert body == BUSY
        assert headers["Retry-After"] == str(max(1, wait))
    # Another source's verify is served.
    body, _ = verify(client, monkeypatch, HONEST, "/siteverify", secret=site.secret,
                     response="bogus")
    assert body == {"success": False, "error-codes": ["invalid-input-response"]}


def test_a_spent_token_is_no_fault(client, site, monkeypatch):
    """timeout-or-duplicate (a backend's retry, a visitor who took an hour) costs
    one token like any verify: more of them than refusals are let through."""
    tx = Transaction()
    tokens.stage_credit(tx, site.site_key, "spent", 512, int(time.time()), new=True, target=512)
    tx.commit()
    first, _ = verify(client, monkeypatch, HONEST, "/siteverify", secret=site.secret,
                      response="spent")
    assert first["success"] is True
    admitted, _ = refusals_admitted()
    for _ in range(admitted + 3):
        body, _ = verify(client, monkeypatch, HONEST, "/siteverify", secret=site.secret,
                         response="spent")
        assert body == {"success": False, "error-codes": ["timeout-or-duplicate"]}
