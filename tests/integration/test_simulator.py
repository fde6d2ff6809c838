"""The source-system simulator: schema, determinism, fraud, labels, leaks, appends, backends.

Small firms (a few hundred people, 30-60 days) keep the file fast; every assertion is a
property of the generator rather than a number copied from a run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from tsfraud_simulator import DEFAULT_FRAUD_RATE, append_through, simulate
from tsfraud_simulator.api import SimulationSummary
from tsfraud_simulator.catalog import FRAUD_TYPES, OPTIONAL_FRAUD_TYPES
from tsfraud_simulator.cli import register
from tsfraud_simulator.clock import day_start
from tsfraud_simulator.firm import FirmParams, build_firm

SCHEMA = Path(__file__).resolve().parents[2] / "tsfraud_assets" / "lib" / "source_schema.sql"
START = dt.date(2026, 3, 2)
TYPE_EDIT = "post_approval_edit"
FRAUD_WORDS = (
    "fraud",
    "ghost",
    "padding",
    "padded",
    "rubber",
    "stamp",
    "backdated",
    "bulk",
    "duplicate",
    "lookalike",
    "look-alike",
    "fake",
    "inject",
    "truth",
    "suspicious",
)


def ddl_columns() -> dict[str, list[str]]:
    """Table -> column names, read from the customer's DDL independently of the simulator."""
    text = re.sub(r"--[^\n]*", "", SCHEMA.read_text())
    tables: dict[str, list[str]] = {}
    for m in re.finditer(r"CREATE TABLE (\w+) \((.*?)\);", text, re.S):
        cols = []
        for line in m.group(2).splitlines():
            line = line.strip()
            if line and not line.upper().startswith("PRIMARY KEY"):
                cols.append(line.split()[0])
        tables[m.group(1)] = cols
    return tables


TABLES = ddl_columns()


@dataclass
class Sim:
    path: Path
    url: str
    summary: SimulationSummary
    days: int

    @property
    def truth(self) -> pd.DataFrame:
        df = pd.read_parquet(self.summary.ground_truth_path)
        df["work_date"] = df["work_date"].astype(str)
        return df

    def q(self, sql: str) -> pd.DataFrame:
        with sqlite3.connect(self.path) as con:
            return pd.read_sql(sql, con)


def run_sim(tmp: Path, name: str, employees: int, days: int, **kw: object) -> Sim:
    path = tmp / f"{name}.db"
    url = f"sqlite:///{path}"
    summary = simulate(url, employees=employees, start=START, days=days, **kw)  # type: ignore[arg-type]
    return Sim(path, url, summary, days)


def table_rows(path: Path, table: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as con:
        return con.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Sim:
    return run_sim(tmp_path_factory.mktemp("sim"), "source", employees=240, days=60, seed=11)


@pytest.fixture(scope="module")
def entries(sim: Sim) -> pd.DataFrame:
    return sim.q(
        "SELECT t.*, e.manager_id, e.termination_date, e.contracted_hours_per_week, "
        "p.project_type, p.end_date AS project_end FROM timesheet_entries t "
        "JOIN employees e USING (employee_id) JOIN projects p USING (project_id)"
    )


@pytest.fixture(scope="module")
def days(sim: Sim, entries: pd.DataFrame) -> pd.DataFrame:
    """One row per employee-day with counted hours, activity and the ground truth."""
    counted = entries[entries.status.isin(["submitted", "approved"])]
    day = counted.groupby(["employee_id", "work_date"]).hours.sum().rename("hours").reset_index()
    act = sim.q(
        "SELECT employee_id, activity_date AS work_date, active_minutes FROM workstation_activity"
    )
    day = day.merge(act, how="left", on=["employee_id", "work_date"])
    return day.merge(sim.truth, how="left", on=["employee_id", "work_date"])


# --- schema ------------------------------------------------------------------------------
def test_schema_matches_the_ddl_and_every_table_has_rows(sim: Sim) -> None:
    with sqlite3.connect(sim.path) as con:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert names == set(TABLES), "the database holds exactly the DDL's tables"
        for table, cols in TABLES.items():
            got = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
            assert got == cols, table
            assert con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] > 0, table
        indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"ix_timesheet_entries_updated_at", "ix_timesheet_entries_work_date"} <= indexes
    assert sim.summary.rows == {t: len(table_rows(sim.path, t)) for t in TABLES}


