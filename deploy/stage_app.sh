#!/usr/bin/env bash
# Stage the Lambda project into DIR: app.py, chalicelib/, .chalice/ (config and
# policies, plus deployed/ state if any), an EMPTY requirements.txt,
# vendor/pynamodb alone (botocore and boto3 come from the Lambda runtime,
# Powertools from the functions' layer: deploy/powertools_layer.py) and the
# Lambda's own builds of ada-url and cffi's _cffi_backend (C extensions:
# deploy/vendor_wheels.py downloads the manylinux wheels for Python 3.11 on
# the chosen architecture), with the bytecode of chalicelib/ and vendor/
# (PYTHON must be the runtime's).
#
#   deploy/stage_app.sh DIR        (PYTHON defaults to .venv/bin/python)
#   LAMBDA_ARCH=x86_64 deploy/stage_app.sh DIR    (default: the prod stage's
#   lambda_architecture in .chalice/config.json, arm64: Lambda's cheaper
#   GB-second, which bench/bill.py and docs/abuse-and-costs.md's figures price)
#
# Used by package.sh (chalice package) and chalice-deploy.sh (chalice deploy).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:?usage: stage_app.sh DIR}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
DECLARED_ARCH="$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["stages"]["prod"].get("lambda_architecture", "x86_64"))' "$ROOT/.chalice/config.json")"
LAMBDA_ARCH="${LAMBDA_ARCH:-$DECLARED_ARCH}"
export PIP_DISABLE_PIP_VERSION_CHECK=1
case "$LAMBDA_ARCH" in x86_64|arm64) ;; *) echo "stage_app.sh: LAMBDA_ARCH is x86_64 or arm64" >&2; exit 2 ;; esac

[ -f "$ROOT/app.py" ] || { echo "stage_app.sh: $ROOT/app.py is missing" >&2; exit 1; }
mkdir -p "$BUILD/.chalice" "$BUILD/vendor"
cp "$ROOT/app.py" "$BUILD/"
"$PYTHON" - "$ROOT/chalicelib" "$BUILD/chalicelib" <<'PY'
import shutil, sys
shutil.copytree(sys.argv[1], sys.argv[2],
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
PY
cp "$ROOT/.chalice/config.json" "$ROOT"/.chalice/policy-*.json "$BUILD/.chalice/"
if [ -d "$ROOT/.chalice/deployed" ]; then
    cp -R "$ROOT/.chalice/deployed" "$BUILD/.chalice/"
fi
: > "$BUILD/requirements.txt"

# pynamodb alone, at the version requirements.txt pins.
PIN="$(grep -iE '^pynamodb==' "$ROOT/requirements.txt" | head -n1 | cut -d= -f3 | tr -d '[:space:]')"
[ -n "$PIN" ] || { echo "stage_app.sh: requirements.txt pins no pynamodb==VERSION" >&2; exit 1; }
HAVE="$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("pynamodb"))' 2>/dev/null || true)"
if [ "$HAVE" = "$PIN" ]; then
    # The pinned version is installed: copy it (offline, reproducible).
    "$PYTHON" - "$BUILD/vendor" <<'PY'
import os, shutil, sys, pynamodb
shutil.copytree(os.path.dirname(pynamodb.__file__), os.path.join(sys.argv[1], "pynamodb"),
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
PY
else
    "$PYTHON" -m pip install --quiet --no-deps --no-compile --target "$BUILD/vendor" "pynamodb==$PIN"
    rm -rf "$BUILD"/vendor/*.dist-info "$BUILD/vendor/bin"
fi

# The C extensions, built for the Lambda (not for this machine), and the
# function declared on that architecture.
"$PYTHON" "$ROOT/deploy/vendor_wheels.py" --arch "$LAMBDA_ARCH" \
    --requirements "$ROOT/requirements.txt" "$BUILD/vendor"
"$PYTHON" - "$BUILD/.chalice/config.json" "$LAMBDA_ARCH" <<'PY'
import json, sys
path, arch = sys.argv[1], sys.argv[2]
config = json.load(open(path))
config["lambda_architecture"] = arch
for stage in config.get("stages", {}).values():
    if "lambda_architecture" in stage:  # a stage's own setting wins in chalice
        stage["lambda_architecture"] = arch
open(path, "w").write(json.dumps(config, indent=2) + "\n")
PY

# Bytecode where the runtime looks (chalice zips it with the rest), hash-based
# and unchecked so the zip's timestamps cannot invalidate it: a cold start on
# Lambda's read-only /var/task then compiles nothing. package.sh adds the
# rest (app.py, chalice/) to the zip it makes: deploy/compile_bundle.py.
"$PYTHON" -m compileall -q -j 0 --invalidation-mode unchecked-hash -s "$BUILD" -p /var/task \
    "$BUILD/chalicelib" "$BUILD/vendor" >/dev/null
