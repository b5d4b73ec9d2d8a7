"""The dashboard's routes, on a Blueprint app.py registers under `/dashboard`.

Each path declares every method (API Gateway would 403 the others) and is
served by one view of auth.py or views.py through the dashboard's wire
rules (wire.py). The page itself is the prefix's own path, `/dashboard`.
"""
from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.dashboard import auth, views
from chalicelib.dashboard.wire import DashboardFn, dashboard_view
from chalicelib.errors import WrongMethod
from chalicelib.http import ALL_METHODS, ANY_CONTENT, error_response, stage_prefix
from chalicelib.pages import dashboard_page

blueprint = Blueprint(__name__)

# path under /dashboard, accepted method, view
SIGNED_OUT_ROUTES: tuple[tuple[str, str, DashboardFn], ...] = (
    ("/signin", "POST", auth.sign_in),
)
SIGNED_IN_ROUTES: tuple[tuple[str, str, DashboardFn], ...] = (
    ("/session", "GET", auth.session_info),
    ("/signout", "POST", auth.sign_out),
    ("/overview", "GET", views.overview),
    ("/users", "GET", views.top_users),
    ("/user", "GET", views.user),
    ("/user/withdraw", "POST", views.withdraw),
    ("/user/reset", "POST", views.reset),
    ("/links", "GET", views.site_links),
    ("/settings", "GET", views.settings),
    ("/settings/origins", "POST", views.set_origins),
    ("/settings/levels", "POST", views.set_levels),
    ("/settings/captcha", "POST", views.set_captcha_hashes),
    ("/settings/rotate", "POST", auth.rotate_secret),
)


@blueprint.route("/", methods=ALL_METHODS, content_types=ANY_CONTENT)
def dashboard() -> Response:
    request = blueprint.current_request
    if request.method != "GET":
        return error_response(WrongMethod())
    # Same page signed in or not: its script asks /dashboard/session.
    return dashboard_page(stage_prefix(request))


for signed_in, routes in ((False, SIGNED_OUT_ROUTES), (True, SIGNED_IN_ROUTES)):
    for path, accepted, fn in routes:
        view = dashboard_view(blueprint, accepted, signed_in=signed_in)(fn)
        view.__doc__ = None  # written for readers: Chalice would publish it as the route's summary
        blueprint.route(path, methods=ALL_METHODS, content_types=ANY_CONTENT,
                        name=f"dashboard_{fn.__name__}")(view)
