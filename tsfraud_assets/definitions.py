"""The one Definitions object: every asset layer, check, sensor and the deployment's resources."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import dagster as dg

from tsfraud_assets.defs.automation.freshness import with_freshness
from tsfraud_assets.defs.automation.schedules import automation_schedules, fraud_model_job
from tsfraud_assets.defs.automation.sensors import (
    daily_timesheet_job,
    reference_tables_job,
    timesheet_batch_sensor,
)
from tsfraud_assets.defs.dbt.assets import (
    dbt_feature_models,
    dbt_reference_models,
    dbt_report_models,
)
from tsfraud_assets.defs.evaluation.assets import model_evaluation
from tsfraud_assets.defs.model.assets import fraud_model
from tsfraud_assets.defs.processed.assets import processed_timesheet_entries
from tsfraud_assets.defs.raw.assets import raw_daily_tables, raw_reference_tables
from tsfraud_assets.defs.raw.checks import raw_entries_reconcile
from tsfraud_assets.defs.reports.assets import investigator_report
from tsfraud_assets.defs.resources import resources_for
from tsfraud_assets.defs.suspects.assets import timesheet_scores
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
        jobs=[daily_timesheet_job, reference_tables_job, fraud_model_job],
        schedules=automation_schedules(),
        sensors=[timesheet_batch_sensor],
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
