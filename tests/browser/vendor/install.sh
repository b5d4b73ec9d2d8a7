#!/usr/bin/env bash
# The tests' npm tools, pinned in package-lock.json (axe-core, express), installed into
# tests/browser/vendor/node_modules. Needs npm and the npm registry; does nothing when
# the pinned version is already there. Run by `make browser-deps` and, if needed, by
# tests/browser/axe.py.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
# The pinned versions of every dependency (axe-core; express for the README's Express recipe).
want="$(node -e 'const l=require("./package-lock.json");console.log(Object.keys(require("./package.json").dependencies).map(n=>l.packages["node_modules/"+n].version).join())')"
have="$(node -e 'console.log(Object.keys(require("./package.json").dependencies).map(n=>{try{return require("./node_modules/"+n+"/package.json").version}catch(e){return ""}}).join())')"
if [ "$want" != "$have" ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
