"""Every method of the packaged REST API that invokes Lambda, and its limit.

Read from the packaged template (`out/sam.json`: chalice's OpenAPI body
merged with deploy/merge-template.json), not from a list kept by hand: a
method whose integration is the function (`aws_proxy`) can run up the bill,
so each must have a throttle, its own (`MethodSettings`) or the stage's
default (`/*`), and WAF's route rules decide which of them a client can
reach at all (tests/deploy/test_waf_routes.py).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# API Gateway's method settings spell a resource path with `/` as `~1`.
_DEFAULT = ("/*", "*")


def lambda_methods(sam: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(path, METHOD) of every method whose integration invokes the function."""
    body = sam["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    found = []
    for path, methods in body["paths"].items():
        for method, spec in methods.items():
            integration = spec.get("x-amazon-apigateway-integration", {}) \
                if isinstance(spec, dict) else {}
            if integration.get("type") == "aws_proxy":
                found.append((path, method.upper()))
    return sorted(found)


def _setting_key(path: str, method: str) -> tuple[str, str]:
    return ("/" + path.replace("/", "~1"), method)


def method_limits(sam: Mapping[str, Any],
                  params: Mapping[str, Any]) -> dict[tuple[str, str], tuple[float, str]]:
    """Each Lambda-invoking method's steady limit (requests/s) and where it
    comes from: its own setting, or the stage's default; absent = no limit."""
    settings = sam["Resources"]["RestAPI"]["Properties"].get("MethodSettings", [])
    by_key = {(s["ResourcePath"], s["HttpMethod"]): s for s in settings
              if "ThrottlingRateLimit" in s}
    out: dict[tuple[str, str], tuple[float, str]] = {}
    for path, method in lambda_methods(sam):
        own = by_key.get(_setting_key(path, method))
        setting, source = (own, "own") if own else (by_key.get(_DEFAULT), "stage default")
        if setting is None:
            continue
        out[(path, method)] = (_number(setting["ThrottlingRateLimit"], params), source)
    return out


def _number(node: Any, params: Mapping[str, Any]) -> float:
    if isinstance(node, Mapping) and "Ref" in node:
        return float(params[node["Ref"]])
    return float(node)
