"""The API function's one handler (`app.app`) behind its two front doors.

API Gateway's REST events (payload 1.0) reach Chalice as they are. A
function URL event (payload 2.0) is CloudFront's only if it carries the
front door's secret in `x-workproof-origin` (the SecretString of the
secret `WORKPROOF_ORIGIN_SECRET_ARN` names, read at the first such event
and kept, compared in constant time; a header that differs has the secret
read again, at most once a RECHECK_SECONDS, so a rotated secret is taken
up by warm containers too while a flood of wrong headers costs a read a
minute). Without it
(the function URL hit directly, or no secret configured) the request is
refused `forbidden` before any DynamoDB call and before routing, and one
line is logged (never a header's value). With it, chalicelib/function_url.py
makes it the REST event Chalice routes, and Chalice's answer a 2.0 answer.
"""
from __future__ import annotations

import hmac
import time
from collections.abc import Mapping
from typing import Any

from chalice.app import Chalice, Response, RouteEntry

from chalicelib import config, function_url, observe, secret_refs
from chalicelib.errors import ApiError, Forbidden, InternalError, NotFound
from chalicelib.http import error_response, normalise

# (secret id, its string, when it was read): read at the first request, again
# if the setting changes, or (at most once a RECHECK_SECONDS) when a header differs.
_origin_secret: tuple[str, str, float] | None = None
RECHECK_SECONDS = 60.0


def origin_secret(secret_id: str, recheck: bool = False) -> str:
    """The front door's secret (a Secrets Manager read the first time; `recheck`:
    again if the last read is RECHECK_SECONDS old)."""
    global _origin_secret
    now = time.monotonic()
    stale = _origin_secret is not None and recheck and now - _origin_secret[2] >= RECHECK_SECONDS
    if _origin_secret is None or _origin_secret[0] != secret_id or stale:
        _origin_secret = (secret_id, secret_refs.read_secret_string(secret_id), now)
    return _origin_secret[1]


def forget_origin_secret() -> None:
    """Read the secret again at the next request (tests)."""
    global _origin_secret
    _origin_secret = None


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"),
                               expected.encode("utf-8", "surrogatepass"))


def refusal(headers: dict[str, Any], secret_id: str) -> str | None:
    """Why a function URL request is not the front door's (None: it is)."""
    given = next((str(value) for name, value in headers.items()
                  if str(name).lower() == function_url.ORIGIN_HEADER), None)
    if not secret_id:
        return "no front door configured"
    if given is None:
        return "no origin header"
    expected = origin_secret(secret_id)
    if not expected:
        return "the origin secret is empty"
    if _same(given, expected):
        return None
    # Rotated since it was read? (At most one read a RECHECK_SECONDS.)
    fresh = origin_secret(secret_id, recheck=True)
    return None if fresh and _same(given, fresh) else "wrong origin header"


def _answer(error: ApiError, rest_status: bool) -> dict[str, Any]:
    response: Response = normalise(error_response(error), rest_status)
    return function_url.url_response(response.to_dict())


def preflight(methods: Mapping[str, RouteEntry]) -> dict[str, Any] | None:
    """A CORS route's preflight answer, as API Gateway's generated OPTIONS method
    gives it without calling the function; None for a route without CORS."""
    with_cors = [method for method, entry in methods.items() if entry.cors is not None]
    if not with_cors or "OPTIONS" in methods:
        return None
    headers = methods[with_cors[0]].cors.get_access_control_headers()
    headers["Access-Control-Allow-Methods"] = ",".join([*with_cors, "OPTIONS"])
    return {"statusCode": 200, "headers": headers, "body": "", "isBase64Encoded": False}


class WorkproofApp(Chalice):
    """Chalice, also serving Lambda function URL events (see the module's docstring)."""

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        if not function_url.is_function_url_event(event):
            return super().__call__(event, context)
        settings = config.settings()
        request_id = str(event["requestContext"].get("requestId", ""))
        try:
            why = refusal(event.get("headers") or {}, settings.origin_secret_id)
        except Exception as error:  # Secrets Manager unreachable, denied...: ours to fix
            observe.LOGGER.error("function url: cannot read the origin secret", extra={
                "request_id": request_id, "result": "internal_error",
                "detail": type(error).__name__})
            return _answer(InternalError(), settings.rest_status)
        if why is not None:
            answer = _answer(Forbidden(), settings.rest_status)
            # A flood of direct hits would pay a line each: a sample of them, like busy.
            if observe.in_sample(request_id, settings.log_sample):
                observe.LOGGER.warning("function url request refused", extra={
                    "request_id": request_id, "method": event["requestContext"]["http"].get("method"),
                    "result": Forbidden.code, "status": answer["statusCode"], "reason": why,
                    **({"sampled": settings.log_sample} if settings.log_sample < 1.0 else {})})
            return answer
        rest = function_url.rest_event(event, self.routes)
        if rest is None:  # a path no route has the shape of (API Gateway's own not_found)
            return _answer(NotFound(), settings.rest_status)
        if rest["httpMethod"] == "OPTIONS":
            cors = preflight(self.routes[rest["resource"]])
            if cors is not None:
                return cors
        return function_url.url_response(super().__call__(rest, context))
