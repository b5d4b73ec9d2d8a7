"""Shortlinks: creation, lookup, disabling and deletion (the dashboard's, each
conditional on the owning site), and the target's displayable host."""
from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError

from chalicelib.errors import InternalError, InvalidLink, InvalidPage, InvalidUrl, dynamo_error_code
from chalicelib.sites import KEY_ALPHABET, random_key
from chalicelib.store.models import Link

CODE_LENGTH = 12


@dataclass(frozen=True)
class LinkInfo:
    code: str
    site_key: str
    url: str
    hashes: int
    created: int = 0
    disabled: bool = False


def display_host(url: str) -> str:
    """The target's host as the page shows it: the host the browser goes to."""
    # Imported where used: /pow/* requests for user, token and anonymous jobs (most
    # requests) never parse a target.
    from chalicelib import targets

    return targets.display_host(url)


def validate_url(url: str) -> str:
    """The URL a link stores and redirects to: the target's serialized form."""
    from chalicelib import targets

    return targets.parse(url).href


def create(site_key: str, url: str, hashes: int) -> LinkInfo:
    url = validate_url(url)
    for _ in range(5):
        code = random_key(CODE_LENGTH)
        now = int(time.time())
        try:
            Link(code, site_key=site_key, url=url, hashes=hashes,
                 created=now).save(condition=Link.pk.does_not_exist())
        except PutError as exc:
            if dynamo_error_code(exc) == "ConditionalCheckFailedException":
                continue
            raise
        return LinkInfo(code, site_key, url, hashes, now)
    raise InternalError("could not allocate a link code")


def _checked_code(code: str | None) -> str:
    if not code or len(code) > 64 or any(c not in KEY_ALPHABET for c in code):
        raise InvalidLink("malformed link code")
    return code


def get(code: str | None, include_disabled: bool = False) -> LinkInfo:
    """The link to serve; a disabled one is refused (invalid_link) unless
    `include_disabled` (the link page, which tells its visitor it is disabled)."""
    try:
        item = Link.get(_checked_code(code), consistent_read=False)
    except DoesNotExist:
        raise InvalidLink("unknown link") from None
    if item.disabled and not include_disabled:
        raise InvalidLink("disabled link")
    try:
        # Links stored before targets were parsed as browsers do are served
        # in their serialized form, or not at all.
        url = validate_url(item.url)
    except InvalidUrl:
        raise InvalidLink("stored target is not a valid URL") from None
    return LinkInfo(item.pk, item.site_key, url, int(item.hashes), int(item.created),
                    bool(item.disabled))


def set_disabled(site_key: str, code: str | None, disabled: bool) -> None:
    """Disable (or enable again) one of the site's links: a link of another site,
    or none, is invalid_link, and nothing is written."""
    link = Link(_checked_code(code))
    try:
        link.update(actions=[Link.disabled.set(True) if disabled else Link.disabled.remove()],
                    condition=Link.pk.exists() & (Link.site_key == site_key))
    except UpdateError as exc:
        if dynamo_error_code(exc) == "ConditionalCheckFailedException":
            raise InvalidLink("unknown link") from None
        raise


def delete(site_key: str, code: str | None) -> None:
    """Delete one of the site's links (its visit counts stay in the stats)."""
    try:
        Link(_checked_code(code)).delete(condition=Link.site_key == site_key)
    except DeleteError as exc:
        if dynamo_error_code(exc) == "ConditionalCheckFailedException":
            raise InvalidLink("unknown link") from None
        raise


def disabled_codes(codes: list[str]) -> set[str]:
    """Which of these links (at most a page, 100: one BatchGetItem) are disabled:
    the by_site index does not hold the flag."""
    items = Link.batch_get(codes, attributes_to_get=["pk", "disabled"])
    return {item.pk for item in items if item.disabled}


LIST_PAGE = 100


def _encode_cursor(created: int, code: str) -> str:
    raw = json.dumps([created, code], separators=(",", ":")).encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode_cursor(page: str) -> tuple[int, str]:
    try:
        created, code = json.loads(base64.urlsafe_b64decode(page + "=" * (-len(page) % 4)))
        if isinstance(created, bool) or not isinstance(created, int) or not 0 <= created < 2**40 \
                or not isinstance(code, str) or not 0 < len(code) <= 64 \
                or any(c not in KEY_ALPHABET for c in code):
            raise ValueError("cursor shape")
        return created, code
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidPage("malformed page") from None


def list_for_site(site_key: str, page: str | None,
                  count: int = LIST_PAGE) -> tuple[list[LinkInfo], str | None]:
    """A page of the site's links, newest first, and the next page's cursor (None: last).

    The cursor holds only (created, code): the site comes from the caller, so
    a cursor can never reach another site's links.
    """
    start = None
    if page:
        created, code = _decode_cursor(page)
        start = {"pk": {"S": code}, "site_key": {"S": site_key}, "created": {"N": str(created)}}
    # One more than a page: whether another page exists, without an empty last page.
    items = Link.by_site.query(site_key, scan_index_forward=False, limit=count + 1,
                               page_size=count + 1, last_evaluated_key=start)
    found = [LinkInfo(item.pk, site_key, item.url, int(item.hashes), int(item.created))
             for item in items]
    if len(found) <= count:
        return found, None
    last = found[count - 1]
    return found[:count], _encode_cursor(last.created, last.code)
