"""Network addresses in `make run`: which source a request comes from, and how it is logged.

The source is what API Gateway reports as `requestContext.identity.sourceIp`:
the connection's peer, or, when the peer is a proxy the operator names in
`WORKPROOF_TRUSTED_PROXIES`, the right-most address of the forwarding header
those proxies write (`WORKPROOF_PROXY_HEADER`: `X-Forwarded-For`, or RFC
7239's `Forwarded`) that is not itself a trusted proxy (the left part of that
header is whatever the client wrote). One header, named by the operator as
nginx's `real_ip_header` is: a proxy that writes one passes the other on as
the client wrote it, so believing both would let a client choose its source.
Visitors' addresses are personal data: logs show a short keyed hash
(`log_tag`), never the address.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
import socket
from collections.abc import Iterable, Mapping

ENV_TRUSTED_PROXIES = "WORKPROOF_TRUSTED_PROXIES"
ENV_PROXY_HEADER = "WORKPROOF_PROXY_HEADER"
X_FORWARDED_FOR, FORWARDED = "X-Forwarded-For", "Forwarded"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# Per process: a tag links the requests of one run, never of two runs or to an address.
_TAG_KEY = secrets.token_bytes(32)
TAG_LENGTH = 8


class SettingError(ValueError):
    """A bad WORKPROOF_TRUSTED_PROXIES; the message names the variable."""


def trusted_proxies(environ: Mapping[str, str]) -> tuple[Network, ...]:
    """The proxies whose `X-Forwarded-For` counts: addresses or CIDR networks, comma-separated."""
    value = environ.get(ENV_TRUSTED_PROXIES, "")
    networks = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise SettingError(f"{ENV_TRUSTED_PROXIES}={value}: {entry!r} is not an address "
                               "or a network (e.g. 10.0.0.1,192.168.0.0/16,::1)") from None
    return tuple(networks)


def proxy_header(environ: Mapping[str, str]) -> str:
    """The header the trusted proxies write: X-Forwarded-For (the default) or Forwarded."""
    value = environ.get(ENV_PROXY_HEADER, "").strip()
    chosen = {"": X_FORWARDED_FOR, X_FORWARDED_FOR.lower(): X_FORWARDED_FOR,
              FORWARDED.lower(): FORWARDED}.get(value.lower())
    if chosen is None:
        raise SettingError(f"{ENV_PROXY_HEADER}={value}: not {X_FORWARDED_FOR} or {FORWARDED}")
    return chosen


def _address(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # a dual-stack socket's ::ffff:a.b.c.d is the IPv4 client
    return address


class _Hidden:
    """A node a proxy did not name (`unknown`, RFC 7239's `_obfuscated`): no address."""


HIDDEN = _Hidden()
Node = IPAddress | _Hidden
# RFC 7239 node: IPv4 or "[" IPv6 "]", each with an optional port or obfuscated port;
# `unknown` or an obfuscated name. X-Forwarded-For entries are written the same way
# (Azure Application Gateway: `IP:port`), or as a bare IPv6 address.
_OBFUSCATED = r"_[A-Za-z0-9._-]+"
_NODE = re.compile(rf"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<v4>[0-9.]+)|(?P<name>unknown|{_OBFUSCATED}))"
                   rf"(?::(?:(?P<port>[0-9]{{1,5}})|{_OBFUSCATED}))?", re.IGNORECASE)


def _node(text: str, bare_ipv6: bool) -> Node | None:
    """The address (or HIDDEN) a header entry names; None if it is malformed."""
    text = text.strip()
    found = _NODE.fullmatch(text)
    if found is None:
        return _address(text) if bare_ipv6 and ":" in text else None
    if found["name"]:
        return HIDDEN
    if found["port"] and int(found["port"]) > 65535:
        return None
    if found["v6"] and ":" not in found["v6"]:
        return None  # `[192.0.2.1]`: brackets are for IPv6
    return _address(found["v6"] or found["v4"])


def _forwarded_for_nodes(values: list[str]) -> list[Node | None]:
    return [_node(entry, bare_ipv6=True) for value in values for entry in value.split(",")]


# RFC 7239 section 4: forwarded-pair = token "=" ( token / quoted-string ).
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PAIR = re.compile(rf'[ \t]*({_TOKEN})=({_TOKEN}|"(?:[^"\\]|\\.)*")[ \t]*')


def _forwarded_elements(values: list[str]) -> list[dict[str, str]] | None:
    """Each element's parameters (names in lower case, values unquoted), the
    headers' elements in order; None if the syntax is broken anywhere."""
    elements: list[dict[str, str]] = []
    for value in values:
        element: dict[str, str] = {}
        at = 0
        while at < len(value):
            if value[at] in " \t;":
                at += 1
            elif value[at] == ",":
                elements.append(element)
                element, at = {}, at + 1
            else:
                pair = _PAIR.match(value, at)
                if pair is None or pair[1].lower() in element:
                    return None  # junk, or a parameter twice in one element
                quoted = pair[2]
                element[pair[1].lower()] = re.sub(r"\\(.)", r"\1", quoted[1:-1]) \
                    if quoted.startswith('"') else quoted
                at = pair.end()
                if at < len(value) and value[at] not in ";,":
                    return None
        elements.append(element)
    return [element for element in elements if element]  # `a, , b`: empty elements are none


def _forwarded_nodes(values: list[str]) -> list[Node | None]:
    """The `for` node of each element; an element without one is malformed for us
    (it does not say whom its proxy forwarded for)."""
    elements = _forwarded_elements(values)
    if elements is None:
        return [None]
    return [_node(element["for"], bare_ipv6=False) if "for" in element else None
            for element in elements]


def _trusted(address: IPAddress, proxies: Iterable[Network]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


def source_ip(peer: str, forwarded: list[str], proxies: tuple[Network, ...],
              header: str = X_FORWARDED_FOR) -> str:
    """The request's source: `peer`, or the client its trusted proxies forwarded for.

    `forwarded` holds the request's values of `header` (X-Forwarded-For or
    Forwarded), in order. Walking from the right, every address appended by
    a trusted proxy is skipped; the first one that is not trusted is the
    source. A malformed entry on the way makes the chain unusable: the
    source is then the peer. A hidden one (`unknown`, `_obfuscated`) is the
    proxy that wrote it declining to say: the source is then that proxy.
    """
    peer_address = _address(peer)
    if peer_address is None:
        return peer
    if not forwarded or not _trusted(peer_address, proxies):
        return str(peer_address)
    nodes = _forwarded_nodes(forwarded) if header == FORWARDED else _forwarded_for_nodes(forwarded)
    source = peer_address
    for node in reversed(nodes):
        if node is None:
            return str(peer_address)
        if isinstance(node, _Hidden):
            break
        source = node
        if not _trusted(node, proxies):
            break
    return str(source)  # every entry a trusted proxy: the left-most one


def log_tag(address: str) -> str:
    """A short keyed hash of `address`: the same source reads the same in one run's log."""
    return hmac.new(_TAG_KEY, address.encode(), hashlib.sha256).hexdigest()[:TAG_LENGTH]


def family(host: str) -> socket.AddressFamily:
    """The socket family to listen on `host` with (an IPv6 literal needs AF_INET6)."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def url_host(host: str) -> str:
    """`host` as written in a URL: an IPv6 literal in brackets."""
    return f"[{host}]" if ":" in host else host
