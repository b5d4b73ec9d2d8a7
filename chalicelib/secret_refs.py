"""Secrets as the settings give them: the signing key list's format, a
Secrets Manager secret's id, and reading a secret's string.

Nothing here puts a key or a secret's value in a message.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re

SigningKeys = tuple[tuple[str, bytes], ...]
MIN_SIGNING_KEY_BYTES = 16

_SECRET_ARN = re.compile(r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@!-]+")
_SECRET_NAME = re.compile(r"[A-Za-z0-9/_+=.@!-]{1,512}")


def is_secret_id(value: str) -> bool:
    """Whether `value` is a Secrets Manager secret's ARN or name."""
    return bool(_SECRET_ARN.fullmatch(value) or _SECRET_NAME.fullmatch(value))


def _decode_key(encoded: str) -> bytes:
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))


def parse_signing_keys(spec: str) -> SigningKeys:
    """`kid:base64key[,kid:base64key...]` (first signs), or raw secret strings.

    A raw string (Secrets Manager's GenerateSecretString output) gets a key
    id derived from it. ValueError (never quoting a key) if a key is missing,
    undecodable or shorter than 16 bytes.
    """
    keys: list[tuple[str, bytes]] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        if ":" in part:
            kid, _, encoded = part.partition(":")
            try:
                keys.append((kid, _decode_key(encoded)))
            except (binascii.Error, ValueError):
                raise ValueError("a key is not base64url") from None
        else:
            keys.append((hashlib.sha256(part.encode()).hexdigest()[:8], part.encode()))
    if not keys or any(len(key) < MIN_SIGNING_KEY_BYTES for _kid, key in keys):
        raise ValueError(f"signing keys missing or shorter than {MIN_SIGNING_KEY_BYTES} bytes")
    return tuple(keys)


def read_secret_string(secret_id: str) -> str:
    """The SecretString of a Secrets Manager secret (deployed stacks only)."""
    import boto3  # only when deployed with Secrets Manager: off the cold-start path

    value = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    return str(value)
