"""Data-quality checks that guard the asset graph."""

from collections.abc import Iterator

import dagster as dg

from tsfraud_assets.defs.check_results import DayResult, per_partition_evaluations
from tsfraud_assets.defs.partitions import partition_days
from tsfraud_assets.defs.raw.ingest import Reconciliation, reconcile_day
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
        yield from per_partition_evaluations(context, [_day_result(r) for r in results])

    return raw_entries_reconcile


def _day_result(r: Reconciliation) -> DayResult:
    lake_hours = r.lake_hours + r.quarantined_hours
    return DayResult(
        partition=r.day.isoformat(),
        passed=r.ok,
        metadata={
            "source_rows": r.source_rows,
            "lake_rows": r.lake_rows,
            "quarantined_rows": r.quarantined_rows,
            "source_hours": float(r.source_hours),
            "lake_hours": float(lake_hours),
        },
        description=(
            f"{r.source_rows:,} rows and {float(r.source_hours):,.2f} h in the source = "
            f"{r.lake_rows:,} in the lake + {r.quarantined_rows:,} quarantined"
            if r.ok
            else f"MISMATCH: source {r.source_rows:,} rows / {float(r.source_hours):,.2f} h, "
            f"lake {r.lake_rows:,} + {r.quarantined_rows:,} quarantined rows / "
            f"{float(lake_hours):,.2f} h"
        ),
    )
