# GovMedia: the commands a developer and CI use. `make help` lists them.
#
# Only Python 3.11 and make are needed: the first command creates .venv and installs the
# pinned dependencies; it reinstalls whenever pyproject.toml changes (stamp file).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-pyproject
PORT ?= 8000
# Same default as config/settings.py; every process below shares this directory.
VAR_DIR := $(or $(GOVMEDIA_VAR_DIR),$(CURDIR)/var)
PYTEST_ARGS ?=
BENCH_ARGS ?=

export GOVMEDIA_VAR_DIR := $(VAR_DIR)

.PHONY: help install vardirs run prepare migrate seed static test lint format-check bench messages ci clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@if [ ! -x $(BIN)/python ]; then \
		echo ">> creating $(VENV) with $(PYTHON)"; \
		$(PYTHON) -m venv $(VENV); \
	fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the pinned dependencies

vardirs:
	@mkdir -p $(VAR_DIR)/broker/queue $(VAR_DIR)/broker/processed $(VAR_DIR)/broker/control $(VAR_DIR)/cache $(VAR_DIR)/media $(VAR_DIR)/staticfiles

migrate: $(STAMP) vardirs ## Apply database migrations
	$(BIN)/python manage.py migrate --noinput

# seed_demo is idempotent; until the command exists, the step says so and moves on.
seed: migrate ## Load the demo organizations, users and data
	@if $(BIN)/python manage.py help seed_demo >/dev/null 2>&1; then \
		$(BIN)/python manage.py seed_demo; \
	else \
		echo ">> seed_demo command not available: skipping demo data"; \
	fi

static: $(STAMP) ## Collect static files for whitenoise
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

prepare: migrate seed static

# Web (gunicorn, 2 workers), Celery worker and Celery beat under honcho (Procfile).
# Ctrl-C stops all three. Embedded default: SQLite + filesystem broker under var/.
# The demo is production-like: DEBUG off (the platform's own 403/404/500 pages,
# whitenoise serving the collected, hashed static files) over plain HTTP on
# 127.0.0.1 (GOVMEDIA_LOCAL_DEMO, config/settings.py). `make run DEBUG=1` serves
# Django's debug pages instead.
run: export DJANGO_DEBUG := $(if $(filter 1 true yes on,$(DEBUG)),1,0)
run: export GOVMEDIA_LOCAL_DEMO := 1
run: prepare ## Serve on http://127.0.0.1:$(PORT) with worker and beat (DEBUG=1: debug pages)
	@echo ">> http://127.0.0.1:$(PORT)/  (DJANGO_DEBUG=$$DJANGO_DEBUG; Ctrl-C stops web, worker and beat)"
	GUNICORN_BIND=127.0.0.1:$(PORT) $(BIN)/honcho --no-colour start --procfile Procfile --app-root $(CURDIR)

# DATABASE_URL / REDIS_URL pass through from the environment (PostgreSQL / Redis);
# without them the suite runs on SQLite. Benchmark-scale tests are marked slow.
test: $(STAMP) vardirs ## Run the test suite (not the slow benchmarks)
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP) ## ruff check
	$(BIN)/ruff check .

format-check: $(STAMP) ## ruff format --check
	$(BIN)/ruff format --check .

bench: $(STAMP) vardirs ## Run the benchmark harness (python -m bench)
	@if [ ! -f bench/__main__.py ]; then \
		echo ">> bench/__main__.py does not exist yet: no benchmark harness to run" >&2; \
		exit 1; \
	fi
	$(BIN)/python -m bench $(BENCH_ARGS)

# The .po files are the source of the translations: edit msgstr in
# locale/zh_Hans/LC_MESSAGES/django.po, then run this again (it lists what lacks Chinese).
messages: $(STAMP) ## Extract, compile and check translations (zh_Hans, en)
	$(BIN)/python manage.py makemessages -l zh_Hans -l en --no-location --no-obsolete --ignore=.venv --ignore=var --ignore=bench
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=var
	$(BIN)/python tools/po_check.py

ci: ## Everything CI runs (needs PostgreSQL and Redis; see .ci/run)
	bash .ci/run

clean: ## Remove the virtualenv and the local data under var/
	rm -rf $(VENV) $(VAR_DIR)
