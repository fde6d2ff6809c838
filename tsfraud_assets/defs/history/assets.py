"""The entry history asset: after each raw extract, the versions it revealed (versions.py)."""

import datetime as dt

import dagster as dg

from tsfraud_assets.defs.history.versions import record_day
from tsfraud_assets.defs.partitions import partition_days, single_run
from tsfraud_assets.lib.lake_layout import ENTRY_VERSIONS
from tsfraud_assets.resources.lake import Lake

HISTORY_GROUP = "history"


def build_timesheet_entry_history(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """`timesheet_entry_history` over the raw layer's partitions; in the daily job because it
    is downstream of `raw_timesheet_entries`, so every extract, sensor-driven or swept, is
    compared right after it lands."""

    @dg.asset(
        name="timesheet_entry_history",
        deps=[dg.AssetKey("raw_timesheet_entries")],
        partitions_def=partitions,
        backfill_policy=single_run,
        group_name=HISTORY_GROUP,
        kinds={"parquet"},
        description="Append-only: one version row per inserted, updated or deleted timesheet "
        "entry, per extract that saw the change (docs/audit-trail.md).",
    )
    def timesheet_entry_history(
        context: dg.AssetExecutionContext, lake: Lake
    ) -> dg.MaterializeResult:
        extracted_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        results = [record_day(lake, day, extracted_at) for day in partition_days(context)]
        for r in results:
            if r.file is None:
                context.log.info(f"{r.day}: no change, nothing appended")
            else:
                context.log.info(
                    f"{r.day}: {r.inserted} inserted, {r.updated} updated, {r.deleted} deleted "
                    f"({r.bytes / 1024:.1f} KiB appended)"
                )
        return dg.MaterializeResult(
            metadata={
                "inserted": sum(r.inserted for r in results),
                "updated": sum(r.updated for r in results),
                "deleted": sum(r.deleted for r in results),
                "quarantined_not_versioned": sum(r.quarantined for r in results),
                "days_changed": sum(1 for r in results if r.file),
                "bytes_appended": sum(r.bytes for r in results),
                "path": dg.MetadataValue.path(lake.uri(ENTRY_VERSIONS)),
            }
        )

    return timesheet_entry_history
