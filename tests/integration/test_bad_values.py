"""Issue #14, cases 3, 4, 7 and 10 (reference NULLs): values the contract does not allow are
quarantined with a reason naming the column and the value, never a crashed ingest; dates are
parsed, and a date that is no date is quarantined in its own bucket and reconciled there."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.source_fixtures import DAY, entry, fill_minimal, insert, sqlite_source
from tsfraud_assets.defs.raw.ingest import (
    IngestIncomplete,
    ReferenceContractError,
    ingest_day,
    ingest_days,
    ingest_reference,
    ingest_undated,
    reconcile_day,
    reconcile_undated,
)
from tsfraud_assets.lib.validate import enums
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase

TODAY = dt.date(2026, 6, 1)


def _raw_insert(engine: sa.Engine, table: str, row: dict[str, Any]) -> None:
    """Insert through the driver as-is: SQLite keeps text in a NUMERIC or DATE column."""
    cols = list(row)
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    with engine.begin() as conn:
        conn.exec_driver_sql(sql, tuple(row[c] for c in cols))


def _iso(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v.isoformat(sep=" ")
        if isinstance(v, dt.datetime)
        else v.isoformat()
        if isinstance(v, dt.date)
        else v
        for k, v in row.items()
    }


BAD_VALUES = [
    (200, {"hours": "abc"}, "hours not a number: 'abc'"),
    (201, {"hours": ""}, "hours not a number: ''"),
    (202, {"hours": 1000}, "hours does not fit NUMERIC(5,2): 1000"),
    (203, {"hours": 7.125}, "hours has more than 2 decimal places: 7.125"),
    (204, {"employee_id": "abc"}, "employee_id not an integer: 'abc'"),
    (205, {"entry_id": "x"}, "entry_id not an integer: 'x'"),
    (206, {"submitted_at": "garbage"}, "submitted_at not a timestamp: 'garbage'"),
    (207, {"status": "paid"}, "status not one of approved | rejected | submitted | withdrawn"),
    (208, {"entry_channel": "fax" * 5}, "entry_channel longer than 8 characters"),
    (209, {"hours": 30}, "hours above 24: 30.00"),
    (210, {"project_id": 999}, "unknown project_id: 999"),
]


def test_every_bad_value_is_quarantined_with_its_column_and_value(tmp_path: Path) -> None:
    with sqlite_source(tmp_path) as url:
        engine = sa.create_engine(url)
        fill_minimal(engine)
        for entry_id, over, _ in BAD_VALUES:
            _raw_insert(engine, "timesheet_entries", _iso({**entry(entry_id), **over}))
        lake = Lake(root=str(tmp_path / "lake"))
        source = SourceDatabase(url=url)
        result = ingest_day(source, lake, DAY, today=TODAY)  # no crash
        assert result.rows["timesheet_entries"] == 2  # the two good rows of fill_minimal
        assert result.quarantined["timesheet_entries"] == len(BAD_VALUES)
        quarantine = lake.read_partition("quarantine/timesheet_entries", DAY)
        assert quarantine is not None
        reasons = sorted(quarantine.column("quarantine_reason").to_pylist())
        for _, _, expected in BAD_VALUES:
            assert any(r.startswith(expected) for r in reasons), (expected, reasons)
        # the original text of a cell that did not convert is kept next to the NULL
        kept = [json.loads(v) for v in quarantine.column("source_values").drop_null().to_pylist()]
        assert {"hours": "abc"} in kept and {"submitted_at": "garbage"} in kept
        # lake + quarantine = source, hours included (7.125 and 1000 are counted from the text)
        rec = reconcile_day(source, lake, DAY)
        assert rec.ok, rec
        # 'abc' and '' count as 0 in SQLite's SUM; 1000 and 7.125 count as they are
        assert rec.source_hours == Decimal("1070.38")


def test_enums_come_from_the_ddl() -> None:
    assert enums()[("timesheet_entries", "status")] == {
        "submitted",
        "approved",
        "rejected",
        "withdrawn",
    }
    assert enums()[("investigation_cases", "outcome")] == {"confirmed", "cleared"}
    assert ("timesheet_entries", "activity_code") not in enums()  # "e.g. DEV, ..." is no enum


@pytest.mark.parametrize("text", ["2026-03-3", "20260303", "03/03/2026", "2026-02-30", "x"])
def test_a_work_date_that_is_no_date_is_quarantined_undated(tmp_path: Path, text: Any) -> None:
    with sqlite_source(tmp_path) as url:
        engine = sa.create_engine(url)
        fill_minimal(engine)
        row = _iso(entry(300, work_date=text))
        _raw_insert(engine, "timesheet_entries", row)
        lake = Lake(root=str(tmp_path / "lake"))
        source = SourceDatabase(url=url)
        days = [DAY - dt.timedelta(days=1), DAY, DAY + dt.timedelta(days=1)]
        results = ingest_days(source, lake, days, today=TODAY)
        assert sum(r.rows["timesheet_entries"] for r in results) == 2
        assert sum(r.quarantined["timesheet_entries"] for r in results) == 0
        undated = ingest_undated(source, lake)
        assert undated["timesheet_entries"].rows == 1
        held = lake.read_snapshot("quarantine_undated/timesheet_entries")
        assert held.column("entry_id").to_pylist() == [300]
        (reason,) = held.column("quarantine_reason").to_pylist()
        assert reason.startswith("work_date "), reason
        assert text.strip("'") in reason  # SQLite may have stored 20260303 as a number
        assert all(reconcile_day(source, lake, d).ok for d in days)
        rec = reconcile_undated(source, lake)
        assert rec.ok and rec.source_rows == 1 and "no valid date" in rec.message
        # the source is fixed: the bucket empties and still reconciles
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "UPDATE timesheet_entries SET work_date = ? WHERE entry_id = 300",
                (DAY.isoformat(),),
            )
        assert ingest_undated(source, lake)["timesheet_entries"].rows == 0
        assert reconcile_undated(source, lake).ok


def test_a_date_with_a_time_of_day_belongs_to_its_day_even_at_the_end_of_a_range(
    tmp_path: Path,
) -> None:
    with sqlite_source(tmp_path) as url:
        engine = sa.create_engine(url)
        fill_minimal(engine)
        _raw_insert(
            engine, "timesheet_entries", _iso(entry(300, work_date=f"{DAY.isoformat()} 00:00:00"))
        )
        lake = Lake(root=str(tmp_path / "lake"))
        source = SourceDatabase(url=url)
        (result,) = ingest_days(source, lake, [DAY], today=TODAY)  # DAY is the range's last
        assert result.rows["timesheet_entries"] == 3
        assert reconcile_day(source, lake, DAY).ok
        assert ingest_undated(source, lake)["timesheet_entries"].rows == 0


def test_quarantine_reasons_are_counted_per_table(tmp_path: Path) -> None:
    with sqlite_source(tmp_path) as url:
        engine = sa.create_engine(url)
        fill_minimal(engine)
        insert(engine, "timesheet_entries", [entry(200, hours=-1.0)])
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE workstation_activity SET active_minutes = 2000")
        lake = Lake(root=str(tmp_path / "lake"))
        result = ingest_day(SourceDatabase(url=url), lake, DAY, today=TODAY)
        assert result.reasons == {
            "timesheet_entries": {"hours below 0": 1},
            "workstation_activity": {"active_minutes above 1440": 1},
        }
        for table, counter in result.reasons.items():
            assert sum(counter.values()) == result.quarantined[table]


def test_a_failed_slice_reports_the_days_already_written(tmp_path: Path) -> None:
    with sqlite_source(tmp_path) as url:
        engine = sa.create_engine(url)
        fill_minimal(engine)
        lake = Lake(root=str(tmp_path / "lake"))
        source = SourceDatabase(url=url, parallel_ranges=2)
        days = [DAY + dt.timedelta(days=i) for i in range(4)]
        real = Lake.write_partition

        def failing(self: Lake, dataset: str, day: dt.date, *args: Any) -> Any:
            if day == days[3]:
                raise OSError(28, "No space left on device")
            return real(self, dataset, day, *args)

        with (
            pytest.MonkeyPatch.context() as mp,
            pytest.raises(IngestIncomplete, match="No space left on device") as err,
        ):
            mp.setattr(Lake, "write_partition", failing)
            ingest_days(source, lake, days, today=TODAY)
        # the second slice wrote day 3's entries, then failed on day 4's: day 3 is reported
        # for the table it holds, day 4 not at all
        assert [r.day for r in err.value.done] == days[:3]
        assert set(err.value.done[2].rows) == {"timesheet_entries"}
        assert "failed after 3 of 4 day(s)" in str(err.value)
        assert lake.read_partition("raw/timesheet_entries", days[3]) is None


def test_null_in_a_reference_table_fails_clearly_and_writes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lax.db'}"
    engine = sa.create_engine(url)
    from tsfraud_assets.lib.contract import source_tables

    with engine.begin() as conn:  # a source that does not enforce NOT NULL
        for t in source_tables().values():
            conn.exec_driver_sql(f"CREATE TABLE {t.name} ({', '.join(t.column_names)})")
    fill_minimal(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE employees SET grade = NULL")
    lake = Lake(root=str(tmp_path / "lake"))
    with pytest.raises(ReferenceContractError) as err:
        ingest_reference(SourceDatabase(url=url), lake)
    assert "employees: null grade (2 rows)" in str(err.value)
    assert "employee_id 2: null grade" in str(err.value)
    assert not lake.exists("raw/employees/data.parquet")


def test_the_asset_and_its_check_count_the_undated_rows(tmp_path: Path) -> None:
    import dagster as dg

    from tsfraud_assets.defs.partitions import daily_partitions
    from tsfraud_assets.defs.raw.assets import build_raw_daily_tables
    from tsfraud_assets.defs.raw.checks import build_raw_entries_reconcile
    from tsfraud_assets.settings import DEFAULT_PARTITION_START

    partitions = daily_partitions(DEFAULT_PARTITION_START)
    raw_daily_tables = build_raw_daily_tables(partitions)
    raw_entries_reconcile = build_raw_entries_reconcile(partitions)

    with sqlite_source(tmp_path) as url:
        engine = sa.create_engine(url)
        fill_minimal(engine)
        _raw_insert(engine, "timesheet_entries", _iso({**entry(300), "work_date": "03/03/2026"}))
        instance = dg.DagsterInstance.ephemeral()
        result = dg.materialize(
            [raw_daily_tables, raw_entries_reconcile],
            resources={"source": SourceDatabase(url=url), "lake": Lake(root=str(tmp_path / "l"))},
            instance=instance,
            partition_key=DAY.isoformat(),
        )
        assert result.success
        (materialization,) = [
            m
            for m in result.asset_materializations_for_node("raw_daily_tables")
            if m.asset_key == dg.AssetKey("raw_timesheet_entries")
        ]
        assert materialization.metadata["undated_quarantined_rows"].value == 1
        (check,) = result.get_asset_check_evaluations()
        assert check.passed
        assert check.metadata["undated_source_rows"].value == 1
        assert check.metadata["undated_quarantined_rows"].value == 1
        assert "1 row(s) have no valid date" in (check.description or "")
