# Workproof: `make run` serves the API locally, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)

.PHONY: run store test lint fuzz browser-deps deploy-deps wheels bench-miner bench-local bench-cost bench-contention bench-hotkeys bench-store bench-memory bench-cold bench-bill bench-abuse bench-captcha package clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m ops.local

# Only the embedded store (same ports, state and signing key as `make run`):
# then `.venv/bin/chalice local` serves the API through the dev stage.
store: $(STAMP)
	$(PY) -m ops.local --store-only

# Debian's Chromium for the real-browser tests (no browser downloads), and npm for
# the accessibility audit's axe-core (pinned in tests/browser/vendor).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: sudo apt-get install -y chromium" >&2; exit 1; fi; }
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	  else echo "npm missing: sudo apt-get install -y nodejs npm" >&2; exit 1; fi; }
	@bash tests/browser/vendor/install.sh

# ruff over the repository (complexity budget in ruff.toml), mypy --strict over app.py, chalicelib/ and ops/ (mypy.ini).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# Strip for the Lambda's x86_64 and arm64 builds of the C extensions
# (deploy/vendor_wheels.py; LLVM's llvm-strip does both too).
deploy-deps:
	@{ command -v aarch64-linux-gnu-strip || command -v llvm-strip; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq binutils binutils-aarch64-linux-gnu >/dev/null; \
	  else echo "strip for arm64 missing: sudo apt-get install -y binutils-aarch64-linux-gnu" >&2; exit 1; fi; }

test: lint browser-deps deploy-deps
	$(PY) -m pytest

# Schemathesis against /openapi.json of a real `make run` stack (>= 10,000
# requests, a few minutes; not part of `make test`).
fuzz: $(STAMP)
	$(PY) -m tests.fuzz.schema_fuzz

bench-miner: $(STAMP) browser-deps
	bash bench/miner/run.sh

bench-local: $(STAMP)
	$(PY) bench/local_server.py

# Write and read units, calls and $ per million of every request (billing rules applied to the recorded calls).
bench-cost: $(STAMP)
	$(PY) bench/cost.py

# One busy account against many, through make run: wall-time ratio for N = 16, 32, 64.
bench-contention: $(STAMP)
	$(PY) bench/contention.py

# 5,000 shares/s through the real submit and consumer code: units per partition key per second.
bench-hotkeys: $(STAMP)
	$(PY) bench/hotkeys.py

# The embedded store: ms per share-shaped transaction and RSS at 1k/10k/100k items, vs moto as shipped.
bench-store: $(STAMP)
	$(PY) bench/store.py

# make run over 100,000 real shares: RSS and ms per share as it goes, then the SIGTERM snapshot.
bench-memory: $(STAMP)
	$(PY) bench/make_run_memory.py

# The packaged bundle's cold start (import app) vs a bare `import boto3`: as shipped, with the public layer, with no .pyc.
# Each attack on one site beside honest traffic, simulated through the real code:
# $ per hour by layer (the template's limits and prices), honest success and solve times.
bench-abuse: $(STAMP)
	$(PY) bench/abuse.py

bench-cold: $(STAMP)
	$(PY) bench/cold_start.py

# The deployed stack's fixed monthly cost and worst-case cost per hour, from deploy/merge-template.json's defaults.
bench-bill: $(STAMP)
	$(PY) bench/bill.py

# The captcha's solve time in headless Chromium at CPU ×1/×4/×8 (DevTools throttling and a
# per-worker-rate model) for candidate minimum works: p50/p95 and the largest that keeps ×4 p95 <= 3 s.
bench-captcha: $(STAMP) browser-deps
	$(PY) bench/captcha_speed.py

# On a connected machine: every wheel an air-gapped `make package` needs, into $(WHEELS)
# (the Lambda's C extensions for x86_64 and arm64, and this machine's .venv with its tools).
# Then, offline: PIP_NO_INDEX=1 PIP_FIND_LINKS=$$PWD/wheels make package WHEELS=wheels
WHEELS ?= wheels
wheels: $(STAMP)
	$(PY) deploy/vendor_wheels.py --download $(WHEELS)
	$(PY) -m pip download --quiet --disable-pip-version-check --dest $(WHEELS) -r requirements-dev.txt

package: $(STAMP) deploy-deps
	bash deploy/package.sh

clean:
	rm -rf $(VENV) .pytest_cache out
