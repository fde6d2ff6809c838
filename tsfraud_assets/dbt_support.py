"""Glue between Python and the dbt project in ``dbt_project/``.

The dbt models read the lake layout promised in docs/data-contracts.md. Tests (and anyone
reproducing a bug by hand) need to write that layout from a few hand-built rows without
running the Spark job or the scoring asset, so the Arrow schemas of the datasets dbt reads
live here, next to the writers that honour the contract's Hive layout: partition column in
the folder name, not in the files.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from tsfraud_assets import contract
from tsfraud_assets.resources.warehouse import athena_cost_usd
from tsfraud_assets.settings import DBT_PROJECT_DIR

__all__ = ["DBT_PROJECT_DIR"]


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
        ("day_counted_hours", pa.float64()),
        ("day_entry_count", pa.int32()),
        ("is_duplicate_line", pa.bool_()),
    ]
)

#: raw/employees and raw/investigation_cases: the source tables' own columns and exact types,
#: read from the contract (the DDL), so a test lake cannot drift from what ingest writes.
RAW_EMPLOYEE_SCHEMA = contract.table("employees").arrow_schema()
RAW_INVESTIGATION_CASE_SCHEMA = contract.table("investigation_cases").arrow_schema()

#: scores/timesheet_scores, without work_date (it is the Hive partition).
TIMESHEET_SCORE_SCHEMA = pa.schema(
    [
        ("employee_id", pa.int64()),
        ("fraud_score", pa.float64()),
        ("rank", pa.int32()),
        ("is_suspect", pa.bool_()),
        ("reasons", pa.string()),
        ("model_version", pa.string()),
        ("previous_score", pa.float64()),
        ("score_changed", pa.bool_()),
        ("scored_at", pa.timestamp("us")),
    ]
)


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


def dbt_vars(min_date: date | None = None, max_date: date | None = None) -> str:
    """The ``--vars`` JSON for a run over ``[min_date, max_date]`` (all data when both None).

    The models take ISO strings; passing JSON (not YAML) keeps them strings.
    """
    if (min_date is None) != (max_date is None):
        raise ValueError("give both min_date and max_date, or neither")
    if min_date is None or max_date is None:
        return "{}"
    return json.dumps({"min_date": min_date.isoformat(), "max_date": max_date.isoformat()})


# --------------------------------------------------------------------------------------------
# What dbt's adapter reported for each model (Athena: bytes scanned), on its materialization
# --------------------------------------------------------------------------------------------


def adapter_response_metadata(response: Mapping[str, Any] | None) -> dict[str, Any]:
    """A model's adapter response (run_results.json) as the metadata the warehouse resource
    records for its own Athena queries, so the report sums both alike.

    dbt-athena reports `data_scanned_in_bytes` of the model's build statement (dbt tests and
    its housekeeping queries are not in it); other adapters report no bytes: nothing then.
    A statement that scanned nothing (a view's DDL) is free.
    """
    scanned = (response or {}).get("data_scanned_in_bytes")
    if scanned is None:
        return {}
    scanned = int(scanned)
    statement = "DML" if scanned > 0 else "DDL"
    return {
        "warehouse_queries": 1,
        "athena_bytes_scanned": scanned,
        "athena_estimated_cost_usd": round(athena_cost_usd(scanned, statement_type=statement), 6),
    }


def with_adapter_responses(
    events: Iterable[Any], run_results: Mapping[str, Any] | None
) -> Iterator[Any]:
    """The dbt invocation's Dagster events, each model's materialization carrying what the
    adapter reported for it in `run_results` (matched on the event's `unique_id`)."""
    responses = {
        result["unique_id"]: result.get("adapter_response") or {}
        for result in (run_results or {}).get("results", [])
    }
    for event in events:
        if isinstance(event, dg.Output | dg.AssetMaterialization):
            unique_id = event.metadata.get("unique_id")
            unique_id = getattr(unique_id, "value", unique_id)
            extra = adapter_response_metadata(responses.get(str(unique_id)))
            if extra:
                event = event.with_metadata({**event.metadata, **extra})
        yield event


def stream_with_adapter_responses(invocation: Any) -> Iterator[Any]:
    """`invocation.stream()` with each model's adapter response on its materialization.

    dagster-dbt leaves the adapter response out of the metadata, and dbt prints it only in a
    debug-level event; it is complete in run_results.json once dbt ends. So the events are
    held until then: they reach Dagster at the end of the dbt invocation instead of one by
    one, and all of them still do when dbt fails, before its error.
    """
    events: list[Any] = []
    try:
        events.extend(invocation.stream())
    except Exception:
        yield from with_adapter_responses(events, _run_results(invocation))
        raise
    yield from with_adapter_responses(events, _run_results(invocation))


def _run_results(invocation: Any) -> dict[str, Any] | None:
    try:
        results: dict[str, Any] = invocation.get_artifact("run_results.json")
    except FileNotFoundError:  # dbt stopped before writing it
        return None
    return results