def test_foreign_keys_hold(sim: Sim) -> None:
    with sqlite3.connect(sim.path) as con:
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        orphans = con.execute(
            "SELECT COUNT(*) FROM timesheet_entries t "
            "LEFT JOIN employees e ON e.employee_id = t.employee_id "
            "LEFT JOIN projects p ON p.project_id = t.project_id "
            "WHERE e.employee_id IS NULL OR p.project_id IS NULL"
        ).fetchone()[0]
    assert orphans == 0


def test_no_project_is_used_before_the_system_knows_it() -> None:
    """A project is on record before its first day and before anyone is staffed on it.

    Otherwise a project recorded after the last simulated day has entries but no row, which
    PostgreSQL refuses (seen at 25,000 employees); a 1,000-person firm used to show 53."""
    start = dt.date(2026, 1, 5)
    firm = build_firm(
        FirmParams(seed=11, employees=1000, start=start, fraud_rate=0.015),
        start + dt.timedelta(119),
    )
    proj, asg = firm.proj, firm.asg
    assert (proj["rec"] <= day_start(proj["start"])).all()
    assert (proj["rec"][asg["proj"]] <= day_start(asg["start"])).all()


def test_existing_tables_are_kept_unless_replace(sim: Sim, tmp_path: Path) -> None:
    path = tmp_path / "twice.db"
    simulate(f"sqlite:///{path}", employees=40, start=START, days=5)
    with pytest.raises(FileExistsError, match="replace"):
        simulate(f"sqlite:///{path}", employees=40, start=START, days=5)
    again = simulate(f"sqlite:///{path}", employees=40, start=START, days=7, replace=True)
    assert again.last_work_date == START + dt.timedelta(days=6)


# --- determinism -------------------------------------------------------------------------
def test_same_seed_same_content_other_seed_differs(tmp_path: Path) -> None:
    a = run_sim(tmp_path, "a", employees=80, days=30, seed=3)
    b = run_sim(tmp_path, "b", employees=80, days=30, seed=3)
    c = run_sim(tmp_path, "c", employees=80, days=30, seed=4)
    for table in TABLES:
        assert table_rows(a.path, table) == table_rows(b.path, table), table
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert table_rows(a.path, "timesheet_entries") != table_rows(c.path, "timesheet_entries")
    assert not a.truth.equals(c.truth)


def test_a_longer_run_repeats_the_earlier_days(tmp_path: Path) -> None:
    short = run_sim(tmp_path, "short", employees=80, days=20, seed=5)
    long = run_sim(tmp_path, "long", employees=80, days=35, seed=5)
    # Activity rows and ground-truth labels of a day are final the day after.
    q = "SELECT * FROM workstation_activity WHERE activity_date < '2026-03-21' ORDER BY 1, 2"
    pd.testing.assert_frame_equal(short.q(q), long.q(q))
    early = "SELECT entry_id, employee_id, project_id, work_date, activity_code, submitted_at "
    early += "FROM timesheet_entries WHERE work_date < '2026-03-10' ORDER BY 1"
    pd.testing.assert_frame_equal(short.q(early), long.q(early))


# --- fraud -------------------------------------------------------------------------------
def test_every_fraud_type_and_lookalike_is_present(sim: Sim) -> None:
    truth = sim.truth
    # optional schemes (buddy timesheeting) exist only in worlds whose knobs ask for them
    assert set(truth.fraud_type.dropna()) == set(FRAUD_TYPES) - set(OPTIONAL_FRAUD_TYPES)
    assert (truth.is_fraud == truth.fraud_type.notna()).all()
    assert truth.loc[truth.is_fraud, "lookalike"].isna().all(), "fraud days are not look-alikes"
    looks = set(truth.lookalike.dropna())
    assert {"long_day", "late_catchup", "weekend_deadline", "holiday_work"} <= looks
    assert len(looks) >= 6
    assert not truth.duplicated(["employee_id", "work_date"]).any()
    assert str(pd.read_parquet(sim.summary.ground_truth_path).dtypes["employee_id"]) == "int64"


def test_ground_truth_covers_exactly_the_employee_days_with_entries(sim: Sim) -> None:
    keys = sim.q("SELECT DISTINCT employee_id, work_date FROM timesheet_entries")
    truth = sim.truth
    merged = keys.merge(truth, how="outer", on=["employee_id", "work_date"], indicator=True)
    assert (merged["_merge"] == "both").all()


