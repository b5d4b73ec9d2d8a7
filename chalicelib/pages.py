"""Browser-facing files served by the API: the library, the shortlink page, the dashboard.

Scripts are served as bundles assembled from parts at first request, no build
step: the strings (i18n.js) first, then the code, so one <script> tag is all a
page needs. Parts (names starting with "_") are never served alone.
"""
from __future__ import annotations

import html
import mimetypes
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from chalice.app import Response

from chalicelib.errors import NotFound
from chalicelib.http import error_response
from chalicelib.links import LinkInfo, display_host

STATIC_DIR = Path(__file__).parent / "static"
OPENAPI_FILE = Path(__file__).parent / "openapi.json"
_PLACEHOLDER = re.compile(r"\{\{([A-Za-z_]+)\}\}")
_TYPES = {".js": "text/javascript; charset=utf-8", ".html": "text/html; charset=utf-8",
          ".json": "application/json; charset=utf-8", ".css": "text/css; charset=utf-8"}
_MINER = ("i18n.js", "_miner.js")
BUNDLES: dict[str, tuple[str, ...]] = {
    "workproof.js": _MINER,
    "captcha.js": (*_MINER, "_widget.js"),
    # Coinhive's own URLs, so pages written for Coinhive change only the host.
    "captcha.min.js": (*_MINER, "_widget.js"),
    "coinhive.min.js": (*_MINER, "_coinhive.js"),
    "authedmine.min.js": (*_MINER, "_coinhive.js"),
}
# reCAPTCHA's and Turnstile's script URLs, at the same paths under the API's base: the
# widget behind their browser APIs (_compat.js), so a site switches by changing the host.
COMPAT_SCRIPTS: dict[str, tuple[str, ...]] = {
    "/recaptcha/api.js": (*_MINER, "_widget.js", "_compat.js"),
    "/turnstile/v0/api.js": (*_MINER, "_widget.js", "_compat.js"),
}
# The link page's own text, filled in the visitor's language (keys of i18n.js).
_LINK_TEXT = ("linkTitle", "linkTo", "linkWork", "hashesLabel", "estimateLabel", "linkNote", "noscript")
# Everything /lib/{name} serves is a bundle above or one of these files, as
# they are; nothing else. A file added to static/ is served only once it is
# listed here (tests/functional/test_library_files.py fails until it is listed
# here, in INTERNAL_FILES or as a bundle's part).
LIBRARY_FILES = frozenset({
    "worker.js",                     # the miners' Web Worker, WASM inlined
    "i18n.js",                       # the strings alone (bundles start with them)
    "link.js", "link.css",           # the shortlink page's script and style
    "dashboard.js", "dashboard-overview.js", "dashboard-users.js", "dashboard-links.js",
    "dashboard-settings.js", "dashboard.css",  # the dashboard's own files
    "uPlot.iife.min.js", "uPlot.min.css",      # its charts (vendored, MIT: uPlot.LICENSE)
})
# Files of static/ never served as they are: pages the API fills in, and the
# vendored library's license. (Bundle parts, "_*.js", are never served alone.)
INTERNAL_FILES = frozenset({"link.html", "link-disabled.html", "dashboard.html", "uPlot.LICENSE"})


@lru_cache(maxsize=64)
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _bundle(parts: tuple[str, ...]) -> str:
    # ";" between parts: each is a complete statement, whatever its last line.
    return "\n;\n".join(_read(STATIC_DIR / part) for part in parts)


@lru_cache(maxsize=32)
def library_source(name: str) -> str | None:
    """The text served as /lib/<name>: a bundle, a listed file, or None (not served)."""
    if name in BUNDLES:
        return _bundle(BUNDLES[name])
    if name in LIBRARY_FILES:
        return _read(STATIC_DIR / name)
    return None


def _text_response(name: str, body: str) -> Response:
    content_type = _TYPES.get(Path(name).suffix) or mimetypes.guess_type(name)[0] or "text/plain"
    return Response(body=body, status_code=200,
                    headers={"Content-Type": content_type,
                             "Cache-Control": "public, max-age=300",
                             "Access-Control-Allow-Origin": "*",
                             "X-Content-Type-Options": "nosniff"})


def static_file(name: str) -> Response:
    """A file of the library (a bundle or LIBRARY_FILES), else not_found."""
    body = library_source(name)
    if body is None:
        return error_response(NotFound())
    return _text_response(name, body)


def compat_script(path: str) -> Response:
    """/recaptcha/api.js or /turnstile/v0/api.js (COMPAT_SCRIPTS), served like /lib/."""
    return _text_response(path, _bundle(COMPAT_SCRIPTS[path]))


def openapi_file() -> Response:
    """The API's OpenAPI description."""
    return _text_response(OPENAPI_FILE.name, _read(OPENAPI_FILE))


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
    return fill(_read(STATIC_DIR / "link.html"), values), lang


def link_page(link: LinkInfo, api_base: str, accept_language: str | None = None) -> Response:
    """The shortlink page: the target's host and the work, never the target; for a
    disabled link, 410 Gone and a page that says so (in English), with no work."""
    if link.disabled:
        page = fill(_read(STATIC_DIR / "link-disabled.html"),
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
    return Response(body=fill(_read(STATIC_DIR / "dashboard.html"), values),
                    status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8",
                             "Cache-Control": "no-store",
                             "Content-Security-Policy": DASHBOARD_CSP,
                             "Referrer-Policy": "no-referrer",
                             "X-Frame-Options": "DENY",
                             "X-Content-Type-Options": "nosniff"})
