"""The wire contract: parameter intake, method rules, JSON answers, errors.

`run_view` is the one skeleton of every view (the API's `contract_view`,
the dashboard's and siteverify's): retry budget, method rules, parameters,
the view, and every exception mapped to an answer. `contract_view` wraps
every API view: any ApiError becomes `{"success": false, "error": code}`
and anything else `internal_error` (details to the log only). `serve`, the
app's one middleware, sees every request: it makes Chalice's own error
answers contract errors, applies the error-status setting, and has
chalicelib/observe.py log the request and publish its metrics.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from chalice.app import Blueprint, Chalice, Request, Response

from chalicelib import front_door, limits, observe
from chalicelib.errors import (
    ApiError,
    BadRequest,
    Busy,
    InternalError,
    NotConfigured,
    NotFound,
    WrongMethod,
)
from chalicelib.params import Params, merge, parse_body
from chalicelib.store import deadline

# Every route declares every method (an undeclared one would be API
# Gateway's 403) and accepts any body type (Chalice defaults to JSON only).
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
ANY_CONTENT = ["application/x-www-form-urlencoded", "application/json",
               "multipart/form-data", "text/plain", "*/*"]
JSON_TYPE = "application/json; charset=utf-8"
# Retry-After exposed: the widget and miner read it from a `busy` answer.
CORS_HEADERS = {"Access-Control-Allow-Origin": "*", "Vary": "Origin",
                "Access-Control-Expose-Headers": "Retry-After"}


def json_response(body: dict[str, Any], status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        headers={"Content-Type": JSON_TYPE, "Cache-Control": "no-store", **(headers or {})},
    )


class ErrorResponse(Response):
    """A contract error answer (status 200); `serve` gives it `rest_status`
    when the operator chose REST-style statuses. `body` replaces the
    contract's error body (siteverify's shape); `result` is what the log
    and metrics call it, when that is not `code`."""

    def __init__(self, code: str, rest_status: int, headers: dict[str, str] | None = None, *,
                 body: dict[str, Any] | None = None, result: str | None = None) -> None:
        answer = json_response(body or {"success": False, "error": code}, 200, headers)
        super().__init__(body=answer.body, status_code=200, headers=answer.headers)
        self.code, self.rest_status = result or code, rest_status


def error_response(error: ApiError, headers: dict[str, str] | None = None) -> Response:
    if isinstance(error, Busy):
        headers = {**(headers or {}), "Retry-After": str(error.retry_after)}
    return ErrorResponse(error.code, error.rest_status, headers)


# What a source over its limit is answered, per route class: `/pow/*` the
# retryable `busy` (readable cross-origin, Retry-After included); the seed
# API `internal_error` (its clients know only the seed's codes); siteverify
# its own shape; the dashboard its sign-in throttle's code.
_BUSY_ANSWERS: dict[str, tuple[str, dict[str, Any] | None, dict[str, str]]] = {
    limits.POW_JOB: ("busy", None, CORS_HEADERS),
    limits.POW_SUBMIT: ("busy", None, CORS_HEADERS),
    limits.API: ("internal_error", None, {}),
    limits.SITEVERIFY: ("internal-error", {"success": False, "error-codes": ["internal-error"]},
                        {}),
    limits.DASHBOARD: ("too_many_attempts", None, {}),
}


def busy_response(route: str, retry_after: int) -> Response:
    """A source over its limit on `route` (a limits route class)."""
    code, body, headers = _BUSY_ANSWERS.get(route, ("busy", None, {}))
    return ErrorResponse(code, 429, {**headers, "Retry-After": str(retry_after)}, body=body,
                         result="busy")


def request_params(request: Any) -> Params:
    query: list[tuple[str, Any]] = []
    multi = request.query_params
    if multi is not None:
        for name in multi.keys():
            values = multi.getlist(name) if hasattr(multi, "getlist") else [multi[name]]
            # In order: merge() lets the last non-empty one win.
            query.extend((name, value) for value in values)
    body_pairs: list[tuple[str, Any]] = []
    if request.method != "GET":
        raw = request.raw_body or b""
        content_type = request.headers.get("content-type")
        body_pairs = parse_body(raw, content_type)
    return merge(query, body_pairs)


def stage_prefix(request: Any) -> str:
    """The path the API is mounted under: the API Gateway stage (`/api`), or ""."""
    context = request.context or {}
    full, resource = context.get("path", ""), context.get("resourcePath", "")
    # The route with its parameters filled in (`/l/{code}` -> `/l/Ab3...`) is
    # what follows the stage in the full path.
    for name, value in (request.uri_params or {}).items():
        resource = resource.replace("{" + name + "}", value)
    prefix = full[: -len(resource)] if resource and full.endswith(resource) else ""
    return prefix.rstrip("/")


def is_https(request: Any) -> bool:
    """Whether the client reached us over HTTPS (API Gateway says so in a header)."""
    proto = str(request.headers.get("x-forwarded-proto", "http"))
    return proto.split(",")[0].strip().lower() == "https"


def base_url(request: Any, public_url: str = "") -> str:
    """The API's public base: `public_url` (the setting) if set, else derived
    from the request (stage included)."""
    if public_url:
        return public_url
    headers = request.headers
    proto = headers.get("x-forwarded-proto", "http").split(",")[0].strip()
    host = headers.get("host", "localhost")
    return f"{proto}://{host}{stage_prefix(request)}".rstrip("/")


def check_method(method: str, accepted: str) -> None:
    if accepted == "POST" and method != "POST":
        raise WrongMethod(method)
    if accepted == "GET" and method not in ("GET", "POST", "HEAD"):
        raise WrongMethod(method)


def run_view(source: Chalice | Blueprint, check: Callable[[Request], None],
             answer: Callable[[Request, Params], Response],
             refuse: Callable[[Exception], Response]) -> Response:
    """Serve the current request: start its retry budget, `check` its method (and
    anything else it must have: raise to refuse), read its parameters, `answer`
    them; any exception becomes `refuse`'s answer (the caller sees a code, the
    log the details)."""
    deadline.start()
    try:
        request = source.current_request
        assert request is not None  # Chalice sets it before calling a view
        check(request)
        return answer(request, request_params(request))
    except Exception as error:
        return refuse(error)


ContractView = Callable[..., dict[str, Any]]


def contract_view(app: Chalice, accepted: str, *,
                  cors: bool = False) -> Callable[[ContractView], Callable[..., Response]]:
    """Decorate a view `fn(params) -> dict` with the whole wire contract."""
    headers = CORS_HEADERS if cors else {}

    def check(request: Request) -> None:
        check_method(request.method, accepted)

    def refuse(error: Exception) -> Response:
        return error_response(contract_error(error), dict(headers))

    def decorate(fn: ContractView) -> Callable[..., Response]:
        @functools.wraps(fn)
        def view(*args: Any) -> Response:
            def answer(_request: Request, params: Params) -> Response:
                observe.note_token(params.values.get("token"))
                body = fn(params, *args)
                observe.note_answer(body)
                return json_response({"success": True, **body}, headers=dict(headers))

            return run_view(app, check, answer, refuse)

        return view

    return decorate


def contract_error(error: Exception) -> ApiError:
    """The contract error a view answers for `error`. A failure on the server's
    side (internal, unhandled, not configured) is noted for the request's log line."""
    if not isinstance(error, ApiError):
        observe.note_failure(f"unhandled {type(error).__name__}", observe.current_exc_info())
        return InternalError()
    if isinstance(error, InternalError):
        observe.note_failure(str(error), observe.current_exc_info())
    elif isinstance(error, NotConfigured):
        observe.note_failure(str(error))  # one line the operator acts on
    return error


