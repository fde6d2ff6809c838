"""The entry history: every version of every timesheet entry, appended after each extract.

Real extracts from SQLite and PostgreSQL sources into a temporary lake, then the history step:
what an edit after approval, a hard delete, a rerun and a quarantined row leave behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

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
from tsfraud_assets.defs.history.versions import entry_versions, record_day
from tsfraud_assets.defs.raw.ingest import ingest_day
from tsfraud_assets.lib.lake_layout import ENTRY_VERSIONS
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase

TODAY = dt.date(2026, 6, 1)
SEEN_1 = dt.datetime(2026, 3, 4, 6, 0)
SEEN_2 = dt.datetime(2026, 3, 6, 6, 0)
SEEN_3 = dt.datetime(2026, 3, 7, 6, 0)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def source_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    ctx = sqlite_source(tmp_path) if request.param == "sqlite" else postgres_source()
    with ctx as url:
        fill_minimal(sa.create_engine(url))
        yield url


def extract_and_record(url: str, lake: Lake, seen: dt.datetime) -> None:
    ingest_day(SourceDatabase(url=url), lake, DAY, today=TODAY)
    record_day(lake, DAY, seen)


def execute(url: str, sql: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


def versions_of(lake: Lake, entry_id: int) -> list[dict[str, object]]:
    rows = entry_versions(lake, [DAY]).to_pylist()
    return [r for r in rows if r["entry_id"] == entry_id]


def test_approved_entry_edited_later_has_two_versions(source_url: str, tmp_path: Path) -> None:
    lake = Lake(root=str(tmp_path / "lake"))
    extract_and_record(source_url, lake, SEEN_1)
    edited = T0 + dt.timedelta(days=2)
    insert(
        sa.create_engine(source_url),
        "projects",
        [
            {
                "project_id": 11,
                "project_code": "P-11",
                "client_id": 5,
                "project_type": "billable",
                "start_date": dt.date(2026, 1, 1),
                "end_date": None,
                "status": "open",
                "updated_at": T0,
            }
        ],
    )
    execute(
        source_url,
        f"UPDATE timesheet_entries SET hours = 9.5, project_id = 11, "
        f"updated_at = '{edited.isoformat(sep=' ')}' WHERE entry_id = 100",
    )
    extract_and_record(source_url, lake, SEEN_2)

    first, second = versions_of(lake, 100)
    assert (first["version"], first["change_kind"]) == (1, "inserted")
    assert first["hours"] == Decimal("4.25") and first["status"] == "approved"
    assert first["valid_to"] == edited  # closed by the edit, derived on reading
    assert (second["version"], second["change_kind"]) == (2, "updated")
    assert second["changed_fields"] == "project_id,hours"
    assert (second["old_hours"], second["hours"]) == (Decimal("4.25"), Decimal("9.50"))
    assert (second["old_project_id"], second["project_id"]) == (10, 11)
    assert second["valid_from"] == edited and second["valid_to"] is None
    assert second["extracted_at"] == SEEN_2
    # The untouched entry kept its single version.
    assert [v["version"] for v in versions_of(lake, 101)] == [1]


def test_deleted_entry_gets_a_deleted_version(source_url: str, tmp_path: Path) -> None:
    lake = Lake(root=str(tmp_path / "lake"))
    extract_and_record(source_url, lake, SEEN_1)
    execute(source_url, "DELETE FROM timesheet_entries WHERE entry_id = 101")
    extract_and_record(source_url, lake, SEEN_2)

    versions = versions_of(lake, 101)
    assert [v["change_kind"] for v in versions] == ["inserted", "deleted"]
    gone = versions[-1]
    assert gone["version"] == 2 and gone["valid_from"] == SEEN_2  # no stamp: seen missing then
    assert gone["old_hours"] == Decimal("3.50")  # what vanished stays readable
    # Re-created later: a new version, not a new history.
    insert(sa.create_engine(source_url), "timesheet_entries", [entry(101, hours=2.0)])
    extract_and_record(source_url, lake, SEEN_3)
    assert [v["change_kind"] for v in versions_of(lake, 101)] == ["inserted", "deleted", "inserted"]


def test_edit_without_a_new_stamp_is_valid_from_the_extract_that_saw_it(
    source_url: str, tmp_path: Path
) -> None:
    lake = Lake(root=str(tmp_path / "lake"))
    extract_and_record(source_url, lake, SEEN_1)
    execute(source_url, "UPDATE timesheet_entries SET status = 'withdrawn' WHERE entry_id = 100")
    extract_and_record(source_url, lake, SEEN_2)
    first, second = versions_of(lake, 100)
    assert second["changed_fields"] == "status" and second["old_status"] == "approved"
    assert second["valid_from"] == SEEN_2 and first["valid_to"] == SEEN_2


def test_rerun_without_change_appends_nothing(source_url: str, tmp_path: Path) -> None:
    lake = Lake(root=str(tmp_path / "lake"))
    extract_and_record(source_url, lake, SEEN_1)
    files = sorted(p.name for p in (tmp_path / "lake" / ENTRY_VERSIONS).rglob("*.parquet"))
    assert len(files) == 1
    # A bump of updated_at alone is not a change of any value.
    execute(source_url, "UPDATE timesheet_entries SET updated_at = '2026-03-05 09:00:00'")
    ingest_day(SourceDatabase(url=source_url), lake, DAY, today=TODAY)
    result = record_day(lake, DAY, SEEN_2)
    assert result.file is None and result.appended == 0
    assert record_day(lake, DAY, SEEN_3).file is None
    again = sorted(p.name for p in (tmp_path / "lake" / ENTRY_VERSIONS).rglob("*.parquet"))
    assert again == files
    assert len(entry_versions(lake, [DAY])) == 2


def test_quarantined_entry_is_counted_not_taken_for_deleted(tmp_path: Path) -> None:
    with sqlite_source(tmp_path) as url:
        fill_minimal(sa.create_engine(url))
        lake = Lake(root=str(tmp_path / "lake"))
        extract_and_record(url, lake, SEEN_1)
        execute(url, "UPDATE timesheet_entries SET hours = 30 WHERE entry_id = 100")
        ingest_day(SourceDatabase(url=url), lake, DAY, today=TODAY)
        result = record_day(lake, DAY, SEEN_2)
        assert (result.deleted, result.quarantined, result.file) == (0, 1, None)


def test_existing_history_file_is_never_overwritten(tmp_path: Path) -> None:
    import pyarrow as pa

    lake = Lake(root=str(tmp_path / "lake"))
    data = pa.table({"x": [1]})
    lake.add_partition_file(ENTRY_VERSIONS, DAY, "v-1.parquet", data)
    lake.add_partition_file(ENTRY_VERSIONS, DAY, "v-2.parquet", data)
    with pytest.raises(FileExistsError):
        lake.add_partition_file(ENTRY_VERSIONS, DAY, "v-1.parquet", data)
    table = lake.read_partition(ENTRY_VERSIONS, DAY)
    assert table is not None and table.num_rows == 2


def test_history_asset_follows_the_raw_extract_in_one_range_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wired as Dagster runs it: downstream of the raw extract, in the daily job, one run
    for a range; the second run over an unchanged source appends nothing."""
    import dagster as dg

    from tsfraud_assets.definitions import build_definitions
    from tsfraud_assets.settings import load_settings

    with sqlite_source(tmp_path) as url:
        fill_minimal(sa.create_engine(url))
        monkeypatch.setenv("TSFRAUD_SOURCE_URL", url)  # the resource reads it as an EnvVar
        settings = load_settings(
            {
                "TSFRAUD_DATA_DIR": str(tmp_path),
                "TSFRAUD_SOURCE_URL": url,
                "TSFRAUD_PARTITION_START": "2026-03-01",
            }
        )
        defs = build_definitions(settings)
        job = defs.resolve_job_def("daily_timesheet_job")
        keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
        assert "timesheet_entry_history" in keys
        graph = defs.resolve_asset_graph()
        selection = [
            graph.get(dg.AssetKey("raw_timesheet_entries")).assets_def,
            graph.get(dg.AssetKey("timesheet_entry_history")).assets_def,
        ]
        tags = {
            "dagster/asset_partition_range_start": "2026-03-02",
            "dagster/asset_partition_range_end": "2026-03-03",
        }
        lake = Lake(root=settings.lake_root)

        def run() -> dict[str, object]:
            with dg.instance_for_test() as instance:
                result = dg.materialize(
                    selection,
                    tags=tags,
                    instance=instance,
                )
                assert result.success
                mats = [
                    m
                    for m in result.asset_materializations_for_node("timesheet_entry_history")
                    if m.asset_key == dg.AssetKey("timesheet_entry_history")
                ]
                # one materialization per day of the range, each carrying the run's totals
                assert sorted(m.partition for m in mats) == ["2026-03-02", "2026-03-03"]
                return {k: v.value for k, v in mats[0].metadata.items()}

        first = run()
        assert (first["inserted"], first["days_changed"]) == (2, 1)
        second = run()
        assert (second["inserted"], second["updated"], second["deleted"]) == (0, 0, 0)
        assert len(entry_versions(lake, [DAY])) == 2


