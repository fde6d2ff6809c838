"""The one Definitions object: every asset layer, check, sensor and the deployment's resources."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import dagster as dg

from tsfraud_assets.assets.dbt import dbt_feature_models, dbt_reference_models, dbt_report_models
from tsfraud_assets.assets.evaluation import model_evaluation
from tsfraud_assets.assets.model import fraud_model
from tsfraud_assets.assets.processed import processed_timesheet_entries
from tsfraud_assets.assets.raw import raw_daily_tables, raw_reference_tables
from tsfraud_assets.assets.report import investigator_report
from tsfraud_assets.assets.suspects import timesheet_scores
from tsfraud_assets.automation import automation_schedules, fraud_model_job
from tsfraud_assets.checks import raw_entries_reconcile
from tsfraud_assets.deployment import resources_for
from tsfraud_assets.freshness import with_freshness
from tsfraud_assets.reviews.sensor import verdict_labels_job, verdict_sensor
from tsfraud_assets.sensors import daily_timesheet_job, reference_tables_job, timesheet_batch_sensor
from tsfraud_assets.settings import Settings, load_settings

if TYPE_CHECKING:
    from dagster._core.definitions.assets.graph.asset_graph import AssetGraph

ASSETS = [
    raw_reference_tables,
    raw_daily_tables,
    processed_timesheet_entries,
    dbt_reference_models,
    dbt_feature_models,
    fraud_model,
    timesheet_scores,
    dbt_report_models,
    investigator_report,
    model_evaluation,
]
CHECKS = [raw_entries_reconcile]


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """The deployment's Definitions; tests pass their own settings (a temporary lake, say)."""
    defs = dg.Definitions(
        assets=ASSETS,
        asset_checks=CHECKS,
        jobs=[daily_timesheet_job, reference_tables_job, fraud_model_job, verdict_labels_job],
        schedules=automation_schedules(),
        sensors=[timesheet_batch_sensor, verdict_sensor],
        resources=resources_for(settings or load_settings()),
    )
    # Freshness policies, the partition freshness checks and their sensor, over the whole graph.
    return with_freshness(defs)


defs = build_definitions()


@cache
def asset_graph() -> AssetGraph:
    """The whole asset graph. Code running inside a run needs this one: the run's own job
    knows only the assets it selected and their direct parents."""
    return defs.resolve_asset_graph()
