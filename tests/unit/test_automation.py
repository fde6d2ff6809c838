"""The schedules tick when the module docstring says, request the right partition and assets,
and every partitioned asset backfills a range in one run, judged by Dagster's own backfill
planner over the project's real asset graph."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from collections.abc import Iterator

import dagster as dg
import pytest
from dagster._core.definitions.automation_tick_evaluation_context import (
    build_run_requests_with_backfill_policies,
)
from dagster._core.definitions.events import AssetKeyPartitionKey
from dagster._utils.schedules import schedule_execution_time_iterator

from tsfraud_assets.definitions import build_definitions
from tsfraud_assets.defs.automation.freshness import WORK_DAY_DEADLINE_CRON
from tsfraud_assets.defs.automation.schedules import (
    DAILY_CLOSE_SCHEDULE_NAME,
    PIPELINE_TAG,
    RETRAIN_SCHEDULE_NAME,
    automation_schedules,
    daily_close_request,
)
from tsfraud_assets.defs.automation.sensors import build_daily_timesheet_job
from tsfraud_assets.defs.dbt.assets import REFERENCE_MODELS
from tsfraud_assets.defs.partitions import daily_partitions as daily_partitions_from
from tsfraud_assets.defs.raw.assets import REFERENCE_KEYS
from tsfraud_assets.settings import DEFAULT_PARTITION_START, load_settings

daily_partitions = daily_partitions_from(DEFAULT_PARTITION_START)


def _schedules(timezone: str) -> list[dg.ScheduleDefinition]:
    return automation_schedules(
        timezone, build_daily_timesheet_job(daily_partitions), daily_partitions
    )


LONDON = "Europe/London"
TUESDAY = dt.date(2026, 3, 10)
BACKFILL_DAYS = 90


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    # Loading the real graph parses the dbt manifest and imports Spark: do it once.
    return build_definitions(load_settings())


@pytest.fixture(scope="module")
def repo(defs: dg.Definitions) -> dg.RepositoryDefinition:
    return defs.get_repository_def()


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        yield inst


def _at(day: dt.date, hour: int, minute: int, tz: str = LONDON) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zoneinfo.ZoneInfo(tz))


def _ticks(schedule: dg.ScheduleDefinition, after: dt.datetime, n: int) -> list[dt.datetime]:
    """The next `n` tick times as the scheduler daemon computes them."""
    it = schedule_execution_time_iterator(
        after.timestamp(), schedule.cron_schedule, schedule.execution_timezone
    )
    return list(itertools.islice(it, n))


def _tick(
    schedule: dg.ScheduleDefinition, repo: dg.RepositoryDefinition, at: dt.datetime
) -> list[dg.RunRequest]:
    ctx = dg.build_schedule_context(scheduled_execution_time=at, repository_def=repo)
    data = schedule.evaluate_tick(ctx)
    return list(data.run_requests or [])


def test_schedules_are_declared_on_in_the_local_time_zone(defs: dg.Definitions) -> None:
    retrain = defs.get_schedule_def(RETRAIN_SCHEDULE_NAME)
    close = defs.get_schedule_def(DAILY_CLOSE_SCHEDULE_NAME)
    for schedule in (retrain, close):
        assert schedule.execution_timezone == LONDON
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert retrain.job_name == "fraud_model_job"
    assert close.job_name == "daily_timesheet_job"


def test_time_zone_follows_the_environment() -> None:
    settings = load_settings({"TSFRAUD_TIMEZONE": "America/New_York"})
    assert {s.execution_timezone for s in _schedules(settings.timezone)} == {"America/New_York"}
    with pytest.raises(ValueError, match="TSFRAUD_TIMEZONE"):
        load_settings({"TSFRAUD_TIMEZONE": "Mars/Olympus_Mons"})


def test_retraining_ticks_monday_05_00_london_across_the_clock_change(
    defs: dg.Definitions,
) -> None:
    retrain = defs.get_schedule_def(RETRAIN_SCHEDULE_NAME)
    # British Summer Time starts on Sunday 2026-03-29: the tick stays at 05:00 local.
    ticks = _ticks(retrain, _at(dt.date(2026, 3, 18), 12, 0), 3)
    assert [t.astimezone(zoneinfo.ZoneInfo(LONDON)).replace(tzinfo=None) for t in ticks] == [
        dt.datetime(2026, 3, 23, 5, 0),
        dt.datetime(2026, 3, 30, 5, 0),
        dt.datetime(2026, 4, 6, 5, 0),
    ]
    assert [t.astimezone(dt.UTC).hour for t in ticks] == [5, 4, 4]


def test_retraining_requests_the_model_and_its_promotion_check_only(
    defs: dg.Definitions, repo: dg.RepositoryDefinition
) -> None:
    retrain = defs.get_schedule_def(RETRAIN_SCHEDULE_NAME)
    (request,) = _tick(retrain, repo, _at(dt.date(2026, 3, 9), 5, 0))
    assert request.partition_key is None
    job = defs.resolve_job_def("fraud_model_job")
    assert job.asset_layer.executable_asset_keys == {dg.AssetKey("fraud_model")}
    checks = job.asset_layer.asset_graph.asset_check_keys
    assert dg.AssetCheckKey(dg.AssetKey("fraud_model"), "promotion_beats_current_model") in checks
    assert job.tags[PIPELINE_TAG] == "model"


def test_daily_close_ticks_05_30_before_each_freshness_deadline(defs: dg.Definitions) -> None:
    close = defs.get_schedule_def(DAILY_CLOSE_SCHEDULE_NAME)
    friday_noon = _at(dt.date(2026, 3, 13), 12, 0)
    local = [t.astimezone(zoneinfo.ZoneInfo(LONDON)) for t in _ticks(close, friday_noon, 5)]
    # Saturday, then no Sunday or Monday tick (no work day before them), Tuesday onwards
    assert [t.strftime("%a %H:%M") for t in local] == [
        "Sat 05:30",
        "Tue 05:30",
        "Wed 05:30",
        "Thu 05:30",
        "Fri 05:30",
    ]
    # the same days as the 07:00 deadline whose partition it produces
    assert isinstance(close.cron_schedule, str)
    assert close.cron_schedule.split()[2:] == WORK_DAY_DEADLINE_CRON.split()[2:]


@pytest.mark.parametrize(
    ("scheduled", "expected"),
    [
        (_at(TUESDAY, 5, 30), "2026-03-09"),  # Monday's list, GMT
        (_at(dt.date(2026, 3, 14), 5, 30), "2026-03-13"),  # Saturday: Friday's
        (_at(dt.date(2026, 3, 31), 5, 30), "2026-03-30"),  # BST: 04:30 UTC, still the local day
        (_at(TUESDAY, 5, 30, "America/New_York"), "2026-03-09"),
        (_at(TUESDAY, 5, 30, "Asia/Kolkata"), "2026-03-09"),  # 00:00 UTC: Monday just ended
    ],
)
def test_daily_close_requests_the_previous_day_through_the_daily_chain(
    defs: dg.Definitions, repo: dg.RepositoryDefinition, scheduled: dt.datetime, expected: str
) -> None:
    tz = str(scheduled.tzinfo)
    close = next(s for s in _schedules(tz) if s.name == DAILY_CLOSE_SCHEDULE_NAME)
    (request,) = _tick(close, repo, scheduled)
    assert request.partition_key == expected
    assert request.tags["dagster/partition"] == expected
    assert request.tags[PIPELINE_TAG] == "daily"
    assert request.run_key == f"{DAILY_CLOSE_SCHEDULE_NAME}-{expected}"


def test_daily_close_selects_ingest_to_reports_but_not_the_model(defs: dg.Definitions) -> None:
    job = defs.resolve_job_def("daily_timesheet_job")
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert {
        "raw_timesheet_entries",
        "raw_workstation_activity",
        "processed_timesheet_entries",
        "employee_day_features",
        "timesheet_scores",
        "suspect_timesheets",
        "investigator_report",
    } <= keys
    assert "fraud_model" not in keys
    # the reference snapshots the days join are refreshed in the same run (one run per batch:
    # a second run's start cost more than the copy), once per run, not per day
    assert {k.to_user_string() for k in REFERENCE_KEYS} <= keys
    assert not any(job.asset_layer.get(k).is_partitioned for k in REFERENCE_KEYS)


def test_the_entries_job_is_the_daily_chain_without_the_reference(defs: dg.Definitions) -> None:
    """What the batch sensor runs when no reference table changed (sensors.py)."""
    daily = defs.resolve_job_def("daily_timesheet_job")
    entries = defs.resolve_job_def("daily_entries_job")

    def keys(job: dg.JobDefinition) -> set[str]:
        return {k.to_user_string() for k in job.asset_layer.executable_asset_keys}

    reference = {k.to_user_string() for k in REFERENCE_KEYS} | set(REFERENCE_MODELS.split())
    assert keys(daily) - keys(entries) == reference
    assert keys(entries) < keys(daily)
    assert {"raw_timesheet_entries", "timesheet_scores", "investigator_report"} <= keys(entries)
    assert entries.partitions_def == daily.partitions_def
    assert entries.tags[PIPELINE_TAG] == "daily"  # the same one-range-at-a-time queue limit
    assert entries.executor_def.name == "in_process"


def test_daily_close_skips_days_that_are_not_complete_partitions() -> None:
    # UTC+9: at 05:30 local on Tuesday, Monday still has 3.5 hours to go in UTC
    tokyo = daily_close_request(_at(TUESDAY, 5, 30, "Asia/Tokyo"), "Asia/Tokyo", daily_partitions)
    assert isinstance(tokyo, dg.SkipReason)
    assert "2026-03-09 has not ended in UTC" in (tokyo.skip_message or "")
    first = dt.date.fromisoformat(daily_partitions.get_first_partition_key() or "")
    early = daily_close_request(_at(first, 5, 30), LONDON, daily_partitions)
    assert isinstance(early, dg.SkipReason)
    assert "before the first partition" in (early.skip_message or "")


def test_every_partitioned_asset_backfills_a_range_in_a_single_run(
    defs: dg.Definitions, instance: dg.DagsterInstance
) -> None:
    graph = defs.resolve_asset_graph()
    partitioned = {
        key for key in graph.materializable_asset_keys if graph.get(key).partitions_def is not None
    }
    # the whole daily chain is here, so an empty set cannot pass vacuously
    assert {
        dg.AssetKey("raw_timesheet_entries"),
        dg.AssetKey("processed_timesheet_entries"),
        dg.AssetKey("employee_day_features"),
        dg.AssetKey("timesheet_scores"),
        dg.AssetKey("suspect_timesheets"),
        dg.AssetKey("investigator_report"),
    } <= partitioned
    without = sorted(
        k.to_user_string()
        for k in partitioned
        if graph.get(k).backfill_policy != dg.BackfillPolicy.single_run()
    )
    assert not without, f"partitioned assets without a single-run backfill policy: {without}"

    # what the backfill daemon would launch for 90 days of everything partitioned
    first = dt.date(2026, 1, 1)
    days = [(first + dt.timedelta(days=i)).isoformat() for i in range(BACKFILL_DAYS)]
    with dg.partition_loading_context(effective_dt=dt.datetime(2026, 6, 1, tzinfo=dt.UTC)):
        requests = build_run_requests_with_backfill_policies(
            [AssetKeyPartitionKey(k, d) for k in partitioned for d in days], graph, instance
        )
    assert len(requests) == 1, [r.tags for r in requests]
    (request,) = requests
    assert request.tags["dagster/asset_partition_range_start"] == days[0]
    assert request.tags["dagster/asset_partition_range_end"] == days[-1]
    assert set(request.asset_selection or []) == partitioned
