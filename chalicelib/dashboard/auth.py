"""Dashboard sign-in, the session's own view, sign-out and secret rotation.

The secret arrives once, in the JSON body of the sign-in POST (a secret in the
query string is refused, so it never sits in a URL or an access log), is
checked like the API checks it (`sites.authenticate`), and is never answered,
stored or logged; what the browser keeps is the signed session cookie.
"""
from __future__ import annotations

from typing import Any

from chalicelib import sites
from chalicelib.dashboard import session as sessions
from chalicelib.dashboard import throttle
from chalicelib.dashboard.session import DashboardError
from chalicelib.dashboard.wire import Call, Reply
from chalicelib.errors import ApiError, BadRequest, InvalidSecret, MissingInput


class SecretRequired(DashboardError):
    """An action that changes who can act for the site came without the current secret."""

    code, rest_status = "secret_required", 403


def _site_json(site: sites.SiteInfo) -> dict[str, Any]:
    return {"name": site.name, "siteKey": site.site_key}


def _session_json(call: Call, session: sessions.Session,
                  site: sites.SiteInfo) -> dict[str, Any]:
    return {"site": _site_json(site), "csrf": sessions.csrf_token(session),
            "expires": session.expires}


def _secret_of(site_key: str, secret: object) -> sites.SiteInfo:
    """The site if `secret` is its current secret, else InvalidSecret (one
    refusal for every way of being wrong, so none tells another apart)."""
    try:
        if not isinstance(secret, str):
            raise InvalidSecret("secret is not a string")
        site = sites.authenticate(secret)
        # Site keys are public: an ordinary comparison is fine here.
        if site.site_key != site_key:
            raise InvalidSecret("secret of another site")
    except ApiError:
        raise InvalidSecret("not the site's secret") from None
    return site


def _checked_secret(call: Call, site_key: str, secret: object) -> sites.SiteInfo:
    """`_secret_of`, counted by the throttle per (source, site key)."""
    if not sites.is_site_key(site_key):
        raise InvalidSecret("no such site key")  # no site's secret is checked at all
    return throttle.checked(call.source, site_key, call.now,
                            lambda: _secret_of(site_key, secret))


def sign_in(call: Call) -> Reply:
    query = call.request.query_params or {}
    if "secret" in query:
        raise BadRequest("the secret goes in the POST body, never in the URL")
    site_key = call.params.string("site_key", required=False, max_chars=64)
    secret = call.params.values.get("secret")
    if not site_key or secret is None:
        raise MissingInput("site_key and secret are required")
    site = _checked_secret(call, site_key, secret)
    anchor = sites.session_anchor(site.site_key)
    if anchor is None:
        raise InvalidSecret("site vanished")
    session, value = sessions.issue(anchor, call.now_ms)
    return Reply(_session_json(call, session, anchor.site),
                 {"Set-Cookie": sessions.set_cookie(value, call.cookie_path, call.https)})


def session_info(call: Call) -> dict[str, Any]:
    assert call.session is not None
    return _session_json(call, call.session, call.signed_site())


def sign_out(call: Call) -> Reply:
    """Ends every session of the site issued until now (see session.py)."""
    sites.end_sessions(call.signed_site().site_key, call.now_ms)
    return Reply({}, {"Set-Cookie": sessions.clear_cookie(call.cookie_path, call.https)})


def _current_secret(call: Call) -> None:
    """The request carries the site's current secret (`secret` in its body), else a
    refusal: a stolen session must not be enough to change who can act for the site.
    Checked under the sign-in throttle, like a sign-in."""
    secret = call.params.values.get("secret")
    if secret is None:
        raise SecretRequired("this action needs the current secret")
    _checked_secret(call, call.signed_site().site_key, secret)


def rotate_secret(call: Call) -> Reply:
    """A new secret, answered this once; every session of the old one is over,
    this one included (sign in again with the new secret). Asks for the
    current secret again (see `_current_secret`)."""
    _current_secret(call)
    site = call.signed_site()
    secret = sites.rotate_secret(site.site_key)
    return Reply({"siteKey": site.site_key, "secret": secret},
                 {"Set-Cookie": sessions.clear_cookie(call.cookie_path, call.https)})
