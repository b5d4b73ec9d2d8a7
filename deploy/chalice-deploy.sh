#!/usr/bin/env bash
# The `chalice deploy` path, with the same small bundle as the CloudFormation path.
#
#   deploy/chalice-deploy.sh [STAGE]          (default: prod; needs AWS credentials)
#
# 1. creates or completes the stage's tables (python -m chalicelib.admin create-tables),
# 2. publishes the functions' Powertools layer when it changed
#    (deploy/powertools_layer.py: the public layer ships no bytecode), and
#    runs `chalice deploy --stage STAGE` on a staged copy of the app whose
#    vendor/ holds pynamodb alone (boto3/botocore come from the Lambda runtime),
#    keeping chalice's deployment state in .chalice/deployed/ of the repository,
# 3. connects the stream consumer (the `streams` function) to the guards',
#    ledger's and tokens' streams, with its on-failure queue
#    (deploy/apply_stream_mappings.py),
# 4. applies the merge template's gateway responses and stage settings
#    (deploy/apply_gateway_settings.py) and redeploys the API stage.
# The signing-key secret must exist first (see deploy/README.md).
# Extra arguments to apply_gateway_settings.py can be given in GATEWAY_ARGS,
# e.g. GATEWAY_ARGS="--param PowRateLimit=50".
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STAGE="${1:-prod}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
BIN="$(dirname "$PYTHON")"
: "${AWS_DEFAULT_REGION:?set AWS_DEFAULT_REGION (and your AWS credentials)}"

cd "$ROOT"
"$PYTHON" -m chalicelib.admin --stage "$STAGE" create-tables

BUILD="$(mktemp -d "${TMPDIR:-/tmp}/workproof-deploy.XXXXXX")"
trap 'rm -rf "$BUILD"' EXIT
PYTHON="$PYTHON" bash "$ROOT/deploy/stage_app.sh" "$BUILD"

# The functions' Powertools layer, with its bytecode (deploy/powertools_layer.py):
# published when it changed, and named in the staged config's `layers`.
RUNTIME="$("$PYTHON" -c 'import sys; print(f"python{sys.version_info.major}.{sys.version_info.minor}")')"
"$PYTHON" "$ROOT/deploy/powertools_layer.py" build "$BUILD/powertools-layer.zip" "$RUNTIME"
LAYER_ARN="$("$PYTHON" "$ROOT/deploy/powertools_layer.py" publish "$BUILD/powertools-layer.zip" \
    "workproof-$STAGE-powertools" "$RUNTIME")"
"$PYTHON" - "$BUILD/.chalice/config.json" "$LAYER_ARN" <<'PY'
import json, sys
path, arn = sys.argv[1], sys.argv[2]
config = json.load(open(path))
config["layers"] = [arn]
open(path, "w").write(json.dumps(config, indent=2) + "\n")
PY

status=0
"$BIN/chalice" --project-dir "$BUILD" deploy --stage "$STAGE" || status=$?
# Keep chalice's record of what it deployed, success or not (the next run
# updates those resources instead of creating new ones).
if [ -d "$BUILD/.chalice/deployed" ]; then
    mkdir -p "$ROOT/.chalice/deployed"
    cp -R "$BUILD/.chalice/deployed/." "$ROOT/.chalice/deployed/"
fi
[ "$status" = 0 ] || exit "$status"

"$PYTHON" "$ROOT/deploy/apply_stream_mappings.py" --stage "$STAGE"

# shellcheck disable=SC2086
"$PYTHON" "$ROOT/deploy/apply_gateway_settings.py" --stage "$STAGE" ${GATEWAY_ARGS:-}
