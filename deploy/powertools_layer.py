"""Build the functions' Powertools layer: the pinned package, WITH its bytecode.

    python deploy/powertools_layer.py build OUT_ZIP RUNTIME      (e.g. python3.11)
    python deploy/powertools_layer.py publish ZIP LAYER_NAME RUNTIME
                                          (needs AWS credentials; prints the version's ARN)

`build` is run by package.sh (the template's PowertoolsLayer resource) and
`publish` by chalice-deploy.sh (chalice's `layers` take ARNs); publish adds
a version only when the zip differs from the newest one.

Why not the public layer (arn:...:017000801446:layer:AWSLambdaPowertools...):
its build deletes every `.pyc` (powertools-lambda-layer-cdk,
layer/Pythonv3/Dockerfile: `find . -regex '^.*\\(__pycache__\\|\\.py[co]\\)$'
-delete`) and /opt is read-only, so each cold start compiled the ~40 modules
the Logger and Metrics import (typing_extensions alone ~15 ms). This layer
holds the same package at the version requirements-dev.txt pins, plus its
one dependency the runtime lacks (typing_extensions; jmespath comes with the
runtime's boto3), with hash-based unchecked bytecode (PEP 552: the zip's
timestamps cannot invalidate it) where the runtime's Python looks.

The packages are copied from this interpreter's site-packages when the
installed versions are the pinned ones (offline, reproducible), otherwise
installed with pip. The zip is reproducible: sorted entries, fixed dates.
"""
from __future__ import annotations

import compileall
import importlib.metadata
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER_ROOT = "/opt/python"  # where Lambda unpacks a layer's python/ folder: paths in tracebacks
# What the layer adds to the runtime, each at the version requirements-dev.txt pins.
LAYER_DISTRIBUTIONS = ("aws-lambda-powertools", "typing_extensions")
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def pinned(name: str, requirements: Path = ROOT / "requirements-dev.txt") -> str:
    match = re.search(rf"^{re.escape(name)}==([\w.]+)\s*$", requirements.read_text(), re.M)
    if not match:
        raise SystemExit(f"powertools_layer.py: {requirements} pins no {name}==VERSION")
    return match.group(1)


def _copy_installed(name: str, version: str, dest: Path) -> bool:
    """Copy an installed distribution's files (no bytecode) into `dest`; False if not that version."""
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    if dist.version != version or not dist.files:
        return False
    for file in dist.files:
        source = Path(str(dist.locate_file(file)))
        if file.suffix == ".pyc" or "__pycache__" in file.parts or ".." in file.parts \
                or not source.is_file():
            continue  # bytecode is compiled below; `..` entries are scripts outside site-packages
        target = dest / Path(*file.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return True


def stage(dest: Path) -> list[str]:
    """The layer's python/ folder, without bytecode; the `name==version` it holds."""
    pins = [(name, pinned(name)) for name in LAYER_DISTRIBUTIONS]
    for name, version in pins:
        if not _copy_installed(name, version, dest):
            subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                            "--no-compile", "--disable-pip-version-check", "--target", str(dest),
                            f"{name}=={version}"], check=True)
    shutil.rmtree(dest / "bin", ignore_errors=True)
    return [f"{name}=={version}" for name, version in pins]


def build(out_zip: Path) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        python = Path(tmp) / "python"
        python.mkdir()
        held = stage(python)
        if not compileall.compile_dir(
                python, quiet=2, workers=0, stripdir=str(python), prependdir=LAYER_ROOT,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH):
            raise SystemExit("powertools_layer.py: a module of the layer does not compile")
        out_zip.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out_zip, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(p for p in python.rglob("*") if p.is_file()):
                info = zipfile.ZipInfo(path.relative_to(tmp).as_posix(), date_time=ZIP_DATE)
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())
    return held


def publish(zip_path: Path, layer_name: str, runtime: str) -> str:
    """The ARN of a layer version holding exactly `zip_path`: the newest one if it does."""
    import base64
    import hashlib

    import boto3

    client = boto3.client("lambda")
    content = zip_path.read_bytes()
    sha256 = base64.b64encode(hashlib.sha256(content).digest()).decode()
    versions = client.list_layer_versions(LayerName=layer_name).get("LayerVersions", [])
    if versions:
        newest = client.get_layer_version(LayerName=layer_name,
                                          VersionNumber=max(v["Version"] for v in versions))
        if newest["Content"]["CodeSha256"] == sha256:
            return str(newest["LayerVersionArn"])
    made = client.publish_layer_version(
        LayerName=layer_name, Content={"ZipFile": content}, CompatibleRuntimes=[runtime],
        Description="Powertools for AWS Lambda with bytecode (deploy/powertools_layer.py)")
    return str(made["LayerVersionArn"])


def _check_runtime(runtime: str) -> None:
    mine = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if runtime != mine:
        raise SystemExit(f"powertools_layer.py: the functions run {runtime} but this is {mine}: "
                         f"run it with {runtime}'s interpreter")


def main(argv: list[str]) -> None:
    if len(argv) == 3 and argv[0] == "build":
        out_zip, runtime = Path(argv[1]), argv[2]
        _check_runtime(runtime)
        held = build(out_zip)
        print(f"powertools_layer.py: {out_zip} ({out_zip.stat().st_size} bytes): "
              f"{', '.join(held)} with bytecode for {runtime}")
    elif len(argv) == 4 and argv[0] == "publish":
        print(publish(Path(argv[1]), argv[2], argv[3]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
