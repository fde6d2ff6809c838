"""The sensor that reacts to new timesheet batches in the source database.

Its cursor is the source's `updated_at` high-water mark. Each tick asks the source which work
dates have rows changed since then (today's new entries, late submissions, corrections) and
requests one run over the union of those dates (ranges up to the features' look-back apart
joined: one run per batch unless a correction lies months back) through the whole daily chain,
so late edits re-flow to the suspect list. The reference snapshots and their dbt models are in
that run only when a reference table changed (`daily_timesheet_job`); otherwise the run is
`daily_entries_job`, the same chain without them (their refresh is 6-19 s of a run, by load,
benchmarks/RESULTS-timeliness.md). The run holding the newest day goes first in the queue.
A restart resumes from the stored cursor; an unchanged source yields nothing.

Why one run: measured through the real daemon (benchmarks/timeliness.py), a run's fixed cost
(queue, process start and code load, a Spark JVM) dwarfs re-processing a few unchanged days,
and the queue runs one run at a time, so every extra run delayed the new day's suspect list.
"""

import datetime as dt
import json
from collections.abc import Iterator

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from tsfraud_assets.defs.automation.handoff import sensor_since
from tsfraud_assets.defs.dbt.assets import REFERENCE_MODELS
from tsfraud_assets.defs.raw.assets import REFERENCE_KEYS
from tsfraud_assets.defs.raw.moves import stale_days
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase

DAILY_JOB_NAME = "daily_timesheet_job"
ENTRIES_JOB_NAME = "daily_entries_job"


REFERENCE_SELECTION = dg.AssetSelection.assets(*REFERENCE_KEYS) | dg.AssetSelection.assets(
    *REFERENCE_MODELS.split()
)


def build_daily_timesheet_job(
    partitions: dg.PartitionsDefinition,
) -> UnresolvedAssetJobDefinition:
    """Everything that is partitioned by work date, from ingest to the reports, after a refresh
    of the reference snapshots it joins (unpartitioned, once per run); the model retrains on
    its own cadence, not per batch.

    In one process (the in-process executor): the default starts a Python process per step,
    each importing Dagster, PySpark and the definitions again, seconds per step on every batch;
    the steps run one after another anyway (one Spark session, one DuckDB writer)."""
    return dg.define_asset_job(
        DAILY_JOB_NAME,
        selection=dg.AssetSelection.assets("raw_timesheet_entries", "raw_workstation_activity")
        .downstream()
        .required_multi_asset_neighbors()
        - dg.AssetSelection.assets("fraud_model", "model_evaluation")
        | REFERENCE_SELECTION,
        partitions_def=partitions,
        tags={"tsfraud/pipeline": "daily"},  # the production queue runs one daily range at a time
        executor_def=dg.in_process_executor,
        description=(
            "Reference refresh, then ingest → Spark → features → scores → reports for a range "
            "of work dates."
        ),
    )


def build_daily_entries_job(
    daily_job: UnresolvedAssetJobDefinition,
) -> UnresolvedAssetJobDefinition:
    """`daily_job` without the reference snapshots and their dbt models: what the sensor runs
    when a batch changed timesheet rows but no reference table, so it does not rebuild
    unchanged reference data (6-19 s a run by load, measured). A job of its own, not a per-request
    asset subset: a subset makes the daemon ask the code server for a new job snapshot at
    every tick that requests it, and a named job reads plainly in the runs list."""
    return dg.define_asset_job(
        ENTRIES_JOB_NAME,
        selection=daily_job.selection - REFERENCE_SELECTION,
        partitions_def=daily_job.partitions_def,
        tags=daily_job.tags,  # the same queue limit: one daily range at a time
        executor_def=daily_job.executor_def,
        description=(
            "Ingest → Spark → features → scores → reports for a range of work dates, the "
            "reference snapshots left as they are (no reference table changed)."
        ),
    )


reference_tables_job = dg.define_asset_job(
    "reference_tables_job",
    selection=REFERENCE_SELECTION,
    tags={"tsfraud/pipeline": "reference"},
    executor_def=dg.in_process_executor,
    description="Refresh the reference snapshots and the models built on them.",
)


