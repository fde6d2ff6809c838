"""Daily partitions on work_date: one partition is one calendar day of timesheets."""

from __future__ import annotations

import datetime as dt

import dagster as dg


def daily_partitions(start: str, end: str | None = None) -> dg.DailyPartitionsDefinition:
    """UTC days from `start` (the settings' `partition_start`: the first day the source holds)
    to `end` inclusive (`partition_end`, for data that stops, as the demo's does), else to the
    last complete day."""
    end_date = None
    if end is not None:
        end_date = (dt.date.fromisoformat(end) + dt.timedelta(days=1)).isoformat()  # exclusive
    return dg.DailyPartitionsDefinition(start_date=start, end_date=end_date, timezone="UTC")


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
