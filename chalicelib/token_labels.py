"""A token's label: Turnstile's `action` and `cdata`, as its widget was rendered.

The widget sends them with its token's submits; the first credit, the one that
creates the token (tokens.stage_credit, in the same conditional transaction),
stores them, and no later request can change them: `/siteverify` answers them
as Turnstile does, so a backend that checks `action` knows which form the work
was done for. Bound at the credit rather than signed into the job: the same
page declares them either way (as with Turnstile), and the credit is where the
token item is written once, conditionally; a job carries nothing a token keeps.

mining.py reads the submit's label (`from_params`) and passes it to the
credit it stages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.errors import BadRequest
from chalicelib.params import Params

# Turnstile's limits: action up to 32 characters, cdata up to 255, both [A-Za-z0-9_-].
MAX_ACTION = 32
MAX_CDATA = 255
_CHARSET = re.compile(r"[A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Label:
    action: str = ""
    cdata: str = ""


NONE = Label()


def _field(params: Params, name: str, max_chars: int) -> str:
    text = params.string(name, required=False, max_chars=max_chars) or ""
    if not _CHARSET.fullmatch(text):
        raise BadRequest(f"{name} may hold only letters, digits, _ and -")
    return text


def from_params(params: Params) -> Label:
    """The request's `action` and `cdata` (absent: empty), else bad_request."""
    return Label(_field(params, "action", MAX_ACTION), _field(params, "cdata", MAX_CDATA))
