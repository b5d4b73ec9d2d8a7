"""The dashboard's wire rules: session check, CSRF, JSON bodies, answers.

`dashboard_view` wraps every dashboard JSON route: method check, then (for
signed-in routes) the session cookie and its site, then for POSTs a JSON body
and the CSRF header; any refusal becomes `{"success": false, "error": code}`
with the same status rules as the API. No parameter, cookie or secret is ever
logged.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalice.app import Blueprint, Chalice, Request, Response

from chalicelib import config, observe, sources
from chalicelib.dashboard import session as sessions
from chalicelib.dashboard.session import DashboardError, Session, SignedOut
from chalicelib.dashboard.throttle import TooManyAttempts
from chalicelib.errors import BadRequest
from chalicelib.http import (
    ErrorResponse,
    base_url,
    check_method,
    contract_error,
    error_response,
    is_https,
    json_response,
    run_view,
    stage_prefix,
)
from chalicelib.params import Params
from chalicelib.sites import SiteInfo

CSRF_HEADER = "x-workproof-csrf"
# Browsers' own security headers for every dashboard answer.
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                    "X-Frame-Options": "DENY"}


@dataclass(frozen=True)
class Call:
    """One dashboard request, as a view needs it."""

    request: Any
    params: Params
    now_ms: int
    session: Session | None = None
    site: SiteInfo | None = None

    @property
    def base_url(self) -> str:
        """The API's public base URL (the configured one, else the request's)."""
        return base_url(self.request, config.settings().public_url)

    @property
    def now(self) -> int:
        return self.now_ms // 1000

    @property
    def source(self) -> str:
        """The client's source, as the rest of the app identifies it (never a spoofable header)."""
        return sources.source_of(self.request.context)

    @property
    def cookie_path(self) -> str:
        return f"{stage_prefix(self.request)}/dashboard"

    @property
    def https(self) -> bool:
        return is_https(self.request)

    def signed_site(self) -> SiteInfo:
        assert self.site is not None, "a signed-in route"
        return self.site


@dataclass
class Reply:
    """A success body with extra headers (a cookie being set or cleared)."""

    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def now_ms() -> int:
    return int(time.time() * 1000)


def _refusal(error: DashboardError, call_request: Any) -> Response:
    headers = dict(SECURITY_HEADERS)
    if isinstance(error, SignedOut):
        # Drop a dead cookie, so the browser stops sending it.
        headers["Set-Cookie"] = sessions.clear_cookie(
            f"{stage_prefix(call_request)}/dashboard", is_https(call_request))
    if isinstance(error, TooManyAttempts):
        headers["Retry-After"] = str(error.retry_after)
    # The API's status rules: 200, or the REST status when the operator chose it (http.serve).
    return ErrorResponse(error.code, error.rest_status, headers)


def _json_body(request: Any) -> None:
    """POSTs are JSON: an HTML form (even text/plain) from another site cannot send that
    without a CORS preflight, which the dashboard never grants."""
    media = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise BadRequest("dashboard POSTs are application/json")


DashboardFn = Callable[["Call"], "dict[str, Any] | Reply"]


def _signed_in(call: Call, posted: bool) -> Call:
    """The call with its session and site, or SignedOut (and a POST's CSRF check)."""
    value = sessions.cookie_value(call.request.headers.get("cookie"))
    if value is None:
        raise SignedOut("no session cookie")
    session = sessions.decode(value, call.now)
    site = sessions.check(session)
    if posted:
        sessions.check_csrf(session, call.request.headers.get(CSRF_HEADER))
    observe.note_site(site.site_key)
    return Call(call.request, call.params, call.now_ms, session, site)


def dashboard_view(app: Chalice | Blueprint, accepted: str, *,
                   signed_in: bool = True) -> Callable[[DashboardFn], Callable[..., Response]]:
    """Decorate a view `fn(call) -> dict | Reply` with the dashboard's rules."""
    posted = accepted == "POST"

    def check(request: Request) -> None:
        check_method(request.method, accepted)
        if posted:
            _json_body(request)

    def refuse(error: Exception) -> Response:
        if isinstance(error, DashboardError):
            return _refusal(error, app.current_request)
        return error_response(contract_error(error), SECURITY_HEADERS)

    def decorate(fn: DashboardFn) -> Callable[..., Response]:
        def answer(request: Request, params: Params) -> Response:
            call = Call(request, params, now_ms())
            result = fn(_signed_in(call, posted) if signed_in else call)
            reply = result if isinstance(result, Reply) else Reply(result)
            return json_response({"success": True, **reply.body},
                                 headers={**SECURITY_HEADERS, **reply.headers})

        @functools.wraps(fn)
        def view(*_args: Any) -> Response:
            return run_view(app, check, answer, refuse)

        return view

    return decorate
