#!/usr/bin/env bash
# Package the production stack offline: no AWS account, no credentials.
#
#   deploy/package.sh [OUT_DIR]        (default: out/)
#
# Produces OUT_DIR/sam.json (CloudFormation/SAM template: chalice's API and
# Lambda merged with deploy/merge-template.json), OUT_DIR/deployment.zip (with
# the bytecode of every module: deploy/compile_bundle.py),
# OUT_DIR/powertools-layer.zip (the functions' layer, with its bytecode:
# deploy/powertools_layer.py) and
# OUT_DIR/cloudformation.json (sam.json with the SAM transform expanded
# offline by aws-sam-translator, for review and lint only: deploy sam.json),
# then lints both templates with cfn-lint (any error fails the script).
#
# The Lambda bundle carries pynamodb WITHOUT its dependencies: botocore and
# boto3 come from the Lambda runtime. requirements.txt stays as it is for
# local runs; this script packages a staged copy of the app whose vendor/
# holds pynamodb alone, plus the Lambda's manylinux builds of ada-url and
# cffi's _cffi_backend (C extensions, so downloaded from PyPI for the
# function's architecture: the prod stage's lambda_architecture, arm64, or
# LAMBDA_ARCH=x86_64), and
# whose requirements.txt is empty.
#
# Environment: PYTHON (default .venv/bin/python), LAMBDA_ARCH (x86_64|arm64),
# WHEELS (a folder `make wheels` filled: pip then reads only it, no network;
# PIP_NO_INDEX / PIP_FIND_LINKS set by hand work the same),
# AWS_DEFAULT_REGION (default us-east-1; chalice needs one, it calls no AWS),
# SKIP_LINT=1 to skip cfn-lint, REQUIRE_SAM_TRANSFORM=1 to fail when
# aws-sam-translator is missing (otherwise only sam.json is linted).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/out}"
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
STAGE="${STAGE:-prod}"
# deploy/merge-template.json names the prod stage's tables, secret and function
# (the same names .chalice/policy-prod.json grants): it is for `prod` only.
[ "$STAGE" = prod ] || { echo "package.sh: only STAGE=prod has a merge template" >&2; exit 2; }
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
BIN="$(dirname "$PYTHON")"
MERGE="$ROOT/deploy/merge-template.json"

# Offline by construction: a region (chalice requires one) and no credentials.
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

# An air-gapped build: every pip call (the Lambda's wheels, pynamodb and the
# layer when their pinned versions are not installed) reads the wheel cache alone.
if [ -n "${WHEELS:-}" ]; then
    [ -d "$WHEELS" ] || { echo "package.sh: WHEELS=$WHEELS is not a folder (make wheels fills it)" >&2; exit 2; }
    PIP_FIND_LINKS="$(cd "$WHEELS" && pwd)"
    export PIP_NO_INDEX=1 PIP_FIND_LINKS
    echo "package.sh: wheels from $PIP_FIND_LINKS only (no index)"
fi

BUILD="$(mktemp -d "${TMPDIR:-/tmp}/workproof-package.XXXXXX")"
trap 'rm -rf "$BUILD"' EXIT

# 1-2. Stage the app with pynamodb vendored alone and empty requirements.
PYTHON="$PYTHON" bash "$ROOT/deploy/stage_app.sh" "$BUILD"
rm -rf "$BUILD/.chalice/deployed"  # packaging never needs deployment state

# 3. chalice package with the merge template.
mkdir -p "$OUT"
rm -f "$OUT/sam.json" "$OUT/deployment.zip" "$OUT/cloudformation.json"
"$BIN/chalice" --project-dir "$BUILD" package --stage "$STAGE" \
    --merge-template "$MERGE" "$OUT"

# 3b. Bytecode for every module, so a cold start does not compile (Lambda's
# /var/task is read-only): compiled by this Python, which must be the runtime's.
RUNTIME="$("$PYTHON" -c 'import json, sys
fns = [r["Properties"] for r in json.load(open(sys.argv[1]))["Resources"].values()
       if r["Type"] == "AWS::Serverless::Function"]
print(fns[0]["Runtime"])' "$OUT/sam.json")"
"$PYTHON" "$ROOT/deploy/compile_bundle.py" "$OUT/deployment.zip" "$RUNTIME"

# 3c. The functions' Powertools layer, with its bytecode too (the public
# layer ships none): the template's PowertoolsLayer (ContentUri
# ./powertools-layer.zip, uploaded by `aws cloudformation package` or `sam deploy`).
rm -f "$OUT/powertools-layer.zip"
"$PYTHON" "$ROOT/deploy/powertools_layer.py" build "$OUT/powertools-layer.zip" "$RUNTIME"

ZIP_BYTES="$(wc -c < "$OUT/deployment.zip" | tr -d ' ')"
echo "package.sh: $OUT/sam.json, $OUT/deployment.zip ($ZIP_BYTES bytes)"

# 4. Expand the SAM transform offline (what CloudFormation will create).
TEMPLATES=("$OUT/sam.json")
if "$PYTHON" -c 'import samtranslator' 2>/dev/null; then
    "$PYTHON" "$ROOT/deploy/sam_transform.py" "$OUT/sam.json" "$OUT/cloudformation.json"
    TEMPLATES+=("$OUT/cloudformation.json")
    echo "package.sh: $OUT/cloudformation.json (SAM transform expanded offline)"
elif [ "${REQUIRE_SAM_TRANSFORM:-0}" = "1" ]; then
    echo "package.sh: aws-sam-translator is not installed (pip install aws-sam-translator)" >&2
    exit 1
else
    echo "package.sh: WARNING: aws-sam-translator not installed: SAM transform not expanded," \
         "only sam.json is linted (pip install aws-sam-translator)" >&2
fi

# 5. Lint both: zero errors required (warnings fail too with STRICT_LINT=1).
if [ "${SKIP_LINT:-0}" != "1" ]; then
    LINT="$BIN/cfn-lint"
    [ -x "$LINT" ] || LINT="$(command -v cfn-lint || true)"
    [ -n "$LINT" ] || { echo "package.sh: cfn-lint not installed (pip install cfn-lint)" >&2; exit 1; }
    LEVEL=error
    [ "${STRICT_LINT:-0}" = "1" ] && LEVEL=warning
    "$LINT" --non-zero-exit-code "$LEVEL" -- "${TEMPLATES[@]}"
    echo "package.sh: cfn-lint: no errors"
fi
