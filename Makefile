# Casefile: `make run` starts the app with a demo, `make test` runs every test.
# Both create .venv, install the project, make sure PostgreSQL, Redis and the database exist,
# and migrate. See README.md for the environment variables.

SHELL := /bin/bash
# The first of these that is Python 3.12+ (a committed .python-version steers pyenv's python3).
PYTHON ?= $(or $(shell for p in python3 python3.13 python3.12; do command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && echo $$p && break; done),python3)
VENV := .venv
PY := $(VENV)/bin/python
WEB_HOST ?= 127.0.0.1
WEB_PORT ?= 8000
export WEB_HOST WEB_PORT

.PHONY: run test install bootstrap migrate lint bench-healthz python-check clean-venv

python-check:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null || \
	  { echo "casefile: needs Python 3.12 or newer (found: $$($(PYTHON) --version 2>&1)); install 3.13 (e.g. 'pyenv install 3.13') or run 'make PYTHON=python3.13 ...'"; exit 1; }

$(VENV)/.installed: pyproject.toml | python-check
	@test -x $(PY) && $(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' || { rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

bootstrap: install
	$(PY) -m newsroom.bootstrap

migrate: bootstrap
	$(PY) manage.py migrate --noinput

run: migrate
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py load_demo
	@echo
	@echo "Casefile is starting at http://$(WEB_HOST):$(WEB_PORT)/  (web + Celery worker + beat; Ctrl-C stops all)"
	@echo
	$(VENV)/bin/honcho start -f Procfile

test: bootstrap
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
