"""The named queries: well-formed, partition-filtered, valid Trino, right on DuckDB; their
registration in Athena; and the `tsfraud query` command that runs them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from tsfraud_assets.cli.query import main, warehouse_for
from tsfraud_assets.queries.catalog import (
    NamedQuery,
    QueryDefinitionError,
    get_query,
    load_queries,
    parse_query,
    register_named_queries,
    run_named_query,
)
from tsfraud_assets.resources.warehouse import AthenaWarehouse, DuckDBWarehouse
from tsfraud_assets.settings import load_settings

D1, D2, D3 = dt.date(2026, 6, 1), dt.date(2026, 6, 2), dt.date(2026, 6, 3)
DAYS = [D1, D2, D3]
EMPLOYEES = {  # id: (code, office, practice, grade, country, client of their billable project)
    1: ("E001", "London", "technology", "senior", "GB", 100),
    2: ("E002", "London", "finance", "manager", "GB", 200),
    3: ("E003", "Paris", "technology", "analyst", "FR", 100),
    4: ("E004", "Paris", "technology", "senior", "FR", 300),
}
SUSPECTS = {(1, D1), (3, D1), (3, D2), (2, D3)}
ATHENA_SCHEMA = "tsfraud"
#: Dimension tables with no work_date partition; every other relation must be filtered.
UNPARTITIONED = {"stg_employees"}


def athena_relation(name: str) -> str:
    return f'"{ATHENA_SCHEMA}"."{name}"'


# --------------------------------------------------------------------------------------------
# A small warehouse shaped like the dbt marts (only the columns the queries read, real types)
# --------------------------------------------------------------------------------------------


def marts_frames() -> dict[str, pd.DataFrame]:
    features, scores, entries = [], [], []
    for day_index, day in enumerate(DAYS):
        day_scores = {e: round(0.1 * e + 0.05 * day_index, 4) for e in EMPLOYEES}
        day_scores.update({e: 0.9 - 0.1 * e for e in EMPLOYEES if (e, day) in SUSPECTS})
        ranking = sorted(EMPLOYEES, key=lambda e: -day_scores[e])
        for employee, (_code, office, practice, grade, country, client) in EMPLOYEES.items():
            hours = 8.0 + employee % 3 + day_index
            features.append(
                {
                    "employee_id": employee,
                    "work_date": day,
                    "office": office,
                    "practice": practice,
                    "grade": grade,
                    "country_code": country,
                    "total_hours": hours,
                    "contracted_daily_hours": 8.0,
                    "active_hours": hours - 1.5,
                    "rule_flag_count": (employee + day_index) % 3,
                }
            )
            suspect = (employee, day) in SUSPECTS
            scores.append(
                {
                    "employee_id": employee,
                    "work_date": day,
                    "fraud_score": day_scores[employee],
                    "rank": ranking.index(employee) + 1,
                    "is_suspect": suspect,
                    "reasons": f"reason for {employee} on {day}" if suspect else None,
                    "model_version": "v1",
                }
            )
            entries += [
                (employee, day, client, "billable", hours - 2.0, True),
                (employee, day, None, "internal", 2.0, True),
                (employee, day, 999, "billable", 5.0, False),  # rejected: never counted
            ]
    features_df = pd.DataFrame(features)
    scores_df = pd.DataFrame(scores)
    entries_df = pd.DataFrame(
        entries,
        columns=["employee_id", "work_date", "client_id", "project_type", "hours", "is_counted"],
    )
    # daily_client_hours as dbt builds it: counted entries only, summed per employee-day,
    # client and project type (client_id null for projects without a client).
    counted = entries_df[entries_df["is_counted"]]
    client_hours = (
        counted.groupby(
            ["work_date", "employee_id", "client_id", "project_type"], dropna=False, as_index=False
        )
        .agg(counted_hours=("hours", "sum"), counted_entries=("hours", "size"))
        .astype({"counted_entries": "int64"})
    )
    suspects = scores_df[scores_df["is_suspect"]].merge(
        features_df, on=["employee_id", "work_date"]
    )
    suspects["employee_code"] = suspects["employee_id"].map(lambda e: EMPLOYEES[e][0])
    scored = features_df.merge(scores_df, on=["employee_id", "work_date"])
    scored["suspect_hours"] = scored["total_hours"].where(scored["is_suspect"], 0.0)
    summary = (
        scored.groupby(["work_date", "office", "practice", "country_code"], as_index=False)
        .agg(
            employee_days=("employee_id", "size"),
            scored_days=("fraud_score", "count"),
            flagged_days=("is_suspect", "sum"),
            suspect_hours=("suspect_hours", "sum"),
            avg_fraud_score=("fraud_score", "mean"),
        )
        .astype({"flagged_days": "int64"})
    )
    labels = pd.DataFrame(
        [
            {
                "employee_id": 3,
                "work_date": D2,
                "outcome": "confirmed",
                "fraud_type": "padding",
                "opened_at": pd.Timestamp("2026-06-10 09:00:00"),
                "closed_at": pd.Timestamp("2026-06-20 17:30:00.250"),
            }
        ]
    )
    return {
        "employee_day_features": features_df,
        "stg_timesheet_scores": scores_df,
        "daily_client_hours": client_hours[
            [
                "employee_id",
                "client_id",
                "project_type",
                "counted_hours",
                "counted_entries",
                "work_date",
            ]
        ],
        "suspect_timesheets": suspects[
            [
                "employee_id",
                "employee_code",
                "office",
                "practice",
                "grade",
                "country_code",
                "total_hours",
                "reasons",
                "fraud_score",
                "rank",
                "model_version",
                "work_date",
            ]
        ],
        "daily_suspect_summary": summary,
        "investigation_labels": labels,
    }


#: Column types as dbt builds them; pandas would otherwise hand DuckDB int64 and object dates.
CASTS = {
    "work_date": "date",
    "rank": "integer",
    "rule_flag_count": "integer",
    "client_id": "bigint",
    "opened_at": "timestamp",
    "closed_at": "timestamp",
}


def build_marts_db(path: Path) -> dict[str, pd.DataFrame]:
    frames = marts_frames()
    with duckdb.connect(str(path)) as con:
        for name, frame in frames.items():
            con.register("frame", frame)
            casts = [f"cast({c} as {t}) as {c}" for c, t in CASTS.items() if c in frame]
            replace = f" replace ({', '.join(casts)})" if casts else ""
            con.execute(f"create table main.{name} as select *{replace} from frame")
            con.unregister("frame")
    return frames


@pytest.fixture(scope="module")
def marts_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    build_marts_db(path)
    return path


@pytest.fixture
def warehouse(marts_db: Path) -> DuckDBWarehouse:
    return DuckDBWarehouse(path=str(marts_db))


# --------------------------------------------------------------------------------------------
# Well-formed
# --------------------------------------------------------------------------------------------


def test_the_investigators_queries_are_all_there() -> None:
    queries = load_queries()
    assert set(queries) == {
        "todays_suspects",
        "employee_history",
        "suspects_by_office_practice",
        "hours_at_risk_by_client",
        "employee_day_as_of",
    }
    assert [p.name for p in queries["todays_suspects"].params] == ["day"]
    history = queries["employee_history"]
    assert [(p.name, p.required) for p in history.params] == [
        ("employee_id", True),
        ("start_date", False),
        ("end_date", False),
    ]
    for query in queries.values():
        assert len(query.description) > 40, query.name
        assert all(p.description for p in query.params), query.name


def _scans(select: exp.Select) -> list[exp.Table]:
    from_ = select.args.get("from_") or select.args.get("from")
    sources = [from_.this] if from_ is not None else []
    sources += [join.this for join in select.args.get("joins") or []]
    return [s for s in sources if isinstance(s, exp.Table) and s.db == ATHENA_SCHEMA]


def _filters_work_date(select: exp.Select, table: exp.Table, single: bool) -> bool:
    conditions = [select.args.get("where")]
    conditions += [join.args.get("on") for join in select.args.get("joins") or []]
    predicates = (exp.EQ, exp.Between, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In)
    for condition in filter(None, conditions):
        for predicate in condition.find_all(*predicates):
            columns = [
                c
                for c in predicate.find_all(exp.Column)
                if c.name == "work_date" and (c.table == table.alias_or_name or not c.table)
            ]
            if any(not c.table for c in columns) and not single:
                continue
            if columns and predicate.find(exp.Placeholder) is not None:
                return True
    return False


@pytest.mark.parametrize("name", sorted(load_queries()))
def test_every_scan_of_a_partitioned_model_filters_on_work_date(name: str) -> None:
    """Athena bills by bytes scanned: a query without a work_date predicate on each
    partitioned relation reads that relation's whole history."""
    tree = sqlglot.parse_one(get_query(name).render(athena_relation), read="trino")
    scanned = 0
    for select in tree.find_all(exp.Select):
        tables = _scans(select)
        for table in tables:
            if table.name in UNPARTITIONED:
                continue
            scanned += 1
            assert _filters_work_date(select, table, single=len(tables) == 1), (
                f"{name}: {table.name} is read without a work_date = / between ? predicate"
            )
    assert scanned, f"{name} reads no model"


