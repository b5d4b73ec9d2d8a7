"""Shortlinks: creation, lookup, and the target's displayable host."""
from __future__ import annotations

import base64
import binascii
import json
import time
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.errors import InternalError, InvalidLink, InvalidPage, InvalidUrl
from chalicelib.models import Link
from chalicelib.sites import KEY_ALPHABET, random_key

MAX_URL_CHARS = 2048
CODE_LENGTH = 12


@dataclass(frozen=True)
class LinkInfo:
    code: str
    site_key: str
    url: str
    hashes: int
    created: int = 0


# IDNA 2003 (Python's "idna" codec) maps these away (ß -> ss, ς -> σ, joiners
# dropped); browsers (UTS 46, non-transitional) keep them. So `faß.de` would be
# shown as `fass.de`, someone else's domain, while the browser goes to
# `xn--fa-hia.de`: labels holding one are encoded as the browser does.
_IDNA_DEVIATIONS = frozenset("\u00df\u03c2\u200c\u200d")
_IDEOGRAPHIC_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def _ascii_label(label: str) -> str:
    if not label:
        raise UnicodeError("empty label")
    if _IDNA_DEVIATIONS.isdisjoint(label):
        return label.encode("idna").decode("ascii")
    folded = unicodedata.normalize("NFC", label.lower())
    encoded = "xn--" + folded.encode("punycode").decode("ascii")
    if len(encoded) > 63:
        raise UnicodeError("label too long")
    return encoded


def display_host(url: str) -> str:
    """The target's host as shown before the work is done: no userinfo, IDNA in punycode."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        raise InvalidUrl("unparsable url") from None
    if not host:
        raise InvalidUrl("url without host")
    hostinfo = parts.netloc.rpartition("@")[2]
    if not hostinfo.startswith("["):
        # Lower-case character by character, as UTS 46 does: str.lower()
        # (urlsplit's) turns a final capital sigma into ς, UTS 46 into σ.
        host = "".join(ch.lower() for ch in hostinfo.partition(":")[0])
    try:
        if _IDNA_DEVIATIONS.isdisjoint(host):
            return host.encode("idna").decode("ascii")
        labels = host.translate(_IDEOGRAPHIC_DOTS).rstrip(".").split(".")
        return ".".join(_ascii_label(label) for label in labels)
    except UnicodeError:
        raise InvalidUrl("host is not a valid internationalised name") from None


def validate_url(url: str) -> str:
    if len(url) > MAX_URL_CHARS:
        raise InvalidUrl("url over 2048 characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise InvalidUrl("url with whitespace or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InvalidUrl("unparsable url") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidUrl("url is not http or https")
    display_host(url)
    return url


def create(site_key: str, url: str, hashes: int) -> LinkInfo:
    validate_url(url)
    for _ in range(5):
        code = random_key(CODE_LENGTH)
        now = int(time.time())
        try:
            Link(code, site_key=site_key, url=url, hashes=hashes,
                 created=now).save(condition=Link.pk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                continue
            raise
        return LinkInfo(code, site_key, url, hashes, now)
    raise InternalError("could not allocate a link code")


def get(code: str | None) -> LinkInfo:
    if not code or len(code) > 64 or any(c not in KEY_ALPHABET for c in code):
        raise InvalidLink("malformed link code")
    try:
        item = Link.get(code, consistent_read=False)
    except DoesNotExist:
        raise InvalidLink("unknown link") from None
    return LinkInfo(item.pk, item.site_key, item.url, int(item.hashes), int(item.created))


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
