"""`POST /siteverify`: reCAPTCHA's, hCaptcha's and Turnstile's verify call over
Workproof's one-time tokens, so an existing captcha backend works by changing
one URL.

Same tokens as /token/verify (one consumption for both, exactly once), answered
in their shape with HTTP 200 always:
    {"success": true, "challenge_ts": "2026-11-30T14:00:00Z", "hostname": "shop.example",
     "hashes": 4194304, "action": "login", "cdata": "", "error-codes": []}
    {"success": false, "error-codes": ["timeout-or-duplicate"]}
A token is good when it reached the hashes its widget asked for (data-hashes,
recorded at its first share) and the `hashes` parameter; without it, the
site's `captcha_hashes` setting (by default its base work), so a page asking
for less than the site wants does not pass. An
`idempotency_key` makes a retry within 5 minutes (Turnstile's rule) answer the
same success instead of `timeout-or-duplicate`. `remoteip` is accepted and
not used: a token is bound to its site, not to an address. `action` and
`cdata` are Turnstile's: the label the widget was rendered with, stored when
the token was created (token_labels), "" without one. The published test
secrets (chalicelib/test_keys.py) answer without a site.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chalice.app import Chalice, Request, Response
from pynamodb.exceptions import DoesNotExist

from chalicelib import config, observe, test_keys, tokens
from chalicelib.errors import (
    ApiError,
    BadRequest,
    InternalError,
    InvalidSecret,
    InvalidToken,
    NotConfigured,
)
from chalicelib.http import ErrorResponse, contract_error, json_response, run_view
from chalicelib.params import Params, positive_amount
from chalicelib.sites import SiteInfo, authenticate
from chalicelib.store.models import Token
from chalicelib.store.transactions import new_request_id

PATHS = observe.SITEVERIFY_ROUTES
IDEMPOTENCY_SCOPE = "siteverify"
IDEMPOTENCY_TTL = 300  # Turnstile: a retry with the same key within 5 minutes
MAX_SECRET_CHARS = 256
ACCEPTED_METHODS = ("POST", "GET")  # old reCAPTCHA libraries verify with a GET
# Every code an answer's "error-codes" may hold: reCAPTCHA's and Turnstile's, plus
# hCaptcha's for its `sitekey` parameter.
ERROR_CODES = ("missing-input-secret", "invalid-input-secret", "missing-input-response",
               "invalid-input-response", "timeout-or-duplicate", "bad-request", "internal-error",
               "sitekey-secret-mismatch")


class Refused(Exception):
    """A `success: false` answer with these error codes."""

    def __init__(self, *codes: str) -> None:
        super().__init__(", ".join(codes))
        self.codes = list(codes)


def _site(params: Params) -> SiteInfo:
    secret = params.values.get("secret")
    if not isinstance(secret, str) or len(secret) > MAX_SECRET_CHARS:
        raise Refused("invalid-input-secret")
    try:
        site = authenticate(secret)
    except InvalidSecret:
        raise Refused("invalid-input-secret") from None
    expected = params.values.get("sitekey")
    if expected is not None and expected != site.site_key:
        raise Refused("sitekey-secret-mismatch")  # hCaptcha's code for its `sitekey` check
    return site


def _why_not(site_key: str, name: str, now: int) -> str:
    """Why a verify failed: spent or expired, or not a (solved) token of this site.

    Read only after a refusal, so a success costs one write and nothing more.
    """
    try:
        item = Token.get(Token.token_pk(site_key, name), consistent_read=True)
    except DoesNotExist:
        return "invalid-input-response"
    if item.verified_by or int(item.expires) <= now:
        return "timeout-or-duplicate"
    return "invalid-input-response"  # not solved yet: fewer hashes than asked


def iso8601(unix_seconds: int) -> str:
    return datetime.fromtimestamp(unix_seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def siteverify(params: Params, now: int, request_id: str) -> dict[str, Any]:
    """The success body, or Refused with the error codes."""
    missing = [code for name, code in (("secret", "missing-input-secret"),
                                       ("response", "missing-input-response"))
               if not params.has(name)]
    if "missing-input-secret" in missing:
        raise Refused(*missing)
    secret = params.values.get("secret")
    if test_keys.is_test_secret(secret):  # published test secrets: no site, no token
        if missing or test_keys.refusal(secret):
            raise Refused(*(missing or test_keys.refusal(secret)))
        return test_keys.success(iso8601(now))
    site = _site(params)
    site_key = site.site_key
    if missing:
        raise Refused(*missing)
    name = params.string("response", max_chars=1 << 20)
    assert name is not None
    wanted = positive_amount(params, "hashes", BadRequest) if params.has("hashes") \
        else tokens.captcha_hashes(site, config.settings().min_work)
    if len(name) > tokens.MAX_TOKEN_NAME:
        raise Refused("invalid-input-response")
    key = params.string("idempotency_key", required=False, max_chars=1 << 20)
    from chalicelib.store import idempotency  # here: loaded for siteverify calls only

    idem = idempotency.key_for(site_key, IDEMPOTENCY_SCOPE, key, IDEMPOTENCY_TTL,
                               response=name, hashes=wanted)
    try:
        state = tokens.verify(site_key, name, wanted, now, request_id=request_id,
                              reach_target=True, idem=idem)
    except InvalidToken:
        raise Refused(_why_not(site_key, name, now)) from None
    return {"success": True, "challenge_ts": iso8601(state.created), "hostname": state.host,
            "hashes": state.hashes, "action": state.action, "cdata": state.cdata,
            "error-codes": []}


def _codes(error: ApiError) -> list[str]:
    """siteverify's codes for a contract error (http.contract_error noted a server-side one)."""
    if isinstance(error, InvalidSecret):
        return ["invalid-input-secret"]
    if error.code in ("bad_request", "missing_input", "wrong_method"):
        return ["bad-request"]
    if not isinstance(error, (InternalError, NotConfigured)):
        observe.note_failure(f"{error.code} has no siteverify code")
    return ["internal-error"]


def _refused(codes: list[str]) -> Response:
    """The refusal's answer (HTTP 200 whatever the error-status setting); the
    log line and the `Verifies` metric carry its codes (`internal-error` as the
    contract's `internal_error`, at ERROR). The front door reads its first code:
    a caller's fault (limits.CALLER_FAULTS) costs the source extra."""
    observe.note_result(observe.INTERNAL_ERROR if codes == ["internal-error"] else ",".join(codes))
    return ErrorResponse(codes[0], 200, body={"success": False, "error-codes": codes})


def _check(request: Request) -> None:
    if request.method not in ACCEPTED_METHODS:
        raise Refused("bad-request")


def _answer(_request: Request, params: Params) -> Response:
    observe.note_token(params.values.get("response"))
    body = siteverify(params, int(time.time()), new_request_id())
    observe.note_answer(body)
    return json_response(body)


def _refuse(error: Exception) -> Response:
    if isinstance(error, Refused):
        return _refused(error.codes)
    return _refused(_codes(contract_error(error)))


def view(app: Chalice) -> Callable[..., Response]:
    """The Chalice view: siteverify's answer shape for everything, HTTP 200."""

    @functools.wraps(siteverify)
    def answer(**_path: str) -> Response:
        return run_view(app, _check, _answer, _refuse)

    return answer
