# Quick start: `make serve` (set up, migrate, demo data, gunicorn on 127.0.0.1:8000) and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
STUDENTS ?= 30

# The local quick start keeps its secret key and demo password in var/ (git-ignored), so app
# passwords and the printed credentials survive a restart. Production sets DJANGO_SECRET_KEY.
SECRET_ENV = DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat var/secret_key)}"
DEMO_ENV = DEMO_PASSWORD="$${DEMO_PASSWORD:-$$(cat var/demo_password)}"

.PHONY: serve test setup lint bench clean-venv .venv-clients

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.requirements: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.requirements-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.requirements

var/secret_key: | $(BIN)/python
	mkdir -p var
	umask 077 && $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))' > $@

var/demo_password: | $(BIN)/python
	mkdir -p var
	umask 077 && $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(12))' > $@

setup: $(VENV)/.requirements var/secret_key var/demo_password
	$(SECRET_ENV) $(BIN)/python manage.py migrate --noinput --verbosity 0
	$(SECRET_ENV) $(BIN)/python manage.py collectstatic --noinput --verbosity 0

serve: setup
	@$(SECRET_ENV) $(DEMO_ENV) $(BIN)/python manage.py seed_demo --students $(STUDENTS) > var/seed.txt
	@cat var/seed.txt
	@echo
	@echo "Serving on http://$(HOST):$(PORT)/  (OpenAPI: http://$(HOST):$(PORT)/api/docs/)"
	@echo "Try: curl -u teacher:$$(cat var/demo_password) -H 'OCS-APIRequest: true' -H 'Accept: application/json' \\"
	@echo "       http://$(HOST):$(PORT)/ocs/v2.php/apps/spreed/api/v4/room"
	@echo
	$(SECRET_ENV) exec $(BIN)/gunicorn project.wsgi --bind $(HOST):$(PORT) --workers $(WORKERS) --access-logfile -

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
	$(BIN)/python -m pytest -q

# configure/start/broadcast/stop of a 3,000-student class, as ratios to floors of the same run.
bench: $(VENV)/.requirements
	DJANGO_DEBUG=1 $(BIN)/python bench/bench_breakout.py --students $(or $(BENCH_STUDENTS),3000)

lint: $(VENV)/.requirements-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean-venv:
	rm -rf $(VENV)