def test_dbt_model_gives_each_version_its_validity_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The type-2 view on DuckDB over the files the history step wrote: the edited entry's
    two versions chain up, the deleted one is no longer present, and the day as it was
    before the edit is one query away."""
    import duckdb

    from tests.integration.test_dbt_models import run_dbt

    lake = Lake(root=str(tmp_path / "lake"))
    with sqlite_source(tmp_path) as url:
        fill_minimal(sa.create_engine(url))
        extract_and_record(url, lake, SEEN_1)
        edited = T0 + dt.timedelta(days=2)
        execute(
            url,
            f"UPDATE timesheet_entries SET hours = 8, updated_at = '{edited.isoformat(sep=' ')}' "
            "WHERE entry_id = 100",
        )
        execute(url, "DELETE FROM timesheet_entries WHERE entry_id = 101")
        extract_and_record(url, lake, SEEN_2)
    db_path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("TSFRAUD_LAKE", str(tmp_path / "lake"))
    monkeypatch.setenv("TSFRAUD_DUCKDB_PATH", str(db_path))
    run_dbt(
        ["build", "--select", "entry_history", "int_entry_revisions"],
        tmp_path / "target",
        tmp_path / "logs",
    )
    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = con.execute(
            "select entry_id, version, change_kind, changed_fields, valid_from, valid_to, "
            "is_current, is_present, hours, old_hours, changed_after_approval "
            "from entry_history order by entry_id, version"
        ).fetchall()
        before_edit = con.execute(
            "select entry_id, hours from entry_history where work_date = ? and is_present "
            "and valid_from <= ? and (valid_to is null or valid_to > ?) order by entry_id",
            [DAY, edited - dt.timedelta(hours=1), edited - dt.timedelta(hours=1)],
        ).fetchall()
    updated_at = T0 + dt.timedelta(hours=20)
    assert rows == [
        (100, 1, "inserted", None, updated_at, edited, False, True, Decimal("4.25"), None, False),
        (
            100,
            2,
            "updated",
            "hours",
            edited,
            None,
            True,
            True,
            Decimal("8.00"),
            Decimal("4.25"),
            True,
        ),
        (101, 1, "inserted", None, updated_at, SEEN_2, False, True, Decimal("3.50"), None, False),
        (
            101,
            2,
            "deleted",
            None,
            SEEN_2,
            None,
            True,
            False,
            Decimal("3.50"),
            Decimal("3.50"),
            True,
        ),
    ]
    assert before_edit == [(100, Decimal("4.25")), (101, Decimal("3.50"))]
    with duckdb.connect(str(db_path), read_only=True) as con:
        revisions = con.execute(
            "select employee_id, work_date, revision_count, hours_raised_after_approval, "
            "hours_added_after_approval, project_changed_after_approval, "
            "deleted_after_approval, reapproved_by_other from int_entry_revisions"
        ).fetchall()
    # employee 1's day: one approved entry raised by 3.75 h, one approved entry deleted
    assert revisions == [(1, DAY, 2, 1, Decimal("3.75"), 0, 1, 0)]

    # The named query investigators run gives the same picture, and today's after the edit.
    from tsfraud_assets.queries.catalog import run_named_query
    from tsfraud_assets.resources.warehouse import DuckDBWarehouse

    warehouse = DuckDBWarehouse(path=str(db_path))
    params = {"employee_id": 1, "work_date": DAY.isoformat()}
    then = run_named_query(
        warehouse, "employee_day_as_of", {**params, "as_of": "2026-03-05 17:00:00"}
    )
    assert then["hours"].map(Decimal).tolist() == [Decimal("4.25"), Decimal("3.50")]
    now = run_named_query(
        warehouse, "employee_day_as_of", {**params, "as_of": "2026-03-08 00:00:00"}
    )
    assert now["entry_id"].tolist() == [100] and now["version"].tolist() == [2]
    assert now["changed_fields"].tolist() == ["hours"]
