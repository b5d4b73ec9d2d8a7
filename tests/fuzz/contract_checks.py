"""Schemathesis checks of the wire contract, loaded by `make fuzz` (tests/fuzz/schema_fuzz.py)."""
from __future__ import annotations

import json

import schemathesis

from chalicelib import siteverify
from chalicelib.errors import contract_codes

CODES = contract_codes()
SITEVERIFY_PATHS = frozenset(siteverify.PATHS)


@schemathesis.check
def contract_json_body(ctx, response, case) -> None:
    """Every answer is a JSON object with a boolean `success`; a failure is exactly {success, error}."""
    if case.path == "/openapi.json":
        return
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"not JSON: {response.content[:200]!r}") from None
    if not isinstance(body, dict) or not isinstance(body.get("success"), bool):
        raise AssertionError(f"no boolean success: {body!r}"[:300])
    if case.path in SITEVERIFY_PATHS:
        _siteverify_body(body)
    elif body["success"] is False:
        if set(body) != {"success", "error"} or body["error"] not in CODES:
            raise AssertionError(f"failure body is not {{success, error}} with a contract code: {body!r}")
        if body["error"] == "internal_error":
            raise AssertionError("internal_error: an input reached an unexpected error")


def _siteverify_body(body: dict) -> None:
    """reCAPTCHA's shape: `error-codes` of siteverify's own, never internal-error
    (which is also the front door's over-limit answer: `make fuzz` raises the limits)."""
    codes = body.get("error-codes")
    if not isinstance(codes, list) or (body["success"] is False) != bool(codes) \
            or not set(codes) <= set(siteverify.ERROR_CODES):
        raise AssertionError(f"not siteverify's shape: {body!r}"[:300])
    if "internal-error" in codes:
        raise AssertionError("internal-error: an input reached an unexpected error")
