"""Shortlink targets, parsed as browsers parse them (the WHATWG URL standard).

The host a shortlink page shows must be the host the browser is sent to, so
targets are parsed with ada (a WHATWG-conformant parser, tested against the
web-platform-tests URL data), the page shows ada's host (internationalised
names in punycode, UTS 46 non-transitional, as browsers resolve them) and
the redirect goes to ada's serialization of the URL, never to the raw input.

On top of the standard, anything a reader of the input could take for
another host than the one a browser resolves is refused (`invalid_url`):
userinfo (`https://bank.example@evil.example/`), any form but
`scheme://host` (`http:host`, `https:///host`), backslashes (browsers read
them as `/` in http(s) URLs, `urlsplit` does not), control, format and
whitespace characters (browsers drop some and percent-encode others), and
numeric IPv4 shorthands (`2130706433`, `0x7f.1`, `127.1`, octal `0177.0.0.1`,
a trailing dot): an IPv4 host is accepted only as written canonically; and
names no DNS lookup can resolve: a label over 63 or a name over 253 octets,
or a character DNS host names cannot hold (after the WHATWG parse, whose
IDNA step turns every internationalised label into punycode, a name is
letters, digits, hyphens and dots only: `ex"ample.com`, `exa'mple.com` and
`{{api}}.example` parse as URLs, but no one can be sent there).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from chalicelib.errors import InvalidUrl

MAX_URL_CHARS = 2048
SCHEMES = ("http:", "https:")
# Unicode categories refused anywhere in a target: controls, format
# characters (bidi overrides, zero-width and soft hyphens that UTS 46 drops),
# surrogates, and every kind of space or line/paragraph separator.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})
# `scheme://authority`, the authority up to the path, query or fragment as a
# browser delimits it. Browsers also take `http:host`, `http:/host` and
# `http:///host` for `http://host`; a reader may not, so those are refused.
_AUTHORITY = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)")
# A DNS host name's label after IDNA (lower case: the parser folds it; `xn--` punycode fits).
_DNS_LABEL = re.compile(r"[a-z0-9-]{1,63}")


@dataclass(frozen=True)
class Target:
    """A target as a browser reads it: `href` is stored and redirected to, `host` shown."""

    href: str
    host: str


def _refused_character(text: str) -> bool:
    return "\\" in text or any(
        unicodedata.category(ch) in _REFUSED_CATEGORIES or ch.isspace() for ch in text)


def _authority(text: str) -> str:
    match = _AUTHORITY.match(text)
    if not match or not match.group(1):
        raise InvalidUrl("url does not start with scheme://host")
    return match.group(1)


def _written_host(authority: str) -> str:
    """The host as written in the input (authority without port), lower-cased."""
    if authority.startswith("["):
        return authority.partition("]")[0].lower() + "]"
    return authority.partition(":")[0].lower()


def _dns_name(host: str) -> bool:
    """Within DNS limits (the URL standard leaves them to DNS): no one can be sent elsewhere."""
    labels = host.removesuffix(".").split(".")
    return len(host) <= 253 and all(_DNS_LABEL.fullmatch(label) for label in labels)


def parse(text: str) -> Target:
    """The target's serialized URL and displayed host, or `invalid_url`."""
    if len(text) > MAX_URL_CHARS:
        raise InvalidUrl("url over 2048 characters")
    if _refused_character(text):
        raise InvalidUrl("url with a backslash, control, format or whitespace character")
    authority = _authority(text)
    # Imported here, not with the module: ada (a C extension through cffi)
    # costs a cold start ~3.5 ms and only link and origin requests parse URLs.
    from ada_url import URL, HostType

    try:
        url = URL(text)
    except (ValueError, UnicodeError):
        raise InvalidUrl("not a URL by the WHATWG URL standard") from None
    if url.protocol not in SCHEMES:
        raise InvalidUrl("url is not http or https")
    if url.username or url.password or "@" in authority:
        raise InvalidUrl("url with userinfo")
    host = url.hostname
    if not host:
        raise InvalidUrl("url without host")
    if url.host_type == HostType.IPV4 and _written_host(authority) != host:
        raise InvalidUrl("numeric IPv4 shorthand")
    if url.host_type == HostType.DEFAULT and not _dns_name(host):
        raise InvalidUrl("host is no DNS name")
    return Target(url.href, host)


def display_host(text: str) -> str:
    """The host a shortlink page shows: the one the browser resolves."""
    return parse(text).host
