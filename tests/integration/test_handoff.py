"""`tsfraud run` hands the source's high-water mark it ingested to the batch sensor.

The sensor reads the hand-off from the instance: after a command covered every changed day,
its next tick requests nothing; a range that left changed days out moves nothing, so the
sensor still runs them; later batches are requested as usual.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from tests.source_fixtures import DAY, T0, entry, fill_minimal, insert, sqlite_source
from tsfraud_assets.defs.automation.handoff import (
    hand_off,
    plan_handoff,
    read_handoff,
    sensor_since,
)
from tsfraud_assets.defs.automation.sensors import (
    build_daily_timesheet_job,
    build_timesheet_batch_sensor,
)
from tsfraud_assets.defs.partitions import daily_partitions
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase

PARTITIONS = daily_partitions("2026-01-01")
SENSOR = build_timesheet_batch_sensor(build_daily_timesheet_job(PARTITIONS), PARTITIONS)


def _tick(url: str, instance: dg.DagsterInstance, cursor: str | None = None) -> list[str]:
    # the sensor also reads the lake (entries moved away from a day): one beside the source
    lake = Lake(root=str(Path(url.removeprefix("sqlite:///")).parent / "lake"))
    ctx = dg.build_sensor_context(
        cursor=cursor,
        instance=instance,
        resources={"source": SourceDatabase(url=url), "lake": lake},
    )
    out = list(SENSOR(ctx) or [])
    return [r.job_name or "" for r in out if isinstance(r, dg.RunRequest)]


def test_after_a_covering_run_the_sensor_requests_nothing_until_the_next_batch(
    tmp_path: Path,
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    with sqlite_source(tmp_path) as url:
        engine = sa.create_engine(url)
        fill_minimal(engine)
        source = SourceDatabase(url=url)
        plan = plan_handoff(source, instance, PARTITIONS)
        assert plan.since is None and plan.changed_days == (DAY,)
        line = hand_off(instance, plan, DAY, DAY, by="test")
        assert "starts after" in line
        assert read_handoff(instance) == plan.mark
        assert sensor_since(None, instance) == plan.mark

        # a fresh sensor (no cursor of its own) starts from the hand-off: nothing to run
        assert _tick(url, instance) == []

        # a later batch is still seen
        insert(
            engine,
            "timesheet_entries",
            [entry(500, work_date=DAY + dt.timedelta(days=1), updated_at=T0 + dt.timedelta(1))],
        )
        # (entries alone, no reference table changed: the days without the reference refresh)
        assert _tick(url, instance) == ["daily_entries_job"]
        # and a second run over the same data has nothing new to hand off
        plan2 = plan_handoff(source, instance, PARTITIONS)
        assert plan2.changed_days == (DAY + dt.timedelta(days=1),)


def test_a_range_that_leaves_changed_days_out_moves_nothing(tmp_path: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    with sqlite_source(tmp_path) as url:
        engine = sa.create_engine(url)
        fill_minimal(engine)
        insert(engine, "timesheet_entries", [entry(600, work_date=DAY + dt.timedelta(days=3))])
        plan = plan_handoff(SourceDatabase(url=url), instance, PARTITIONS)
        line = hand_off(instance, plan, DAY, DAY + dt.timedelta(days=1), by="test")
        assert "1 changed work date(s)" in line and str(DAY + dt.timedelta(days=3)) in line
        assert read_handoff(instance) is None
        assert "daily_timesheet_job" in _tick(url, instance)


def test_the_later_of_cursor_and_handoff_wins() -> None:
    instance = dg.DagsterInstance.ephemeral()
    assert sensor_since(None, None) is None
    cursor = '{"high_water_mark": "2026-03-04T10:00:00"}'
    assert sensor_since(cursor, instance) == dt.datetime(2026, 3, 4, 10)
