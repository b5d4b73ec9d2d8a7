"""One source of defaults: every setting the app reads has one default, in
chalicelib/config.py, and both deploy paths run with it.

The template's parameter defaults, both functions' environments (the API's
and the stream consumer's) and `chalice deploy`'s prod stage are checked
against `config.DEPLOYED_SETTINGS`; which settings the code reads is
recorded from `Settings.from_environ`, not listed by hand.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from chalicelib import config
from chalicelib.store import models
from tests.deploy.cfn import FUNCTIONS, MERGE_TEMPLATE
from tests.deploy.cfn import function as _function
from tests.deploy.conftest import Packaged

ROOT = Path(__file__).resolve().parents[2]


class _Recording(Mapping[str, str]):
    """An empty environment that remembers every variable asked of it."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.asked.add(key)
        return default

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.asked.add(key)
        return False

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def settings_read() -> set[str]:
    environ = _Recording()
    config.Settings.from_environ(environ)
    return environ.asked


def test_every_setting_the_app_reads_has_its_place() -> None:
    read = settings_read() - {config.ENV_REGION}  # the Lambda runtime sets the region
    tables = {t.env_var for t in models.TABLES}
    placed = set(config.DEPLOYED_SETTINGS) | tables | config.LOCAL_ONLY_SETTINGS \
        | set(config.DEPLOYED_RESOURCES)
    assert read - placed == set(), "a setting with no deployed default"
    assert set(config.DEPLOYED_SETTINGS) <= read, "a deployed setting the app never reads"


def test_the_defaults_are_the_apps_own() -> None:
    defaults = config.Settings.from_environ({})
    as_deployed = config.Settings.from_environ(
        {name: value for name, (_param, value) in config.DEPLOYED_SETTINGS.items()})
    assert as_deployed == defaults
    assert config.DEPLOYED_SETTINGS[config.ENV_MIN_WORK][1] == str(config.DEFAULT_MIN_WORK)


@pytest.mark.parametrize("template_of", ["merge", "sam"])
def test_the_templates_parameter_defaults_are_the_documented_ones(
        packaged: Packaged, template_of: str) -> None:
    template = json.loads(MERGE_TEMPLATE.read_text()) if template_of == "merge" else packaged.sam
    parameters = template["Parameters"]
    for variable, (parameter, default) in config.DEPLOYED_SETTINGS.items():
        assert parameter in parameters, f"{variable}: no template parameter {parameter}"
        assert str(parameters[parameter].get("Default", "")) == default, variable


@pytest.mark.parametrize("logical", sorted(FUNCTIONS))
def test_each_function_is_given_every_setting_its_code_reads(packaged: Packaged,
                                                             logical: str) -> None:
    env = _function(packaged.sam, logical)["Environment"]["Variables"]
    for variable, (parameter, _default) in config.DEPLOYED_SETTINGS.items():
        assert env.get(variable) == {"Ref": parameter}, f"{logical} lacks {variable}"
    assert not config.LOCAL_ONLY_SETTINGS & set(env), logical


def test_the_api_function_is_given_each_resource_by_ref(packaged: Packaged) -> None:
    """A setting naming a resource the stack creates (a secret) is that resource's
    Ref, in the API function's environment and the verify function's (the same
    app; the consumer reads no secret); unset, each is the app's default (the
    function-URL door closed)."""
    resources = packaged.sam["Resources"]
    for logical in sorted(FUNCTIONS):
        env = _function(packaged.sam, logical)["Environment"]["Variables"]
        for variable, resource in config.DEPLOYED_RESOURCES.items():
            if logical in ("APIHandler", "Verify"):
                assert resource in resources, f"no resource {resource} for {variable}"
                # A resource only one door creates is given only on that door.
                condition = resources[resource].get("Condition")
                expected = {"Ref": resource} if condition is None else \
                    {"Fn::If": [condition, {"Ref": resource}, ""]}
                assert env.get(variable) == expected, f"{logical} lacks {variable}"
            else:  # (chalice's stage variables name the signing key's secret for every function)
                assert not isinstance(env.get(variable), dict), f"{logical} is given {resource}"
    assert config.Settings.from_environ({}).origin_secret_id == ""


def test_chalice_deploys_prod_stage_runs_the_same_defaults() -> None:
    """Path B (`chalice deploy --stage prod`): every setting either unset (the
    app's default) or set to the documented default, for both functions (a
    stage's variables reach every function of the app)."""
    cfg = json.loads((ROOT / ".chalice" / "config.json").read_text())
    prod = cfg["stages"]["prod"]
    for name in ("streams", "verify"):
        assert "environment_variables" not in prod.get("lambda_functions", {}).get(name, {})
    env = {**cfg.get("environment_variables", {}), **prod["environment_variables"]}
    for variable, (_parameter, default) in config.DEPLOYED_SETTINGS.items():
        assert env.get(variable, default) == default, variable
    assert env[config.ENV_MIN_WORK] == str(config.DEFAULT_MIN_WORK)
