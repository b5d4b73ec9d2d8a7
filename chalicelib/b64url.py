"""Unpadded base64url, as jobs and session cookies carry their payloads and MACs.

`decode` is strict: it takes only the one encoding `encode` writes (no `=`,
no stray characters, no other padding bits), so a MAC has exactly one
spelling on the wire.
"""
from __future__ import annotations

import base64


def encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def decode(text: str) -> bytes:
    """The bytes `text` encodes, if it is canonical unpadded base64url; else ValueError."""
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if encode(data) != text:
        raise ValueError("not canonical base64url")
    return data
