"""Reading the packaged templates: resources by type, tables by suffix, functions;
and deploy/'s scripts, loaded as modules."""
from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MERGE_TEMPLATE = ROOT / "deploy" / "merge-template.json"


def deploy_script(name: str) -> ModuleType:
    """deploy/NAME.py (a script, not a package) loaded as a module."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "deploy" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Logical id of each deployed function and the FunctionName the template gives it.
FUNCTIONS = {"APIHandler": "workproof-prod", "Streams": "workproof-prod-streams",
             "Verify": "workproof-prod-verify"}


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
