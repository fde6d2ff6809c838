"""Where every dataset lives under the lake root, declared once.

The ingest, the Spark job (which imports this from the shipped package zip, so it stays plain
standard-library Python), scoring, the model store, the reports and the CLI all name their
datasets from here; dbt's sources (`dbt_project/models/staging/_sources.yml`) and the Glue
tables (`dbt_project/macros/lake_sources.sql`) spell the same paths, and
`tests/test_dbt_lake_sources.py` holds them to these.

Daily datasets are Hive-partitioned: `<dataset>/work_date=YYYY-MM-DD/…parquet`.
"""

from __future__ import annotations

import datetime as dt

PARTITION_COLUMN = "work_date"

RAW = "raw"
QUARANTINE = "quarantine"
QUARANTINE_UNDATED = "quarantine_undated"
PROCESSED = "processed"
PROCESSED_ENTRIES = f"{PROCESSED}/timesheet_entries"
SCORES = "scores/timesheet_scores"
MODELS = "models/fraud_model"
CURRENT_MODEL = f"{MODELS}/current.json"
REPORTS = "reports/investigator_report"
SCORE_VERSIONS = "scores/timesheet_score_versions"
"""Earlier versions of each day's list, archived by a re-score (reviews/history.py)."""
DISPOSITIONS = "reviews/suspect_dispositions"
"""Investigators' verdicts, one file per verdict (reviews/dispositions.py)."""
# Append-only: one new file per extract that saw a change, never a rewrite (defs/history/).
ENTRY_VERSIONS = "history/timesheet_entry_versions"


def raw_dataset(table: str) -> str:
    return f"{RAW}/{table}"


def quarantine_dataset(table: str) -> str:
    return f"{QUARANTINE}/{table}"


def undated_dataset(table: str) -> str:
    """Rows whose date column holds no date: they belong to no day's partition, so they are
    kept (and counted, and reconciled) in one unpartitioned file per table."""
    return f"{QUARANTINE_UNDATED}/{table}"


def model_dir(version: str) -> str:
    return f"{MODELS}/{version}"


def model_metadata(version: str) -> str:
    """The metadata.json of a model version: its training window, figures and features."""
    return f"{model_dir(version)}/metadata.json"


def partition_name(day: dt.date) -> str:
    return f"{PARTITION_COLUMN}={day.isoformat()}"