def test_fraud_is_habitual_and_near_the_requested_rate(tmp_path: Path) -> None:
    base = run_sim(tmp_path, "base", employees=700, days=42, seed=2)
    truth = base.truth
    share = truth.is_fraud.mean()
    assert 0.5 * DEFAULT_FRAUD_RATE < share < 2.0 * DEFAULT_FRAUD_RATE
    perpetrators = truth.loc[truth.is_fraud, "employee_id"].nunique()
    assert 0.015 < perpetrators / 700 < 0.05, "a few per cent of staff commit fraud"
    per_person = truth[truth.is_fraud].groupby("employee_id")
    assert per_person.fraud_type.nunique().max() <= 2, "one or two habits per perpetrator"
    assert per_person.size().median() >= 3, "fraud is repeated, not a one-off"
    more = run_sim(tmp_path, "more", employees=700, days=42, seed=2, fraud_rate=0.05)
    assert more.truth.is_fraud.mean() > 2 * share
    none = run_sim(tmp_path, "none", employees=150, days=20, seed=2, fraud_rate=0.0)
    assert not none.truth.is_fraud.any()


def _share(mask: pd.Series) -> float:
    return float(mask.mean()) if len(mask) else 0.0


def test_each_fraud_type_shows_in_a_signal(
    sim: Sim, entries: pd.DataFrame, days: pd.DataFrame
) -> None:
    truth = sim.truth
    kind = truth.set_index(["employee_id", "work_date"]).fraud_type
    e = entries.join(kind, on=["employee_id", "work_date"])
    counted = e[e.status.isin(["submitted", "approved"])]
    gap = days.hours - days.active_minutes.fillna(0) / 60

    # padding: claimed well above the logged activity
    assert _share(gap[days.fraud_type == "padding"] >= 1.5) > 0.8
    # unassigned: a billable line without an assignment covering the date
    asg = sim.q("SELECT employee_id, project_id, start_date, end_date FROM project_assignments")
    billable = counted[
        (counted.fraud_type == "unassigned_project") & (counted.project_type == "billable")
    ]
    covered = billable.merge(asg, on=["employee_id", "project_id"], how="left")
    covered["ok"] = (covered.start_date <= covered.work_date) & (
        covered.end_date.isna() | (covered.work_date <= covered.end_date)
    )
    per_line = covered.groupby("entry_id").ok.any()
    assert (~per_line).sum() > 0
    # closed project: lines after the project's end date
    closed = counted[counted.fraud_type == "closed_project"]
    assert (
        (closed.project_end.notna() & (closed.project_end < closed.work_date))
        .groupby([closed.employee_id, closed.work_date])
        .any()
        .all()
    )
    # leave or holiday: the day is on approved leave or a holiday, and nothing was logged
    lh = days[days.fraud_type == "leave_or_holiday"]
    assert lh.active_minutes.isna().all()
    # duplicate: two counted lines with the same project, hours and activity
    dup = counted[counted.fraud_type == "duplicate"]
    assert (
        dup.duplicated(["employee_id", "work_date", "project_id", "hours", "activity_code"])
        .groupby([dup.employee_id, dup.work_date])
        .any()
        .all()
    )
    # ghost: work after the termination date
    ghost = e[e.fraud_type == "ghost"]
    assert (ghost.termination_date.notna() & (ghost.work_date > ghost.termination_date)).all()
    # backdated bulk: entered long after, many days in one sitting
    bulk = e[e.fraud_type == "backdated_bulk"].copy()
    bulk["lag"] = (
        pd.to_datetime(bulk.submitted_at).dt.normalize() - pd.to_datetime(bulk.work_date)
    ).dt.days
    assert bulk.lag.max() >= 10
    batch = bulk.groupby(["employee_id", bulk.submitted_at.str[:10]]).work_date.nunique()
    assert batch.max() >= 5
    # rubber stamp: approved by themselves or by a colleague who is not their manager
    rs = e[(e.fraud_type == "rubber_stamp") & (e.status == "approved")]
    assert (rs.approver_id != rs.manager_id).all()


