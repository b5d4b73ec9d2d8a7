"""Reading the packaged templates: resources by type, tables by suffix, functions."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MERGE_TEMPLATE = ROOT / "deploy" / "merge-template.json"
# Logical id of each deployed function and the FunctionName the template gives it.
FUNCTIONS = {"APIHandler": "workproof-prod", "Streams": "workproof-prod-streams"}


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def tables_by_suffix(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`ledger` -> the table resource (plus `Logical`, its logical id)."""
    out = {}
    for logical, res in resources(template, "AWS::DynamoDB::Table").items():
        name = res["Properties"]["TableName"]
        assert name.startswith("workproof-prod-"), name
        out[name.removeprefix("workproof-prod-")] = dict(res, Logical=logical)
    return out


def function(template: dict[str, Any], logical: str = "APIHandler") -> dict[str, Any]:
    fns = resources(template, "AWS::Serverless::Function")
    assert set(fns) == set(FUNCTIONS), sorted(fns)
    return fns[logical]["Properties"]


def policy(name: str) -> dict[str, Any]:
    return json.loads((ROOT / ".chalice" / name).read_text())


def substitutions(template_string: str) -> set[str]:
    """The `${Name}` / `${Name.Attr}` references of an Fn::Sub string (not `${!...}`)."""
    return set(re.findall(r"\$\{(?!!)([^}]+)\}", template_string))


def substitute(template_string: str, values: dict[str, str]) -> str:
    """Fn::Sub with `values` for each reference; a missing one raises KeyError."""
    return re.sub(r"\$\{(?!!)([^}]+)\}", lambda m: values[m.group(1)], template_string)
