"""Schemathesis checks of the wire contract, loaded by `make fuzz` (tests/fuzz/schema_fuzz.py)."""
from __future__ import annotations

import json

import schemathesis

from chalicelib.errors import contract_codes

CODES = contract_codes()


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
    if body["success"] is False:
        if set(body) != {"success", "error"} or body["error"] not in CODES:
            raise AssertionError(f"failure body is not {{success, error}} with a contract code: {body!r}")
        if body["error"] == "internal_error":
            raise AssertionError("internal_error: an input reached an unexpected error")