@pytest.mark.parametrize("name", sorted(load_queries()))
def test_queries_are_valid_trino_and_duckdb(name: str) -> None:
    query = get_query(name)
    athena_sql = query.render(athena_relation)
    tree = sqlglot.parse_one(athena_sql, read="trino")
    assert tree.find(exp.Placeholder) is not None or not query.params
    assert athena_sql.count("?") == len(query.placeholders)
    for fragment in ("read_parquet(", "::", "median(", "interval 1 "):
        assert fragment not in athena_sql.lower()
    # DuckDB's own parser, on the SQL DuckDB gets.
    duck_sql = query.render(lambda n: f'"main"."{n}"')
    sqlglot.parse_one(duck_sql, read="duckdb")
    for model in query.models:
        assert f'"{ATHENA_SCHEMA}"."{model}"' in athena_sql and "{{" not in athena_sql


def test_query_files_are_checked_when_loaded() -> None:
    good = "-- Hours per day, for a test.\n-- @param day date  The day.\n"
    body = "select * from {{ ref('employee_day_features') }} where work_date = :day\n"
    query = parse_query("ok", good + body)
    assert query.render(athena_relation).endswith(
        'from "tsfraud"."employee_day_features" where work_date = ?\n'
    )
    # a ':' inside a string or comment is not a parameter
    literal = parse_query("ok", good + body.replace("\n", " and office <> 'a:b' -- :x\n"))
    assert literal.placeholders == ["day"]
    bad = {
        "undeclared": good + body.replace(":day", ":other"),
        "never used": good.replace("day date", "day date") + "-- @param x bigint  X.\n" + body,
        "bare ?": good + body.replace(":day", ":day and office = ?"),
        ":: cast": good + body.replace(":day", "cast(:day as date)::date"),
        "no description": "-- @param day date  The day.\n" + body,
        "has type": good.replace("day date", "day datetime") + body,
    }
    for expected, text in bad.items():
        with pytest.raises(QueryDefinitionError, match=expected):
            parse_query("bad", text)


