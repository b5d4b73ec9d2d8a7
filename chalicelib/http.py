"""The wire contract: parameter intake, method rules, JSON answers, errors.

`contract_view` wraps every API view: method check, body decoding, then
the view; any ApiError becomes `{"success": false, "error": code}` and
anything else `internal_error` (details to the log only).
"""
from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from chalice import Response

from chalicelib import config, deadline
from chalicelib.errors import ApiError, BadRequest, InternalError, NotConfigured, NotFound, WrongMethod
from chalicelib.params import Params, merge, parse_body

LOG = logging.getLogger("workproof")

# Every route declares every method (an undeclared one would be API
# Gateway's 403) and accepts any body type (Chalice defaults to JSON only).
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
ANY_CONTENT = ["application/x-www-form-urlencoded", "application/json",
               "multipart/form-data", "text/plain", "*/*"]
JSON_TYPE = "application/json; charset=utf-8"
CORS_HEADERS = {"Access-Control-Allow-Origin": "*", "Vary": "Origin"}


def json_response(body: dict[str, Any], status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        headers={"Content-Type": JSON_TYPE, "Cache-Control": "no-store", **(headers or {})},
    )


def error_response(error: ApiError, headers: dict[str, str] | None = None) -> Response:
    status = error.rest_status if config.rest_status_codes() else 200
    return json_response({"success": False, "error": error.code}, status, headers)


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
    proto = request.headers.get("x-forwarded-proto", "http")
    return proto.split(",")[0].strip().lower() == "https"


def base_url(request: Any) -> str:
    """The API's public base: configured, else derived from the request (stage included)."""
    configured = config.public_url()
    if configured:
        return configured
    headers = request.headers
    proto = headers.get("x-forwarded-proto", "http").split(",")[0].strip()
    host = headers.get("host", "localhost")
    return f"{proto}://{host}{stage_prefix(request)}".rstrip("/")


def check_method(method: str, accepted: str) -> None:
    if accepted == "POST" and method != "POST":
        raise WrongMethod(method)
    if accepted == "GET" and method not in ("GET", "POST", "HEAD"):
        raise WrongMethod(method)


def contract_view(app: Any, accepted: str, *, cors: bool = False) -> Callable:
    """Decorate a view `fn(params) -> dict` with the whole wire contract."""

    def decorate(fn: Callable[..., dict[str, Any]]) -> Callable[..., Response]:
        @functools.wraps(fn)
        def view(*args: Any) -> Response:
            headers = dict(CORS_HEADERS) if cors else {}
            deadline.start()
            try:
                request = app.current_request
                check_method(request.method, accepted)
                params = request_params(request)
                body = fn(params, *args)
                return json_response({"success": True, **body}, headers=headers)
            except ApiError as error:
                if isinstance(error, InternalError):
                    LOG.error("internal error: %s", error)
                elif isinstance(error, NotConfigured):
                    LOG.error("%s", error)  # one line the operator acts on
                return error_response(error, headers)
            except Exception:  # the caller sees a contract code, the log the details
                LOG.exception("unhandled error")
                return error_response(InternalError(), headers)

        return view

    return decorate


def normalise(response: Response) -> Response:
    """Turn any non-contract error answer (Chalice's own) into the contract."""
    if response.status_code < 400:
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
    return error_response(error)
