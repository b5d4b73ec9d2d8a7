"""The demo page's server side (`make run`'s `/`, `/demo/verify`, `/demo/link`).

Pure functions: the routes pass in the request's form fields and a callable
that performs the real API call with the demo site's secret, so the demo
exercises exactly what a site's backend would do.
"""
from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

STATIC_DIR = Path(__file__).parent / "static"
# Must match data-hashes of the captcha in static/demo.html.
DEMO_CAPTCHA_HASHES = 4194304
TOKEN_FIELD = "coinhive-captcha-token"


def render_demo_page(site_key: str) -> str:
    """static/demo.html with {{site_key}} filled in (the page uses same-origin paths)."""
    page = (STATIC_DIR / "demo.html").read_text(encoding="utf-8")
    return page.replace("{{site_key}}", html.escape(site_key, quote=True))


def demo_script() -> str:
    """static/demo.js: the demo page's own script (served by the local server only)."""
    return (STATIC_DIR / "demo.js").read_text(encoding="utf-8")


def demo_style() -> str:
    """static/demo.css: the demo page's style sheet (no inline style in the page)."""
    return (STATIC_DIR / "demo.css").read_text(encoding="utf-8")


def verify_demo_form(form: dict[str, str],
                     verify_token: Callable[[str, int], dict[str, Any]]) -> dict[str, Any]:
    """Checks the captcha token of the demo form once, as a site's backend would.

    `verify_token(token, hashes)` performs POST /token/verify with the demo
    secret and returns its JSON answer.
    """
    token = (form.get(TOKEN_FIELD) or "").strip()
    message = (form.get("message") or "")[:200]
    if not token:
        return {"success": False, "error": "missing_input",
                "message": "Solve the captcha first: the form carried no token."}
    answer = verify_token(token, DEMO_CAPTCHA_HASHES)
    if answer.get("success"):
        return {"success": True, "verified": True, "hashes": answer.get("hashes"),
                "created": answer.get("created"), "message": message}
    return {"success": False, "verified": False, "error": answer.get("error", "invalid_token")}


def create_demo_link(form: dict[str, str],
                     create_link: Callable[[str, int], dict[str, Any]]) -> dict[str, Any]:
    """Creates a shortlink for the demo page. `create_link(url, hashes)` performs
    POST /link/create with the demo secret and returns its JSON answer."""
    url = (form.get("url") or "").strip()
    try:
        hashes = int(form.get("hashes") or 0)
    except ValueError:
        return {"success": False, "error": "bad_request"}
    if not url or hashes < 1:
        return {"success": False, "error": "missing_input"}
    return create_link(url, hashes)
