"""A small, strict evaluator of identity-based IAM policies (no conditions).

Enough for the hand-written `.chalice/policy-*.json`: Allow/Deny statements
with Action and Resource (strings or lists, `*` and `?` wildcards, matched
case-insensitively for actions and case-sensitively for resources, as IAM
does). NotAction, NotResource and Condition are refused: the policy does not
use them, and a checker that ignored them would be wrong.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any


@cache
def _pattern(glob: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(f"^{regex}$", re.IGNORECASE if ignore_case else 0)


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def statements(policy: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for statement in _as_list(policy["Statement"]) if isinstance(policy["Statement"], str) \
            else policy["Statement"]:
        unsupported = {"NotAction", "NotResource", "Condition", "NotPrincipal", "Principal"} & set(statement)
        if unsupported:
            raise ValueError(f"unsupported policy elements {sorted(unsupported)} in {statement}")
        yield statement


def _matches(statement: dict[str, Any], action: str, resource: str) -> bool:
    return any(_pattern(a, True).match(action) for a in _as_list(statement["Action"])) and \
        any(_pattern(r, False).match(resource) for r in _as_list(statement["Resource"]))


def allowed(policy: dict[str, Any], action: str, resource: str) -> bool:
    """True when some Allow statement matches and no Deny statement does."""
    granted = False
    for statement in statements(policy):
        if _matches(statement, action, resource):
            if statement["Effect"] == "Deny":
                return False
            granted = granted or statement["Effect"] == "Allow"
    return granted
