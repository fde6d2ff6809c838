"""The one Definitions: every asset layer, check, job, schedule and sensor, and the resources
of the deployment the settings name.

Nothing is read at import time. `build_definitions(settings)` makes every setting-dependent
piece (the daily partitions from `partition_start`, the alert budget, the time zone of the
schedules and freshness deadlines, the ground truth, the resources) from the `Settings` it is
given, so two deployments can be built side by side in one process. Dagster loads `defs`, which
reads the environment once, when the code location loads.
"""

from __future__ import annotations

import dagster as dg

from tsfraud_assets.defs.automation.freshness import with_freshness
from tsfraud_assets.defs.automation.range_jobs import build_range_jobs
from tsfraud_assets.defs.automation.schedules import automation_schedules, fraud_model_job
from tsfraud_assets.defs.automation.sensors import (
    build_daily_timesheet_job,
    build_timesheet_batch_sensor,
    reference_tables_job,
)
from tsfraud_assets.defs.automation.sweep import build_completeness_sweep_schedule
from tsfraud_assets.defs.automation.verdict_sensor import verdict_labels_job, verdict_sensor
from tsfraud_assets.defs.dbt.assets import build_windowed_dbt_assets, dbt_reference_models
from tsfraud_assets.defs.evaluation.assets import build_model_evaluation
from tsfraud_assets.defs.history.assets import build_timesheet_entry_history
from tsfraud_assets.defs.known_warnings import known_warnings_silenced
from tsfraud_assets.defs.model.assets import fraud_model
from tsfraud_assets.defs.partitions import daily_partitions
from tsfraud_assets.defs.processed.assets import build_processed_timesheet_entries
from tsfraud_assets.defs.raw.assets import build_raw_daily_tables, raw_reference_tables
from tsfraud_assets.defs.raw.checks import build_raw_entries_reconcile
from tsfraud_assets.defs.reports.assets import build_investigator_report
from tsfraud_assets.defs.resources import resources_for
from tsfraud_assets.defs.suspects.assets import build_timesheet_scores
from tsfraud_assets.settings import Settings, load_settings


def build_definitions(settings: Settings) -> dg.Definitions:
    """The deployment's Definitions; tests pass their own settings (a temporary lake, say)."""
    with known_warnings_silenced():
        return _build_definitions(settings)


def _build_definitions(settings: Settings) -> dg.Definitions:
    partitions = daily_partitions(settings.partition_start, settings.partition_end)
    daily_job = build_daily_timesheet_job(partitions)
    built: list[dg.Definitions] = []  # the report reads the finished graph when it runs
    defs = dg.Definitions(
        assets=[
            raw_reference_tables,
            build_raw_daily_tables(partitions),
            build_timesheet_entry_history(partitions),
            build_processed_timesheet_entries(partitions),
            dbt_reference_models,
            *build_windowed_dbt_assets(partitions),
            fraud_model,
            build_timesheet_scores(partitions, settings.alert_budget),
            build_investigator_report(partitions, lambda: built[0].resolve_asset_graph()),
            build_model_evaluation(settings.ground_truth_location),
        ],
        asset_checks=[build_raw_entries_reconcile(partitions)],
        jobs=[
            daily_job,
            reference_tables_job,
            fraud_model_job,
            verdict_labels_job,
            *build_range_jobs(partitions),
        ],
        schedules=[
            *automation_schedules(settings.timezone, daily_job, partitions),
            build_completeness_sweep_schedule(
                settings.timezone, daily_job, partitions, settings.sweep_days
            ),
        ],
        sensors=[build_timesheet_batch_sensor(daily_job, partitions), verdict_sensor],
        resources=resources_for(settings),
    )
    # Freshness policies, the partition freshness checks and their sensor, over the whole graph.
    built.append(with_freshness(defs, settings.timezone))
    return built[0]


@dg.definitions
def defs() -> dg.Definitions:
    """What `dagster dev -w workspace.yaml` and the daemon load: the environment's settings."""
    return build_definitions(load_settings())
