"""Data-quality checks that guard the asset graph."""

import dagster as dg

from tsfraud_assets.defs.partitions import partition_days
from tsfraud_assets.defs.raw.ingest import reconcile_day
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
        return dg.AssetCheckResult(
            passed=not bad,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
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
                        }
                        for r in bad
                    ]
                ),
            },
        )

    return raw_entries_reconcile
