"""The Lambda bundle: small, and complete with only the runtime's boto3 beside it.

deploy/package.sh runs `chalice package --stage prod --merge-template ...`
offline (no credentials) with pynamodb vendored without its dependencies.
Here the zip is unpacked and the app is imported and called in a separate
interpreter (`python -I -S -B`: nothing written, as on Lambda's read-only
/var/task) whose path holds only the unpacked zip, the standard library, a
folder with what the Lambda Python runtime ships (boto3, botocore, jmespath,
dateutil, urllib3, s3transfer, six) and the functions' Powertools layer as
package.sh builds it (its python/ folder: /opt/python on Lambda); the calls that reach DynamoDB go to a moto
server.
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.deploy.conftest import Packaged

ROOT = Path(__file__).resolve().parents[2]
# The app, vendored pynamodb and ada (about 1.05 MB with the front door's
# modules): far below what a bundled botocore (17 MB) would make it.
MAX_ZIP_BYTES = 1280 * 1024
# What the AWS Lambda Python runtime provides besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "jmespath", "dateutil", "urllib3", "s3transfer", "six")
# What the Powertools layer (deploy/merge-template.json) adds: the package and
# its one required dependency beyond the runtime's.
LAYER_PACKAGES = ("aws_lambda_powertools", "typing_extensions")


def test_package_script_ran_offline_and_linted(packaged: Packaged) -> None:
    assert "cfn-lint: no errors" in packaged.log
    assert (packaged.out / "deployment.zip").is_file()


def test_zip_is_small(packaged: Packaged) -> None:
    size = (packaged.out / "deployment.zip").stat().st_size
    print(f"deployment.zip: {size} bytes")
    assert size < MAX_ZIP_BYTES, f"deployment.zip is {size} bytes (limit {MAX_ZIP_BYTES})"


def test_zip_holds_the_app_pynamodb_and_ada_only(packaged: Packaged) -> None:
    with zipfile.ZipFile(packaged.out / "deployment.zip") as zf:
        names = zf.namelist()
    tops = {name.split("/", 1)[0] for name in names}
    assert tops == {"app.py", "__pycache__", "chalicelib", "pynamodb", "chalice", "ada_url",
                    "ada_url-4.0.0.dist-info",
                    "cffi-2.1.1.dist-info", "_cffi_backend.cpython-311-aarch64-linux-gnu.so"}, tops
    for runtime in RUNTIME_PACKAGES + LAYER_PACKAGES + ("boto3", "moto", "pytest"):
        assert not any(t == runtime or t.startswith(f"{runtime}-") or t == f"{runtime}.py"
                       for t in tops), f"{runtime} must not be bundled: {sorted(tops)}"
    assert not [n for n in names if n.split("/", 1)[0] in ("ops", "tests", "bench", "deploy")]
    assert "chalicelib/openapi.json" in names


def test_make_package_builds_the_architecture_the_stage_declares_and_the_bill_prices(
        packaged: Packaged) -> None:
    from bench import bill

    declared = json.loads((ROOT / ".chalice" / "config.json").read_text())[
        "stages"]["prod"]["lambda_architecture"]
    assert declared == "arm64" and bill.lambda_arch() == "arm64"
    assert packaged.sam["Resources"]["APIHandler"]["Properties"]["Architectures"] == [declared]


# ELF e_machine values: what each architecture's Lambda can load.
ELF_MACHINES = {"x86_64": (0x3E, "x86_64"), "arm64": (0xB7, "aarch64")}


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_the_c_extensions_are_the_lambdas_own_builds(request, arch: str) -> None:
    """ada-url and _cffi_backend built for the function's architecture, stripped, no sources."""
    packaged = request.getfixturevalue("packaged_x86" if arch == "x86_64" else "packaged")
    machine, triplet = ELF_MACHINES[arch]
    with zipfile.ZipFile(packaged.out / "deployment.zip") as zf:
        names = set(zf.namelist())
        extensions = {name: zf.read(name) for name in names if name.endswith(".so")}
    assert set(extensions) == {"ada_url/_ada_wrapper.abi3.so", f"_cffi_backend.cpython-311-{triplet}-linux-gnu.so"}
    for name, data in extensions.items():
        assert data[:4] == b"\x7fELF" and int.from_bytes(data[18:20], "little") == machine, name
        assert b".debug_info" not in data, f"{name} still carries debug information"
    assert b"PyInit__ada_wrapper" in extensions["ada_url/_ada_wrapper.abi3.so"]
    # Only what runs, and the licences: no C++ sources, no cffi build-time package.
    assert {"ada_url/__init__.py", "ada_url/ada_adapter.py", "ada_url-4.0.0.dist-info/licenses/LICENSE",
            "cffi-2.1.1.dist-info/licenses/LICENSE"} <= names
    assert not [n for n in names if n.endswith((".cpp", ".h")) or n.startswith(("cffi/", "pycparser"))]
    for function in ("APIHandler", "Streams", "Verify"):
        architectures = packaged.sam["Resources"][function]["Properties"].get("Architectures",
                                                                              ["x86_64"])
        assert architectures == [arch], function
    size = (packaged.out / "deployment.zip").stat().st_size
    assert size < MAX_ZIP_BYTES, f"{arch} deployment.zip is {size} bytes (limit {MAX_ZIP_BYTES})"


