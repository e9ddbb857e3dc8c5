# Quick start: `make serve` (set up, migrate, demo data, gunicorn + uvicorn workers on 127.0.0.1:8000, the
# background worker beside it) and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
STUDENTS ?= 30
# Where the local secrets live (every file in it is readable by its owner only).
VAR ?= var

# The local quick start keeps its secret key and demo password in var/ (git-ignored), so app
# passwords and the printed credentials survive a restart. Production sets DJANGO_SECRET_KEY.
SECRET_ENV = DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat $(VAR)/secret_key)}"
DEMO_ENV = DEMO_PASSWORD="$${DEMO_PASSWORD:-$$(cat $(VAR)/demo_password)}"

.PHONY: serve test setup lint bench clean-venv lock manage .venv-clients

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# requirements*.txt name what the code needs (ranges); requirements.lock the exact versions CI
# tested, used as constraints so every checkout installs those.
$(VENV)/.requirements: requirements.txt requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt -c requirements.lock
	touch $@

$(VENV)/.requirements-dev: requirements.txt requirements-dev.txt requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c requirements.lock
	touch $@ $(VENV)/.requirements

# Refresh the lock after changing a requirement (or to take newer releases): the newest versions
# the ranges allow, resolved in a fresh virtualenv, then run `.ci/run` and commit the lock.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -r requirements-dev.txt
	{ echo "# Exact versions CI tested; refresh with 'make lock' (never edit by hand)."; \
	  .lock-venv/bin/python -m pip freeze --all --exclude-editable | grep -v '^pip=='; } > requirements.lock
	rm -rf .lock-venv

$(VAR)/secret_key: | $(BIN)/python
	umask 077 && mkdir -p $(VAR) && $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))' > $@

$(VAR)/demo_password: | $(BIN)/python
	umask 077 && mkdir -p $(VAR) && $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(12))' > $@

setup: $(VENV)/.requirements $(VAR)/secret_key $(VAR)/demo_password
	$(SECRET_ENV) $(BIN)/python manage.py migrate --noinput --verbosity 0
	$(SECRET_ENV) $(BIN)/python manage.py collectstatic --noinput --verbosity 0

serve: setup
	@$(SECRET_ENV) $(DEMO_ENV) $(BIN)/python manage.py seed_demo --students $(STUDENTS) --output $(VAR)/seed.txt
	@cat $(VAR)/seed.txt
	@echo
	@echo "Serving on http://$(HOST):$(PORT)/"
	@$(DEMO_ENV); echo "  Admin:    http://$(HOST):$(PORT)/admin/  (operator login: admin / $$DEMO_PASSWORD, if seed_demo created it)"
	@echo "  API docs: http://$(HOST):$(PORT)/api/docs/  (ReDoc: /api/redoc/, health: /healthz, readiness: /readyz)"
	@$(DEMO_ENV); echo "Try: curl -u teacher:$$DEMO_PASSWORD -H 'OCS-APIRequest: true' -H 'Accept: application/json' \\"
	@echo "       http://$(HOST):$(PORT)/ocs/v2.php/apps/spreed/api/v4/room"
	@echo
	@# The background worker runs beside the web tier; Ctrl-C (or the end of gunicorn) stops both.
	$(SECRET_ENV) $(BIN)/python manage.py live_worker --no-reload --verbosity 0 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(SECRET_ENV) $(BIN)/gunicorn project.asgi:application --worker-class uvicorn_worker.UvicornWorker \
		--bind $(HOST):$(PORT) --workers $(WORKERS) --access-logfile -

# Any management command with the local secret key, e.g. make manage ARGS="appconfig breakout_rooms no".
manage: $(VENV)/.requirements $(VAR)/secret_key
	@$(SECRET_ENV) $(BIN)/python manage.py $(ARGS)

# check and makemigrations only need some secret key; the tests set their own settings.
CHECK_ENV = DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-only-for-make-test}"

# Third-party Talk clients for the end-to-end tests, in a virtualenv of their own.
CLIENTS_VENV ?= .venv-clients
$(CLIENTS_VENV)/.requirements: requirements-clients.txt
	$(PYTHON) -m venv $(CLIENTS_VENV)
	$(CLIENTS_VENV)/bin/python -m pip install --quiet -r requirements-clients.txt
	touch $@

.venv-clients: $(CLIENTS_VENV)/.requirements

test: $(VENV)/.requirements-dev $(CLIENTS_VENV)/.requirements
	$(CHECK_ENV) $(BIN)/python manage.py check --fail-level WARNING
	$(CHECK_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(CHECK_ENV) $(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

# The benchmark suite (bench/run.py, docs/performance.md): lifecycle at N = 30/300/3,000, the hot
# reads and authentication under wrk, the switch flood, 2,000 waiting clients; every figure a ratio
# to a floor of the same run. Needs PostgreSQL (BENCH_POSTGRES_URL) and Redis; installs wrk.
# About 12 minutes on 2 cores; BENCH_ARGS=--quick for a smoke run. Never part of `make test`.
bench: $(VENV)/.requirements
	bench/setup.sh
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lint: $(VENV)/.requirements-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean-venv:
	rm -rf $(VENV)
