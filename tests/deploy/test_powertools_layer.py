"""The functions' Powertools layer: built by package.sh with its bytecode, the
one layer both functions load, and published by chalice-deploy.sh only when
it changed.

The public Powertools layer deletes every `.pyc` at build time, so on
Lambda's read-only /opt each cold start compiled Powertools' modules; ours
carries hash-based unchecked bytecode next to each module.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.deploy.cfn import FUNCTIONS, ROOT, deploy_script, function, resources
from tests.deploy.conftest import Packaged

powertools_layer = deploy_script("powertools_layer")

RUNTIME_PACKAGES = ("boto3", "botocore", "jmespath", "dateutil", "urllib3", "s3transfer", "six")


def _pin(name: str) -> str:
    text = (ROOT / "requirements-dev.txt").read_text()
    match = re.search(rf"^{re.escape(name)}==([\w.]+)$", text, re.M)
    assert match, f"requirements-dev.txt pins no {name}"
    return match.group(1)


def test_both_functions_load_the_one_layer_the_template_builds(packaged: Packaged) -> None:
    for logical in FUNCTIONS:
        assert function(packaged.sam, logical)["Layers"] == [{"Ref": "PowertoolsLayer"}]
    (layer,) = resources(packaged.sam, "AWS::Serverless::LayerVersion").values()
    props = layer["Properties"]
    assert props["ContentUri"] == "./powertools-layer.zip"
    assert props["LayerName"] == "workproof-prod-powertools"
    runtimes = {function(packaged.sam, logical)["Runtime"] for logical in FUNCTIONS}
    assert runtimes == set(props["CompatibleRuntimes"]) == {"python3.11"}
    # No public layer is named anywhere any more (its build strips bytecode).
    assert "017000801446" not in json.dumps(packaged.sam)
    assert "layers" not in json.loads((ROOT / ".chalice" / "config.json").read_text())


def test_the_expanded_template_creates_the_layer_version(packaged: Packaged) -> None:
    (version,) = resources(packaged.cfn, "AWS::Lambda::LayerVersion").values()
    assert version["Properties"]["Content"]["S3Key"] == "powertools-layer.zip"


def test_layer_holds_pinned_powertools_with_bytecode_for_every_module(packaged: Packaged) -> None:
    with zipfile.ZipFile(packaged.out / "powertools-layer.zip") as zf:
        names = set(zf.namelist())
        magic = importlib.util.MAGIC_NUMBER
        sources = sorted(n for n in names if n.endswith(".py"))
        assert "python/aws_lambda_powertools/logging/logger.py" in sources
        assert "python/typing_extensions.py" in sources
        for source in sources:
            folder, _, module = source.rpartition("/")
            pyc = f"{folder}/__pycache__/{module[:-3]}.cpython-311.pyc"
            assert pyc in names, f"{source} has no bytecode"
            header = zf.read(pyc)[:8]
            # PEP 552 flags: 0b01 = hash-based, check_source bit (0b10) off = unchecked.
            assert header[:4] == magic and int.from_bytes(header[4:8], "little") == 0b01, pyc
    tops = {n.split("/")[1] for n in names}
    assert f"aws_lambda_powertools-{_pin('aws-lambda-powertools')}.dist-info" in tops
    assert f"typing_extensions-{_pin('typing_extensions')}.dist-info" in tops
    for runtime in RUNTIME_PACKAGES:
        assert not any(t == runtime or t.startswith(f"{runtime}-") for t in tops), runtime


def test_layer_build_is_reproducible(tmp_path: Path, packaged: Packaged) -> None:
    """Built again by a fresh interpreter (as package.sh and chalice-deploy.sh run it),
    with another hash seed: the same bytes, so a redeploy publishes no new version."""
    again = tmp_path / "again.zip"
    subprocess.run([sys.executable, str(ROOT / "deploy" / "powertools_layer.py"), "build",
                    str(again), "python3.11"], check=True, capture_output=True,
                   env={**os.environ, "PYTHONHASHSEED": "4242"})
    assert again.read_bytes() == (packaged.out / "powertools-layer.zip").read_bytes()


@pytest.fixture
def lambda_client(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from moto import mock_aws

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        import boto3

        yield boto3.client("lambda")


def test_publish_adds_a_version_only_when_the_zip_changed(lambda_client, packaged: Packaged,  # type: ignore[no-untyped-def]
                                                          tmp_path: Path) -> None:
    built = packaged.out / "powertools-layer.zip"
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("python/marker.py", "")
    name = "workproof-prod-powertools"
    first = powertools_layer.publish(built, name, "python3.11")
    assert first.endswith(f":layer:{name}:1")
    assert powertools_layer.publish(built, name, "python3.11") == first  # a redeploy
    assert powertools_layer.publish(other, name, "python3.11").endswith(f"{name}:2")
    assert powertools_layer.publish(built, name, "python3.11").endswith(f"{name}:3")
    versions = lambda_client.list_layer_versions(LayerName=name)["LayerVersions"]
    assert sorted(v["Version"] for v in versions) == [1, 2, 3]


def test_powertools_is_a_dev_requirement_only() -> None:
    runtime = (ROOT / "requirements.txt").read_text().lower()
    assert "powertools" not in runtime and "typing_extensions" not in runtime
    _pin("aws-lambda-powertools")
    _pin("typing_extensions")
