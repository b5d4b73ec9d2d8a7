#!/usr/bin/env bash
# The browser tests' npm tools, pinned in package-lock.json (axe-core), installed into
# tests/browser/vendor/node_modules. Needs npm and the npm registry; does nothing when
# the pinned version is already there. Run by `make browser-deps` and, if needed, by
# tests/browser/axe.py.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
want="$(node -e 'console.log(require("./package-lock.json").packages["node_modules/axe-core"].version)')"
have="$(node -e 'try{console.log(require("./node_modules/axe-core/package.json").version)}catch(e){}')"
if [ "$want" != "$have" ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
