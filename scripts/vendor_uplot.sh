#!/usr/bin/env bash
# Vendor uPlot (the dashboard's chart library) into chalicelib/static/, served at /lib/.
# The copied files are committed: neither CI nor a deploy needs npm.
# Rerun after changing UPLOT_VERSION; the tarball's integrity is checked against
# the npm registry's record of that exact version.
set -euo pipefail
UPLOT_VERSION="1.6.32"
cd "$(dirname "$0")/.."
dest=chalicelib/static
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "uplot@${UPLOT_VERSION}" >/dev/null)
tarball="$work/uplot-${UPLOT_VERSION}.tgz"
expected=$(npm view "uplot@${UPLOT_VERSION}" dist.integrity)
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$expected" != "$actual" ]; then
  echo "error: uplot@${UPLOT_VERSION} integrity mismatch: registry $expected, tarball $actual" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$work"
cp "$work/package/dist/uPlot.iife.min.js" "$dest/uPlot.iife.min.js"
cp "$work/package/dist/uPlot.min.css" "$dest/uPlot.min.css"
cp "$work/package/LICENSE" "$dest/uPlot.LICENSE"
echo "uplot@${UPLOT_VERSION} vendored into $dest ($actual)"