def test_lookalikes_differ_from_fraud_in_another_signal(
    sim: Sim, days: pd.DataFrame, entries: pd.DataFrame
) -> None:
    gap = days.hours - days.active_minutes.fillna(0) / 60
    long = days.lookalike == "long_day"
    assert days[long].hours.median() > days[days.is_fraud == False].hours.median() + 1  # noqa: E712
    assert gap[long].median() < 2.0, "long days are backed by activity"
    for kind in ("holiday_work", "weekend_deadline", "late_catchup", "long_day"):
        assert days[days.lookalike == kind].active_minutes.notna().all(), kind
    catchup = entries.merge(days[days.lookalike == "late_catchup"][["employee_id", "work_date"]])
    lag = (
        pd.to_datetime(catchup.submitted_at).dt.normalize() - pd.to_datetime(catchup.work_date)
    ).dt.days
    assert lag.max() < 14


# --- the rest of the firm ----------------------------------------------------------------
def test_the_firm_looks_like_a_consulting_firm(
    sim: Sim, entries: pd.DataFrame, days: pd.DataFrame
) -> None:
    emp = sim.q("SELECT * FROM employees")
    assert emp.country_code.nunique() >= 6 and emp.office.nunique() >= 8
    assert set(emp.grade) == {"analyst", "consultant", "manager", "senior_manager", "partner"}
    assert (emp.contracted_hours_per_week < 35).any(), "part-timers"
    assert emp.termination_date.notna().any()
    assert (emp.hire_date >= str(START)).any(), "hires during the window"
    assert emp.manager_id.isna().sum() < len(emp) / 10
    projects = sim.q("SELECT * FROM projects")
    assert set(projects.project_type) == {"billable", "internal", "bench", "training"}
    assert set(projects.status) == {"open", "closed"}
    assert (projects.status == "closed").eq(projects.end_date.notna()).all()
    leave = sim.q("SELECT * FROM leave_records")
    assert {"vacation", "sick"} <= set(leave.leave_type) and "cancelled" in set(leave.status)
    hol = sim.q("SELECT country_code, COUNT(*) n FROM public_holidays GROUP BY 1")
    assert len(hol) >= 6 and (hol.n >= 5).all()

    assert ((entries.hours * 4) % 1 == 0).all(), "quarter hours"
    assert set(entries.status) == {"submitted", "approved", "rejected", "withdrawn"}
    approved = entries[entries.status == "approved"]
    assert (approved.approved_at > approved.submitted_at).all()
    assert (entries.updated_at >= entries.submitted_at).all()
    assert (approved.approver_id == approved.manager_id).mean() > 0.85
    # Changed after its approval without a new one: only a post_approval_edit does that.
    edited = entries[entries.updated_at > entries.approved_at.fillna(entries.updated_at)]
    kind = sim.truth.set_index(["employee_id", "work_date"]).fraud_type
    assert len(edited) < 0.002 * len(approved)
    assert (edited.join(kind, on=["employee_id", "work_date"]).fraud_type == TYPE_EDIT).all()
    weekend = pd.to_datetime(entries.work_date).dt.weekday >= 5
    assert 0 < weekend.mean() < 0.03
    late = (
        pd.to_datetime(entries.submitted_at).dt.normalize() - pd.to_datetime(entries.work_date)
    ).dt.days
    assert (late == 0).mean() > 0.2 and (late >= 3).mean() > 0.05

    honest = days[(days.is_fraud == False) & days.lookalike.isna() & days.active_minutes.notna()]  # noqa: E712
    ratio = honest.active_minutes / 60 / honest.hours
    assert 0.75 < ratio.median() < 1.05, "activity follows the work"
    on_leave = sim.q(
        "SELECT COUNT(*) n FROM workstation_activity w JOIN leave_records l "
        "ON l.employee_id = w.employee_id AND w.activity_date BETWEEN l.start_date AND l.end_date "
        "WHERE l.status = 'approved'"
    )
    assert on_leave.n[0] == 0, "nobody is seen at work on approved leave"


