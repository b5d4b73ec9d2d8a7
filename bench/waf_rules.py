"""The template's WAF rules, read and evaluated as WAF would (bench-abuse, tests/deploy).

`rules(template, params, stage, acl)` turns one of deploy/merge-template.json's
web ACLs (WebAcl, the REST door's, behind the `stage` prefix; EdgeWebAcl, the
cloudfront door's, stage "") into `Rule`s in priority order; `matches(statement, path, method)` says
whether a request's URI path and method satisfy a rule's statement. Only
the statement kinds the template uses are understood (And, Or, Not,
RegexMatchStatement and ByteMatchStatement on the URI path or the method,
with URL_DECODE, NORMALIZE_PATH and LOWERCASE transformations); any other
kind raises, so a template change cannot be silently misread.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote


@dataclass(frozen=True)
class Rule:
    """One WebACL rule. `limit` is None for a rule that blocks on its statement
    alone; a rate-based rule blocks a key (`key`: "IP" or "CONSTANT") whose
    requests matching `statement` (None: every request) exceed `limit` per
    `window` seconds."""

    name: str
    priority: int
    statement: Mapping[str, Any] | None
    body: str  # the custom response body's key
    limit: float | None = None
    window: float = 0.0
    key: str = ""


def _resolve(node: Any, stage: str, params: Mapping[str, Any]) -> Any:
    """A template value with Fn::Sub (the stage) and Ref (parameters) resolved."""
    if isinstance(node, dict) and set(node) == {"Fn::Sub"}:
        return str(node["Fn::Sub"]).replace("${RestAPI.Stage}", stage)
    if isinstance(node, dict) and set(node) == {"Ref"}:
        return params[node["Ref"]]
    if isinstance(node, dict):
        return {k: _resolve(v, stage, params) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, stage, params) for v in node]
    return node


def rules(template: Mapping[str, Any], params: Mapping[str, Any], stage: str = "api",
          acl_id: str = "WebAcl") -> list[Rule]:
    """The web ACL `acl_id`'s rules in the order WAF evaluates them (none if it is absent)."""
    acl = template["Resources"].get(acl_id)
    if acl is None:
        return []
    out = []
    for raw in sorted(acl["Properties"]["Rules"], key=lambda r: int(r["Priority"])):
        rule = _resolve(raw, stage, params)
        block = rule["Action"]["Block"]["CustomResponse"]
        statement = rule["Statement"]
        if "RateBasedStatement" in statement:
            rate = statement["RateBasedStatement"]
            out.append(Rule(rule["Name"], int(rule["Priority"]), rate.get("ScopeDownStatement"),
                            block["CustomResponseBodyKey"], float(rate["Limit"]),
                            float(rate["EvaluationWindowSec"]), rate["AggregateKeyType"]))
        else:
            out.append(Rule(rule["Name"], int(rule["Priority"]), statement,
                            block["CustomResponseBodyKey"]))
    return out


def _normalise_path(value: str) -> str:
    """WAF's NORMALIZE_PATH: repeated slashes and dot segments (not at the start) removed."""
    value = re.sub(r"/{2,}", "/", value)
    parts: list[str] = []
    for index, part in enumerate(value.split("/")):
        if part == "." and index > 0:
            continue
        if part == ".." and index > 0 and parts and parts[-1] not in ("", ".."):
            parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


_TRANSFORMS = {"NONE": lambda v: v, "URL_DECODE": unquote, "NORMALIZE_PATH": _normalise_path,
               "LOWERCASE": str.lower}


def _field(statement: Mapping[str, Any], path: str, method: str) -> str:
    field = statement["FieldToMatch"]
    if field == {"UriPath": {}}:
        value = path
    elif field == {"Method": {}}:
        value = method
    else:
        raise ValueError(f"field not modelled: {field}")
    for transform in sorted(statement.get("TextTransformations", []), key=lambda t: t["Priority"]):
        value = _TRANSFORMS[transform["Type"]](value)
    return value


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _byte_match(statement: Mapping[str, Any], value: str) -> bool:
    wanted, position = str(statement["SearchString"]), statement["PositionalConstraint"]
    tests = {"EXACTLY": value == wanted, "STARTS_WITH": value.startswith(wanted),
             "ENDS_WITH": value.endswith(wanted), "CONTAINS": wanted in value}
    if position not in tests:
        raise ValueError(f"positional constraint not modelled: {position}")
    return tests[position]


def matches(statement: Mapping[str, Any] | None, path: str, method: str) -> bool:
    """Whether a request (its URI path as WAF sees it, and its method) satisfies `statement`."""
    if statement is None:
        return True
    (kind, body), = statement.items()
    if kind == "AndStatement":
        return all(matches(s, path, method) for s in body["Statements"])
    if kind == "OrStatement":
        return any(matches(s, path, method) for s in body["Statements"])
    if kind == "NotStatement":
        return not matches(body["Statement"], path, method)
    if kind == "RegexMatchStatement":
        return _compiled(body["RegexString"]).search(_field(body, path, method)) is not None
    if kind == "ByteMatchStatement":
        return _byte_match(body, _field(body, path, method))
    raise ValueError(f"statement not modelled: {kind}")
