"""Workproof's routes: read the request, call chalicelib, shape the answer."""
from __future__ import annotations

import time
from pathlib import Path

from chalice import Chalice, CORSConfig, Response

from chalicelib import api, config, links, mining, models, streams
from chalicelib.errors import ApiError, NotFound
from chalicelib.http import (
    ALL_METHODS,
    ANY_CONTENT,
    contract_view,
    error_response,
    normalise,
)
from chalicelib.pages import link_page, static_file

app = Chalice(app_name="workproof")
models.bind()

POW_CORS = CORSConfig(allow_origin="*", allow_headers=["Content-Type"], max_age=600)


def _route(path: str, accepted: str, **kwargs):
    """Declare every method on `path` (API Gateway would 403 the others)."""
    def decorate(fn):
        return app.route(path, methods=ALL_METHODS, content_types=ANY_CONTENT, **kwargs)(
            contract_view(app, accepted, cors="cors" in kwargs)(fn))
    return decorate


def _base_url() -> str:
    """The API's public base: configured, else derived from the request (stage included)."""
    configured = config.public_url()
    if configured:
        return configured
    request = app.current_request
    headers = request.headers
    proto = headers.get("x-forwarded-proto", "http").split(",")[0].strip()
    host = headers.get("host", "localhost")
    context = request.context or {}
    full, resource = context.get("path", ""), context.get("resourcePath", "")
    # The route with its parameters filled in (`/l/{code}` -> `/l/Ab3...`) is
    # what follows the stage in the full path.
    for name, value in (request.uri_params or {}).items():
        resource = resource.replace("{" + name + "}", value)
    stage_prefix = full[: -len(resource)] if resource and full.endswith(resource) else ""
    return f"{proto}://{host}{stage_prefix}".rstrip("/")


@_route("/token/verify", "POST")
def token_verify(params):
    return api.token_verify(params)


@_route("/user/balance", "GET")
def user_balance(params):
    return api.user_balance(params)


@_route("/user/withdraw", "POST")
def user_withdraw(params):
    return api.user_withdraw(params)


@_route("/user/top", "GET")
def user_top(params):
    return api.user_top(params)


@_route("/user/list", "GET")
def user_list(params):
    return api.user_list(params)


@_route("/user/reset", "POST")
def user_reset(params):
    return api.user_reset(params)


@_route("/user/reset-all", "POST")
def user_reset_all(params):
    return api.user_reset_all(params)


@_route("/link/create", "POST")
def link_create(params):
    return api.link_create(params, _base_url())


@_route("/stats/payout", "GET")
def stats_payout(params):
    return api.stats_payout(params)


@_route("/stats/site", "GET")
def stats_site(params):
    return api.stats_site(params)


@_route("/stats/history", "GET")
def stats_history(params):
    return api.stats_history(params)


def _origin() -> str | None:
    return app.current_request.headers.get("origin")


@_route("/pow/job", "POST", cors=POW_CORS)
def pow_job(params):
    return mining.issue_job(params, _origin(), int(time.time()), config.min_work(),
                            config.job_ttl())


@_route("/pow/submit", "POST", cors=POW_CORS)
def pow_submit(params):
    return mining.submit(params, _origin(), int(time.time()), config.min_work(),
                         config.job_ttl())


@app.route("/l/{code}", methods=["GET"])
def shortlink_page(code):
    try:
        link = links.get(code)
    except ApiError as error:
        return error_response(error)
    # The page loads the library and calls /pow/* under the API's own base
    # (the stage path when deployed), so it needs the absolute base URL.
    return link_page(link, _base_url())


@app.route("/lib/{name}", methods=["GET"])
def library_file(name):
    return static_file(name)


@app.route("/openapi.json", methods=["GET"])
def openapi():
    return static_file("openapi.json", folder=Path(__file__).parent / "chalicelib")


@app.lambda_function(name="streams")
def stream_consumer(event, _context):
    """The guards', tokens' and ledger's DynamoDB streams (event source mappings
    in deploy/merge-template.json): stats, captcha counts, link visits, ranks."""
    return streams.handle_event(event)


# Unknown paths answer `not_found` (Chalice local would answer 403), to
# OPTIONS too (else a CORS preflight answer). Chalice has no greedy
# `{proxy+}` route, so every depth needs its own catch-all; 12 segments is
# deeper than any path a client plausibly sends.
NOT_FOUND_DEPTH = 12
NOT_FOUND_METHODS = [*ALL_METHODS, "OPTIONS"]


def _not_found(**_captured):
    return error_response(NotFound())


for depth in range(1, NOT_FOUND_DEPTH + 1):
    path = "".join(f"/{{p{i}}}" for i in range(depth))
    app.route(path, methods=NOT_FOUND_METHODS, content_types=ANY_CONTENT,
              name=f"not_found_{depth}")(_not_found)
app.route("/", methods=NOT_FOUND_METHODS, content_types=ANY_CONTENT, name="not_found_root")(_not_found)


@app.middleware("http")
def contract_errors(event, get_response) -> Response:
    """Chalice's own error answers (415, 405, 500...) become contract errors."""
    return normalise(get_response(event))