def test_every_module_ships_its_bytecode_for_the_lambda_python(packaged: Packaged) -> None:
    """Lambda's /var/task is read-only: a module without a .pyc is compiled at every cold start.

    Each .pyc is where Python 3.11 looks, hash-based and unchecked (the zip's
    timestamps cannot invalidate it) and made from the source beside it.
    """
    runtime = next(r["Properties"]["Runtime"] for r in packaged.sam["Resources"].values()
                   if r["Type"] == "AWS::Serverless::Function")
    assert runtime == f"python{sys.version_info.major}.{sys.version_info.minor}"
    with zipfile.ZipFile(packaged.out / "deployment.zip") as zf:
        names = set(zf.namelist())
        sources = sorted(n for n in names if n.endswith(".py"))
        assert {"app.py", "chalicelib/api.py", "chalicelib/__init__.py"} <= set(sources)
        for source in sources:
            folder, _, module = source.rpartition("/")
            pyc = f"{folder}/__pycache__/" if folder else "__pycache__/"
            pyc += f"{module[:-3]}.{sys.implementation.cache_tag}.pyc"
            assert pyc in names, f"{source} ships without {pyc}"
            data = zf.read(pyc)
            assert data[:4] == importlib.util.MAGIC_NUMBER, pyc
            assert int.from_bytes(data[4:8], "little") == 0b01, f"{pyc}: not unchecked-hash"
            assert data[8:16] == importlib.util.source_hash(zf.read(source)), \
                f"{pyc} was not compiled from the {source} it ships with"


def _runtime_dir(dest: Path, packages: tuple[str, ...] = RUNTIME_PACKAGES) -> Path:
    """A folder holding only `packages` (links to this venv's copies)."""
    dest.mkdir()
    for name in packages:
        module = importlib.import_module(name)
        origin = Path(module.__file__)
        source = origin.parent if origin.name == "__init__.py" else origin
        os.symlink(source, dest / source.name)
    return dest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CHILD = r'''
import json, os, sys, sysconfig
zipdir, layer, runtime = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path[:0] = [zipdir, layer, runtime]  # Lambda's order: task, /opt/python, runtime
stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
platstdlib = os.path.realpath(sysconfig.get_paths()["platstdlib"])

import app as handler_module  # what Lambda does for Handler "app.app"
import pynamodb, botocore, boto3
# What the layer offers the app (logs and metrics) imports with nothing else.
import aws_lambda_powertools
from aws_lambda_powertools import Logger, Metrics
from chalicelib import targets  # ada, loaded from the zip: the Lambda's own build

def where(mod):
    f = getattr(mod, "__file__", None)
    return os.path.realpath(f) if f else None

outside = []
allowed = [os.path.realpath(zipdir), stdlib, platstdlib]
runtime_real = [os.path.realpath(os.path.join(folder, n))
                for folder in (runtime, layer) for n in os.listdir(folder)]
for name, mod in list(sys.modules.items()):
    f = where(mod)
    if f and not any(f.startswith(p) for p in allowed + runtime_real):
        outside.append((name, f))

class Context:
    aws_request_id = "test-request"
    function_name = "workproof-prod"
    memory_limit_in_mb = 512
    def get_remaining_time_in_millis(self):
        return 30000

def event(method, resource, path, query=None, path_params=None):
    return {
        "resource": resource, "path": path, "httpMethod": method,
        "headers": {"Host": "abc.execute-api.us-east-1.amazonaws.com", "X-Forwarded-Proto": "https"},
        "multiValueHeaders": {"Host": ["abc.execute-api.us-east-1.amazonaws.com"], "X-Forwarded-Proto": ["https"]},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": path_params, "stageVariables": None,
        "requestContext": {"resourcePath": resource, "httpMethod": method, "path": "/api" + path,
                           "stage": "api", "requestId": "r1", "identity": {"sourceIp": "127.0.0.1"}},
        "body": None, "isBase64Encoded": False,
    }

def call(*args, **kwargs):
    answer = handler_module.app(event(*args, **kwargs), Context())
    return answer["statusCode"], answer["body"]

target = [targets.parse("https://fa\u00df.de/stra\u00dfe?q=1").href,
          targets.parse("https://fa\u00df.de/").host]  # imports ada (lazily, as links do)
results = {
    "files": {"pynamodb": where(pynamodb), "botocore": where(botocore), "boto3": where(boto3),
              "powertools": where(aws_lambda_powertools),
              "ada_url": where(sys.modules["ada_url"])},
    "target": target,
    "outside": outside,
    "not_found": call("GET", "/{p0}", "/nope", path_params={"p0": "nope"}),
    "openapi": call("GET", "/openapi.json", "/openapi.json"),
    "balance": call("GET", "/user/balance", "/user/balance",
                    query={"secret": "A" * 32, "name": "alice"}),
}
# Every module imported so far (the calls included) came from shipped bytecode
# (run with -B, like a read-only /var/task and /opt); C extensions (ada's
# wrapper, _cffi_backend) have none to ship.
results["compiled_here"] = sorted(
    name for name, mod in sys.modules.items()
    if (where(mod) or "").startswith((os.path.realpath(zipdir), os.path.realpath(layer)))
    and not (where(mod) or "").endswith(".so")
    and not os.path.exists(getattr(mod, "__cached__", None) or ""))
print(json.dumps(results))
'''


