# The two commands every new user runs: `make demo` and `make test`.
# Both set up everything from nothing: .venv from requirements.lock, npm tools when needed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY_STAMP  := $(VENV)/.stamp-deps
NPM_STAMP := node_modules/.stamp-npm
PYTEST_ARGS ?=
export TANLIAN_TEST_PG_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: demo test setup contracts lint bench clean help chromium

help:
	@echo "make demo       set up and run the pilot scenario on the embedded chain"
	@echo "make test       set up and run the whole test suite (SQLite and PostgreSQL)"
	@echo "make contracts  rebuild the committed contract artifacts with the pinned solc"
	@echo "make bench      run the benchmarks (prints figures; minutes)"
	@echo "make lint       ruff"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)

$(PY_STAMP): requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(PY_STAMP)

demo: $(PY_STAMP)
	$(BIN)/tanlian demo --out out/demo

test: $(PY_STAMP) $(NPM_STAMP) chromium
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# The cockpit's browser tests drive Debian's chromium (Playwright's own browser download is
# not used); installed here when missing, with CJK fonts for the Chinese labels.
chromium:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
	    chromium fonts-noto-cjk >/dev/null; }

contracts: $(PY_STAMP) $(NPM_STAMP)
	$(BIN)/python -m node.contracts.build

lint: $(PY_STAMP)
	$(BIN)/ruff check .

bench: $(PY_STAMP) $(NPM_STAMP)
	$(BIN)/python benchmarks/chain_throughput.py
	$(BIN)/python benchmarks/event_reads.py
	$(BIN)/python benchmarks/chain_restart.py
	$(BIN)/python benchmarks/signed_requests.py
	$(BIN)/python benchmarks/sharing_transfer.py
	$(BIN)/python benchmarks/dp_queries.py
	$(BIN)/python benchmarks/dp_gate.py
	$(BIN)/python benchmarks/quality.py
	$(BIN)/python benchmarks/commitments.py
	$(BIN)/python benchmarks/index_pipeline.py
	$(BIN)/python benchmarks/carbon_inventory.py
	$(BIN)/python benchmarks/load.py
	$(BIN)/python benchmarks/crash_trials.py
	$(BIN)/python benchmarks/cockpit.py

clean:
	rm -rf $(VENV) node_modules out .pytest_cache .ruff_cache
