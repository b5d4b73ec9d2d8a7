"""Shortlinks: creation, lookup, and the target's displayable host."""
from __future__ import annotations

import time
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib import targets
from chalicelib.errors import InternalError, InvalidLink, InvalidUrl, dynamo_error_code
from chalicelib.models import Link
from chalicelib.sites import KEY_ALPHABET, random_key

MAX_URL_CHARS = targets.MAX_URL_CHARS
CODE_LENGTH = 12


@dataclass(frozen=True)
class LinkInfo:
    code: str
    site_key: str
    url: str
    hashes: int


def display_host(url: str) -> str:
    """The target's host as the page shows it: the host the browser goes to."""
    return targets.display_host(url)


def validate_url(url: str) -> str:
    """The URL a link stores and redirects to: the target's serialized form."""
    return targets.parse(url).href


def create(site_key: str, url: str, hashes: int) -> LinkInfo:
    url = validate_url(url)
    for _ in range(5):
        code = random_key(CODE_LENGTH)
        try:
            Link(code, site_key=site_key, url=url, hashes=hashes,
                 created=int(time.time())).save(condition=Link.pk.does_not_exist())
        except PutError as exc:
            if dynamo_error_code(exc) == "ConditionalCheckFailedException":
                continue
            raise
        return LinkInfo(code, site_key, url, hashes)
    raise InternalError("could not allocate a link code")


def get(code: str | None) -> LinkInfo:
    if not code or len(code) > 64 or any(c not in KEY_ALPHABET for c in code):
        raise InvalidLink("malformed link code")
    try:
        item = Link.get(code, consistent_read=False)
    except DoesNotExist:
        raise InvalidLink("unknown link") from None
    try:
        # Links stored before targets were parsed as browsers do are served
        # in their serialized form, or not at all.
        url = validate_url(item.url)
    except InvalidUrl:
        raise InvalidLink("stored target is not a valid URL") from None
    return LinkInfo(item.pk, item.site_key, url, int(item.hashes))
