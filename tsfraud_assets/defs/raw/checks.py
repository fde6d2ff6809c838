"""Data-quality checks that guard the asset graph."""

from collections.abc import Iterator

import dagster as dg

from tsfraud_assets.defs.check_results import DayResult, per_partition_evaluations
from tsfraud_assets.defs.partitions import partition_days
from tsfraud_assets.defs.raw.ingest import (
    Reconciliation,
    UndatedReconciliation,
    reconcile_day,
    reconcile_undated,
)
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase


def build_raw_entries_reconcile(partitions: dg.PartitionsDefinition) -> dg.AssetChecksDefinition:
    """The blocking per-day reconciliation of `raw_timesheet_entries` over `partitions`."""

    @dg.asset_check(  # type: ignore[arg-type]  # yields per-day evaluations (check_results.py)
        asset="raw_timesheet_entries",
        name="reconciles_with_source",
        blocking=True,
        partitions_def=partitions,
        description="Sqoop-style validation: per work date, rows and hours in the lake (plus "
        "quarantine) equal the source's. A mismatch blocks everything downstream.",
    )
    def raw_entries_reconcile(
        context: dg.AssetCheckExecutionContext, source: SourceDatabase, lake: Lake
    ) -> Iterator[dg.AssetCheckEvaluation | dg.Output[None]]:
        # One result per work date, so the Partitions tab shows each day's outcome and figures.
        results = [reconcile_day(source, lake, day) for day in partition_days(context)]
        # Rows with no valid work_date belong to no day; they are counted once, against their
        # own quarantine, and every day of the run says so (a mismatch there fails them all).
        undated = reconcile_undated(source, lake)
        yield from per_partition_evaluations(context, [_day_result(r, undated) for r in results])

    return raw_entries_reconcile


def _day_result(r: Reconciliation, undated: UndatedReconciliation) -> DayResult:
    lake_hours = r.lake_hours + r.quarantined_hours
    description = (
        f"{r.source_rows:,} rows and {float(r.source_hours):,.2f} h in the source = "
        f"{r.lake_rows:,} in the lake + {r.quarantined_rows:,} quarantined"
        if r.ok
        else f"MISMATCH: source {r.source_rows:,} rows / {float(r.source_hours):,.2f} h, "
        f"lake {r.lake_rows:,} + {r.quarantined_rows:,} quarantined rows / "
        f"{float(lake_hours):,.2f} h"
    )
    if undated.source_rows or not undated.ok:
        description = f"{description}; {undated.message}"
    return DayResult(
        partition=r.day.isoformat(),
        passed=r.ok and undated.ok,
        metadata={
            "source_rows": r.source_rows,
            "lake_rows": r.lake_rows,
            "quarantined_rows": r.quarantined_rows,
            "source_hours": float(r.source_hours),
            "lake_hours": float(lake_hours),
            "undated_source_rows": undated.source_rows,
            "undated_quarantined_rows": undated.quarantined_rows,
            **({"problem": r.problem} if r.problem else {}),
        },
        description=description,
    )
