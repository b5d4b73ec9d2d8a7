"""Browser-facing files served by the API: the library and the shortlink page."""
from __future__ import annotations

import html
import mimetypes
import re
from functools import lru_cache
from pathlib import Path

from chalice import Response

from chalicelib.errors import NotFound
from chalicelib.http import error_response
from chalicelib.links import LinkInfo, display_host

STATIC_DIR = Path(__file__).parent / "static"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_PLACEHOLDER = re.compile(r"\{\{([a-z_]+)\}\}")
_TYPES = {".js": "text/javascript; charset=utf-8", ".html": "text/html; charset=utf-8",
          ".json": "application/json; charset=utf-8", ".css": "text/css; charset=utf-8"}


@lru_cache(maxsize=64)
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def static_file(name: str, folder: Path = STATIC_DIR) -> Response:
    """A file of the library (never a path outside its folder)."""
    if not _SAFE_NAME.match(name) or name.startswith("."):
        return error_response(NotFound())
    path = folder / name
    if not path.is_file():
        return error_response(NotFound())
    content_type = _TYPES.get(path.suffix) or mimetypes.guess_type(name)[0] or "text/plain"
    return Response(body=_read(path), status_code=200,
                    headers={"Content-Type": content_type,
                             "Cache-Control": "public, max-age=300",
                             "Access-Control-Allow-Origin": "*",
                             "X-Content-Type-Options": "nosniff"})


def link_page(link: LinkInfo, api_base: str) -> Response:
    """The shortlink page: the target's host and the work, never the target."""
    values = {
        "host": display_host(link.url),
        "hashes": str(link.hashes),
        "code": link.code,
        "site_key": link.site_key,
        "api": api_base,
    }
    return Response(body=fill(_read(STATIC_DIR / "link.html"), values), status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8",
                             "Cache-Control": "no-store",
                             "Referrer-Policy": "no-referrer",
                             "X-Content-Type-Options": "nosniff"})


def fill(template: str, values: dict[str, str]) -> str:
    """Every `{{name}}` of the template replaced by its escaped value, in one pass.

    One pass: a value that holds `{{code}}` (a target's host, a Host header)
    stays text, never read again as a placeholder.
    """
    escaped = {key: html.escape(value, quote=True) for key, value in values.items()}
    return _PLACEHOLDER.sub(lambda match: escaped[match.group(1)], template)

