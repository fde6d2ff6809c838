"""Both warehouses give the pipeline the same DataFrames, and DuckDB is opened safely.

The Athena side runs on a fake client (tests/test_athena_warehouse.py) fed the DuckDB
result serialised exactly as Athena returns it: every value a VarCharValue string, NULL an
empty Datum, types only in ColumnInfo. If both implementations type and convert the same way,
the model, the scoring and the CLI see no difference between a laptop and production.
"""

from __future__ import annotations

import datetime as dt
import decimal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from tests.unit.test_athena_warehouse import (
    FakeAthena,
    Row,
    Script,
    athena_csv,
    fake_warehouse,
    result_pages,
)
from tests.unit.test_named_queries import D1, D2, D3, build_marts_db
from tsfraud_assets.queries.catalog import load_queries
from tsfraud_assets.resources.warehouse import (
    DuckDBWarehouse,
    WarehouseBusyError,
    WarehouseError,
    WarehouseNotFoundError,
    athena_literal,
)

ATHENA_TYPES = {
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "TINYINT": "tinyint",
    "DOUBLE": "double",
    "FLOAT": "real",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "BOOLEAN": "boolean",
    "VARCHAR": "varchar",
}


def athena_type(duckdb_type: str) -> str:
    return "decimal" if duckdb_type.startswith("DECIMAL") else ATHENA_TYPES[duckdb_type]


def athena_text(value: Any) -> str | None:
    """A value as Athena's GetQueryResults spells it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):  # Athena shows milliseconds
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int | decimal.Decimal | str):
        return str(value)
    raise TypeError(f"no Athena rendering for {type(value).__name__}")


def as_athena_returns_it(
    db: Path, sql: str, params: Sequence[Any]
) -> tuple[list[tuple[str, str]], list[Row]]:
    """Run the query on DuckDB and serialise the rows the way Athena would hand them back."""
    with duckdb.connect(str(db), read_only=True) as con:
        result = con.execute(sql, list(params))
        columns = [(d[0], athena_type(str(d[1]))) for d in result.description or []]
        rows: list[Row] = [[athena_text(v) for v in row] for row in result.fetchall()]
    return columns, rows


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("same") / "warehouse.duckdb"
    build_marts_db(path)
    with duckdb.connect(str(path)) as con:
        con.execute(
            """
            create table main.typed_sample as
            select * from (values
                (1, date '2026-06-01', timestamp '2026-06-01 08:00:00.125',
                 cast(12.50 as decimal(5, 2)), true, 'plain', cast(3 as smallint),
                 cast(0.1 as double), cast(7 as bigint)),
                (2, date '2026-06-02', null, null, null, '', cast(-4 as smallint),
                 cast(1e-7 as double), null),
                (3, date '2026-06-03', timestamp '2026-06-03 23:59:59.999',
                 cast(0 as decimal(5, 2)), false, 'it''s "quoted", with,commas
and a newline', cast(0 as smallint), cast(-2.5 as double), cast(9007199254740993 as bigint))
            ) as t(id, work_date, stamped_at, amount, flag, note, small, ratio, maybe)
            """
        )
    return path


def cases() -> list[tuple[str, str, list[Any]]]:
    """(name, SQL with {relation} slots or a named query, params): what the pipeline asks."""
    named = load_queries()
    return [
        (
            "scoring features",
            "select * from {employee_day_features} where work_date between ? and ? "
            "order by work_date, employee_id",
            [D1, D2],
        ),
        ("training labels", "select * from {investigation_labels}", []),
        ("every type", "select * from {typed_sample} order by id", []),
        ("empty", "select * from {typed_sample} where id > ?", [99]),
        ("todays_suspects", named["todays_suspects"].template, [D1]),
        ("employee_history", named["employee_history"].template, [3, D1, D3]),
        ("suspects_by_office_practice", named["suspects_by_office_practice"].template, [D1, D3]),
        ("hours_at_risk_by_client", named["hours_at_risk_by_client"].template, [D1, D3]),
    ]


def render(template: str, params: list[Any], relation: Any, name: str) -> tuple[str, list[Any]]:
    if name in load_queries():
        query = load_queries()[name]
        keys = [p.name for p in query.params]
        return query.render(relation), query.bind(dict(zip(keys, params, strict=True)))
    tables = ["employee_day_features", "investigation_labels", "typed_sample"]
    return template.format(**{t: relation(t) for t in tables}), params


@pytest.mark.parametrize("from_s3", [False, True], ids=["paged", "csv-in-s3"])
@pytest.mark.parametrize(("name", "template", "params"), cases(), ids=[c[0] for c in cases()])
def test_duckdb_and_athena_return_equal_frames(
    db: Path, name: str, template: str, params: list[Any], from_s3: bool
) -> None:
    duck = DuckDBWarehouse(path=str(db))
    duck_sql, duck_params = render(template, params, duck.relation, name)
    expected = duck.query(duck_sql, duck_params)

    columns, rows = as_athena_returns_it(db, duck_sql, duck_params)
    fake = FakeAthena()
    fake.script(
        Script(
            states=["QUEUED", "RUNNING", "SUCCEEDED"],
            pages=result_pages(columns, rows, page_size=2),
            csv=athena_csv(columns, rows),
        )
    )
    athena = fake_warehouse(fake, page_size=2, large_results_from_s3=from_s3)
    athena_sql, athena_params = render(template, params, athena.relation, name)
    actual = athena.query(athena_sql, athena_params)

    pd.testing.assert_frame_equal(actual, expected)
    sent = fake.requests[0]
    assert sent["QueryString"] == athena_sql and '"tsfraud".' in athena_sql
    assert sent.get("ExecutionParameters", []) == [athena_literal(p) for p in athena_params]
    assert len(expected) == 0 or not expected.empty


def test_the_pipelines_own_calls_work_on_athena(db: Path) -> None:
    """scoring.py and training.py call `relation()` and `query(sql, [date, date])`."""
    from tsfraud_assets.defs.suspects.scoring import score_and_store

    columns, rows = as_athena_returns_it(
        db, "select * from main.employee_day_features where work_date between ? and ?", [D1, D1]
    )
    fake = FakeAthena()
    fake.script(Script(states=["SUCCEEDED"], pages=result_pages(columns, rows)))
    athena = fake_warehouse(fake)

    class Stop(Exception):
        pass

    class NoLake:
        def __getattr__(self, name: str) -> Any:
            raise Stop(name)

    with pytest.raises(Stop):  # the features came back; the model lookup is the lake's job
        score_and_store(athena, NoLake(), [D1], alert_budget=0.1)  # type: ignore[arg-type]
    assert fake.requests[0]["ExecutionParameters"] == ["DATE '2026-06-01'", "DATE '2026-06-01'"]
    assert '"tsfraud"."employee_day_features"' in fake.requests[0]["QueryString"]


# --------------------------------------------------------------------------------------------
# DuckDB: read-only, short-lived, clear when missing or locked
# --------------------------------------------------------------------------------------------


def test_a_write_through_the_warehouse_fails(db: Path) -> None:
    warehouse = DuckDBWarehouse(path=str(db))
    with pytest.raises(duckdb.Error, match="read-only"):
        warehouse.query("create table main.sneaky as select 1 as x")
    with pytest.raises(duckdb.Error, match="read-only"):
        warehouse.query("delete from main.suspect_timesheets")
    assert len(warehouse.query("select * from main.suspect_timesheets")) == 4


def test_a_writer_process_can_write_between_queries(tmp_path: Path) -> None:
    """The warehouse holds the file only while a query runs, so a dbt build started after a
    query gets its write lock."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table t as select 1 as x")
    warehouse = DuckDBWarehouse(path=str(path))
    assert warehouse.query("select count(*) as n from t")["n"][0] == 1

    writer = "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('insert into t values (2)')"
    subprocess.run([sys.executable, "-c", writer, str(path)], check=True, timeout=60)

    assert warehouse.query("select count(*) as n from t")["n"][0] == 2