def contiguous_ranges(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    ranges: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if ranges and day == ranges[-1][1] + dt.timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


MERGE_GAP_DAYS = 63
"""Ranges of changed days at most this many unchanged days apart run as one range.

A run's fixed cost (the queue, a process start and code load, a Spark JVM) is far more than
re-processing a few unchanged days, and runs queue one at a time. 63 days is the features'
look-back (stg_timesheet_entries reads 63 days before the window: the baselines use 28, and
the padding habit counts days in the 28 before whose own baselines reach 28 further): a
changed day closer than that to a later range feeds that range's features, so it must be
processed with it, not after it. Ranges farther apart are independent, so their runs may go
in any order, and the newest goes first (`batch_run_requests`)."""


def merge_near(
    ranges: list[tuple[dt.date, dt.date]], max_gap_days: int = MERGE_GAP_DAYS
) -> list[tuple[dt.date, dt.date]]:
    """Sorted, non-overlapping `ranges` with gaps of at most `max_gap_days` joined."""
    merged: list[tuple[dt.date, dt.date]] = []
    for start, end in ranges:
        if merged and (start - merged[-1][1]).days - 1 <= max_gap_days:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def range_tags(start: dt.date, end: dt.date) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": start.isoformat(),
        "dagster/asset_partition_range_end": end.isoformat(),
    }


def build_timesheet_batch_sensor(
    daily_job: UnresolvedAssetJobDefinition, partitions: dg.TimeWindowPartitionsDefinition
) -> dg.SensorDefinition:
    """The batch sensor over `partitions`, requesting `daily_job` (reference refresh inside),
    the same without the reference (`build_daily_entries_job`) or the reference refresh alone."""

    @dg.sensor(
        name="timesheet_batch_sensor",
        jobs=[daily_job, build_daily_entries_job(daily_job), reference_tables_job],
        # Half a minute between looks at the source (one indexed max/distinct query): the
        # wait before a batch is seen is half of this on average, part of its time to the list.
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Requests runs for exactly the work dates whose timesheet rows changed.",
    )
    def timesheet_batch_sensor(
        context: dg.SensorEvaluationContext, source: SourceDatabase, lake: Lake
    ) -> Iterator[dg.RunRequest | dg.SkipReason]:
        # The later of its own cursor and the mark `tsfraud run`/the demo ingested (handoff.py).
        since = sensor_since(context.cursor, _instance_or_none(context))
        mark, days, tables = source.changes_since(since)
        if since is not None and days:
            # An entry moved to a changed day left its old day holding a copy: rebuild that
            # too. (Skipped on the first tick: that one requests every day anyway.)
            moved_from = stale_days(source, lake, days)
            if moved_from:
                context.log.info(f"entries moved away from {', '.join(map(str, moved_from))}")
                days = sorted({*days, *moved_from})
        requests = batch_run_requests(days, tables, mark, partitions)
        if not requests:
            yield dg.SkipReason(f"no timesheet changes since {since}")
        yield from requests
        if mark is not None:
            context.update_cursor(json.dumps({"high_water_mark": mark.isoformat()}))

    return timesheet_batch_sensor


def _instance_or_none(context: dg.SensorEvaluationContext) -> dg.DagsterInstance | None:
    """The daemon always gives one; a unit test's `build_sensor_context()` may not."""
    try:
        return context.instance
    except dg.DagsterInvariantViolationError:
        return None


NEWEST_FIRST_PRIORITY = "10"
"""`dagster/priority` of the run holding a batch's newest day: the queue (one run at a time)
starts it before older work waiting there (an older range, a backfill launched from the UI).
A run already going is not interrupted."""


def batch_run_requests(
    days: list[dt.date],
    tables: list[str],
    mark: dt.datetime | None,
    partitions: dg.TimeWindowPartitionsDefinition,
) -> list[dg.RunRequest]:
    """One daily run per range of changed dates (near ranges merged), newest range first and
    ahead in the queue. When reference tables changed, the newest range's run refreshes them
    before its days (`daily_timesheet_job`); every other run leaves them as they are
    (`daily_entries_job`): the older ranges queue behind the newest, so they read the refreshed
    snapshots. Reference tables that changed with no day to run get a reference refresh of
    their own.

    Dates outside the partitions (before the start, or today's incomplete day) wait."""
    first = partitions.start.date()
    last_key = partitions.get_last_partition_key()
    last = dt.date.fromisoformat(last_key) if last_key else first - dt.timedelta(days=1)
    in_range = [d for d in days if first <= d <= last]
    changed = {"tsfraud/changed_tables": ",".join(sorted(tables))} if tables else {}
    ranges = sorted(merge_near(contiguous_ranges(in_range)), reverse=True)
    if not ranges:
        if not tables:
            return []
        return [
            dg.RunRequest(
                job_name=reference_tables_job.name, run_key=f"reference-{mark}", tags=changed
            )
        ]
    requests = []
    for i, (start, end) in enumerate(ranges):
        tags = range_tags(start, end)
        job_name = ENTRIES_JOB_NAME
        if i == 0:
            tags = {**tags, **changed, "dagster/priority": NEWEST_FIRST_PRIORITY}
            if tables:
                job_name = DAILY_JOB_NAME
        requests.append(
            dg.RunRequest(job_name=job_name, run_key=f"entries-{start}-{end}-{mark}", tags=tags)
        )
    return requests