def test_investigations_label_only_the_past(sim: Sim) -> None:
    cases = sim.q("SELECT * FROM investigation_cases")
    truth = sim.truth
    cutoff = str(START + dt.timedelta(days=int(sim.days * 0.8)))
    closed = cases[cases.closed_at.notna()]
    assert len(closed) > 0
    assert (closed.work_date < cutoff).all(), "no closed case in the last 20 % of the window"
    recent = cases[cases.work_date >= cutoff]
    assert recent.outcome.isna().all() and len(recent) <= 0.2 * len(cases)
    assert (closed.closed_at > closed.opened_at).all() and (cases.opened_at > cases.work_date).all()
    assert set(closed.outcome) == {"confirmed", "cleared"}
    assert (closed.outcome == "confirmed").eq(closed.fraud_type.notna()).all()
    labelled = closed.merge(truth, on=["employee_id", "work_date"], how="left")
    confirmed = labelled[labelled.outcome == "confirmed"]
    assert confirmed.is_fraud.all() and (confirmed.fraud_type_x == confirmed.fraud_type_y).all()
    cleared = labelled[labelled.outcome == "cleared"]
    assert (cleared.is_fraud == False).mean() > 0.8 and cleared.lookalike.notna().any()  # noqa: E712
    assert len(cases) < 0.05 * len(truth), "most days are never investigated"
    assert len(confirmed) < truth.is_fraud.sum(), "only part of the fraud was caught"


def test_no_ground_truth_leaks_into_the_source(sim: Sim) -> None:
    allowed = {("investigation_cases", "fraud_type")}  # the customer's own label column
    with sqlite3.connect(sim.path) as con:
        for table, cols in TABLES.items():
            for col in cols:
                if (table, col) in allowed:
                    continue
                assert not any(w in col.lower() for w in FRAUD_WORDS), (table, col)
                values = con.execute(f"SELECT DISTINCT CAST({col} AS TEXT) FROM {table}").fetchall()
                for (v,) in values:
                    text = (v or "").lower()
                    assert not any(w in text for w in FRAUD_WORDS), (table, col, v)
    raw = sim.path.read_bytes()
    assert b"lookalike" not in raw and b"is_fraud" not in raw
    assert Path(sim.summary.ground_truth_path).exists()
    assert not Path(sim.summary.ground_truth_path).samefile(sim.path)


# --- append ------------------------------------------------------------------------------
def test_append_adds_days_and_late_edits(tmp_path: Path) -> None:
    first = run_sim(tmp_path, "grow", employees=150, days=40, seed=9)
    before = {t: table_rows(first.path, t) for t in TABLES}
    prev_max = first.q("SELECT MAX(updated_at) m FROM timesheet_entries").m[0]
    prev_truth = first.truth
    through = START + dt.timedelta(days=54)
    batch = append_through(first.url, through)

    assert batch.last_work_date == through and batch.appended_days == 15
    e = first.q("SELECT * FROM timesheet_entries")
    assert e.work_date.max() > str(first.summary.last_work_date)
    assert first.q("SELECT MAX(updated_at) m FROM timesheet_entries").m[0] > prev_max
    upd = TABLES["timesheet_entries"].index("updated_at")
    hours = TABLES["timesheet_entries"].index("hours")
    status = TABLES["timesheet_entries"].index("status")
    old = {r[0]: r for r in before["timesheet_entries"]}
    now = {r[0]: r for r in table_rows(first.path, "timesheet_entries")}
    gone = set(old) - set(now)
    assert len(gone) < 0.01 * len(old), "rows are edited in place; a few approved are deleted"
    assert all(old[k][status] == "approved" for k in gone)
    changed = [k for k, r in old.items() if k in now and r != now[k]]
    assert changed, "older rows were edited"
    assert all(str(now[k][upd]) > prev_max for k in changed)
    assert all(str(r[upd]) <= prev_max for r in old.values())
    assert len(changed) < 0.2 * len(old), "most old rows are untouched"
    new_rows = e[~e.entry_id.isin(list(old))]
    assert (new_rows.updated_at > prev_max).all()
    assert (new_rows.work_date <= str(first.summary.last_work_date)).any(), "late submissions"
    assert any(old[k][hours] != now[k][hours] for k in changed), "corrections change hours"
    edited_reference = 0
    for table in ("employees", "projects", "project_assignments", "leave_records"):
        prev_t = max(str(r[-1]) for r in before[table])  # updated_at is the last column
        was = {r[0]: r for r in before[table]}
        for row in table_rows(first.path, table):
            if was.get(row[0]) != row:
                assert str(row[-1]) > prev_t, (table, row)
                edited_reference += row[0] in was
    assert edited_reference > 0, "projects close, assignments end, people leave"

    truth = first.truth
    assert truth.work_date.max() > prev_truth.work_date.max()
    keys = first.q("SELECT DISTINCT employee_id, work_date FROM timesheet_entries")
    assert len(keys) == len(truth)
    assert len(truth) > len(prev_truth)

    # Growing in two batches gives the same database as simulating in one go.
    again = append_through(first.url, through + dt.timedelta(days=6))
    assert again.appended_days == 6
    whole = run_sim(tmp_path, "whole", employees=150, days=61, seed=9)
    for table in TABLES:
        assert table_rows(first.path, table) == table_rows(whole.path, table), table
    pd.testing.assert_frame_equal(first.truth, whole.truth)
    noop = append_through(first.url, through)
    assert noop.appended_days == 0 and noop.notes


