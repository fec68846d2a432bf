# Allied: `make run` serves the demo, `make test` runs every test. Both install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv manages Python 3.13 and the locked dependencies. When no working uv is on PATH, one is
# installed into .tools/ with the machine's python3 (any version will do for that).
UV := $(shell if uv --version >/dev/null 2>&1; then command -v uv; else echo $(CURDIR)/.tools/bin/uv; fi)
VENV := .venv
DEV_ENV := ALLIED_DEBUG=1
PYTEST := $(VENV)/bin/pytest
# The suite runs in two processes (pytest-xdist, a test database each): CI's two cores.
TEST_PROCESSES ?= 2

help:
	@echo "make run    install, migrate, load the demo and serve on http://127.0.0.1:8000"
	@echo "make test   install and run the whole test suite (PostgreSQL too when ALLIED_TEST_POSTGRES is set)"
	@echo "make lint   ruff, mypy and the import-linter layering contract"
	@echo "make bench  the benchmarks under benchmarks/"
	@echo "make openapi  regenerate docs/openapi.json after an API change"

$(CURDIR)/.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

install: $(UV)
	$(UV) sync --locked --quiet

run: install
	$(DEV_ENV) $(VENV)/bin/allied migrate --verbosity 0
	$(DEV_ENV) $(VENV)/bin/allied demo
	$(DEV_ENV) $(VENV)/bin/allied serve

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "The browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

test: install chromium
	$(PYTEST) -m "not postgres" -p no:cacheprovider -n $(TEST_PROCESSES)
	@if [ -n "$$ALLIED_TEST_POSTGRES" ]; then \
	  echo "== the suite again on PostgreSQL ($$ALLIED_TEST_POSTGRES) =="; \
	  case "$$ALLIED_TEST_POSTGRES" in *://*) url="$$ALLIED_TEST_POSTGRES";; *) url="postgres://postgres@127.0.0.1:5432/$$ALLIED_TEST_POSTGRES";; esac; \
	  DATABASE_URL="$$url" $(PYTEST) -m "not browser" -p no:cacheprovider -n $(TEST_PROCESSES); \
	fi

lint: install
	$(VENV)/bin/ruff check src tests $(wildcard benchmarks/*.py)
	$(VENV)/bin/ruff format --check src tests $(wildcard benchmarks/*.py)
	$(DEV_ENV) $(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

openapi: install
	$(DEV_ENV) $(VENV)/bin/allied manage export_openapi_schema --api allied.api.api --output docs/openapi.json --indent 2 --sorted

bench: install
	@for script in $(wildcard benchmarks/*.py); do echo "== $$script"; $(DEV_ENV) $(VENV)/bin/python $$script || exit 1; done

.PHONY: help install run chromium test lint openapi bench
