# Bluelight: `make run` sets up and serves a demo force; `make test` sets up and runs the suite.

SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_ARGS ?=

.PHONY: run test test-newest setup uv npm lint browser bench clean

setup: npm uv
	@$(UV) sync --frozen --quiet

uv:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --user uv || $(PYTHON) -m pip install --quiet uv

# Browser libraries (Swagger UI for /api/docs, axe-core for the tests), at the exact versions in
# package-lock.json; installed again only when package.json or the lock changed since the last
# install (a copy of both is kept in node_modules to compare with).
NPM_STAMP := node_modules/.bluelight-installed
npm:
	@cat package.json package-lock.json | cmp -s - $(NPM_STAMP) || { \
	  command -v npm >/dev/null 2>&1 || { \
	    echo "make: npm is missing. Bluelight serves browser libraries installed with npm:" >&2; \
	    echo "      install Node.js 20 or later with npm (Debian: apt-get install nodejs npm), then run make again." >&2; \
	    exit 1; }; \
	  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null && \
	  cat package.json package-lock.json > $(NPM_STAMP); }

run: setup
	$(UV) run --frozen bluelight demo --size small

# The browser tests drive Debian's Chromium; install it once if the machine lacks it.
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

test: setup browser
	$(UV) run --frozen pytest -q -n 2 --dist loadfile $(PYTEST_ARGS)

# The suite on the newest releases that pyproject.toml's ranges allow, not on uv.lock: what
# `pip install .` would take today. A scratch environment in var/newest; .venv and uv.lock are
# left alone. Every uv pip command names its interpreter: run as `python3 -m uv`, uv pip would
# otherwise install into the Python that runs uv.
NEWEST := var/newest
test-newest: npm uv browser
	rm -rf $(NEWEST)
	$(UV) venv --quiet --python $(PYTHON) $(NEWEST)/venv
	$(UV) pip compile --quiet --refresh --no-header --group dev --python $(NEWEST)/venv/bin/python \
	  pyproject.toml -o $(NEWEST)/requirements.txt
	$(UV) export --quiet --frozen --no-hashes --no-header --no-annotate --no-emit-project \
	  -o $(NEWEST)/locked.txt
	@echo "newest releases that uv.lock does not have yet:"; \
	  grep -h '==' $(NEWEST)/requirements.txt | sed 's/ .*//' | sort > $(NEWEST)/newest.pins; \
	  grep -h '==' $(NEWEST)/locked.txt | sed 's/ .*//' | sort > $(NEWEST)/locked.pins; \
	  comm -23 $(NEWEST)/newest.pins $(NEWEST)/locked.pins | sed 's/^/  /' | grep . || echo "  none"
	$(UV) pip sync --quiet --python $(NEWEST)/venv/bin/python $(NEWEST)/requirements.txt
	$(UV) pip install --quiet --python $(NEWEST)/venv/bin/python --no-deps --editable .
	$(NEWEST)/venv/bin/python -m pytest -q -n 2 --dist loadfile $(PYTEST_ARGS)

lint: setup
	$(UV) run --frozen ruff check src tests benchmarks
	$(UV) run --frozen ruff format --check src tests benchmarks
	$(UV) run --frozen mypy
	$(UV) run --frozen lint-imports

bench: setup
	$(UV) run --frozen python benchmarks/http_read.py

clean:
	rm -rf .venv var node_modules .pytest_cache .mypy_cache .ruff_cache
