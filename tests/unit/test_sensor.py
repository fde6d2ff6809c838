"""The batch sensor requests exactly the changed work dates, and resumes from its cursor."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from tests.source_fixtures import DAY, entry, fill_minimal, insert, sqlite_source
from tsfraud_assets.defs.automation.sensors import (
    MERGE_GAP_DAYS,
    batch_run_requests,
    build_daily_timesheet_job,
    build_timesheet_batch_sensor,
    contiguous_ranges,
    merge_near,
)
from tsfraud_assets.defs.partitions import daily_partitions
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase
from tsfraud_assets.settings import DEFAULT_PARTITION_START

PARTITIONS = daily_partitions(DEFAULT_PARTITION_START)
DAILY, ENTRIES = "daily_timesheet_job", "daily_entries_job"  # with / without the reference
timesheet_batch_sensor = build_timesheet_batch_sensor(
    build_daily_timesheet_job(PARTITIONS), PARTITIONS
)


def _tick(url: str, cursor: str | None) -> tuple[list[dg.RunRequest], str | None, list[str]]:
    lake = Lake(root=url.removeprefix("sqlite:///") + ".lake")
    ctx = dg.build_sensor_context(
        cursor=cursor, resources={"source": SourceDatabase(url=url), "lake": lake}
    )
    out = list(timesheet_batch_sensor(ctx) or [])
    requests = [r for r in out if isinstance(r, dg.RunRequest)]
    skips = [r.skip_message or "" for r in out if isinstance(r, dg.SkipReason)]
    return requests, ctx.cursor, skips


def _ranges(requests: list[dg.RunRequest]) -> list[tuple[str, str]]:
    return [
        (r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
        for r in requests
        if r.job_name in (DAILY, ENTRIES)
    ]


def test_contiguous_ranges() -> None:
    d = dt.date(2026, 3, 1)
    days = [d, d + dt.timedelta(days=1), d + dt.timedelta(days=5), d + dt.timedelta(days=1)]
    assert contiguous_ranges(days) == [
        (d, d + dt.timedelta(days=1)),
        (d + dt.timedelta(days=5),) * 2,
    ]


def test_near_ranges_merge_and_far_ones_stay_apart() -> None:
    d = dt.date(2026, 3, 2)

    def r(a: int, b: int) -> tuple[dt.date, dt.date]:
        return (d + dt.timedelta(days=a), d + dt.timedelta(days=b))

    # gaps of 2, 1 and 7 unchanged days join; 8 does not
    assert merge_near([r(0, 3), r(6, 7), r(9, 10), r(18, 20)], max_gap_days=7) == [r(0, 20)]
    assert merge_near([r(0, 3), r(12, 12)], max_gap_days=7) == [r(0, 3), r(12, 12)]
    assert merge_near([]) == []
    # by default the features' look-back: a day that feeds a later range's baselines joins it
    assert MERGE_GAP_DAYS == 63
    assert merge_near([r(0, 0), r(64, 70)]) == [r(0, 70)]
    assert merge_near([r(0, 0), r(65, 70)]) == [r(0, 0), r(65, 70)]


def test_a_batch_is_one_run_over_the_union_of_its_days_with_the_reference_refresh() -> None:
    d = dt.date(2026, 3, 2)
    days = [d + dt.timedelta(days=n) for n in (0, 1, 9, 20, 21, 29)]
    mark = dt.datetime(2026, 4, 1, 6)
    (request,) = batch_run_requests(days, ["employees", "projects"], mark, PARTITIONS)
    assert request.job_name == "daily_timesheet_job"
    assert _ranges([request]) == [(d.isoformat(), (d + dt.timedelta(days=29)).isoformat())]
    assert request.tags["tsfraud/changed_tables"] == "employees,projects"
    assert request.tags["dagster/priority"] == "10"


def test_a_batch_without_reference_changes_leaves_the_reference_out_of_its_run() -> None:
    d = dt.date(2026, 3, 2)
    mark = dt.datetime(2026, 4, 1, 6)
    (request,) = batch_run_requests([d, d + dt.timedelta(days=3)], [], mark, PARTITIONS)
    assert request.job_name == ENTRIES
    assert _ranges([request]) == [(d.isoformat(), (d + dt.timedelta(days=3)).isoformat())]
    assert "tsfraud/changed_tables" not in request.tags
    assert request.tags["dagster/priority"] == "10"


def test_far_apart_ranges_run_newest_first_and_only_the_newest_jumps_the_queue() -> None:
    d = dt.date(2026, 1, 5)
    old, new = d, d + dt.timedelta(days=90)  # farther apart than MERGE_GAP_DAYS
    requests = batch_run_requests([new, old, new + dt.timedelta(days=1)], [], None, PARTITIONS)
    assert _ranges(requests) == [
        (new.isoformat(), (new + dt.timedelta(days=1)).isoformat()),
        (old.isoformat(), old.isoformat()),
    ]
    assert [r.tags.get("dagster/priority") for r in requests] == ["10", None]
    assert all("tsfraud/changed_tables" not in r.tags for r in requests)
    assert [r.job_name for r in requests] == [ENTRIES, ENTRIES]


def test_with_reference_changes_only_the_newest_range_refreshes_the_reference() -> None:
    # the older range queues behind the newest (lower priority), so it reads the refreshed
    # snapshots without rebuilding them a second time
    d = dt.date(2026, 1, 5)
    old, new = d, d + dt.timedelta(days=90)  # farther apart than MERGE_GAP_DAYS
    requests = batch_run_requests([new, old], ["employees"], None, PARTITIONS)
    assert [r.job_name for r in requests] == [DAILY, ENTRIES]
    assert _ranges(requests) == [(new.isoformat(),) * 2, (old.isoformat(),) * 2]
    assert requests[0].tags["tsfraud/changed_tables"] == "employees"
    assert "tsfraud/changed_tables" not in requests[1].tags


def test_changed_reference_tables_alone_refresh_the_reference_and_nothing_else() -> None:
    mark = dt.datetime(2026, 4, 1, 6)
    (request,) = batch_run_requests([], ["employees"], mark, PARTITIONS)
    assert request.job_name == "reference_tables_job"
    assert batch_run_requests([], [], mark, PARTITIONS) == []
    # days outside the partitions (before their start) wait: the reference refresh alone
    before = PARTITIONS.start.date() - dt.timedelta(days=3)
    assert [r.job_name for r in batch_run_requests([before], ["employees"], mark, PARTITIONS)] == [
        "reference_tables_job"
    ]


def test_sensor_requests_exactly_the_changed_days_across_batches(tmp_path: Path) -> None:
    with sqlite_source(tmp_path) as url:
        engine = sa.create_engine(url)
        fill_minimal(engine)

        # first tick: everything is new: one run, the reference refresh and the day with entries
        requests, cursor, _ = _tick(url, None)
        assert [r.job_name for r in requests] == [DAILY]
        assert requests[0].tags.get("tsfraud/changed_tables")
        assert _ranges(requests) == [(DAY.isoformat(), DAY.isoformat())]
        assert cursor is not None

        # nothing changed: a skip, no request, the cursor stays
        requests, cursor2, skips = _tick(url, cursor)
        assert requests == [] and skips and cursor2 == cursor

        # a batch: two new consecutive days and a late correction to an old day
        mark = dt.datetime.fromisoformat(json.loads(cursor)["high_water_mark"])
        later = mark + dt.timedelta(hours=2)
        insert(
            engine,
            "timesheet_entries",
            [
                entry(900, work_date=DAY + dt.timedelta(days=7), updated_at=later),
                entry(901, work_date=DAY + dt.timedelta(days=8), updated_at=later),
            ],
        )
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE timesheet_entries SET hours = 2.0, updated_at = :t WHERE entry_id = 100"
                ),
                {"t": later},
            )
        requests, cursor3, _ = _tick(url, cursor)
        # the correction and the new days are six days apart: one run over both (merge_near)
        assert _ranges(requests) == [
            (DAY.isoformat(), (DAY + dt.timedelta(days=8)).isoformat()),
        ]
        # no reference table changed: the run leaves the reference snapshots as they are
        assert [r.job_name for r in requests] == [ENTRIES]
        assert "tsfraud/changed_tables" not in requests[0].tags
        assert json.loads(cursor3 or "{}")["high_water_mark"] == later.isoformat()

        # a restart resumes from the stored cursor: nothing is re-requested
        requests, _, _ = _tick(url, cursor3)
        assert requests == []


def test_the_sensor_includes_the_reference_refresh_only_when_a_reference_table_changed(
    tmp_path: Path,
) -> None:
    with sqlite_source(tmp_path) as url:
        engine = sa.create_engine(url)
        fill_minimal(engine)
        _, cursor, _ = _tick(url, None)
        later = dt.datetime.fromisoformat(json.loads(cursor or "{}")["high_water_mark"])

        def touch_employees(at: dt.datetime) -> None:
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE employees SET updated_at = :t"), {"t": at})

        # a reference table alone: its refresh, no daily run
        touch_employees(later + dt.timedelta(hours=1))
        requests, cursor, _ = _tick(url, cursor)
        assert [r.job_name for r in requests] == ["reference_tables_job"]
        assert requests[0].tags["tsfraud/changed_tables"] == "employees"

        # entries and a reference table in one batch: one run holding both
        touch_employees(later + dt.timedelta(hours=2))
        new_day = DAY + dt.timedelta(days=1)
        insert(
            engine,
            "timesheet_entries",
            [entry(700, work_date=new_day, updated_at=later + dt.timedelta(hours=2))],
        )
        requests, cursor, _ = _tick(url, cursor)
        assert [r.job_name for r in requests] == [DAILY]
        assert _ranges(requests) == [(new_day.isoformat(),) * 2]
        assert requests[0].tags["tsfraud/changed_tables"] == "employees"

        # entries alone: the days without the reference
        insert(
            engine,
            "timesheet_entries",
            [entry(701, work_date=new_day, updated_at=later + dt.timedelta(hours=3))],
        )
        requests, _, _ = _tick(url, cursor)
        assert [r.job_name for r in requests] == [ENTRIES]
        assert _ranges(requests) == [(new_day.isoformat(),) * 2]


def test_sensor_follows_simulated_batches(tmp_path: Path) -> None:
    """Driven by the simulator's append mode: each batch requests exactly the days it touched."""
    from tsfraud_simulator import append_through, simulate

    url = f"sqlite:///{tmp_path / 'source.db'}"
    truth = str(tmp_path / "truth.parquet")
    start = dt.date(2026, 3, 2)
    simulate(url, employees=40, start=start, days=10, seed=5, ground_truth_path=truth)
    engine = sa.create_engine(url)

    def days_changed_since(mark: str) -> set[str]:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT DISTINCT work_date FROM timesheet_entries WHERE updated_at > ?",
                (mark.replace("T", " "),),
            ).fetchall()
        return {str(r[0])[:10] for r in rows}

    def requested_days(requests: list[dg.RunRequest]) -> set[str]:
        days: set[str] = set()
        for lo, hi in _ranges(requests):
            day = dt.date.fromisoformat(lo)
            while day <= dt.date.fromisoformat(hi):
                days.add(day.isoformat())
                day += dt.timedelta(days=1)
        return days

    requests, cursor, _ = _tick(url, None)
    everything = days_changed_since("0000-00-00")
    # the weekend between two work weeks is joined into the one range
    assert everything <= requested_days(requests) and len(_ranges(requests)) == 1
    assert min(requested_days(requests)) == start.isoformat()

    for through in (start + dt.timedelta(days=10), start + dt.timedelta(days=11)):  # Thu, Fri
        mark = json.loads(cursor or "{}")["high_water_mark"]
        append_through(url, through, ground_truth_path=truth)
        expected = days_changed_since(mark)
        requests, cursor, _ = _tick(url, cursor)
        requested = requested_days(requests)
        # every changed day, plus at most the unchanged days between near ranges
        assert expected <= requested
        assert min(requested) == min(expected) and max(requested) == max(expected)
        assert len(_ranges(requests)) == 1  # one batch, one run
        assert through.isoformat() in requested  # the new day itself
        assert any(
            d < (through - dt.timedelta(days=1)).isoformat() for d in requested
        )  # late edits
    assert _tick(url, cursor)[0] == []
