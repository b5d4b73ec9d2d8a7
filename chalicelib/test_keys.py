"""Published captcha test secrets, for integrators' CI: `/siteverify` (and its two
aliases, nothing else) answers them without any site, token or store access.

Turnstile's (always passes, always fails, already spent) and reCAPTCHA's (always passes),
so a backend configured with the test keys it already knows behaves as with theirs. They
can't be a site's secret: those are 32 characters of [A-Za-z0-9] (sites.random_key),
and these are 35 and 40 characters long. Their site keys are known to the widget
(_widget.js TEST_SITE_KEYS), which answers the dummy token without any work.
"""
from __future__ import annotations

from typing import Any, TypeGuard

# secret -> the answer's error codes (none: success)
TEST_SECRETS: dict[str, tuple[str, ...]] = {
    "1x0000000000000000000000000000000AA": (),                          # Turnstile: passes
    "2x0000000000000000000000000000000AA": ("invalid-input-response",),  # Turnstile: fails
    "3x0000000000000000000000000000000AA": ("timeout-or-duplicate",),    # Turnstile: spent
    "6LeIxAcTAAAAAGG-vFI1TnRWxMZNFuojJ4WifJWe": (),                     # reCAPTCHA: passes
}
TEST_HOSTNAME = "example.com"  # as Turnstile's test secrets answer


def is_test_secret(secret: object) -> TypeGuard[str]:
    return isinstance(secret, str) and secret in TEST_SECRETS


def refusal(secret: str) -> tuple[str, ...]:
    """The error codes a test secret answers with (none: it passes)."""
    return TEST_SECRETS[secret]


def success(now_iso: str) -> dict[str, Any]:
    """A passing test secret's answer, to any non-empty response."""
    return {"success": True, "challenge_ts": now_iso, "hostname": TEST_HOSTNAME, "hashes": 0,
            "action": "", "cdata": "", "error-codes": []}