def test_binding_parses_types_fills_defaults_and_names_mistakes() -> None:
    history = get_query("employee_history")
    today = dt.date(2026, 6, 30)
    values = history.bind({"employee_id": "3"}, today=today)
    start, end = dt.date(2026, 4, 1), today
    assert values == [start, end, start, end, 3, start, end]
    assert history.bind({"employee_id": 3, "start_date": D1, "end_date": "2026-06-03"})[:2] == [
        D1,
        D3,
    ]
    with pytest.raises(ValueError, match="needs parameter employee_id"):
        history.bind({})
    with pytest.raises(ValueError, match="no parameter day"):
        history.bind({"employee_id": 3, "day": "2026-06-01"})
    with pytest.raises(ValueError, match="employee_id"):
        history.bind({"employee_id": "three"})
    with pytest.raises(ValueError, match="after end_date"):
        history.bind({"employee_id": 3, "start_date": D3, "end_date": D1})
    with pytest.raises(KeyError, match="no named query 'nope'"):
        get_query("nope")


# --------------------------------------------------------------------------------------------
# Right answers on DuckDB
# --------------------------------------------------------------------------------------------


def test_todays_suspects(warehouse: DuckDBWarehouse) -> None:
    frame = run_named_query(warehouse, "todays_suspects", {"day": "2026-06-01"})
    assert frame["employee_id"].tolist() == [1, 3]  # by rank
    assert frame["rank"].tolist() == [1, 2]
    assert frame["reasons"].tolist() == [f"reason for 1 on {D1}", f"reason for 3 on {D1}"]
    assert (frame["work_date"] == pd.Timestamp(D1)).all()
    assert run_named_query(warehouse, "todays_suspects", {"day": "2026-05-01"}).empty


def test_employee_history(warehouse: DuckDBWarehouse) -> None:
    frame = run_named_query(
        warehouse,
        "employee_history",
        {"employee_id": "3", "start_date": "2026-06-02", "end_date": "2026-06-03"},
    )
    assert frame["work_date"].dt.date.tolist() == [D3, D2]  # newest first, inside the range
    assert frame["is_suspect"].tolist() == [False, True]
    assert frame["investigation_outcome"].tolist() == [None, "confirmed"]
    assert frame["fraud_score"].notna().all()
    defaults = run_named_query(warehouse, "employee_history", {"employee_id": 3}, today=D3)
    assert len(defaults) == 3


