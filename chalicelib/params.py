"""Request parameters: query and body merged (body wins), then typed parsing.

Bodies may be form-encoded, JSON, multipart or untyped; a parameter sent as
an empty string counts as absent; a repeated parameter: the last one wins.
Form values are strings; JSON values keep their JSON type (so a JSON boolean
is never taken for a number).

One integer grammar everywhere: a form or query integer is ASCII digits with
no sign, space or leading zero (`0|[1-9][0-9]*`, the OpenAPI pattern); a
JSON integer is a JSON number without fraction or exponent (`5.0`, `1e3`
and `0.9999999999999999999`, which a float would round to 1, are not
integers). Anything else raises the caller's error. An amount (money) sent in
JSON must be a JSON integer: `{"amount": "5"}` is no amount. A count is
clamped to its range when it is any integer, a negative one included
(`count=-5`: the smallest count).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from chalicelib.errors import BadRequest, InvalidAmount, MissingInput

MAX_BODY_BYTES = 64 * 1024
MAX_SAFE_INTEGER = 2**53 - 1
MAX_NAME_CODE_POINTS = 256
# Longest string parameter accepted at all (a job is ~400 chars, a url 2048).
MAX_PARAM_CHARS = 8192

_CANONICAL_DIGITS = re.compile(r"0|[1-9][0-9]*")
_SIGNED_DIGITS = re.compile(r"-?(?:0|[1-9][0-9]*)")
# Stands in for any integer of more than 40 digits (see to_int).
_SATURATED = 10**40
_SATURATE_AFTER_DIGITS = 40


class JsonNonInteger:
    """A JSON number with a fraction or exponent: kept as written, never an integer.

    (Not a float: `0.9999999999999999999` would become 1.0; not a Decimal:
    `1e99999999999999999999` would raise outside the contract.)
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"JsonNonInteger({self.text!r})"


class JsonString(str):
    """A JSON string value, as a body sent it: reads as a str everywhere, but
    an amount knows it was not a JSON number (`merge` records the names)."""

    __slots__ = ()


def _json_integer(text: str) -> int:
    digits = text.lstrip("-")
    if len(digits) > _SATURATE_AFTER_DIGITS:
        return -_SATURATED if text.startswith("-") else _SATURATED
    return int(text)


def _json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_form(body: bytes) -> list[tuple[str, Any]]:
    try:
        text = body.decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"undecodable form body: {exc}") from None


