# Workproof: `make run` serves the API locally, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)

.PHONY: help check run store smoke test lint fuzz browser-deps deploy-deps wheels bench-miner bench-local bench-cost bench-contention bench-hotkeys bench-store bench-memory bench-cold bench-bill bench-abuse bench-captcha bench-widget-loads package deploy destroy clean

help: ## this list: every target, one line each
	@awk -F':.*## ' '/^[a-z][a-z-]*:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP) ## the embedded store, the tables, a demo site and the API on http://127.0.0.1:8000
	$(PY) -m ops.local

# After a deploy, or against `make run`: over HTTP only, from a bare python3 (no
# virtualenv, no AWS credentials). A captcha solved at the stack's minimum work,
# verified and its replay refused; a shortlink followed; the stats read; /pow/job's
# busy answer to one source past its bucket. One line per check; exit 1 on a failure.
# The secret reaches the script through the environment, never its command line.
smoke: ## check a deployed (or local) stack end to end: make smoke URL=… SECRET=… SITE=…
	@WORKPROOF_SMOKE_SECRET="$$SECRET" $(PYTHON) -S -m ops.smoke --url "$(URL)" --site "$(SITE)"

# Only the embedded store (same ports, state and signing key as `make run`):
# then `.venv/bin/chalice local` serves the API through the dev stage.
store: $(STAMP) ## only the embedded store (then .venv/bin/chalice local)
	$(PY) -m ops.local --store-only

# Debian's Chromium for the real-browser tests (no browser downloads), and npm for
# the accessibility audit's axe-core (pinned in tests/browser/vendor).
browser-deps: ## Debian's Chromium and npm for the browser tests
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: sudo apt-get install -y chromium" >&2; exit 1; fi; }
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	  else echo "npm missing: sudo apt-get install -y nodejs npm" >&2; exit 1; fi; }
	@bash tests/browser/vendor/install.sh

# ruff over the repository (complexity budget in ruff.toml), mypy --strict over app.py, chalicelib/ and ops/ (mypy.ini).
lint: $(STAMP) ## ruff (complexity budget included) and mypy --strict
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# The fast gate: ruff, mypy and the unit tests, from the virtualenv as it is
# (nothing installed, no browsers, no store; well under a minute).
check: ## ruff, mypy and the unit tests: no installs, no browsers (under a minute)
	@test -x $(PY) || { echo "no $(VENV): run make lint (or make test) once to create it" >&2; exit 1; }
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest tests/unit -q -p no:cacheprovider

# Strip for the Lambda's x86_64 and arm64 builds of the C extensions
# (deploy/vendor_wheels.py; LLVM's llvm-strip does both too).
deploy-deps: ## strip for the Lambda bundles (x86_64 and arm64)
	@{ command -v aarch64-linux-gnu-strip || command -v llvm-strip; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq binutils binutils-aarch64-linux-gnu >/dev/null; \
	  else echo "strip for arm64 missing: sudo apt-get install -y binutils-aarch64-linux-gnu" >&2; exit 1; fi; }

test: lint browser-deps deploy-deps ## everything: lint, then every suite (installs browsers)
	$(PY) -m pytest

# Schemathesis against /openapi.json of a real `make run` stack (>= 10,000
# requests, a few minutes; not part of `make test`).
fuzz: $(STAMP) ## Schemathesis against a real make run stack, per-source limits raised (FUZZ_SOURCE_LIMITS, default 1000; minutes)
	$(PY) -m tests.fuzz.schema_fuzz

bench-miner: $(STAMP) browser-deps ## the solvers' hash rates in headless Chromium, vs other proof-of-work libraries
	bash bench/miner/run.sh

bench-local: $(STAMP) ## make run's API server vs stock chalice local, same app and store
	$(PY) bench/local_server.py

# Write and read units, calls and $ per million of every request (billing rules applied to the recorded calls).
bench-cost: $(STAMP) ## write/read units, calls and $ per million of every request
	$(PY) bench/cost.py

# One busy account against many, through make run: wall-time ratio for N = 16, 32, 64.
bench-contention: $(STAMP) ## one busy account against many, through make run
	$(PY) bench/contention.py

# 5,000 shares/s through the real submit and consumer code: units per partition key per second.
bench-hotkeys: $(STAMP) ## units per partition key per second at 5,000 shares/s
	$(PY) bench/hotkeys.py

