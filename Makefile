# Bluelight: `make run` sets up and serves a demo force; `make test` sets up and runs the suite.

SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_ARGS ?=

.PHONY: run test setup lint browser bench clean

setup:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --user uv || $(PYTHON) -m pip install --quiet uv
	@$(UV) sync --frozen --quiet

run: setup
	$(UV) run --frozen bluelight demo --size small

# The browser tests drive Debian's Chromium; install it once if the machine lacks it.
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

test: setup browser
	$(UV) run --frozen pytest -q -n 2 --dist loadfile $(PYTEST_ARGS)

lint: setup
	$(UV) run --frozen ruff check src tests benchmarks
	$(UV) run --frozen ruff format --check src tests benchmarks
	$(UV) run --frozen mypy
	$(UV) run --frozen lint-imports

bench: setup
	$(UV) run --frozen python benchmarks/http_read.py

clean:
	rm -rf .venv var .pytest_cache .mypy_cache .ruff_cache
