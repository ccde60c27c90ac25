# The few verbs a newcomer needs. `make demo` and `make test` install everything themselves.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 5000
# pytest-xdist workers; 2 cores here
WORKERS ?= 2

.PHONY: install system services translations bytecode demo serve serve-prod test test-fast lint worker bench clean

install: system $(STAMP) translations bytecode

# Debian packages: Chromium for browser tests, a CJK font and pango/harfbuzz for PDFs, pdffonts.
system:
	@bash scripts/ensure-system-packages.sh

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

translations: $(STAMP)
	$(VENV)/bin/pybabel compile --statistics -f -d marketplace/translations

# The app's own bytecode, written once here rather than compiled again by every process: the
# editable install leaves it to the first import, which writes nothing where PYTHONDONTWRITEBYTECODE
# is set (a fifth of every start; docs/performance.md, "Start-up"). Only changed modules are redone.
bytecode: $(STAMP)
	$(PY) -m compileall -q marketplace workflows wsgi.py

# PostgreSQL and Redis for the test suite; started only when down.
services:
	@bash scripts/ensure-services.sh

demo: install
	$(PY) -m flask --app wsgi demo seed --reset
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	$(PY) -m flask --app wsgi run --host $(HOST) --port $(PORT)

serve: install
	$(PY) -m flask --app wsgi run --host $(HOST) --port $(PORT)

# Production on one machine: `flask db upgrade` as the owner role, then gunicorn, a Celery worker and
# beat against the PostgreSQL and Redis the environment names (deploy/marketplace.env.example; set
# MARKETPLACE_ENV_FILE to read such a file). Several machines: deploy/systemd, docs/deployment.md.
serve-prod: install
	@bash deploy/serve-prod.sh

test: install services
	$(VENV)/bin/ruff check marketplace workflows tests bench
	$(PY) -m pytest -n $(WORKERS) --dist loadgroup -q

test-fast: install
	$(PY) -m pytest -q tests/workflows

lint: $(STAMP)
	$(VENV)/bin/ruff check marketplace workflows tests

worker: install
	$(VENV)/bin/celery -A wsgi.celery worker -B --loglevel INFO

# Benchmarks, run by hand (figures go to docs/performance.md); the desks' one drives gunicorn with wrk.
bench: install services
	@bash scripts/ensure-system-packages.sh wrk
	$(PY) -m pip install -q -e ".[test,bench]"
	$(PY) bench/verification.py
	$(PY) bench/desks.py
	$(PY) bench/bureau.py

clean:
	rm -rf $(VENV) instance test-artifacts
