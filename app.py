"""Workproof's routes: read the request, call chalicelib, shape the answer."""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from chalice.app import CORSConfig, Request, Response

from chalicelib import (
    api,
    config,
    links,
    mining,
    observe,
    siteverify,
    sources,
)
from chalicelib.dashboard import routes as dashboard_routes
from chalicelib.errors import ApiError, NotFound
from chalicelib.http import (
    ALL_METHODS,
    ANY_CONTENT,
    base_url,
    contract_view,
    error_response,
    serve,
)
from chalicelib.lambda_app import WorkproofApp
from chalicelib.library import COMPAT_SCRIPTS
from chalicelib.pages import compat_script, library_response, link_page, openapi_file
from chalicelib.params import Params
from chalicelib.store import models

# Read and checked once, at cold start: a bad value fails the function's init
# with one line naming the variable (config.SettingsError).
config.use(config.Settings.from_environ(os.environ))

# Chalice's own log setup would put the shared "workproof" logger at ERROR:
# chalicelib/observe.py's Powertools Logger owns it. One handler for both
# front doors: API Gateway's events and CloudFront's function URL ones.
app = WorkproofApp(app_name="workproof", configure_logs=False)
models.bind(config.settings().tables, config.settings().region)

POW_CORS = CORSConfig(allow_origin="*", allow_headers=["Content-Type"], max_age=600,
                      expose_headers=["Retry-After"])


View = Callable[..., dict[str, Any]]


def _route(path: str, accepted: str, **kwargs: Any) -> Callable[[View], Callable[..., Response]]:
    """Declare every method on `path` (API Gateway would 403 the others)."""
    def decorate(fn: View) -> Callable[..., Response]:
        view = contract_view(app, accepted, cors="cors" in kwargs)(fn)
        app.route(path, methods=ALL_METHODS, content_types=ANY_CONTENT, **kwargs)(view)
        return view
    return decorate


def _request() -> Request:
    """The request being served (Chalice sets it before calling a view)."""
    request = app.current_request
    assert request is not None
    return request


def _base_url() -> str:
    """The API's public base: configured, else derived from the request (stage included)."""
    return base_url(_request(), config.settings().public_url)


@_route("/token/verify", "POST")
def token_verify(params: Params) -> dict[str, Any]:
    return api.token_verify(params)


@_route("/user/balance", "GET")
def user_balance(params: Params) -> dict[str, Any]:
    return api.user_balance(params)


@_route("/user/withdraw", "POST")
def user_withdraw(params: Params) -> dict[str, Any]:
    return api.user_withdraw(params)


@_route("/user/top", "GET")
def user_top(params: Params) -> dict[str, Any]:
    return api.user_top(params)


@_route("/user/list", "GET")
def user_list(params: Params) -> dict[str, Any]:
    return api.user_list(params)


@_route("/user/reset", "POST")
def user_reset(params: Params) -> dict[str, Any]:
    return api.user_reset(params)


@_route("/user/reset-all", "POST")
def user_reset_all(params: Params) -> dict[str, Any]:
    return api.user_reset_all(params)


@_route("/link/create", "POST")
def link_create(params: Params) -> dict[str, Any]:
    return api.link_create(params, _base_url())


@_route("/stats/payout", "GET")
def stats_payout(params: Params) -> dict[str, Any]:
    return api.stats_payout(params, config.settings().min_work)


@_route("/stats/site", "GET")
def stats_site(params: Params) -> dict[str, Any]:
    return api.stats_site(params)


@_route("/stats/history", "GET")
def stats_history(params: Params) -> dict[str, Any]:
    return api.stats_history(params)


def _origin() -> str | None:
    origin: str | None = _request().headers.get("origin")
    return origin


def _source() -> str:
    return sources.source_of(_request().context)