def normalise(response: Response, rest_status: bool = False) -> Response:
    """Any non-contract error answer (Chalice's own) made a contract error;
    contract errors get their REST status if `rest_status`."""
    if isinstance(response, ErrorResponse):
        if rest_status:
            response.status_code = response.rest_status
        return response
    if response.status_code < 400:
        return response
    # A page the app made for a browser (a disabled link's 410): Chalice's own errors are
    # never HTML.
    if str(response.headers.get("Content-Type", "")).startswith("text/html"):
        return response
    body = response.body
    if isinstance(body, (bytes, str)):
        try:
            decoded = json.loads(body)
        except ValueError:
            decoded = None
    else:
        decoded = body
    if isinstance(decoded, dict) and decoded.get("success") is False and "error" in decoded:
        return response
    status = response.status_code
    if status in (403, 404):
        error: ApiError = NotFound()
    elif status == 405:
        error = WrongMethod()
    elif status < 500:
        error = BadRequest()
    else:
        error = InternalError()
    return normalise(error_response(error), rest_status)


def result_of(response: Response | None) -> str:
    """A request's result for the log and metrics: `success` or the error code."""
    if isinstance(response, ErrorResponse):
        return response.code
    return observe.SUCCESS if response is not None and response.status_code < 400 \
        else observe.INTERNAL_ERROR


def serve(request: Request, get_response: Callable[[Request], Response],
          rest_status: bool, log_sample: float = 1.0) -> Response:
    """The app's middleware: every source within its limits (checked before
    anything else runs), every answer in the contract, every request logged."""
    context = request.context or {}
    record = observe.start(route=str(context.get("resourcePath", "")), method=request.method,
                           request_id=str(context.get("requestId", "")))
    response: Response | None = None
    try:
        route, wait = front_door.check(context)
        if wait:
            response = normalise(busy_response(route, wait), rest_status)
            return response
        response = normalise(get_response(request), rest_status)
        wait = front_door.after(context, result_of(response))
        if wait:
            # Junk past the source's allowance: told to wait, not what was wrong.
            response = normalise(busy_response(route, wait), rest_status)
        return response
    finally:
        observe.finish(record, result_of(response),
                       response.status_code if response is not None else 500, log_sample)