def test_app_imports_and_answers_from_the_zip_plus_runtime_boto3(request: pytest.FixtureRequest,
                                                                  tmp_path: Path) -> None:
    from moto.server import ThreadedMotoServer

    # The bundle built for this machine (its C extensions load only there):
    # the same files but for ada-url's and cffi's builds.
    packaged = request.getfixturevalue(
        "packaged" if platform.machine() in ("aarch64", "arm64") else "packaged_x86")

    unpacked = tmp_path / "task"
    with zipfile.ZipFile(packaged.out / "deployment.zip") as zf:
        zf.extractall(unpacked)
    runtime = _runtime_dir(tmp_path / "runtime")
    with zipfile.ZipFile(packaged.out / "powertools-layer.zip") as zf:
        zf.extractall(tmp_path / "opt")
    layer = tmp_path / "opt" / "python"

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        import boto3

        from ops import tables as admin_tables

        client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        env = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1",
               "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "AWS_CONFIG_FILE": "/dev/null",
               "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "WORKPROOF_MIN_WORK": "65536"}
        saved = {k: os.environ.pop(k) for k in list(os.environ)
                 if k.startswith("WORKPROOF_") and k.endswith("_TABLE")}
        try:
            admin_tables.create_tables("local", client=client)
        finally:
            os.environ.update(saved)
        proc = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", CHILD, str(unpacked),
                               str(layer), str(runtime)],
                              env=env, capture_output=True, text=True, timeout=120)
    finally:
        server.stop()
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout.strip().splitlines()[-1])

    assert results["files"]["pynamodb"].startswith(os.path.realpath(unpacked))
    assert results["files"]["ada_url"].startswith(os.path.realpath(unpacked))
    assert results["target"] == ["https://xn--fa-hia.de/stra%C3%9Fe?q=1", "xn--fa-hia.de"]
    assert not results["files"]["botocore"].startswith(os.path.realpath(unpacked))
    assert results["files"]["powertools"].startswith(os.path.realpath(layer))
    assert results["outside"] == [], f"modules loaded from outside the zip/runtime: {results['outside']}"
    assert results["compiled_here"] == [], "imported without shipped bytecode"

    status, body = results["not_found"]
    assert (status, json.loads(body)) == (200, {"success": False, "error": "not_found"})
    status, body = results["openapi"]
    assert status == 200 and json.loads(body)["openapi"].startswith("3.")
    # A real DynamoDB round trip through the vendored pynamodb and the runtime's botocore.
    status, body = results["balance"]
    assert (status, json.loads(body)) == (200, {"success": False, "error": "invalid_secret"})


def test_stdlib_paths_exist() -> None:
    # Guards the child's notion of "the standard library".
    assert Path(sysconfig.get_paths()["stdlib"]).is_dir()
    assert shutil.which("bash")


def test_an_air_gapped_build_reads_the_wheel_cache_alone(packaged_arm64: Packaged, wheel_cache: Path) -> None:
    """`make wheels` on a connected machine, then `make package WHEELS=wheels` offline."""
    assert f"wheels from {wheel_cache} only (no index)" in packaged_arm64.log
    names = sorted(p.name for p in wheel_cache.glob("*.whl"))
    assert any("x86_64" in n for n in names) and any("aarch64" in n for n in names), names
    assert (packaged_arm64.out / "deployment.zip").is_file()


def test_the_deploy_guide_states_the_bundle_sizes_the_build_makes(packaged: Packaged) -> None:
    """deploy/README.md's "bundle ≈ N MB" and "layer ... ≈ N MB", within 10 %."""
    guide = (ROOT / "deploy" / "README.md").read_text(encoding="utf-8")
    for label, built in (("bundle", "deployment.zip"), ("layer", "powertools-layer.zip")):
        stated = re.search(rf"{label} ≈ ?([\d.]+) MB", guide)
        assert stated, f"deploy/README.md states no {label} size"
        size = (packaged.out / built).stat().st_size / 1e6
        assert abs(size - float(stated.group(1))) <= 0.1 * size, \
            f"{built} is {size:.2f} MB; deploy/README.md says {stated.group(0)}"
