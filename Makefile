# The whole set-up on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.PHONY: run run-split test test-per-app test-split fault lint check bench bench-scale clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

# Local settings for `make run`: a random secret, plain HTTP on 127.0.0.1, a demo that takes no money
# (dummy gateway and demo staff user explicitly allowed). Readable by its owner only. Never overwritten.
.env:
	@umask 077 && printf 'SECRET_KEY=%s\nDEBUG=false\nSECURE_SSL_REDIRECT=false\nSESSION_COOKIE_SECURE=false\nCSRF_COOKIE_SECURE=false\nALLOW_DUMMY_GATEWAY=true\nALLOW_DEMO_STAFF=true\n' \
		"$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" > .env
	@echo "Wrote .env (local settings for make run, mode 600)."
	@echo "It allows the dummy payment gateway (no money is taken) and a demo staff user: a demo, not a shop."

# `make run`: migrate (which also creates the database cache's table), static files, demo catalogue and
# staff user, then gunicorn; it ends by printing the URLs to open (and a staff login it created).
# Setup commands log errors only, so the dummy gateway's warning shows once, from the server.
# Local use relaxes the login/register throttle (production default: 10/min), since the shop's pages
# and the API share it: RUN_AUTH_THROTTLE_RATE=10/min make run keeps the production rate.
RUN_AUTH_THROTTLE_RATE ?= 100/min
run: $(VENV)/.runtime .env
	@LOG_LEVEL=ERROR $(BIN)/python manage.py migrate --noinput
	@LOG_LEVEL=ERROR $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@LOG_LEVEL=ERROR $(BIN)/python manage.py load_demo_catalogue
	@login="$$(LOG_LEVEL=ERROR $(BIN)/python manage.py ensure_demo_staff)" && case "$$login" in *created:*) ;; *) echo "$$login"; login= ;; esac && \
	DEMO_STAFF_LOGIN="$${login#*created: }" AUTH_THROTTLE_RATE="$(RUN_AUTH_THROTTLE_RATE)" exec $(BIN)/gunicorn ecommerce.wsgi \
		--bind $(HOST):$(PORT) --workers $(WORKERS) --preload --log-level warning --access-logfile - --log-file -

test: $(VENV)/.dev
	$(BIN)/python -m pytest

# The whole suite with every app on a PostgreSQL database of its own, on a throwaway cluster (.ci/per-app-databases).
test-per-app: $(VENV)/.dev
	.ci/per-app-databases $(PYTEST_ARGS)

# `make run-split`: the same shop as processes behind nginx on $(PORT) (deploy/topology.py): accounts,
# catalog, inventory and shop / cart and orders / payments, calling each other over HTTP with a service
# credential, each with only its apps' databases (APP_DATABASES: unset, a database per app is made beside
# DATABASE_URL), and the staff admin. Needs nginx (apt-get install nginx). Ctrl-C stops them all.
run-split: $(VENV)/.runtime .env
	@export APP_DATABASES="$${APP_DATABASES:-$$($(BIN)/python -m deploy.topology --databases)}" && \
	LOG_LEVEL=ERROR $(BIN)/python manage.py migrate --noinput && \
	LOG_LEVEL=ERROR $(BIN)/python manage.py collectstatic --noinput --verbosity 0 && \
	LOG_LEVEL=ERROR $(BIN)/python manage.py load_demo_catalogue && \
	LOG_LEVEL=ERROR $(BIN)/python manage.py ensure_demo_staff && \
	SERVICE_TOKEN="$${SERVICE_TOKEN:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(32))')}" \
	AUTH_THROTTLE_RATE="$(RUN_AUTH_THROTTLE_RATE)" GATEWAY_PORT=$(PORT) exec $(BIN)/python -m deploy.topology

# The split suite (tests/split): through nginx and three processes, the e2e flow, the oversell and double-payment
# races, the payments process killed in a payment storm, the whole API's schema; and the remote calls (PostgreSQL).
test-split: $(VENV)/.dev
	RUN_SPLIT_SUITE=1 $(BIN)/python -m pytest tests/split -p no:cacheprovider

# The fault suite (tests/fault): its own PostgreSQL cluster, Redis and gunicorn, broken under load (~3 min).
fault: $(VENV)/.dev
	RUN_FAULT_SUITE=1 $(BIN)/python -m pytest tests/fault -m fault -p no:cacheprovider -s

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Load benchmark (targets in docs/benchmarks.md): a throwaway database on that PostgreSQL server, gunicorn, 16 clients.
# Prints a markdown report; docs/benchmarks.md says how to read it. E.g. BENCH_ARGS="--duration 30".
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
bench: $(VENV)/.dev
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/run.py $(BENCH_ARGS)

# The product list at 10,000 and 1,000,000 products (cold and served), same run; needs wrk. Not in CI.
bench-scale: $(VENV)/.dev
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/scale.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