def test_suspects_by_office_practice(warehouse: DuckDBWarehouse) -> None:
    frame = run_named_query(
        warehouse, "suspects_by_office_practice", {"start_date": D1, "end_date": D3}
    )
    rows = {(r.office, r.practice): r for r in frame.itertuples()}
    paris = rows[("Paris", "technology")]
    assert (paris.employee_days, paris.flagged_days, paris.work_days) == (6, 2, 3)
    assert paris.flag_rate == pytest.approx(2 / 6, abs=1e-6)
    assert paris.suspect_hours == pytest.approx(8.0 + 9.0)  # employee 3 on D1 and D2
    assert frame["flagged_days"].tolist() == sorted(frame["flagged_days"], reverse=True)
    assert frame["flagged_days"].sum() == len(SUSPECTS)
    one_day = run_named_query(
        warehouse, "suspects_by_office_practice", {"start_date": D3, "end_date": D3}
    )
    assert one_day["flagged_days"].sum() == 1


def test_hours_at_risk_by_client(warehouse: DuckDBWarehouse) -> None:
    frame = run_named_query(
        warehouse, "hours_at_risk_by_client", {"start_date": D1, "end_date": D3}
    )
    by_client: dict[tuple[int | None, str], Any] = {
        (None if pd.isna(r.client_id) else int(str(r.client_id)), str(r.project_type)): r
        for r in frame.itertuples()
    }
    # client 100: employees 1 (D1: 9-2 h) and 3 (D1: 8-2 h, D2: 9-2 h)
    client_100 = by_client[(100, "billable")]
    assert (client_100.suspect_days, client_100.employees) == (3, 2)
    assert client_100.suspect_hours == pytest.approx(7 + 6 + 7)
    assert by_client[(200, "billable")].suspect_hours == pytest.approx(12 - 2)
    assert by_client[(None, "internal")].suspect_hours == pytest.approx(2.0 * len(SUSPECTS))
    assert 999 not in {c for c, _ in by_client}, "uncounted entries are not at risk"


# --------------------------------------------------------------------------------------------
# Registration as Athena named queries (moto keeps them, in process)
# --------------------------------------------------------------------------------------------


