# The two commands: `make run` and `make test`. Everything else is what they build on.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench frontend frontend-if-npm install clean

run: $(STAMP) frontend-if-npm
	$(BIN)/python -m devstack

# The page's unit tests, then pytest; the browser tests need the page built.
test: $(STAMP) frontend-if-npm
	@if [ -f frontend/package.json ] && command -v npm >/dev/null; then \
		cd frontend && npm test; \
	fi
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

frontend:
	cd frontend && npm ci && npm run build

frontend-if-npm:
	@if [ -f frontend/package.json ] && command -v npm >/dev/null; then \
		$(MAKE) frontend; \
	else \
		echo "npm not found: the API runs, but the chat page needs 'make frontend' first"; \
	fi

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
