"""Daily partitions on work_date: one partition is one calendar day of timesheets."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from tsfraud_assets.settings import load_settings

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=load_settings().partition_start, timezone="UTC"
)

# Spark and dbt pay a fixed start-up cost (a JVM, a dbt parse) per run: a backfill of any
# range runs as one run that handles the whole range.
single_run = dg.BackfillPolicy.single_run()


def partition_days(
    context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
) -> list[dt.date]:
    """Every work date the run covers, for one partition or a single-run backfill range."""
    window = context.partition_time_window
    days = []
    day = window.start.date()
    while day < window.end.date():
        days.append(day)
        day += dt.timedelta(days=1)
    return days
