"""Benchmark: the Lambda cold start of the shipped bundle against a bare `import boto3`.

Builds the bundle and the functions' Powertools layer with deploy/package.sh
(or takes `--zip`, with powertools-layer.zip beside it) and unpacks each
twice: as shipped, and with its `.pyc` files removed (the bundle before it
carried bytecode; the public Powertools layer, whose build deletes them).
Each measure is a fresh interpreter (`python -I -S -B`: nothing is written,
as on Lambda's read-only /var/task and /opt) whose path holds the bundle,
the layer's python/ folder (/opt/python on Lambda) and a folder with what
the Lambda runtime ships (boto3, botocore, ... each linked from this venv),
with the environment the function has (region, its table names, fake
credentials). Measured, in interleaved rounds, medians: the time of the
import itself inside the interpreter, and the wall time of the whole process.
  boto3                 import boto3
  app                   import app (the handler module): bundle and layer as shipped
  app, public layer     the same with the layer's bytecode removed (the public layer)
  app, no .pyc          neither bundle nor layer with bytecode (before issue 8)
  observe               import chalicelib.observe (Powertools Logger and Metrics: their share)
  third-party floor     what every request needs from outside the bundle's own code
                        (pynamodb's models, Chalice, Powertools' Logger and Metrics): the
                        least `import app` can take however lazily the app imports its own
  app, baseline         with --baseline ZIP: `import app` from another bundle (an older
                        commit's deployment.zip), in the same rounds, to compare the two
Usage: .venv/bin/python bench/cold_start.py [--rounds 21] [--zip out/deployment.zip]
                                            [--baseline old/deployment.zip]
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_PACKAGES = ("boto3", "botocore", "jmespath", "dateutil", "urllib3", "s3transfer", "six")
CHILD = """
import sys, time
sys.path[:0] = sys.argv[2:]
start = time.perf_counter()
__import__(sys.argv[1])
print(time.perf_counter() - start)
"""
THIRD_PARTY_FLOOR = """import pynamodb.attributes, pynamodb.models, chalice.app
from aws_lambda_powertools import Logger
"""


def build_bundle(out: Path) -> tuple[Path, dict[str, str]]:
    """deploy/package.sh into `out` (lint skipped); the zip and the function's variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(SKIP_LINT="1", AWS_DEFAULT_REGION="us-east-1", PYTHON=sys.executable)
    # The bundle as deployed, but for the C extensions built for this machine
    # (the stage declares arm64; an arm64 .so cannot load here): the same
    # Python, the same imports, so the same cold start to compare.
    env.setdefault("LAMBDA_ARCH", "arm64" if platform.machine() in ("aarch64", "arm64")
                   else "x86_64")
    subprocess.run(["bash", str(ROOT / "deploy" / "package.sh"), str(out)], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    sam = json.loads((out / "sam.json").read_text())
    function = next(r["Properties"] for r in sam["Resources"].values()
                    if r["Type"] == "AWS::Serverless::Function")
    variables = function.get("Environment", {}).get("Variables", {})
    # References to other resources become placeholders (table names, the
    # secret's name); references to parameters are left to their defaults.
    return out / "deployment.zip", {
        k: v if isinstance(v, str) else f"bench-{k.lower().replace('_', '-')}"
        for k, v in variables.items()
        if isinstance(v, str) or k.endswith(("_TABLE", "_SECRET_ARN"))}


def unpack(bundle: Path, dest: Path, keep_bytecode: bool) -> Path:
    with zipfile.ZipFile(bundle) as zf:
        for name in zf.namelist():
            if keep_bytecode or not name.endswith(".pyc"):
                zf.extract(name, dest)
    return dest


def runtime_dir(dest: Path, packages: tuple[str, ...] = RUNTIME_PACKAGES) -> Path:
    """What the Lambda Python runtime provides besides the standard library."""
    dest.mkdir()
    for name in packages:
        origin = Path(importlib.import_module(name).__file__)
        source = origin.parent if origin.name == "__init__.py" else origin
        os.symlink(source, dest / source.name)
    return dest


def lambda_env(variables: dict[str, str]) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "TZ": ":UTC",
            "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_SESSION_TOKEN": "bench", "AWS_LAMBDA_FUNCTION_NAME": "workproof-prod",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "LAMBDA_TASK_ROOT": "/var/task",
            **variables}


def measure(module: str, path: list[Path], env: dict[str, str]) -> tuple[float, float]:
    """(import ms inside the interpreter, wall ms of the whole process)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", CHILD, module, *map(str, path)],
                          env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    return float(done.stdout.split()[-1]) * 1000, wall * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--zip", type=Path, help="a packaged deployment.zip (default: build one)")
    parser.add_argument("--baseline", type=Path, help="another deployment.zip, measured alongside")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        if args.zip:
            bundle, variables = args.zip, {}
        else:
            bundle, variables = build_bundle(tmp_path / "out")
        with zipfile.ZipFile(bundle) as zf:
            pyc_bytes = sum(i.compress_size for i in zf.infolist() if i.filename.endswith(".pyc"))
            pycs = sum(1 for i in zf.infolist() if i.filename.endswith(".pyc"))
        size = bundle.stat().st_size
        env = lambda_env(variables)
        runtime = runtime_dir(tmp_path / "runtime")
        layer_zip = bundle.parent / "powertools-layer.zip"
        layer = unpack(layer_zip, tmp_path / "opt", keep_bytecode=True) / "python"
        public_layer = unpack(layer_zip, tmp_path / "opt-no-pyc", keep_bytecode=False) / "python"
        shipped = unpack(bundle, tmp_path / "task", keep_bytecode=True)
        bare = unpack(bundle, tmp_path / "task-no-pyc", keep_bytecode=False)
        cases = {"boto3": ("boto3", [runtime]), "app": ("app", [shipped, layer, runtime]),
                 "app, public layer": ("app", [shipped, public_layer, runtime]),
                 "app, no .pyc": ("app", [bare, public_layer, runtime]),
                 "observe": ("chalicelib.observe", [shipped, layer, runtime])}
        floor = tmp_path / "floor"
        floor.mkdir()
        (floor / "third_party_floor.py").write_text(THIRD_PARTY_FLOOR)
        cases["third-party floor"] = ("third_party_floor", [floor, shipped, layer, runtime])
        if args.baseline:
            baseline = unpack(args.baseline, tmp_path / "baseline", keep_bytecode=True)
            cases["app, baseline"] = ("app", [baseline, layer, runtime])
        for module, path in cases.values():
            measure(module, path, env)  # warm the page cache
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, (module, path) in cases.items():
                results[name].append(measure(module, path, env))
    imports = {name: statistics.median(r[0] for r in rows) for name, rows in results.items()}
    walls = {name: statistics.median(r[1] for r in rows) for name, rows in results.items()}
    print(f"{args.rounds} interleaved rounds, medians; python{sys.version_info.major}."
          f"{sys.version_info.minor} -I -S -B; bundle {size:,} bytes with {pycs} .pyc "
          f"(~{size - pyc_bytes:,} bytes without them)")
    print("| measure | import ms | process wall ms | import / boto3 | wall / boto3 |")
    print("|---|---:|---:|---:|---:|")
    for name in cases:
        print(f"| {name} | {imports[name]:.1f} | {walls[name]:.1f} | "
              f"{imports[name] / imports['boto3']:.2f}x | {walls[name] / walls['boto3']:.2f}x |")


if __name__ == "__main__":
    main()
