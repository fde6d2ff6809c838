"""Issue #14, case 1: an entry whose work date moves in the source heals its old day.

Before the fix the old day kept its copy in raw and processed (7.0 h + 17.5 h shown against
22.5 h in the source) because the change feed names only the new day."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pyarrow.compute as pc
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
from tsfraud_assets.defs.automation.sensors import (
    build_daily_timesheet_job,
    build_timesheet_batch_sensor,
)
from tsfraud_assets.defs.partitions import daily_partitions
from tsfraud_assets.defs.raw.ingest import ingest_days
from tsfraud_assets.defs.raw.moves import stale_days
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase
from tsfraud_assets.settings import DEFAULT_PARTITION_START

PARTITIONS = daily_partitions(DEFAULT_PARTITION_START)
timesheet_batch_sensor = build_timesheet_batch_sensor(
    build_daily_timesheet_job(PARTITIONS), PARTITIONS
)

TODAY = dt.date(2026, 6, 1)
NEW_DAY = DAY + dt.timedelta(days=2)


@pytest.mark.parametrize(
    "dialect", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_stale_days_finds_the_day_an_entry_left(tmp_path: Path, dialect: str) -> None:
    with sqlite_source(tmp_path) if dialect == "sqlite" else postgres_source() as url:
        engine = sa.create_engine(url)
        fill_minimal(engine)
        insert(engine, "timesheet_entries", [entry(300, work_date=NEW_DAY)])
        source, lake = SourceDatabase(url=url), Lake(root=str(tmp_path / "lake"))
        ingest_days(source, lake, [DAY, NEW_DAY], today=TODAY)
        assert stale_days(source, lake, [NEW_DAY]) == []
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE timesheet_entries SET work_date = :d WHERE entry_id = 100"),
                {"d": NEW_DAY},
            )
        assert stale_days(source, lake, [NEW_DAY]) == [DAY]
        # two changed days far apart: still exactly the day the entry left
        assert stale_days(source, lake, [NEW_DAY, NEW_DAY + dt.timedelta(days=20)]) == [DAY]
        assert stale_days(source, lake, [DAY, NEW_DAY]) == []  # both rebuilt: nothing extra


def test_the_sensor_requests_the_old_day_of_a_moved_entry(tmp_path: Path) -> None:
    with sqlite_source(tmp_path) as url:
        engine = sa.create_engine(url)
        fill_minimal(engine)
        source, lake = SourceDatabase(url=url), Lake(root=str(tmp_path / "lake"))
        ingest_days(source, lake, [DAY], today=TODAY)
        mark, _, _ = source.changes_since(None)
        assert mark is not None
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "UPDATE timesheet_entries SET work_date = ?, updated_at = ? WHERE entry_id = 100",
                (NEW_DAY.isoformat(), (mark + dt.timedelta(hours=1)).isoformat(sep=" ")),
            )
        ctx = dg.build_sensor_context(
            cursor=json.dumps({"high_water_mark": mark.isoformat()}),
            resources={"source": source, "lake": lake},
        )
        requests = [r for r in timesheet_batch_sensor(ctx) or [] if isinstance(r, dg.RunRequest)]
        ranges = [
            (
                r.tags["dagster/asset_partition_range_start"],
                r.tags["dagster/asset_partition_range_end"],
            )
            for r in requests
        ]
        # the old day and the new one, joined into one run (near ranges merge: sensors.py)
        assert ranges == [(DAY.isoformat(), NEW_DAY.isoformat())]


@pytest.mark.e2e
def test_run_range_over_the_new_day_heals_raw_and_processed_of_the_old_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tsfraud_assets.cli.run import STEPS, run_range
    from tsfraud_assets.definitions import build_definitions
    from tsfraud_assets.defs.processed.assets import PROCESSED_DATASET
    from tsfraud_assets.settings import load_settings
    from tsfraud_simulator import simulate

    for key, value in {
        "TSFRAUD_DATA_DIR": str(tmp_path),
        "TSFRAUD_LAKE": str(tmp_path / "lake"),
        "TSFRAUD_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "TSFRAUD_SOURCE_URL": f"sqlite:///{tmp_path / 'source.db'}",
    }.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    start = dt.date(2026, 3, 2)
    simulate(settings.source_url, employees=25, start=start, days=5, seed=3)
    defs = build_definitions(settings)
    instance = dg.DagsterInstance.ephemeral()
    steps = tuple(s for s in STEPS if s.name in ("reference", "ingest-to-features"))
    old, new = start + dt.timedelta(days=1), start + dt.timedelta(days=3)
    run_range(defs, start, start + dt.timedelta(days=4), instance, steps=steps)

    engine = sa.create_engine(settings.source_url)
    with engine.begin() as conn:
        entry_id, employee_id = conn.exec_driver_sql(
            "SELECT entry_id, employee_id FROM timesheet_entries WHERE work_date = ? "
            "ORDER BY entry_id LIMIT 1",
            (old.isoformat(),),
        ).one()
        conn.exec_driver_sql(
            "UPDATE timesheet_entries SET work_date = ?, updated_at = ? WHERE entry_id = ?",
            (new.isoformat(), (T0 + dt.timedelta(days=400)).isoformat(sep=" "), entry_id),
        )
    run_range(defs, new, new, instance, steps=steps)  # what the sensor asks for: the new day

    lake = Lake(root=settings.lake_root)
    for dataset in ("raw/timesheet_entries", PROCESSED_DATASET):
        on_old = lake.read_partition(dataset, old)
        on_new = lake.read_partition(dataset, new)
        assert on_old is not None and on_new is not None, dataset
        assert entry_id not in on_old.column("entry_id").to_pylist(), dataset
        assert entry_id in on_new.column("entry_id").to_pylist(), dataset
    with engine.connect() as conn:
        source_hours = {
            dt.date.fromisoformat(str(d)[:10]): Decimal(str(h))
            for d, h in conn.exec_driver_sql(
                "SELECT work_date, SUM(hours) FROM timesheet_entries WHERE employee_id = ? "
                "GROUP BY work_date",
                (employee_id,),
            )
        }
    for day in (old, new):
        raw = lake.read_partition("raw/timesheet_entries", day)
        assert raw is not None
        mine = raw.filter(pc.equal(raw.column("employee_id"), employee_id))
        lake_hours = Decimal(pc.sum(mine.column("hours")).as_py() or 0)
        assert lake_hours == source_hours.get(day, Decimal(0)).quantize(Decimal("0.01")), day
