# Workproof: `make run` serves the API locally, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)

.PHONY: run test browser-deps bench-miner bench-local bench-cost bench-contention package clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m ops.local

# Debian's Chromium for the real-browser tests (no browser downloads).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: sudo apt-get install -y chromium" >&2; exit 1; fi; }

test: $(STAMP) browser-deps
	$(PY) -m pytest

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

package: $(STAMP)
	bash deploy/package.sh

clean:
	rm -rf $(VENV) .pytest_cache out
