"""The dashboard's Links view: the site's links (`links.list_for_site`) with
their visit counts (`stats.link_visits`) and whether each is disabled, and the
actions on them: create (exactly `/link/create`'s checks), disable, enable
and delete (conditional writes on the link's own site: `links.set_disabled`,
`links.delete`). The HTTP API gains nothing: these are dashboard routes.
"""
from __future__ import annotations

from typing import Any

from chalicelib import links, stats
from chalicelib.dashboard.wire import Call
from chalicelib.errors import BadRequest, InvalidPage, InvalidUrl, MissingInput
from chalicelib.params import positive_amount


def _row(link: links.LinkInfo, base: str, seen: Any, disabled: bool) -> dict[str, Any]:
    try:
        host = links.display_host(link.url)
    except InvalidUrl:  # stored before targets were parsed as browsers do: never served
        host = ""
    return {"code": link.code, "url": f"{base}/l/{link.code}", "target": link.url,
            "host": host, "hashes": link.hashes, "created": link.created,
            "disabled": disabled,
            "visitsStarted": seen.started if seen else 0,
            "visitsCompleted": seen.completed if seen else 0,
            "lastVisit": seen.last_visit if seen else 0}


def site_links(call: Call) -> dict[str, Any]:
    """A page of the site's links (newest first) with their visits; `target` is the
    full target URL (the page shows it as text)."""
    page = call.params.values.get("page")
    if page is not None and (not isinstance(page, str) or len(page) > 256):
        raise InvalidPage("not a page cursor")
    found, next_page = links.list_for_site(call.signed_site().site_key, page)
    codes = [link.code for link in found]
    visits = stats.link_visits(codes) if found else {}
    disabled = links.disabled_codes(codes) if found else set()
    rows = [_row(link, call.base_url, visits.get(link.code), link.code in disabled)
            for link in found]
    return {"links": rows, "nextPage": next_page}


def create_link(call: Call) -> dict[str, Any]:
    """A new link of the site: `url` (the target) and `hashes` (each visit's work)."""
    site = call.signed_site()
    url = call.params.string("url", required=False, max_chars=1 << 20, invalid=InvalidUrl)
    if not url or not call.params.has("hashes"):
        raise MissingInput("url and hashes are required")
    hashes = positive_amount(call.params, "hashes", BadRequest)
    link = links.create(site.site_key, url, hashes)
    return {"code": link.code, "url": f"{call.base_url}/l/{link.code}", "target": link.url,
            "hashes": link.hashes}


def _code(call: Call) -> str:
    code = call.params.string("code", required=False, max_chars=64)
    if not code:
        raise MissingInput("code is required")
    return code


def disable_link(call: Call) -> dict[str, Any]:
    code = _code(call)
    links.set_disabled(call.signed_site().site_key, code, True)
    return {"code": code, "disabled": True}


def enable_link(call: Call) -> dict[str, Any]:
    code = _code(call)
    links.set_disabled(call.signed_site().site_key, code, False)
    return {"code": code, "disabled": False}


def delete_link(call: Call) -> dict[str, Any]:
    code = _code(call)
    links.delete(call.signed_site().site_key, code)
    return {"code": code, "deleted": True}
