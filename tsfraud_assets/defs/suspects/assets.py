"""Suspect-list layer: every employee-day scored, the top of each day flagged with reasons."""

import dagster as dg

from tsfraud_assets.defs.partitions import partition_days, single_run
from tsfraud_assets.defs.suspects.scoring import SCORES_DATASET, score_and_store
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.warehouse import Warehouse


def build_timesheet_scores(
    partitions: dg.PartitionsDefinition, alert_budget: float
) -> dg.AssetsDefinition:
    """The daily scores over `partitions`; `alert_budget` (the settings') caps each day's list."""

    @dg.asset(
        key="timesheet_scores",
        deps=["employee_day_features", "fraud_model"],
        partitions_def=partitions,
        backfill_policy=single_run,
        group_name="suspects",
        kinds={"scikitlearn", "parquet"},
        description="Every employee-day with entries, scored by the promoted model and ranked; "
        "the top of each day (the alert budget) is flagged as suspect with its reasons.",
    )
    def timesheet_scores(
        context: dg.AssetExecutionContext, warehouse: Warehouse, lake: Lake
    ) -> dg.MaterializeResult:
        summary = score_and_store(
            warehouse, lake, partition_days(context), alert_budget=alert_budget
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": summary.rows,
                "suspects": summary.suspects,
                "model_version": summary.model_version,
                "days": len(summary.days),
                "path": dg.MetadataValue.path(lake.uri(SCORES_DATASET)),
                "top_suspects": dg.MetadataValue.md(summary.top_markdown),
                **warehouse.stats_metadata(),
            }
        )

    return timesheet_scores
