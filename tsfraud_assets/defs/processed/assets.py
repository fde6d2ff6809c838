"""Processed layer: the Spark job's enriched, de-duplicated timesheet lines."""

import dagster as dg

from tsfraud_assets.defs.partitions import partition_days, single_run
from tsfraud_assets.defs.raw.assets import DAILY_KEYS
from tsfraud_assets.lib import lake_layout
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.spark import SparkProcessing

PROCESSED_DATASET = lake_layout.PROCESSED_ENTRIES


def build_processed_timesheet_entries(
    partitions: dg.PartitionsDefinition,
) -> dg.AssetsDefinition:
    """The Spark-processed lines over `partitions`."""

    @dg.asset(
        key="processed_timesheet_entries",
        deps=[
            *DAILY_KEYS,
            *(
                dg.AssetKey(f"raw_{t}")
                for t in (
                    "employees",
                    "projects",
                    "project_assignments",
                    "leave_records",
                    "public_holidays",
                )
            ),
        ],
        partitions_def=partitions,
        backfill_policy=single_run,
        group_name="processed",
        kinds={"spark", "parquet"},
        description="One row per timesheet line (latest version), joined to employee, project, "
        "assignment, leave, holiday and workstation data, with the flags the features need.",
    )
    def processed_timesheet_entries(
        context: dg.AssetExecutionContext, spark: SparkProcessing, lake: Lake
    ) -> dg.MaterializeResult:
        days = partition_days(context)
        metrics = spark.process(context, lake.uri(), days[0], days[-1])
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": int(metrics.get("rows_written", 0)),
                "days_written": int(metrics.get("days_written", len(days))),
                "path": dg.MetadataValue.path(lake.uri(PROCESSED_DATASET)),
                "spark_metrics": dg.MetadataValue.json(metrics),
            }
        )

    return processed_timesheet_entries