# The embedded store: ms per share-shaped transaction and RSS at 1k/10k/100k items, vs moto as shipped.
bench-store: $(STAMP) ## the embedded store: ms per transaction and RSS, vs moto
	$(PY) bench/store.py

# make run over 100,000 real shares: RSS and ms per share as it goes, then the SIGTERM snapshot.
bench-memory: $(STAMP) ## make run over 100,000 shares: RSS and ms per share
	$(PY) bench/make_run_memory.py

# The packaged bundle's cold start (import app) vs a bare `import boto3`: as shipped, with the public layer, with no .pyc,
# and the third-party floor (what every request imports from outside the bundle's code). Another bundle beside it:
# $(PY) bench/cold_start.py --baseline OLD/deployment.zip
# Each attack on one site beside honest traffic, simulated through the real code:
# $ per hour by layer (the template's limits and prices), honest success and solve times.
bench-abuse: $(STAMP) ## each attack beside honest traffic, simulated through the real code: $ per hour, honest solve times
	$(PY) -m bench.abuse

bench-cold: $(STAMP) ## the bundle's cold start vs a bare import boto3
	$(PY) bench/cold_start.py

# The deployed stack's fixed monthly cost and worst-case cost per hour, from deploy/merge-template.json's defaults.
bench-bill: $(STAMP) ## the deployed stack's fixed monthly and worst-case hourly cost
	$(PY) bench/bill.py

# The captcha's solve time in headless Chromium at CPU ×1/×4/×8 (DevTools throttling and a
# per-worker-rate model) for candidate minimum works: p50/p95 and the largest that keeps ×4 p95 <= 3 s.
bench-captcha: $(STAMP) browser-deps ## the captcha's solve time in Chromium at CPU ×1/×4/×8 per minimum work
	$(PY) bench/captcha_speed.py

# One captcha visit's library requests and bytes, first and repeated (a modelled browser cache), now and
# under the previous max-age=300 headers; also the two switches, the shortlink page and the dashboard.
bench-widget-loads: $(STAMP) ## library requests and bytes of a first and a repeat visit
	$(PY) bench/widget_loads.py

# On a connected machine: every wheel an air-gapped `make package` needs, into $(WHEELS)
# (the Lambda's C extensions for x86_64 and arm64, and this machine's .venv with its tools).
# Then, offline: PIP_NO_INDEX=1 PIP_FIND_LINKS=$$PWD/wheels make package WHEELS=wheels
WHEELS ?= wheels
wheels: $(STAMP) ## on a connected machine: every wheel an air-gapped make package needs
	$(PY) deploy/vendor_wheels.py --download $(WHEELS)
	$(PY) -m pip download --quiet --disable-pip-version-check --dest $(WHEELS) -r requirements-dev.txt

package: $(STAMP) deploy-deps ## the Lambda bundle and templates (deploy/package.sh)
	bash deploy/package.sh

# One command to an AWS account (your credentials): REGION, ALARM_EMAIL,
# MONTHLY_BUDGET (USD), SITE_NAME are asked for when not given; YES=1 answers yes.
# FRONT_DOOR (cloudfront in us-east-1, else rest) and EDGE_PLAN (FREE) pick the door.
deploy: $(STAMP) deploy-deps ## package, deploy the prod stack, first site, smoke test (deploy/deploy_stack.py)
	AWS_REGION="$(or $(REGION),$(AWS_REGION),$(AWS_DEFAULT_REGION))" ALARM_EMAIL="$(ALARM_EMAIL)" \
	  MONTHLY_BUDGET="$(MONTHLY_BUDGET)" SITE_NAME="$(SITE_NAME)" YES="$(YES)" \
	  FRONT_DOOR="$(FRONT_DOOR)" EDGE_PLAN="$(EDGE_PLAN)" $(PY) deploy/deploy_stack.py

destroy: $(STAMP) ## the whole teardown, asking before data goes (deploy/destroy_stack.py)
	AWS_REGION="$(or $(REGION),$(AWS_REGION),$(AWS_DEFAULT_REGION))" YES="$(YES)" $(PY) deploy/destroy_stack.py

clean: ## remove the virtualenv and build output
	rm -rf $(VENV) .pytest_cache out
