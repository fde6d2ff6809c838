"""Raw ingest from SQLite and PostgreSQL: exact types, read-only, quarantine, reconciliation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
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
from tsfraud_assets.defs.raw.ingest import (
    _pieces_by_day,
    ingest_day,
    ingest_reference,
    reconcile_day,
)
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import (
    SourceContractError,
    SourceDatabase,
    decimal_from_scaled,
    select_sql,
)

TODAY = dt.date(2026, 6, 1)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def source_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    ctx = sqlite_source(tmp_path) if request.param == "sqlite" else postgres_source()
    with ctx as url:
        fill_minimal(sa.create_engine(url))
        yield url


def test_day_extract_is_exact_and_complete(source_url: str, tmp_path: Path) -> None:
    lake = Lake(root=str(tmp_path / "lake"))
    result = ingest_day(SourceDatabase(url=source_url), lake, DAY, today=TODAY)
    assert result.rows == {"timesheet_entries": 2, "workstation_activity": 1}
    assert result.quarantined == {"timesheet_entries": 0, "workstation_activity": 0}
    assert result.hours == Decimal("7.75")
    raw = lake.read_partition("raw/timesheet_entries", DAY)
    assert raw is not None
    assert "work_date" not in raw.schema.names  # it lives in the Hive path
    assert raw.schema.field("hours").type == pa.decimal128(5, 2)
    assert raw.schema.field("submitted_at").type == pa.timestamp("us")
    assert sorted(raw.column("hours").to_pylist()) == [Decimal("3.50"), Decimal("4.25")]
    assert raw.column("submitted_at").to_pylist()[0] == T0
    assert reconcile_day(SourceDatabase(url=source_url), lake, DAY).ok


def test_decimals_arrive_exact_at_every_edge(source_url: str, tmp_path: Path) -> None:
    """PostgreSQL sends NUMERIC as scaled integers; the lake must still hold the exact values,
    the smallest and largest a NUMERIC(5,2) of hours can take included."""
    edges = ["0.01", "0.10", "7.99", "23.99", "24.00", "0.00", "999.99"]
    insert(
        sa.create_engine(source_url),
        "timesheet_entries",
        [entry(300 + i, hours=float(h)) for i, h in enumerate(edges)],
    )
    lake = Lake(root=str(tmp_path / "lake"))
    ingest_day(SourceDatabase(url=source_url), lake, DAY, today=TODAY)
    raw = lake.read_partition("raw/timesheet_entries", DAY)
    quarantined = lake.read_partition("quarantine/timesheet_entries", DAY)
    assert raw is not None and quarantined is not None
    got = dict(
        zip(raw.column("entry_id").to_pylist(), raw.column("hours").to_pylist(), strict=True)
    )
    assert [got[300 + i] for i in range(len(edges) - 1)] == [Decimal(h) for h in edges[:-1]]
    assert quarantined.column("hours").to_pylist() == [Decimal("999.99")]  # above 24: held back
    assert reconcile_day(SourceDatabase(url=source_url), lake, DAY).ok


def test_scaled_integers_become_the_decimals_they_encode() -> None:
    scaled = pa.array([2400, -150, None, 1, 0, 99999], pa.int64())
    assert decimal_from_scaled(scaled, pa.decimal128(5, 2)).to_pylist() == [
        Decimal("24.00"),
        Decimal("-1.50"),
        None,
        Decimal("0.01"),
        Decimal("0.00"),
        Decimal("999.99"),
    ]
    big = decimal_from_scaled(pa.array([123456789012345678], pa.int64()), pa.decimal128(18, 4))
    assert big.to_pylist() == [Decimal("12345678901234.5678")]
    with pytest.raises(TypeError, match="scaled integers"):
        decimal_from_scaled(pa.array(["1.00"]), pa.decimal128(5, 2))


def test_postgres_select_carries_decimals_as_scaled_integers() -> None:
    sql = select_sql("timesheet_entries", "work_date = '2026-03-02'", "work_date", True)
    assert "CAST(hours * 100 AS BIGINT) AS hours" in sql
    assert sql.endswith("WHERE work_date = '2026-03-02' ORDER BY work_date")
    assert "CAST" not in select_sql("timesheet_entries")


def test_reference_snapshot_has_every_table(source_url: str, tmp_path: Path) -> None:
    lake = Lake(root=str(tmp_path / "lake"))
    counts = ingest_reference(SourceDatabase(url=source_url), lake)
    assert counts["employees"] == 2 and counts["projects"] == 1 and counts["leave_records"] == 0
    employees = lake.read_snapshot("raw/employees")
    assert employees.schema.field("hire_date").type == pa.date32()
    assert employees.schema.field("contracted_hours_per_week").type == pa.decimal128(5, 2)


def test_each_kind_of_bad_row_is_quarantined_with_its_reason(tmp_path: Path) -> None:
    with sqlite_source(tmp_path) as url:
        engine = sa.create_engine(url)
        fill_minimal(engine)
        insert(
            engine,
            "timesheet_entries",
            [
                entry(200, hours=-1.0),
                entry(201, hours=25.0),
                entry(202, employee_id=999),
                entry(203, project_id=999),
            ],
        )
        # SQLite does not enforce NOT NULL on a column added this way: simulate a lax source.
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA ignore_check_constraints = 1")
            conn.exec_driver_sql(
                "INSERT INTO timesheet_entries SELECT 204, 1, 10, work_date, hours, "
                "activity_code, comment, entry_channel, status, submitted_at, approver_id, "
                "approved_at, updated_at "
                "FROM timesheet_entries WHERE entry_id = 100"
            )
        lake = Lake(root=str(tmp_path / "lake"))
        source = SourceDatabase(url=url)
        result = ingest_day(source, lake, DAY, today=TODAY)
        assert result.rows["timesheet_entries"] == 3  # 100, 101 and the valid copy 204
        assert result.reasons["timesheet_entries"] == {
            "hours below 0": 1,
            "hours above 24": 1,
            "unknown employee_id": 1,
            "unknown project_id": 1,
        }
        quarantine = lake.read_partition("quarantine/timesheet_entries", DAY)
        assert quarantine is not None
        assert sorted(quarantine.column("entry_id").to_pylist()) == [200, 201, 202, 203]
        assert reconcile_day(source, lake, DAY).ok  # lake + quarantine = source

        # a future work date is quarantined whole, never loaded
        future = ingest_day(source, lake, DAY, today=DAY - dt.timedelta(days=1))
        assert future.rows["timesheet_entries"] == 0
        assert future.quarantined == {"timesheet_entries": 7, "workstation_activity": 1}
        assert future.reasons == {
            # the contract's own rules are named first, then the day
            "timesheet_entries": {
                "work_date in the future": 5,
                "hours below 0": 1,
                "hours above 24": 1,
            },
            "workstation_activity": {"activity_date in the future": 1},
        }


def test_null_in_not_null_column_is_quarantined(tmp_path: Path) -> None:
    # A source that does not enforce NOT NULL: same columns, no constraints.
    url = f"sqlite:///{tmp_path / 'lax.db'}"
    engine = sa.create_engine(url)
    from tsfraud_assets.lib.contract import source_tables

    with engine.begin() as conn:
        for t in source_tables().values():
            conn.exec_driver_sql(f"CREATE TABLE {t.name} ({', '.join(t.column_names)})")
    fill_minimal(engine)
    insert(engine, "timesheet_entries", [entry(300, activity_code=None)])
    lake = Lake(root=str(tmp_path / "lake"))
    result = ingest_day(SourceDatabase(url=url), lake, DAY, today=TODAY)
    assert result.reasons["timesheet_entries"] == {"null activity_code": 1}
    assert result.rows["timesheet_entries"] == 2


def test_rerun_is_idempotent_and_clears_stale_quarantine(tmp_path: Path) -> None:
    with sqlite_source(tmp_path) as url:
        engine = sa.create_engine(url)
        fill_minimal(engine)
        insert(engine, "timesheet_entries", [entry(200, hours=-1.0)])
        lake = Lake(root=str(tmp_path / "lake"))
        source = SourceDatabase(url=url)
        ingest_day(source, lake, DAY, today=TODAY)
        first = lake.read_partition("raw/timesheet_entries", DAY)
        ingest_day(source, lake, DAY, today=TODAY)
        assert lake.read_partition("raw/timesheet_entries", DAY) == first
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE timesheet_entries SET hours = 1.0 WHERE entry_id = 200")
        ingest_day(source, lake, DAY, today=TODAY)
        assert lake.read_partition("quarantine/timesheet_entries", DAY) is None
        raw = lake.read_partition("raw/timesheet_entries", DAY)
        assert raw is not None and raw.num_rows == 3


def test_reconciliation_catches_a_tampered_partition(tmp_path: Path) -> None:
    with sqlite_source(tmp_path) as url:
        fill_minimal(sa.create_engine(url))
        lake = Lake(root=str(tmp_path / "lake"))
        source = SourceDatabase(url=url)
        ingest_day(source, lake, DAY, today=TODAY)
        raw = lake.read_partition("raw/timesheet_entries", DAY)
        assert raw is not None
        lake.write_partition("raw/timesheet_entries", DAY, raw.schema, raw.slice(0, 1).to_batches())
        rec = reconcile_day(source, lake, DAY)
        assert not rec.ok and rec.source_rows == 2 and rec.lake_rows == 1


def test_source_never_written_sqlite_opened_read_only(tmp_path: Path) -> None:
    with sqlite_source(tmp_path) as url:
        fill_minimal(sa.create_engine(url))
        with (
            SourceDatabase(url=url).snapshot() as snap,
            pytest.raises(Exception, match=r"readonly|read-only"),
        ):
            snap.scalar_rows("DELETE FROM timesheet_entries")


@pytest.mark.postgres
def test_postgres_snapshot_is_read_only() -> None:
    with postgres_source() as url:
        fill_minimal(sa.create_engine(url))
        with (
            SourceDatabase(url=url).snapshot() as snap,
            pytest.raises(Exception, match="read-only"),
        ):
            snap.scalar_rows("DELETE FROM timesheet_entries")


def test_missing_table_or_column_fails_with_its_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'partial.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE timesheet_entries (entry_id BIGINT, employee_id BIGINT)")
    with pytest.raises(SourceContractError) as err:
        SourceDatabase(url=url).check_contract(["timesheet_entries", "employees"])
    assert "table 'employees' is missing" in str(err.value)
    assert "lacks column(s) project_id, work_date" in str(err.value)


def test_changes_since_names_changed_days_and_tables(tmp_path: Path) -> None:
    with sqlite_source(tmp_path) as url:
        engine = sa.create_engine(url)
        fill_minimal(engine)
        source = SourceDatabase(url=url)
        mark, days, tables = source.changes_since(None)
        assert days == [DAY] and "employees" in tables
        assert source.changes_since(mark)[1:] == ([], [])
        later = mark + dt.timedelta(hours=1)
        insert(
            engine,
            "timesheet_entries",
            [entry(500, work_date=DAY - dt.timedelta(days=9), updated_at=later)],
        )
        mark2, days2, tables2 = source.changes_since(mark)
        assert mark2 == later and days2 == [DAY - dt.timedelta(days=9)] and tables2 == []


def test_range_extract_equals_day_by_day_and_replaces_emptied_days(
    source_url: str, tmp_path: Path
) -> None:
    from tsfraud_assets.defs.raw.ingest import ingest_days

    engine = sa.create_engine(source_url)
    later = DAY + dt.timedelta(days=2)
    insert(engine, "timesheet_entries", [entry(700, work_date=later), entry(701, work_date=later)])
    source = SourceDatabase(url=source_url)
    days = [DAY + dt.timedelta(days=i) for i in range(3)]
    by_range = Lake(root=str(tmp_path / "range"))
    by_day = Lake(root=str(tmp_path / "day"))
    results = ingest_days(source, by_range, days, today=TODAY)
    for day in days:
        ingest_day(source, by_day, day, today=TODAY)
    assert [r.rows["timesheet_entries"] for r in results] == [2, 0, 2]
    for day in days:
        for ds in ("raw/timesheet_entries", "raw/workstation_activity"):
            assert by_range.read_partition(ds, day) == by_day.read_partition(ds, day), (ds, day)
    # the middle day has no entries: an empty partition, so an old one cannot linger
    middle = by_range.read_partition("raw/timesheet_entries", days[1])
    assert middle is not None and middle.num_rows == 0
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM timesheet_entries WHERE entry_id IN (700, 701)")
    ingest_days(source, by_range, days, today=TODAY)
    emptied = by_range.read_partition("raw/timesheet_entries", later)
    assert emptied is not None and emptied.num_rows == 0


def test_a_date_ordered_stream_splits_into_whole_days() -> None:
    d = [dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 4)]
    schema = pa.schema([("work_date", pa.date32()), ("entry_id", pa.int64())])
    batches = [
        pa.record_batch([pa.array([d[0], d[0], d[1]]), pa.array([1, 2, 3])], schema=schema),
        pa.record_batch([pa.array([d[1], d[2], d[2]]), pa.array([4, 5, 6])], schema=schema),
    ]
    pieces = list(_pieces_by_day(iter(batches), "work_date", {d[0], d[1]}))
    assert [(day, p.column("entry_id").to_pylist()) for day, p in pieces] == [
        (d[0], [1, 2]),
        (d[1], [3]),
        (d[1], [4]),
    ]  # the unwanted 4 March is left out
    shuffled = pa.record_batch([pa.array([d[1], d[0]]), pa.array([1, 2])], schema=schema)
    with pytest.raises(RuntimeError, match="not in date order"):
        list(_pieces_by_day(iter([shuffled]), "work_date", set(d)))