def test_append_refuses_without_state(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        append_through(f"sqlite:///{tmp_path / 'nothing.db'}", START)


# --- command line ------------------------------------------------------------------------
def test_cli_simulate_then_append(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="tsfraud")
    register(parser.add_subparsers(dest="command", required=True))
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    gt = str(tmp_path / "truth.parquet")
    args = parser.parse_args(
        ["simulate", "--url", url, "--employees", "60", "--start", "2026-03-02", "--days", "10",
         "--seed", "1", "--ground-truth", gt]
    )  # fmt: skip
    assert args.func(args) == 0
    assert "timesheet entries" in capsys.readouterr().out
    args = parser.parse_args(
        ["simulate", "--url", url, "--ground-truth", gt, "--append-through", "2026-03-15"]
    )
    assert args.func(args) == 0
    assert "2026-03-15" in capsys.readouterr().out
    assert Path(gt).with_suffix(".json").exists()
    with pytest.raises(SystemExit):
        bad = parser.parse_args(
            ["simulate", "--url", url, "--append-through", "2026-03-20", "--days", "3"]
        )
        bad.func(bad)
    args = parser.parse_args(
        [
            "simulate",
            "--url",
            url,
            "--employees",
            "60",
            "--start",
            "2026-03-02",
            "--days",
            "5",
            "--ground-truth",
            gt,
        ]
    )
    assert args.func(args) == 2, "an existing database is not overwritten without --replace"


# --- PostgreSQL --------------------------------------------------------------------------
PG = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(PG, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable on 127.0.0.1:5432: {exc}")
    name = f"tsfraud_sim_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


@pytest.mark.postgres
def test_postgres_matches_sqlite_and_appends(pg_url: str, tmp_path: Path) -> None:
    import psycopg

    gt = str(tmp_path / "pg_truth.parquet")
    pg = simulate(pg_url, employees=120, start=START, days=30, seed=21, ground_truth_path=gt)
    lite = run_sim(tmp_path, "lite", employees=120, days=30, seed=21)
    assert pg.rows == lite.summary.rows
    pd.testing.assert_frame_equal(
        pd.read_parquet(gt), pd.read_parquet(lite.summary.ground_truth_path)
    )
    dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as con:
        got = con.execute(
            "SELECT entry_id, hours::text, status, submitted_at::text, updated_at::text "
            "FROM timesheet_entries ORDER BY entry_id"
        ).fetchall()
        tables = {
            r[0] for r in con.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
        prev_max = con.execute("SELECT MAX(updated_at) FROM timesheet_entries").fetchone()[0]  # type: ignore[index]
    assert tables == set(TABLES)
    want = lite.q(
        "SELECT entry_id, hours, status, submitted_at, updated_at "
        "FROM timesheet_entries ORDER BY entry_id"
    )
    assert [r[0] for r in got] == want.entry_id.tolist()
    assert [float(r[1]) for r in got] == want.hours.astype(float).tolist()
    assert [r[3] for r in got] == want.submitted_at.tolist()

    with pytest.raises(FileExistsError):
        simulate(pg_url, employees=120, start=START, days=30, seed=21, ground_truth_path=gt)
    batch = append_through(pg_url, START + dt.timedelta(days=40), ground_truth_path=gt)
    assert batch.updated["timesheet_entries"] > 0 and batch.inserted["timesheet_entries"] > 0
    with psycopg.connect(dsn) as con:
        new_max, last_day = con.execute(
            "SELECT MAX(updated_at), MAX(work_date) FROM timesheet_entries"
        ).fetchone()  # type: ignore[misc]
    assert new_max > prev_max and last_day > START + dt.timedelta(days=29)
    assert pd.read_parquet(gt).work_date.max() > START + dt.timedelta(days=29)
