# tsfraud: `make demo` runs the whole pipeline on the embedded default, `make test` the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck ui review install clean benchmark-simulate benchmark-ingest \
	benchmark-detection benchmark-detection-grid benchmark-e2e benchmark-timeliness

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
	$(BIN)/mypy tsfraud_assets tsfraud_simulator

ui: $(STAMP)
	mkdir -p data/dagster_home && cp -n dagster.yaml data/dagster_home/dagster.yaml
	DAGSTER_HOME=$(CURDIR)/data/dagster_home $(BIN)/dagster dev -w workspace.yaml

# Measurements, run on purpose (they print figures; none is a test). ingest and e2e need the
# PostgreSQL server on 127.0.0.1:5432; e2e takes about 45 minutes at its default sizes.
benchmark-simulate: $(STAMP)
	$(BIN)/python benchmarks/simulate.py

benchmark-ingest: $(STAMP)
	$(BIN)/python benchmarks/ingest.py --employees 11000 --days 120

benchmark-detection: $(STAMP)
	$(BIN)/python benchmarks/detection.py

benchmark-detection-grid: $(STAMP)
	$(BIN)/python benchmarks/detection_grid.py --employees 600 --days 90

benchmark-e2e: $(STAMP)
	$(BIN)/python benchmarks/e2e.py

# Batch landing -> suspect list through the real daemon; EMPLOYEES=25000 for the large firm.
EMPLOYEES ?= 3000
benchmark-timeliness: $(STAMP)
	$(BIN)/python benchmarks/timeliness.py --employees $(EMPLOYEES)

# The investigators' review app on http://127.0.0.1:8765/ (HOST=0.0.0.0 to share it).
HOST ?= 127.0.0.1
PORT ?= 8765
review: $(STAMP)
	$(BIN)/tsfraud review --host $(HOST) --port $(PORT)

clean:
	rm -rf data dbt_project/target dbt_project/logs