class UpdatesRecorded:
    """moto's Athena has no UpdateNamedQuery: record the calls, pass the rest through."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.updates: list[dict[str, Any]] = []

    def update_named_query(self, **kwargs: Any) -> dict[str, Any]:
        self.updates.append(kwargs)
        return {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@pytest.fixture
def athena_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("athena", region_name="us-east-1")
        client.create_work_group(Name="tsfraud-analysts")
        yield client


def test_registering_named_queries_is_idempotent(athena_client: Any) -> None:
    client = UpdatesRecorded(athena_client)
    register = dict(workgroup="tsfraud-analysts", database=ATHENA_SCHEMA, relation=athena_relation)

    first = register_named_queries(client, **register)  # type: ignore[arg-type]
    second = register_named_queries(client, **register)  # type: ignore[arg-type]

    assert {r.action for r in first} == {"created"}
    assert {r.action for r in second} == {"unchanged"}
    assert [r.named_query_id for r in first] == [r.named_query_id for r in second]
    ids = athena_client.list_named_queries(WorkGroup="tsfraud-analysts")["NamedQueryIds"]
    assert len(ids) == len(load_queries())
    saved = {
        q["Name"]: q
        for q in (athena_client.get_named_query(NamedQueryId=i)["NamedQuery"] for i in ids)
    }
    todays = saved["todays_suspects"]
    assert todays["Database"] == ATHENA_SCHEMA
    assert '"tsfraud"."suspect_timesheets"' in todays["QueryString"]
    assert "work_date = ?" in todays["QueryString"]
    assert "day (date)" in todays["Description"]

    changed = get_query("todays_suspects")
    edited = NamedQuery(
        changed.name, changed.description, changed.params, changed.template + "limit 100\n"
    )
    third = register_named_queries(client, queries=[edited], **register)  # type: ignore[arg-type]
    assert [r.action for r in third] == ["updated"]
    assert client.updates[0]["NamedQueryId"] == todays["NamedQueryId"]
    assert client.updates[0]["QueryString"].endswith("limit 100\n")
    # other workgroups are untouched
    assert athena_client.list_named_queries(WorkGroup="primary")["NamedQueryIds"] == []


def test_cli_registers_the_queries_in_the_configured_workgroup(
    athena_client: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TSFRAUD_ATHENA_WORKGROUP", "tsfraud-analysts")
    assert main(["query", "--register-athena"]) == 0
    assert main(["query", "--register-athena"]) == 0
    lines = capsys.readouterr().out.splitlines()
    count = len(load_queries())
    assert [line.split()[0] for line in lines] == ["created"] * count + ["unchanged"] * count
    ids = athena_client.list_named_queries(WorkGroup="tsfraud-analysts")["NamedQueryIds"]
    assert len(ids) == count
    monkeypatch.setenv("TSFRAUD_ATHENA_WORKGROUP", "no-such-workgroup")
    assert main(["query", "--register-athena"]) == 2
    assert "no-such-workgroup" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# `tsfraud query`
# --------------------------------------------------------------------------------------------


@pytest.fixture
def local_env(marts_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TSFRAUD_DEPLOYMENT", "local")
    monkeypatch.setenv("TSFRAUD_DUCKDB_PATH", str(marts_db))
    return marts_db


def test_cli_prints_a_page_of_a_named_query(
    local_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dates = ["--param", "start_date=2026-06-01", "--param", "end_date=2026-06-03"]
    paging = ["--page-size", "2", "--page", "2"]
    code = main(["query", "employee_history", "-p", "employee_id=3", *dates, *paging])
    out = capsys.readouterr().out
    assert code == 0
    assert "employee_history (employee_id=3, start_date=2026-06-01, end_date=2026-06-03)" in out
    assert "page 2 of 2 (rows 3-3 of 3)" in out
    assert "2026-06-01" in out and "00:00:00" not in out  # the one row on page 2, as a date
    assert "2026-06-03" not in out.split("\n", 1)[1]  # page 1's rows are not printed


def test_cli_first_page_points_to_the_next(
    local_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["query", "todays_suspects", "--param", "day=2026-06-01", "--page-size", "1"]) == 0
    out = capsys.readouterr().out
    assert "page 1 of 2 (rows 1-1 of 2); next: --page 2" in out
    assert "reason for 1 on 2026-06-01" in out and "reason for 3" not in out


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_cli_writes_every_row_to_a_file(
    local_env: Path, tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "exports" / f"suspects{suffix}"
    args = ["query", "suspects_by_office_practice", "-p", "start_date=2026-06-01"]
    code = main([*args, "-p", "end_date=2026-06-03", "--page-size", "1", "--out", str(out)])
    assert code == 0 and "wrote 3 rows" in capsys.readouterr().out
    frame = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert len(frame) == 3 and frame["flagged_days"].sum() == len(SUSPECTS)


def test_cli_lists_the_queries(local_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--list"]) == 0
    out = capsys.readouterr().out
    for name in load_queries():
        assert name in out
    assert "employee_id=bigint" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["query", "nope"], "no named query 'nope'"),
        (["query", "todays_suspects"], "needs parameter day"),
        (["query", "todays_suspects", "-p", "day=yesterday"], "parameter day (date)"),
        (["query", "todays_suspects", "-p", "day=2026-06-01", "--page", "9"], "page 9 does not"),
        (["query", "todays_suspects", "-p", "day=2026-06-01", "--out", "x.xlsx"], ".csv or"),
        (["query"], "--list"),
    ],
)
def test_cli_errors_are_one_clear_line(
    local_env: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_reports_a_missing_warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TSFRAUD_DEPLOYMENT", "local")
    monkeypatch.setenv("TSFRAUD_DUCKDB_PATH", str(tmp_path / "missing.duckdb"))
    assert main(["query", "todays_suspects", "-p", "day=2026-06-01"]) == 2
    assert "TSFRAUD_DUCKDB_PATH" in capsys.readouterr().err


def test_cli_uses_the_deployments_warehouse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TSFRAUD_DEPLOYMENT", "aws")
    monkeypatch.setenv("TSFRAUD_ATHENA_WORKGROUP", "tsfraud-analysts")
    aws = warehouse_for(load_settings())
    assert isinstance(aws, AthenaWarehouse) and aws.workgroup == "tsfraud-analysts"
    monkeypatch.setenv("TSFRAUD_DEPLOYMENT", "local")
    monkeypatch.setenv("TSFRAUD_DUCKDB_PATH", "/some/where.duckdb")
    local = warehouse_for(load_settings())
    assert isinstance(local, DuckDBWarehouse) and local.path == "/some/where.duckdb"
