"""Network addresses in `make run`: which source a request comes from, and how it is logged.

The source is what API Gateway reports as `requestContext.identity.sourceIp`:
the connection's peer, or, when the peer is a proxy the operator names in
`WORKPROOF_TRUSTED_PROXIES`, the right-most `X-Forwarded-For` address that is
not itself a trusted proxy (the left part of that header is whatever the
client wrote). Visitors' addresses are personal data: logs show a short keyed
hash (`log_tag`), never the address.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
from collections.abc import Iterable, Mapping

ENV_TRUSTED_PROXIES = "WORKPROOF_TRUSTED_PROXIES"
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


def _address(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # a dual-stack socket's ::ffff:a.b.c.d is the IPv4 client
    return address


def _trusted(address: IPAddress, proxies: Iterable[Network]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


def source_ip(peer: str, forwarded_for: list[str], proxies: tuple[Network, ...]) -> str:
    """The request's source: `peer`, or the client its trusted proxies forwarded for.

    `forwarded_for` holds the request's X-Forwarded-For header values, in order.
    Walking from the right, every address appended by a trusted proxy is
    skipped; the first one that is not trusted is the source. A malformed
    entry on the way makes the chain unusable: the source is then the peer.
    """
    peer_address = _address(peer)
    if peer_address is None:
        return peer
    if not forwarded_for or not _trusted(peer_address, proxies):
        return str(peer_address)
    entries = [entry for value in forwarded_for for entry in value.split(",")]
    source = peer_address
    for entry in reversed(entries):
        address = _address(entry)
        if address is None:
            return str(peer_address)
        source = address
        if not _trusted(address, proxies):
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
