#!/usr/bin/env bash
# Solver benchmark (not a test): Workproof's WASM SIMD and JS solvers vs Cap, ALTCHA,
# a hash-wasm loop and a plain JS loop, one Web Worker each, in Debian's headless
# Chromium, plus OpenSSL's single-core rate. Usage: bench/miner/run.sh [--rounds N] [--seconds S]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
if [ ! -x /usr/bin/chromium ]; then
  echo "needs Debian's Chromium: apt-get install -y chromium" >&2; exit 1
fi
if ! "$PY" -c 'import playwright' 2>/dev/null; then "$PY" -m pip install -q playwright; fi
if [ ! -d "$HERE/node_modules/@cap.js/wasm" ]; then (cd "$HERE" && npm ci --no-audit --no-fund); fi
exec "$PY" "$HERE/bench.py" "$@"
