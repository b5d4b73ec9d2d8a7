"""Fixtures of the deploy checks: the packaged stack, built once per session."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Packaged:
    out: Path
    sam: dict[str, Any]   # out/sam.json: what `chalice package` + the merge template produce
    cfn_or_none: dict[str, Any] | None  # out/cloudformation.json: SAM transform expanded
    log: str

    @property
    def cfn(self) -> dict[str, Any]:
        """The expanded template; skips the test if aws-sam-translator is missing."""
        if self.cfn_or_none is None:
            pytest.skip("aws-sam-translator is not installed: the SAM transform was not "
                        "expanded (add aws-sam-translator to requirements-dev.txt)")
        return self.cfn_or_none


# Where an air-gapped build's pip would go if it tried the network: nowhere. The
# metadata addresses go direct and fail as they do off EC2 (botocore, looking for
# credentials chalice package never uses, takes that failure as "none").
NO_NETWORK = {"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
              "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
              "no_proxy": "169.254.169.254,169.254.170.2", "NO_PROXY": "169.254.169.254,169.254.170.2"}


def package(tmp_path_factory: pytest.TempPathFactory, arch: str | None, lint: bool,
            wheels: Path | None = None) -> Packaged:
    """package.sh into a temporary folder; with `wheels`, as on an air-gapped machine
    (WHEELS=that folder, and any network call would fail)."""
    out = tmp_path_factory.mktemp(f"package-{arch or 'declared'}") / "out"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "PIP_")) and k not in ("WORKPROOF_SIGNING_KEYS",)}
    env.pop("LAMBDA_ARCH", None)
    env.update({"AWS_DEFAULT_REGION": "us-east-1", "SKIP_LINT": "0" if lint else "1"})
    if arch is not None:
        env["LAMBDA_ARCH"] = arch
    if wheels is not None:
        env.update(NO_NETWORK, WHEELS=str(wheels))
    env["PYTHON"] = sys.executable
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(["bash", str(ROOT / "deploy" / "package.sh"), str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"deploy/package.sh failed:\n{log}"
    cfn = out / "cloudformation.json"
    return Packaged(out, json.loads((out / "sam.json").read_text()),
                    json.loads(cfn.read_text()) if cfn.exists() else None, log)


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    """Run deploy/package.sh offline (no credentials) into a temporary folder, as
    `make package` does: the architecture the prod stage declares (arm64), linted."""
    return package(tmp_path_factory, None, lint=True)


@pytest.fixture(scope="session")
def wheel_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `make wheels` puts in wheels/ for the Lambda (both architectures), from PyPI."""
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run([sys.executable, str(ROOT / "deploy" / "vendor_wheels.py"), "--download", str(wheels)],
                   check=True, capture_output=True, timeout=300)
    return wheels


@pytest.fixture(scope="session")
def packaged_arm64(tmp_path_factory: pytest.TempPathFactory, wheel_cache: Path) -> Packaged:
    """The same arm64 (Graviton) stack, built air-gapped from the wheel cache
    alone; the template is linted above."""
    return package(tmp_path_factory, "arm64", lint=False, wheels=wheel_cache)


@pytest.fixture(scope="session")
def packaged_x86(tmp_path_factory: pytest.TempPathFactory, wheel_cache: Path) -> Packaged:
    """The stack with LAMBDA_ARCH=x86_64 (an operator's override), air-gapped too."""
    return package(tmp_path_factory, "x86_64", lint=False, wheels=wheel_cache)