@_route("/pow/job", "POST", cors=POW_CORS)
def pow_job(params: Params) -> dict[str, Any]:
    settings = config.settings()
    return mining.issue_job(params, _origin(), int(time.time()), settings.min_work, settings.job_ttl,
                            _source())


@_route("/pow/submit", "POST", cors=POW_CORS)
def pow_submit(params: Params) -> dict[str, Any]:
    settings = config.settings()
    return mining.submit(params, _origin(), int(time.time()), settings.min_work,
                         settings.job_ttl, _source())


# reCAPTCHA / hCaptcha / Turnstile verify calls (their answer shape, not Coinhive's).
for number, path in enumerate(siteverify.PATHS):
    app.route(path, methods=ALL_METHODS, content_types=ANY_CONTENT,
              name=f"siteverify_{number}")(siteverify.view(app))


@app.route("/l/{code}", methods=["GET"])
def shortlink_page(code: str) -> Response:
    try:
        link = links.get(code, include_disabled=True)
    except ApiError as error:
        return error_response(error)
    # The page loads the library and calls /pow/* under the API's own base
    # (the stage path when deployed), so it needs the absolute base URL.
    return link_page(link, _base_url(), _request().headers.get("accept-language"))


# The operator's dashboard (chalicelib/dashboard/).
app.register_blueprint(dashboard_routes.blueprint, url_prefix="/dashboard")


@app.route("/lib/{name}", methods=["GET"])
def library_file(name: str) -> Response:
    return library_response(name, _request().headers.get("if-none-match"))


def _compat_view(path: str) -> Callable[[], Response]:
    def serve_script() -> Response:
        return compat_script(path)
    return serve_script


# reCAPTCHA's and Turnstile's script paths: their browser APIs over the widget.
for number, path in enumerate(COMPAT_SCRIPTS):
    app.route(path, methods=["GET"], name=f"compat_script_{number}")(_compat_view(path))


@app.route("/openapi.json", methods=["GET"])
def openapi() -> Response:
    return openapi_file()


@app.lambda_function(name="streams")
def stream_consumer(event: dict[str, Any], _context: Any) -> Mapping[str, int]:
    """The guards', tokens' and ledger's DynamoDB streams (event source mappings
    in deploy/merge-template.json): stats, captcha counts, link visits, ranks.
    One log line and one set of metrics per batch."""
    from chalicelib import streams  # the API function never needs the consumer's modules

    return observe.consume(streams.handle_event, event)


@app.lambda_function(name="verify")
def verify_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The backends' token verifications (/siteverify, /recaptcha/api/siteverify,
    /turnstile/v0/siteverify, /token/verify), routed here by CloudFront
    (deploy/merge-template.json): the same app and handler as the API function,
    in a function with its own reserved concurrency, which a flood of
    /pow/* requests filling the API function's cannot take."""
    return app(event, context)


# Unknown paths answer `not_found` (Chalice local would answer 403), to
# OPTIONS too (else a CORS preflight answer). Chalice has no greedy
# `{proxy+}` route, so every depth needs its own catch-all; 12 segments is
# deeper than any path a client plausibly sends.
NOT_FOUND_DEPTH = 12
NOT_FOUND_METHODS = [*ALL_METHODS, "OPTIONS"]


def _not_found(**_captured: str) -> Response:
    return error_response(NotFound())


for depth in range(1, NOT_FOUND_DEPTH + 1):
    path = "".join(f"/{{p{i}}}" for i in range(depth))
    app.route(path, methods=NOT_FOUND_METHODS, content_types=ANY_CONTENT,
              name=f"not_found_{depth}")(_not_found)
app.route("/", methods=NOT_FOUND_METHODS, content_types=ANY_CONTENT, name="not_found_root")(_not_found)


@app.middleware("http")
def contract_errors(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Chalice's own error answers (415, 405, 500...) become contract errors;
    every request is logged and counted (chalicelib/http.py `serve`)."""
    settings = config.settings()
    return serve(event, get_response, settings.rest_status, settings.log_sample)
