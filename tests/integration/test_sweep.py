"""The completeness sweep against real SQLite and PostgreSQL sources and a real lake.

Each kind of drift the `updated_at` high-water mark cannot see is made in the source after the
ingest, and the sweep must name the day and why; an untouched lake must come out clean.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from tests.source_fixtures import (
    DAY,
    T0,
    entry,
    fill_minimal,
    insert,
    postgres_source,
    sqlite_source,
)
from tsfraud_assets.cli.main import main
from tsfraud_assets.defs.automation.sweep import (
    SWEEP_SCHEDULE_NAME,
    build_completeness_sweep_schedule,
    drifted_days,
    repair_requests,
    sweep,
)
from tsfraud_assets.defs.raw.ingest import ingest_days
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase

TODAY = dt.date(2026, 6, 1)
DAYS = [DAY - dt.timedelta(days=1), DAY, DAY + dt.timedelta(days=1)]
NEXT = DAY + dt.timedelta(days=1)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def source_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    ctx = sqlite_source(tmp_path) if request.param == "sqlite" else postgres_source()
    with ctx as url:
        engine = sa.create_engine(url)
        fill_minimal(engine)
        insert(engine, "timesheet_entries", [entry(200, work_date=NEXT, hours=7.5)])
        engine.dispose()
        yield url


@pytest.fixture
def lake(source_url: str, tmp_path: Path) -> Lake:
    lake = Lake(root=str(tmp_path / "lake"))
    ingest_days(SourceDatabase(url=source_url), lake, DAYS, today=TODAY)
    return lake


def execute(url: str, sql: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


def test_unchanged_lake_is_clean(source_url: str, lake: Lake) -> None:
    comparisons = sweep(SourceDatabase(url=source_url), lake, DAYS)
    assert len(comparisons) == 2 * len(DAYS)
    assert drifted_days(comparisons) == []
    assert repair_requests(comparisons) == []
    (day_entries,) = [c for c in comparisons if c.table == "timesheet_entries" and c.day == DAY]
    assert day_entries.source.rows == 2 and day_entries.source == day_entries.lake


def test_row_deleted_without_any_stamp_is_found(source_url: str, lake: Lake) -> None:
    execute(source_url, "DELETE FROM timesheet_entries WHERE entry_id = 101")
    comparisons = sweep(SourceDatabase(url=source_url), lake, DAYS)
    assert drifted_days(comparisons) == [DAY]
    (c,) = [c for c in comparisons if c.differs]
    assert c.table == "timesheet_entries"
    assert c.reasons == ["rows 1 in source vs 2 in lake", "hours 4.25 vs 7.75", "entry ids differ"]


def test_swapped_entry_with_same_count_hours_and_stamp_is_found(
    source_url: str, lake: Lake
) -> None:
    """Delete one entry and insert another with the same hours and stamp: only the
    checksum of the ids can tell."""
    execute(source_url, "DELETE FROM timesheet_entries WHERE entry_id = 101")
    insert(
        sa.create_engine(source_url),
        "timesheet_entries",
        [entry(102, hours=3.5, activity_code="MEETING")],
    )
    (c,) = [c for c in sweep(SourceDatabase(url=source_url), lake, DAYS) if c.differs]
    assert (c.day, c.reasons) == (DAY, ["entry ids differ"])


def test_late_commit_under_the_high_water_mark_is_found(source_url: str, lake: Lake) -> None:
    older = T0 - dt.timedelta(days=3)
    insert(
        sa.create_engine(source_url),
        "timesheet_entries",
        [entry(300, work_date=NEXT, hours=1.0, updated_at=older)],
    )
    (c,) = [c for c in sweep(SourceDatabase(url=source_url), lake, DAYS) if c.differs]
    assert c.day == NEXT and c.reasons[0] == "rows 2 in source vs 1 in lake"


def test_activity_row_changed_without_any_stamp_is_found(source_url: str, lake: Lake) -> None:
    execute(source_url, "UPDATE workstation_activity SET active_minutes = 400")
    (c,) = [c for c in sweep(SourceDatabase(url=source_url), lake, DAYS) if c.differs]
    assert c.table == "workstation_activity" and c.day == DAY
    assert c.reasons == ["active_minutes 400.00 vs 460.00", "(employee, minutes) pairs differ"]


def test_schedule_requests_a_reingest_of_exactly_the_days_that_differ(
    source_url: str, lake: Lake
) -> None:
    from tsfraud_assets.defs.automation.sensors import build_daily_timesheet_job
    from tsfraud_assets.defs.partitions import daily_partitions

    execute(source_url, "DELETE FROM timesheet_entries WHERE entry_id = 200")
    execute(source_url, "UPDATE workstation_activity SET active_minutes = 400")
    partitions = daily_partitions("2026-02-01")
    schedule = build_completeness_sweep_schedule(
        "Europe/London", build_daily_timesheet_job(partitions), partitions, days=10
    )
    scheduled = dt.datetime(2026, 3, 5, 4, 0, tzinfo=dt.UTC)  # last complete day: 03-04
    with dg.build_schedule_context(
        scheduled_execution_time=scheduled,
        resources={"source": SourceDatabase(url=source_url), "lake": lake},
    ) as context:
        result = schedule.evaluate_tick(context)
    requests = result.run_requests or []
    assert len(requests) == 1
    (request,) = requests
    assert request.tags["dagster/asset_partition_range_start"] == DAY.isoformat()
    assert request.tags["dagster/asset_partition_range_end"] == NEXT.isoformat()
    assert request.tags["tsfraud/trigger"] == SWEEP_SCHEDULE_NAME
    assert "workstation_activity" in request.tags["tsfraud/sweep_reasons"]
    assert request.run_key and request.run_key.startswith(f"{SWEEP_SCHEDULE_NAME}-{DAY}-{NEXT}")

    # After the re-ingest the same sweep is clean and asks for nothing.
    ingest_days(SourceDatabase(url=source_url), lake, [DAY, NEXT], today=TODAY)
    with dg.build_schedule_context(
        scheduled_execution_time=scheduled,
        resources={"source": SourceDatabase(url=source_url), "lake": lake},
    ) as context:
        clean = schedule.evaluate_tick(context)
    assert not clean.run_requests
    assert "lake matches source" in (clean.skip_message or "")


def test_cli_prints_the_differing_days_and_the_commands_that_repair_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite_source(tmp_path) as url:
        fill_minimal(sa.create_engine(url))
        lake = Lake(root=str(tmp_path / "lake"))
        ingest_days(SourceDatabase(url=url), lake, DAYS, today=TODAY)
        monkeypatch.setenv("TSFRAUD_SOURCE_URL", url)
        monkeypatch.setenv("TSFRAUD_LAKE", str(tmp_path / "lake"))
        monkeypatch.setenv("TSFRAUD_PARTITION_START", "2026-02-01")
        args = ["sweep", "--days", "3", "--end", DAYS[-1].isoformat()]
        assert main(args) == 0
        assert "clean: 3 work dates x 2 tables" in capsys.readouterr().out

        execute(url, "DELETE FROM timesheet_entries WHERE entry_id = 101")
        assert main(args) == 1
        out = capsys.readouterr().out
    assert f"{DAY}  timesheet_entries" in out
    assert "rows 1 in source vs 2 in lake" in out
    assert f"tsfraud run --start {DAY} --end {DAY}" in out


def test_entry_moved_to_another_day_is_found_on_both_days(source_url: str, lake: Lake) -> None:
    """Issue #14's moved entry: the sensor asks only for the new date, so the old day keeps
    the entry in the lake; the sweep names both days and the repair covers them."""
    later = T0 + dt.timedelta(days=5)
    execute(
        source_url,
        f"UPDATE timesheet_entries SET work_date = '{NEXT.isoformat()}', "
        f"updated_at = '{later.isoformat(sep=' ')}' WHERE entry_id = 101",
    )
    comparisons = sweep(SourceDatabase(url=source_url), lake, DAYS)
    assert drifted_days(comparisons) == [DAY, NEXT]
    (request,) = repair_requests(comparisons)
    assert request.tags["dagster/asset_partition_range_start"] == DAY.isoformat()
    assert request.tags["dagster/asset_partition_range_end"] == NEXT.isoformat()
