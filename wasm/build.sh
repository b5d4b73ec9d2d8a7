#!/usr/bin/env bash
# Builds wasm/solver.wasm from wasm/gen.js and inlines it into chalicelib/static/worker.js.
# Needs node and npm (wabt comes from npm, pinned in package-lock.json).
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules/wabt ]; then npm ci --no-audit --no-fund; fi
node build.js
