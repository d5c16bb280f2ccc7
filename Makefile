# The two commands of the Quick start: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint types imports check browser pdf-libs e2e venv clean worker worker-webhooks worker-campaigns worker-main beat

venv: $(STAMP)

$(STAMP): pyproject.toml | pdf-libs
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Serves the dashboard with demo data at http://127.0.0.1:8000 (SQLite, 46elks sandbox, Celery in-process).
# Another address: DEMO_ADDR=127.0.0.1:8100 make demo (callbacks, sandbox ports and state follow).
demo: venv
	DJANGO_SETTINGS_MODULE=config.settings.demo $(BIN)/python manage.py demo

# Debian's chromium for the Playwright tests (Playwright's own browser downloads are unreachable).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "chromium is not installed and cannot be installed here: browser tests will skip"; fi; }

# Debian's pango and harfbuzz, which WeasyPrint (invoice PDFs) loads at run time.
pdf-libs:
	@ldconfig -p 2>/dev/null | grep -q libpango-1.0 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core; \
	  else echo "pango is not installed and cannot be installed here: invoice PDFs will fail"; fi; }

lint: venv types imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

# mypy with django-stubs ([tool.mypy] in pyproject.toml). `python -m` puts the repository root
# first on sys.path, so the plugin, which imports the settings, gets our `numbers` app.
types: venv
	$(BIN)/python -m mypy .

# The import rules ([tool.importlinter] in pyproject.toml, docs/architecture.md): no module imports
# from a floor above its own.
imports: venv
	PYTHONPATH=. $(BIN)/lint-imports

test: venv browser lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

e2e: venv browser
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

# One worker per queue group (config/celery_app.py), so a campaign never delays the inbox:
# webhooks twice (provider callbacks: one killed costs the inbox nothing), campaigns (campaign
# runs, imports), and main for the rest. Ctrl-C stops all four. WORKER_ARGS passes more options to each, e.g. WORKER_ARGS="-l warning".
worker: venv
	trap 'kill 0' INT TERM; \
	$(MAKE) --no-print-directory worker-webhooks & \
	$(MAKE) --no-print-directory worker-webhooks WEBHOOKS_NAME=webhooks2 & \
	$(MAKE) --no-print-directory worker-campaigns & \
	$(MAKE) --no-print-directory worker-main & \
	wait

WEBHOOKS_NAME ?= webhooks
worker-webhooks: venv
	$(BIN)/celery -A config worker -n $(WEBHOOKS_NAME)@%h -Q webhooks -c 2 -l info $(WORKER_ARGS)

worker-campaigns: venv
	$(BIN)/celery -A config worker -n campaigns@%h -Q campaigns -c 2 -l info $(WORKER_ARGS)

worker-main: venv
	$(BIN)/celery -A config worker -n main@%h -Q sending,default,sync -c 2 -l info $(WORKER_ARGS)

beat: venv
	$(BIN)/celery -A config beat -l info

clean:
	rm -rf $(VENV) .demo .pytest_cache .ruff_cache staticfiles
