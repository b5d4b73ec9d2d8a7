"""Browser-facing files served by the API: the library, the shortlink page, the dashboard.

What /lib/ holds is chalicelib/library.py; here, how it is answered: a plain
name redirects to its hashed name for a few minutes, a hashed name is
immutable for a year.
"""
from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from chalice.app import Response

from chalicelib import library
from chalicelib.errors import NotFound
from chalicelib.http import error_response
from chalicelib.library import COMPAT_SCRIPTS, STATIC_DIR, read
from chalicelib.links import LinkInfo, display_host

OPENAPI_FILE = Path(__file__).parent / "openapi.json"
_PLACEHOLDER = re.compile(r"\{\{([A-Za-z_]+)\}\}")
_TYPES = {".js": "text/javascript; charset=utf-8", ".html": "text/html; charset=utf-8",
          ".json": "application/json; charset=utf-8", ".css": "text/css; charset=utf-8"}
_LIBRARY_HEADERS = {"Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff"}
IMMUTABLE = "public, max-age=31536000, immutable"
# A stable name's redirect: a deploy's new bytes reach pages within this many seconds.
REDIRECT_CACHE = "public, max-age=300"
# The link page's own text, filled in the visitor's language (keys of i18n.js).
_LINK_TEXT = ("linkTitle", "linkTo", "linkWork", "hashesLabel", "estimateLabel", "linkNote", "noscript")


@lru_cache(maxsize=8)
def _template(name: str) -> str:
    """A page of static/ with its library references written as hashed names."""
    return library.with_hashed_references(read(STATIC_DIR / name))


def _redirect(location: str) -> Response:
    # A relative reference: right under any stage path or custom domain's base path.
    return Response(body="", status_code=307,
                    headers={"Location": location, "Cache-Control": REDIRECT_CACHE,
                             "Content-Type": "text/plain; charset=utf-8", **_LIBRARY_HEADERS})


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags


def library_response(name: str, if_none_match: str | None = None) -> Response:
    """/lib/<name>: a plain name (a bundle or LIBRARY_FILES) redirects (307) to its
    hashed name; the hashed name of a file's current bytes serves them, immutable
    (304 to a matching If-None-Match); anything else answers not_found."""
    if name in library.PLAIN_NAMES:
        return _redirect(library.hashed_name(name))
    plain = library.unhashed(name)
    body = library.source(plain) if plain is not None else None
    if plain is None or body is None:
        return error_response(NotFound())
    etag = f'"{library.content_hash(plain)}"'
    headers: dict[str, str | list[str]] = {"Cache-Control": IMMUTABLE, "ETag": etag, **_LIBRARY_HEADERS}
    if _etag_matches(if_none_match, etag):
        return Response(body="", status_code=304, headers=headers)
    return Response(body=body, status_code=200,
                    headers={"Content-Type": _TYPES[Path(plain).suffix], **headers})


def compat_script(path: str) -> Response:
    """/recaptcha/api.js or /turnstile/v0/api.js: a redirect to the bundle's hashed
    name under /lib/. The script reads its flavor and the API's base from its
    <script src> (the URL the page wrote, not the redirect's)."""
    up = "../" * (path.count("/") - 1)
    return _redirect(f"{up}lib/{library.hashed_name(COMPAT_SCRIPTS[path])}")


def openapi_file() -> Response:
    """The API's OpenAPI description."""
    return Response(body=read(OPENAPI_FILE), status_code=200,
                    headers={"Content-Type": _TYPES[".json"], "Cache-Control": "public, max-age=300",
                             **_LIBRARY_HEADERS})


def link_page_csp(api_base: str) -> str:
    """The page runs only the API's own scripts, styles and workers (no inline code)."""
    parts = urlsplit(api_base)
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    own = " ".join(filter(None, ("'self'", origin)))
    return (f"default-src 'none'; script-src {own} 'wasm-unsafe-eval'; style-src {own}; "
            f"connect-src {own}; worker-src {own} blob:; img-src 'none'; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'")


def render_link_page(host: str, hashes: int, code: str, site_key: str, api_base: str,
                     accept_language: str | None) -> tuple[str, str]:
    """(html, language code): link.html filled in, in the visitor's language."""
    from chalicelib import i18n  # only the link page speaks the visitor's language

    lang = i18n.choose(i18n.accept_language(accept_language))
    values = {
        "lang": lang,
        "dir": i18n.direction(lang),
        "title": i18n.text(lang, "linkPageTitle", host=host),
        "host": host,
        "hashes": str(hashes),
        "code": code,
        "site_key": site_key,
        "api": api_base,
        **{key: i18n.text(lang, key) for key in _LINK_TEXT},
    }
    # One pass (fill): a value holding `{{code}}` stays text.
    return fill(_template("link.html"), values), lang


def link_page(link: LinkInfo, api_base: str, accept_language: str | None = None) -> Response:
    """The shortlink page: the target's host and the work, never the target; for a
    disabled link, 410 Gone and a page that says so (in English), with no work."""
    if link.disabled:
        page = fill(_template("link-disabled.html"),
                    {"api": api_base, "host": display_host(link.url)})
        status, lang = 410, "en"
    else:
        page, lang = render_link_page(display_host(link.url), link.hashes, link.code,
                                      link.site_key, api_base, accept_language)
        status = 200
    return Response(body=page, status_code=status,
                    headers={"Content-Type": "text/html; charset=utf-8",
                             "Content-Language": lang,
                             "Vary": "Accept-Language",
                             "Cache-Control": "no-store",
                             "Content-Security-Policy": link_page_csp(api_base),
                             "Referrer-Policy": "no-referrer",
                             "X-Content-Type-Options": "nosniff"})


def fill(template: str, values: dict[str, str]) -> str:
    """Every `{{name}}` of the template replaced by its escaped value, in one pass.

    One pass: a value that holds `{{code}}` (a target's host, a Host header)
    stays text, never read again as a placeholder.
    """
    escaped = {key: html.escape(value, quote=True) for key, value in values.items()}
    return _PLACEHOLDER.sub(lambda match: escaped[match.group(1)], template)


# The dashboard runs only its own files: no inline script, no other origin, no framing.
DASHBOARD_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                 "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def dashboard_page(prefix: str, local: bool) -> Response:
    """The dashboard's page; `prefix` is the stage path its files and calls live under;
    `local`: a local run's, whose sign-in text names `make run` (hidden otherwise)."""
    values = {"api": prefix, "where": "local" if local else "deployed"}
    return Response(body=fill(_template("dashboard.html"), values),
                    status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8",
                             "Cache-Control": "no-store",
                             "Content-Security-Policy": DASHBOARD_CSP,
                             "Referrer-Policy": "no-referrer",
                             "X-Frame-Options": "DENY",
                             "X-Content-Type-Options": "nosniff"})
