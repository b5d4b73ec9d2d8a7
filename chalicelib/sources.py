"""Who is asking: a request's source, and the keyed tag it is kept under.

A source is the client's address as API Gateway reports it
(`requestContext.identity.sourceIp`; `make run`'s server hands the app the
peer address, or the client address a named proxy forwarded): an IPv4
address, or an IPv6 /64 (one subscriber's usual allocation, so rotating
through its 2^64 addresses is still one source). IPv4-mapped IPv6 addresses
are their IPv4 address.

Addresses are personal data: code keeps only `tag(source)`, a keyed hash,
never the address, and never logs either.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Mapping
from typing import Any

UNKNOWN = "unknown"
IPV6_PREFIX = 64
# The tag's key. Each container draws its own: tags live only in that
# container's memory and, for the minutes a job lives, on the shares it
# credits (`share_tag`, keyed by the deployment's signing key instead, so
# every container and the stream consumer agree on it).
_CONTAINER_KEY = secrets.token_bytes(32)
TAG_BYTES = 12


def normalise(address: str) -> str:
    """The source an address belongs to: IPv4 as is, IPv6 as its /64."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return UNKNOWN
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)


def source_of(context: Mapping[str, Any] | None) -> str:
    """The source of a request, from its API Gateway request context."""
    identity = (context or {}).get("identity") or {}
    address = identity.get("sourceIp") if isinstance(identity, Mapping) else None
    return normalise(address) if isinstance(address, str) else UNKNOWN


def _tag(source: str, key: bytes) -> str:
    digest = hmac.new(key, source.encode("ascii", "replace"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:TAG_BYTES]).decode("ascii")


def tag(source: str) -> str:
    """The source's tag in this container (its limits' key)."""
    return _tag(source, _CONTAINER_KEY)


def share_tag(source: str, signing_key: bytes) -> str:
    """The source's tag on the shares it credits: the same in every container
    while the signing key stays (a key roll starts every source afresh)."""
    return _tag(source, hmac.new(signing_key, b"workproof source tag", hashlib.sha256).digest())
