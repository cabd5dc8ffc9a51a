# Yingdan 赢单 — the two commands: `make demo` (run the product) and `make test` (all quality gates).
# Every step is idempotent; stamp files make re-runs fast.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
YINGDAN := $(VENV)/bin/yingdan
PORT ?= 8000
YINGDAN_DATA_DIR ?= $(CURDIR)/var
export YINGDAN_DATA_DIR PORT

VENV_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
VENDOR_STAMP := yingdan/static/vendor/.copied
# A throw-away key, only for `check --deploy` (production settings refuse to start without a real one).
CHECK_SECRET_KEY := check-deploy-only-1f0c9e7b5a3d48e2b6c4a9d7e1f3b5c8a0d2e4f6b8c1a3e5d7f9

.PHONY: help venv static demo migrate test lint check-deploy pytest bench clean schemathesis

help:
	@echo "make demo   - set up, migrate, seed the demo company and run web server + worker on 127.0.0.1:$(PORT)"
	@echo "make test   - ruff, makemigrations --check, check --deploy, pytest (DATABASE_URL selects PostgreSQL)"
	@echo "make schemathesis - every API operation fuzzed against a seeded server (schema, status codes, no 500s)"
	@echo "make lint | bench | clean"

# -- set-up ----------------------------------------------------------------------------------------
venv: $(VENV_STAMP)

$(VENV_STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

ifneq ($(wildcard package-lock.json),)
static: $(VENV_STAMP) $(VENDOR_STAMP)
else
static: $(VENV_STAMP)
endif

$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

$(VENDOR_STAMP): $(NODE_STAMP) $(wildcard scripts/copy_vendor.py) | $(VENV_STAMP)
	@if [ -f scripts/copy_vendor.py ]; then $(PY) scripts/copy_vendor.py; fi
	@mkdir -p $(@D) && touch $@

# -- the demo --------------------------------------------------------------------------------------
migrate: venv static
	@mkdir -p "$(YINGDAN_DATA_DIR)"
	$(YINGDAN) migrate --noinput -v 0

demo: migrate
	$(YINGDAN) seed --demo
	exec $(YINGDAN) rundemo --port $(PORT)

# -- quality gates ---------------------------------------------------------------------------------
lint: venv
	$(VENV)/bin/ruff check .

check-deploy: venv
	@out=$$(DJANGO_SETTINGS_MODULE=yingdan.settings.production SECRET_KEY='$(CHECK_SECRET_KEY)' \
		$(YINGDAN) check --deploy --fail-level WARNING 2>&1) || { echo "$$out"; echo "check --deploy failed"; exit 1; }; \
	echo "$$out"; \
	if echo "$$out" | grep -qiE 'warning|error'; then echo "check --deploy printed warnings"; exit 1; fi

pytest: venv static
	$(VENV)/bin/pytest -n $${PYTEST_WORKERS:-2} -q -rfEs $(PYTEST_ARGS)

test: venv static lint
	$(YINGDAN) makemigrations --check --dry-run
	@$(MAKE) --no-print-directory check-deploy
	@$(MAKE) --no-print-directory pytest

schemathesis: venv static
	VENV=$(VENV) .ci/schemathesis --generation-deterministic

bench: venv static
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) node_modules yingdan/static/vendor .pytest_cache .ruff_cache build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
