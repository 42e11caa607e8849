# Kesu — the two commands are `make run` and `make test`; everything else is here for them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
MANAGE := $(BIN)/python manage.py
# Links in messages to customers point at this server unless KESU_BASE_URL says otherwise.
KESU_BASE_URL ?= http://$(HOST):$(PORT)
export KESU_BASE_URL

.PHONY: setup run worker test token bench bench-triage lint messages browser clean

# Create the virtualenv and install Kesu and its dependencies; does nothing when up to date.
setup: $(VENV)/.setup-done messages

$(VENV)/.setup-done: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Kesu needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-done: $(VENV)/.setup-done pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

# Compiled translations (zh-hans, en) from the .po files; needs GNU gettext's msgfmt.
messages: $(VENV)/.setup-done
	@command -v msgfmt >/dev/null || scripts/ensure-package gettext msgfmt
	@$(MANAGE) compilemessages --ignore '.venv' -v 0

# Set up, migrate, load the demo data on the first run only, and serve with the job loop.
run: setup
	$(MANAGE) migrate --no-input -v 0
	$(MANAGE) load_demo --if-empty
	$(MANAGE) serve --host $(HOST) --port $(PORT)

# Background jobs at scale: a Celery worker with beat, driving the same jobs as `make run`'s
# embedded loop (docs/deployment.md). Needs CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0.
worker: setup
	@test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0" >&2; exit 2; }
	$(MANAGE) migrate --no-input -v 0
	$(BIN)/celery -A kesu worker --beat --loglevel=info --schedule "$${KESU_VAR_DIR:-var}/celerybeat-schedule"

# The whole suite (SQLite unless DATABASE_URL says otherwise); the browser test needs Chromium.
test: setup $(VENV)/.test-done
	-@scripts/ensure-package chromium /usr/bin/chromium
	$(BIN)/python -m pytest -p xdist -n 2 --dist loadgroup

lint: $(VENV)/.test-done
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy kesu
	$(MANAGE) check
	$(MANAGE) makemigrations --check --dry-run

# `make token USER=<username>` prints a new API token on its last line.
token: setup
	@$(MANAGE) migrate --no-input -v 0
	@$(MANAGE) issue_token $(USER)

# Benchmarks against a production-style server (see docs/performance.md).
bench: setup $(VENV)/.test-done
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(BIN)/python bench/sla.py $(SLA_ARGS)
	$(BIN)/python bench/triage_eval.py $(TRIAGE_ARGS)
	$(BIN)/python bench/importer.py $(IMPORT_ARGS)

# The classifier alone on the real text sets (docs/triage.md); TRIAGE_ARGS="--sets …".
bench-triage: setup
	$(BIN)/python bench/triage_eval.py $(TRIAGE_ARGS)

clean:
	rm -rf $(VENV) var/static .pytest_cache .mypy_cache .ruff_cache
