"""Suspect-list layer: every employee-day scored, the top of each day flagged with reasons."""

import dagster as dg

from tsfraud_assets.defs.partitions import partition_days, single_run
from tsfraud_assets.defs.suspects.scoring import SCORES_DATASET, score_and_store
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.notifier import Notifier, NotifierError
from tsfraud_assets.resources.warehouse import Warehouse
from tsfraud_assets.reviews.notify import (
    employee_codes,
    list_changes,
    notify_changes,
    suspects_by_day,
)


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
        context: dg.AssetExecutionContext, warehouse: Warehouse, lake: Lake, notifier: Notifier
    ) -> dg.MaterializeResult:
        days = partition_days(context)
        before = suspects_by_day(lake, SCORES_DATASET, days)
        summary = score_and_store(warehouse, lake, days, alert_budget=alert_budget)
        # A late edit that adds or clears a suspect on a list that already existed is pushed.
        changes = list_changes(before, suspects_by_day(lake, SCORES_DATASET, days))
        failed = ""
        try:
            sent = notify_changes(notifier, changes, employee_codes(warehouse, changes))
        except NotifierError as exc:  # the scores are written; say loudly what was not sent
            sent, failed = 0, str(exc)
            context.log.error(f"{len(changes)} list change(s) not notified: {exc}")
        return dg.MaterializeResult(
            metadata={
                "late_list_changes": len(changes),
                "notifications_sent": sent,
                **({"notification_error": failed} if failed else {}),
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
