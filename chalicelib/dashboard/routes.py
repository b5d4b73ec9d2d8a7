"""The dashboard's routes, on a Blueprint app.py registers under `/dashboard`.

Each path declares every method (API Gateway would 403 the others) and is
served by one view of auth.py or views.py through the dashboard's wire
rules (wire.py). The page itself is the prefix's own path, `/dashboard`.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

from chalice.app import Blueprint, Response

from chalicelib import config
from chalicelib.errors import WrongMethod
from chalicelib.http import ALL_METHODS, ANY_CONTENT, error_response, stage_prefix
from chalicelib.pages import dashboard_page

blueprint = Blueprint(__name__)

# path under /dashboard, accepted method, module (auth, views or link_views), view's name
SIGNED_OUT_ROUTES: tuple[tuple[str, str, str, str], ...] = (
    ("/signin", "POST", "auth", "sign_in"),
)
SIGNED_IN_ROUTES: tuple[tuple[str, str, str, str], ...] = (
    ("/session", "GET", "auth", "session_info"),
    ("/signout", "POST", "auth", "sign_out"),
    ("/overview", "GET", "views", "overview"),
    ("/users", "GET", "views", "top_users"),
    ("/user", "GET", "views", "user"),
    ("/user/withdraw", "POST", "views", "withdraw"),
    ("/user/reset", "POST", "views", "reset"),
    ("/links", "GET", "link_views", "site_links"),
    ("/links/create", "POST", "link_views", "create_link"),
    ("/links/disable", "POST", "link_views", "disable_link"),
    ("/links/enable", "POST", "link_views", "enable_link"),
    ("/links/delete", "POST", "link_views", "delete_link"),
    ("/settings", "GET", "views", "settings"),
    ("/settings/origins", "POST", "views", "set_origins"),
    ("/settings/levels", "POST", "views", "set_levels"),
    ("/settings/captcha", "POST", "views", "set_captcha_hashes"),
    ("/settings/rotate", "POST", "auth", "rotate_secret"),
)


def lazy_view(module: str, name: str, accepted: str, signed_in: bool) -> Callable[[], Response]:
    """The route's view, built at its first request: the dashboard's modules (sessions,
    cookies, the sign-in throttle, its views) load when a dashboard request comes, not at
    every cold start of the function that mostly serves /pow/* and the API."""

    @functools.cache
    def built() -> Callable[..., Response]:
        from chalicelib.dashboard import auth, link_views, views, wire

        modules = {"auth": auth, "views": views, "link_views": link_views}
        fn: wire.DashboardFn = getattr(modules[module], name)
        return wire.dashboard_view(blueprint, accepted, signed_in=signed_in)(fn)

    def view() -> Response:
        return built()()

    return view


@blueprint.route("/", methods=ALL_METHODS, content_types=ANY_CONTENT)
def dashboard() -> Response:
    request = blueprint.current_request
    if request.method != "GET":
        return error_response(WrongMethod())
    # Same page signed in or not: its script asks /dashboard/session. Local or deployed
    # by the signing keys' source: a deployed stack always reads them from Secrets
    # Manager (its template sets the secret), a local run never does; the Host header
    # would not tell (a local run behind a proxy, a deployed one under any domain).
    local = not config.settings().signing_secret_id
    return dashboard_page(stage_prefix(request), local)


for signed_in, routes in ((False, SIGNED_OUT_ROUTES), (True, SIGNED_IN_ROUTES)):
    for path, accepted, module, name in routes:
        blueprint.route(path, methods=ALL_METHODS, content_types=ANY_CONTENT,
                        name=f"dashboard_{name}")(lazy_view(module, name, accepted, signed_in))
