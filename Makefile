# Two commands on a fresh machine: `make run` and `make test`. Only Python 3.11+ and make are needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 3

.PHONY: install run test lint check-migrations fmt clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstalls only when the dependency list or the lock file changes.
$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/huanxin migrate --noinput
	$(BIN)/huanxin collectstatic --noinput --verbosity 0
	$(BIN)/huanxin catalogue load
	$(BIN)/huanxin demo
	@echo "换新平台已启动 / Huanxin is running: http://$(HOST):$(PORT)/  (API: http://$(HOST):$(PORT)/api/v1/docs)"
	@# The periodic jobs (expiry, settlement) run in a background loop next to the application server and
	@# stop with it; production runs them with Celery beat and workers instead (see docs/OPERATIONS.md).
	$(BIN)/huanxin jobs run-due --loop > var/jobs.log 2>&1 & JOBS=$$!; \
	trap 'kill $$JOBS 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn huanxin.wsgi:application --bind $(HOST):$(PORT) --workers $(WORKERS) \
		--access-logfile - --error-logfile - --forwarded-allow-ips 127.0.0.1

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/huanxin makemigrations --check --dry-run

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var/static var/cache .pytest_cache .mypy_cache .ruff_cache
