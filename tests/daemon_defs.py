"""The code location tests/test_daemon.py points a real `dagster-daemon` at.

It carries the real `timesheet_batch_sensor` and the real raw ingest assets and check, but the
sensor's three jobs are cut down to the raw layer: the daily chain's Spark, dbt and scoring steps
cost minutes per run on the test machines and need a trained model, while what the daemon test
proves (sensor tick → queued run → materialization, for exactly the changed dates) shows at the
first layer. The jobs keep their names because the sensor requests them by name. Runs execute
in process: one Python process per run, not one per step, each paying the import cost once.

Resources are built here rather than through `deployment.resources_for`, which imports PySpark
and would add its import time to every run.
"""

from __future__ import annotations

import dagster as dg

from tsfraud_assets.defs.automation.sensors import build_timesheet_batch_sensor
from tsfraud_assets.defs.partitions import daily_partitions as daily_partitions_from
from tsfraud_assets.defs.raw.assets import (
    DAILY_KEYS,
    REFERENCE_KEYS,
    build_raw_daily_tables,
    raw_reference_tables,
)
from tsfraud_assets.defs.raw.checks import build_raw_entries_reconcile
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase
from tsfraud_assets.settings import load_settings

_settings = load_settings()
daily_partitions = daily_partitions_from(_settings.partition_start)
daily_raw_job = dg.define_asset_job(
    "daily_timesheet_job",
    # like the real job: the reference snapshots refreshed in the same run as the days
    selection=dg.AssetSelection.assets(*DAILY_KEYS, *REFERENCE_KEYS),
    partitions_def=daily_partitions,
    executor_def=dg.in_process_executor,
)
entries_raw_job = dg.define_asset_job(
    "daily_entries_job",  # like the real one: the days without the reference snapshots
    selection=dg.AssetSelection.assets(*DAILY_KEYS),
    partitions_def=daily_partitions,
    executor_def=dg.in_process_executor,
)
reference_raw_job = dg.define_asset_job(
    "reference_tables_job",
    selection=dg.AssetSelection.assets(*REFERENCE_KEYS),
    executor_def=dg.in_process_executor,
)

defs = dg.Definitions(
    assets=[raw_reference_tables, build_raw_daily_tables(daily_partitions)],
    asset_checks=[build_raw_entries_reconcile(daily_partitions)],
    jobs=[daily_raw_job, entries_raw_job, reference_raw_job],
    sensors=[
        build_timesheet_batch_sensor(daily_raw_job, daily_partitions).with_attributes(
            jobs=[daily_raw_job, entries_raw_job, reference_raw_job]
        )
    ],
    resources={
        "source": SourceDatabase(url=_settings.source_url),
        "lake": Lake(root=_settings.lake_root),
    },
)
