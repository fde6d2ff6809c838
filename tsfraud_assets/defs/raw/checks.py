"""Data-quality checks that guard the asset graph."""

import dagster as dg

from tsfraud_assets.defs.partitions import partition_days
from tsfraud_assets.defs.raw.ingest import reconcile_day, reconcile_undated
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase


def build_raw_entries_reconcile(partitions: dg.PartitionsDefinition) -> dg.AssetChecksDefinition:
    """The blocking per-day reconciliation of `raw_timesheet_entries` over `partitions`."""

    @dg.asset_check(
        asset="raw_timesheet_entries",
        name="reconciles_with_source",
        blocking=True,
        partitions_def=partitions,
        description="Sqoop-style validation: per work date, rows and hours in the lake (plus "
        "quarantine) equal the source's. A mismatch blocks everything downstream.",
    )
    def raw_entries_reconcile(
        context: dg.AssetCheckExecutionContext, source: SourceDatabase, lake: Lake
    ) -> dg.AssetCheckResult:
        days = partition_days(context)
        results = [reconcile_day(source, lake, day) for day in days]
        bad = [r for r in results if not r.ok]
        # Rows with no valid work_date belong to no day; they are counted once, against their own
        # quarantine, so a source with such rows still reconciles (and says so).
        undated = reconcile_undated(source, lake)
        return dg.AssetCheckResult(
            passed=not bad and undated.ok,
            severity=dg.AssetCheckSeverity.ERROR,
            description=undated.message if undated.source_rows or not undated.ok else None,
            metadata={
                "undated_source_rows": undated.source_rows,
                "undated_quarantined_rows": undated.quarantined_rows,
                "days_checked": len(results),
                "source_rows": sum(r.source_rows for r in results),
                "lake_rows": sum(r.lake_rows for r in results),
                "quarantined_rows": sum(r.quarantined_rows for r in results),
                "mismatched_days": dg.MetadataValue.json(
                    [
                        {
                            "work_date": r.day.isoformat(),
                            "source_rows": r.source_rows,
                            "lake_rows": r.lake_rows,
                            "quarantined_rows": r.quarantined_rows,
                            "source_hours": str(r.source_hours),
                            "lake_hours": str(r.lake_hours + r.quarantined_hours),
                            **({"problem": r.problem} if r.problem else {}),
                        }
                        for r in bad
                    ]
                ),
            },
        )

    return raw_entries_reconcile