def _hold_write_lock(path: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
            "print('locked', flush=True); sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def _release(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=30)


def test_a_locked_file_waits_then_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(path)).close()
    holder = _hold_write_lock(path)
    try:
        with pytest.raises(WarehouseBusyError, match="locked by another process"):
            DuckDBWarehouse(path=str(path), lock_wait_seconds=0.3).query("select 1")
        # a writer that finishes within the wait is simply waited for
        threading.Timer(0.4, _release, args=[holder]).start()
        frame = DuckDBWarehouse(path=str(path), lock_wait_seconds=20).query("select 1 as one")
        assert frame["one"][0] == 1
    finally:
        if holder.poll() is None:
            _release(holder)


def test_a_missing_database_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "warehouse.duckdb"
    with pytest.raises(WarehouseNotFoundError, match="does not exist") as caught:
        DuckDBWarehouse(path=str(missing)).query("select 1")
    assert str(missing) in str(caught.value) and "TSFRAUD_DUCKDB_PATH" in str(caught.value)
    assert isinstance(caught.value, FileNotFoundError)
    assert not missing.exists(), "a reader must not create an empty warehouse"


def test_a_model_not_built_yet_is_a_clear_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(WarehouseError, match="entry_history") as caught:
        DuckDBWarehouse(path=str(path)).query("select * from entry_history")
    assert "tsfraud run" in str(caught.value)