def _parse_json(body: bytes) -> list[tuple[str, Any]]:
    try:
        value = json.loads(body.decode("utf-8"), parse_float=JsonNonInteger,
                           parse_int=_json_integer, parse_constant=_json_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadRequest(f"undecodable JSON body: {exc}") from None
    if not isinstance(value, dict):
        raise BadRequest("JSON body is not an object")
    return [(name, JsonString(item) if type(item) is str else item)
            for name, item in value.items()]


def _parse_multipart(body: bytes, content_type: str) -> list[tuple[str, Any]]:
    # Imported here: the email package costs a cold start ~3 ms and only
    # multipart bodies (rare: Coinhive's clients post urlencoded forms) need it.
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart() or message.defects:
        raise BadRequest("malformed multipart body")
    pairs: list[tuple[str, Any]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            raise BadRequest("multipart part without a name")
        payload = part.get_payload(decode=True)  # bytes for a non-multipart part
        try:
            pairs.append((str(name), payload.decode("utf-8") if isinstance(payload, bytes) else ""))
        except UnicodeDecodeError:
            raise BadRequest("multipart value is not UTF-8") from None
    return pairs


def parse_body(body: bytes, content_type: str | None) -> list[tuple[str, Any]]:
    """Decode a request body into (name, value) pairs, in order."""
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest("body over 64 KiB")
    if not body.strip():
        return []
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return _parse_json(body)
    if media == "multipart/form-data":
        return _parse_multipart(body, content_type or "")
    if media in ("", "application/x-www-form-urlencoded", "text/plain", "application/octet-stream"):
        # Untyped bodies: JSON if it looks like an object, else a form.
        if media in ("", "text/plain", "application/octet-stream") and body.lstrip()[:1] == b"{":
            return _parse_json(body)
        return _parse_form(body)
    raise BadRequest(f"unsupported content type {media!r}")


def merge(query: Iterable[tuple[str, Any]], body: Iterable[tuple[str, Any]]) -> Params:
    """Query then body; later pairs win, so the body wins and the last repeat wins.

    Empty strings (and JSON nulls) count as absent: as if not sent at all, so
    they override nothing. Which names were sent empty is kept (`token=`
    means "a new token").
    """
    merged: dict[str, Any] = {}
    blank: set[str] = set()
    json_strings: set[str] = set()
    for name, value in list(query) + list(body):
        if value is None or value == "":
            blank.add(name)
            continue
        if isinstance(value, JsonString):
            json_strings.add(name)
            value = str(value)  # a plain string from here on
        else:
            json_strings.discard(name)
        merged[name] = value
    return Params(merged, blank, json_strings)


class Params:
    """Typed access to merged parameters; every failure is a contract error."""

    def __init__(self, values: Mapping[str, Any], blank: Iterable[str] = (),
                 json_strings: Iterable[str] = ()) -> None:
        self.values = dict(values)
        self.blank = frozenset(blank)
        # Names whose value is a string of a JSON body (not a form or query string).
        self.json_strings = frozenset(json_strings)

    def has(self, name: str) -> bool:
        return name in self.values

    def raw_has(self, name: str) -> bool:
        """Sent at all, even as an empty string."""
        return name in self.values or name in self.blank

    def string(self, name: str, *, required: bool = True, max_chars: int = MAX_PARAM_CHARS,
               invalid: type = BadRequest) -> str | None:
        """A string (a JSON integer reads as its digits); `invalid` if it is not valid Unicode."""
        value = self.values.get(name)
        if value is None:
            if required:
                raise MissingInput(f"{name} missing")
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise BadRequest(f"{name} is not a string")
        text = str(value)
        if len(text) > max_chars:
            raise BadRequest(f"{name} too long")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise invalid(f"{name} is not valid Unicode") from None
        return text

    def name(self, param: str = "name") -> str:
        text = self.string(param, max_chars=MAX_NAME_CODE_POINTS)
        assert text is not None
        return text

    def integer(self, name: str, *, required: bool = True, error: type = BadRequest) -> int | None:
        """An integer (decimal string or JSON integer); None when absent and optional."""
        value = self.values.get(name)
        if value is None:
            if required:
                raise MissingInput(f"{name} missing")
            return None
        return to_int(value, error)


def to_int(value: Any, error: type = BadRequest) -> int:
    """A JSON integer, or a string of canonical ASCII digits; else `error`."""
    if isinstance(value, bool):
        raise error("boolean is not a number")
    if isinstance(value, int):
        return value
    if not isinstance(value, str) or not _CANONICAL_DIGITS.fullmatch(value):
        raise error("not an integer")
    # Never int() a long string (slow; Python refuses > 4,300 digits): a
    # very long integer is still an integer, just far out of any range, so
    # saturate it. Callers then clamp it (counts) or refuse it (amounts).
    return _SATURATED if len(value) > _SATURATE_AFTER_DIGITS else int(value)


def positive_amount(params: Params, name: str, error: type) -> int:
    """An integer in 1..2^53-1; anything else raises `error` (missing: MissingInput).
    In a JSON body, only a JSON integer: a JSON string of digits is no amount."""
    if name in params.json_strings:
        raise error(f"{name} is a JSON string, not a JSON integer")
    number = params.integer(name, error=error)
    assert number is not None
    if number < 1 or number > MAX_SAFE_INTEGER:
        raise error(f"{name} out of range")
    return number


def clamped_count(params: Params, name: str, low: int, high: int, default: int) -> int:
    """An integer clamped to low..high (default when absent); a negative form or
    query integer (`-5`) is an integer out of range too. Not an integer: BadRequest."""
    value = params.values.get(name)
    if isinstance(value, str) and value.startswith("-") and _SIGNED_DIGITS.fullmatch(value):
        number: int | None = -to_int(value[1:])
    else:
        number = params.integer(name, required=False)
    if number is None:
        return default
    return max(low, min(high, number))


__all__ = [
    "JsonString",
    "MAX_SAFE_INTEGER",
    "Params",
    "merge",
    "parse_body",
    "positive_amount",
    "clamped_count",
    "to_int",
    "InvalidAmount",
]
