# tsfraud: `make demo` runs the whole pipeline on the embedded default, `make test` the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck ui install clean benchmark-simulate

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/tsfraud demo

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy tsfraud_assets

ui: $(STAMP)
	mkdir -p data/dagster_home && cp -n dagster.yaml data/dagster_home/dagster.yaml
	DAGSTER_HOME=$(CURDIR)/data/dagster_home $(BIN)/dagster dev -w workspace.yaml

benchmark-simulate: $(STAMP)
	$(BIN)/python benchmarks/simulate.py

clean:
	rm -rf data dbt_project/target dbt_project/logs
