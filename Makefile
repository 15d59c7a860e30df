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

.PHONY: run test install bootstrap migrate lint python-check

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

test: install
	$(PY) -m newsroom.bootstrap --fresh-test-db
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Benchmarks (bench/README.md). They use their own database, casefile_bench, never the dev
# database: bootstrap creates it because DATABASE_URL is overridden for these targets only.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/casefile_bench
.PHONY: bench-search bench-entity-page bench-timeline
bench-search bench-entity-page bench-timeline: export DATABASE_URL = $(BENCH_DATABASE_URL)
bench-search bench-entity-page bench-timeline: export BENCH_DATABASE_URL := $(BENCH_DATABASE_URL)

# Name search over N generated entities (default 1,000,000; generated once): make bench-search N=100000
bench-search: bootstrap
	$(PY) bench/search.py $(if $(N),--n $(N),)

# The entity page with 1,000 links and 10,000 shipments, and two case list pages.
bench-entity-page: bootstrap
	$(PY) bench/entity_page.py

# Timeline pages of a case with 5,000 events; the report (HTML, PDF) of one with 500 claims.
bench-timeline: bootstrap
	$(PY) bench/timeline.py

.PHONY: bench-analysis
bench-analysis: export DATABASE_URL = $(BENCH_DATABASE_URL)
bench-analysis: export BENCH_DATABASE_URL := $(BENCH_DATABASE_URL)

# The network, paths and red flags over 100,000 entities, 1,000,000 links and 1,000,000
# shipments, and the network page of 2,000 nodes in Chromium. Options:
# make bench-analysis BENCH_ARGS="--only graph --only paths" (graph, paths, flags, page)
bench-analysis: bootstrap
	$(PY) bench/analysis.py $(BENCH_ARGS)

# Text extraction in a limited child: overhead per document, and the decompression bombs of
# issue 10 before and now (no database needed).
.PHONY: bench-extract
bench-extract: install
	$(PY) bench/extract.py

.PHONY: bench-snapshots bench-upload bench-import bench-healthz
bench-snapshots bench-upload bench-import bench-healthz: export DATABASE_URL = $(BENCH_DATABASE_URL)
bench-snapshots bench-upload bench-import bench-healthz: export BENCH_DATABASE_URL := $(BENCH_DATABASE_URL)

# 200 local pages captured by one 2-process Celery worker vs two wget processes; every WARC
# checked. Options: make bench-snapshots BENCH_ARGS="--latency-ms 100" (also --profile, --keep)
bench-snapshots: bootstrap
	@command -v wget >/dev/null || { echo "bench-snapshots needs wget (apt-get install -y wget)"; exit 1; }
	$(PY) bench/snapshots.py $(BENCH_ARGS)

# Peak RSS of a gunicorn sync worker during a 100 MB document upload, and a refused 150 MB one.
bench-upload: bootstrap
	$(PY) bench/upload.py

# 1,000,000 generated customs rows through `manage.py import_shipments` (fresh, then again),
# against `psql \copy` into a bare table and django-import-export on a 100,000-row slice.
# Options: make bench-import N=100000 BENCH_ARGS="--no-iie" (also --profile, --iie-rows N)
bench-import: bootstrap
	$(PY) bench/import_bench.py $(if $(N),--n $(N),) $(BENCH_ARGS)

# 24 concurrent anonymous /healthz requests against gunicorn as the Procfile runs it, and what
# they do to the login page meanwhile.
bench-healthz: bootstrap
	$(PY) bench/healthz.py $(BENCH_ARGS)
