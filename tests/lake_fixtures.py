"""Hand-built lake datasets for the dbt tests.

The dbt models read the lake layout promised in docs/data-contracts.md. Tests (and anyone
reproducing a bug by hand) need to write that layout from a few hand-built rows without
running the Spark job or the scoring asset, so the Arrow schemas of the datasets dbt reads
live here, next to writers that honour the contract's Hive layout: partition column in the
folder name, not in the files. Test scaffolding: it lives with the tests, not in the package.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tsfraud_assets.defs.suspects.scoring import SCORES_SCHEMA
from tsfraud_assets.lib import contract

#: processed/timesheet_entries, without work_date (it is the Hive partition).
PROCESSED_TIMESHEET_ENTRY_SCHEMA = pa.schema(
    [
        ("entry_id", pa.int64()),
        ("employee_id", pa.int64()),
        ("project_id", pa.int64()),
        ("hours", pa.float64()),
        ("activity_code", pa.string()),
        ("comment", pa.string()),
        ("entry_channel", pa.string()),
        ("status", pa.string()),
        ("submitted_at", pa.timestamp("us")),
        ("approved_at", pa.timestamp("us")),
        ("updated_at", pa.timestamp("us")),
        ("approver_id", pa.int64()),
        ("is_counted", pa.bool_()),
        ("employee_code", pa.string()),
        ("country_code", pa.string()),
        ("office", pa.string()),
        ("practice", pa.string()),
        ("grade", pa.string()),
        ("manager_id", pa.int64()),
        ("hire_date", pa.date32()),
        ("termination_date", pa.date32()),
        ("contracted_hours_per_week", pa.float64()),
        ("project_code", pa.string()),
        ("project_type", pa.string()),
        ("project_status", pa.string()),
        ("client_id", pa.int64()),
        ("is_assigned", pa.bool_()),
        ("is_project_open", pa.bool_()),
        ("is_on_leave", pa.bool_()),
        ("leave_type", pa.string()),
        ("is_holiday", pa.bool_()),
        ("is_weekend", pa.bool_()),
        ("is_post_termination", pa.bool_()),
        ("submission_lag_days", pa.int32()),
        ("approval_lag_hours", pa.float64()),
        ("is_self_approved", pa.bool_()),
        ("is_manager_approved", pa.bool_()),
        ("active_minutes", pa.int32()),
        ("has_activity", pa.bool_()),
        ("presence_minutes", pa.int32()),
        ("day_counted_hours", pa.float64()),
        ("day_entry_count", pa.int32()),
        ("is_duplicate_line", pa.bool_()),
    ]
)

#: raw/employees and raw/investigation_cases: the source tables' own columns and exact types,
#: read from the contract (the DDL), so a test lake cannot drift from what ingest writes.
RAW_EMPLOYEE_SCHEMA = contract.table("employees").arrow_schema()
RAW_INVESTIGATION_CASE_SCHEMA = contract.table("investigation_cases").arrow_schema()

#: scores/timesheet_scores: the scoring asset's own schema, so the fixture cannot drift from it.
TIMESHEET_SCORE_SCHEMA = SCORES_SCHEMA


def write_partitioned(
    rows: Iterable[Mapping[str, Any]],
    dataset_dir: Path,
    schema: pa.Schema,
    file_name: str = "part-00000.parquet",
) -> list[date]:
    """Write rows as ``dataset_dir/work_date=D/file_name``, one file per work date.

    Each row carries ``work_date``; it goes into the folder name only, as the contract
    says. Existing partitions of the written dates are replaced whole (as the producers
    do), other partitions are left alone. Returns the dates written.
    """
    by_date: dict[date, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_date[row["work_date"]].append(row)
    for work_date, date_rows in sorted(by_date.items()):
        partition = dataset_dir / f"work_date={work_date.isoformat()}"
        if partition.exists():
            for old in partition.iterdir():
                old.unlink()
        partition.mkdir(parents=True, exist_ok=True)
        columns = {name: [row.get(name) for row in date_rows] for name in schema.names}
        pq.write_table(pa.table(columns, schema=schema), partition / file_name)
    return sorted(by_date)


def remove_partition(dataset_dir: Path, work_date: date) -> None:
    """Delete one ``work_date=D`` folder, as a producer does when a day has no rows left."""
    partition = dataset_dir / f"work_date={work_date.isoformat()}"
    if partition.exists():
        for old in partition.iterdir():
            old.unlink()
        partition.rmdir()


def write_snapshot(
    rows: Iterable[Mapping[str, Any]],
    dataset_dir: Path,
    schema: pa.Schema,
    file_name: str = "part-00000.parquet",
) -> None:
    """Write an unpartitioned full snapshot (``raw/employees/`` and the like)."""
    materialised = list(rows)
    dataset_dir.mkdir(parents=True, exist_ok=True)
    for old in dataset_dir.glob("*.parquet"):
        old.unlink()
    columns = {name: [row.get(name) for row in materialised] for name in schema.names}
    pq.write_table(pa.table(columns, schema=schema), dataset_dir / file_name)


def write_entry_versions(
    rows: Iterable[Mapping[str, Any]], lake_root: Path, file_name: str = "v-test.parquet"
) -> None:
    """Add hand-built versions to ``history/timesheet_entry_versions/work_date=D/``.

    Each row carries ``work_date`` (the folder) and any of the history's columns (the rest
    null), so a test states only what a scenario is about. The schema is the history asset's
    own (`versions.version_schema`), so the fixture cannot drift from what it writes."""
    from tsfraud_assets.defs.history.versions import version_schema

    schema = version_schema()
    by_date: dict[date, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_date[row["work_date"]].append(row)
    for work_date, date_rows in sorted(by_date.items()):
        partition = lake_root / "history" / "timesheet_entry_versions"
        partition = partition / f"work_date={work_date.isoformat()}"
        partition.mkdir(parents=True, exist_ok=True)
        columns = {name: [row.get(name) for row in date_rows] for name in schema.names}
        pq.write_table(pa.table(columns, schema=schema), partition / file_name)
