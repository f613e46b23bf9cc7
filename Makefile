# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
DEMO_OUT := demo-output

.PHONY: install demo test lint unit clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@mkdir -p $(DEMO_OUT)
	$(VENV)/bin/egressguard audit examples/magento2-module examples/shopify-theme \
	  --format terminal \
	  --format html --output $(DEMO_OUT)/report.html \
	  --format json --output $(DEMO_OUT)/report.json \
	  --format sarif --output $(DEMO_OUT)/report.sarif \
	  --format markdown --output $(DEMO_OUT)/report.md \
	  --fail-on none
	@echo "Demo report: $(CURDIR)/$(DEMO_OUT)/report.html"

lint: $(STAMP)
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

unit: $(STAMP)
	$(PY) -m pytest -q

test: lint unit

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .mypy_cache .ruff_cache
