# The two commands: `make run` and `make test`. Everything else is what they build on.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
NODE_STAMP := frontend/node_modules/.installed

.PHONY: run test faults lint format bench bench-quick frontend frontend-if-npm install clean

run: $(STAMP) frontend-if-npm
	$(BIN)/python -m devstack

# The page's unit tests, then pytest; the browser tests need the page built.
test: $(STAMP) frontend-if-npm
	@if [ -f frontend/package.json ] && command -v npm >/dev/null; then \
		cd frontend && npm test; \
	fi
	$(BIN)/python -m pytest

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

# The page's checks too: prettier, ESLint with the react-hooks rules, and the type check.
lint: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	cd frontend && npm run lint

format: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	cd frontend && npm run format

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# npm ci only when the lock file changed; the build only when a source did.
FRONTEND_SOURCES := $(shell find frontend/src frontend/index.html frontend/vite.config.* frontend/tsconfig*.json -type f 2>/dev/null)

frontend: frontend/dist/index.html

$(NODE_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci
	touch $(NODE_STAMP)

frontend/dist/index.html: $(NODE_STAMP) $(FRONTEND_SOURCES)
	cd frontend && npm run build

frontend-if-npm:
	@if [ -f frontend/package.json ] && command -v npm >/dev/null; then \
		$(MAKE) frontend; \
	else \
		echo "npm not found: the API runs, but the chat page needs 'make frontend' first"; \
	fi

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
