"""The dbt project on DuckDB, end to end, on a hand-built lake.

Every fraud signal gets a day where it must fire and an honest look-alike where it must
not, because a feature that fires on both is noise to the model. The lake is written once
per module and dbt runs three times (each invocation costs seconds):

1. ``build`` over all data: the feature and report values, and every dbt test passing;
2. ``build`` of the single day T after the input of T (and of T-1, outside the window)
   changed: only T is rewritten, a vanished employee-day disappears, and T's 28-day
   baselines see the changed history that lies before the window;
3. the same window again with unchanged input: nothing moves (idempotent, no duplicates).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from statistics import median, stdev
from typing import Any

import duckdb
import pytest

from tests.lake_fixtures import (
    PROCESSED_TIMESHEET_ENTRY_SCHEMA,
    RAW_EMPLOYEE_SCHEMA,
    RAW_INVESTIGATION_CASE_SCHEMA,
    TIMESHEET_SCORE_SCHEMA,
    remove_partition,
    write_partitioned,
    write_snapshot,
)
from tsfraud_assets.defs.dbt.invocation import dbt_window_env
from tsfraud_assets.settings import DBT_PROJECT_DIR

T = date(2024, 2, 14)  # a Wednesday: the day most scenarios play out on
MANAGER = 900  # approves everybody's time unless a scenario says otherwise
OLD_DAY = T - timedelta(days=69)  # a Thursday, before the window run's staging view (T-63)

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "data-contracts.md"


def contract_feature_columns() -> list[str]:
    """The employee_day_features columns as docs/data-contracts.md lists them."""
    section = CONTRACT.read_text().split("`employee_day_features` (marts)")[1]
    listed = section.split("Columns the model and the reports read")[1].split(":", 1)[1]
    return re.findall(r"[a-z_0-9]+", listed.split("`.")[0])


def d(offset: int) -> date:
    """The date ``offset`` days from T."""
    return T + timedelta(days=offset)


def at(day: date, hour: float) -> datetime:
    return datetime.combine(day, time()) + timedelta(hours=hour)


# --------------------------------------------------------------------------- the lake


@dataclass
class Lake:
    """Builds processed entries the way the Spark job would enrich them."""

    root: Path
    #: employees the stand-in scoring marks suspect on every day they have
    suspects: set[int] = field(default_factory=lambda: {102, 103, 110, 130, 147})
    employees: dict[int, dict[str, Any]] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    next_entry_id: int = 1

    def employee(self, employee_id: int, **attrs: Any) -> None:
        row = {
            "employee_id": employee_id,
            "employee_code": f"EMP{employee_id:05d}",
            "country_code": "GB",
            "office": "London",
            "practice": f"practice_{employee_id}",  # alone in its peer group by default
            "grade": "consultant",
            "manager_id": MANAGER,
            "hire_date": date(2020, 1, 6),
            "termination_date": None,
            "contracted_hours_per_week": 40.0,
            "updated_at": datetime(2024, 1, 1),
        }
        row.update(attrs)
        self.employees[employee_id] = row

    def entry(self, employee_id: int, work_date: date, hours: float, **attrs: Any) -> None:
        """One entry, approved by the manager the next morning unless attrs say otherwise."""
        emp = self.employees[employee_id]
        status = attrs.pop("status", "approved")
        submitted_at = attrs.pop("submitted_at", at(work_date, 18))
        approver_id = attrs.pop("approver_id", MANAGER if status == "approved" else None)
        approved_at = attrs.pop(
            "approved_at", submitted_at + timedelta(hours=16) if approver_id else None
        )
        row = {
            "entry_id": self.next_entry_id,
            "employee_id": employee_id,
            "work_date": work_date,
            "project_id": 1,
            "hours": float(hours),
            "activity_code": "DEV",
            "comment": None,
            "entry_channel": "web",
            "status": status,
            "submitted_at": submitted_at,
            "approved_at": approved_at,
            "updated_at": max(submitted_at, approved_at or submitted_at),
            "approver_id": approver_id,
            "is_counted": status in ("submitted", "approved"),
            "employee_code": emp["employee_code"],
            "country_code": emp["country_code"],
            "office": emp["office"],
            "practice": emp["practice"],
            "grade": emp["grade"],
            "manager_id": emp["manager_id"],
            "hire_date": emp["hire_date"],
            "termination_date": emp["termination_date"],
            "contracted_hours_per_week": emp["contracted_hours_per_week"],
            "project_code": "PRJ-1",
            "project_type": "billable",
            "project_status": "open",
            "client_id": 1,
            "is_assigned": True,
            "is_project_open": True,
            "is_on_leave": False,
            "leave_type": None,
            "is_holiday": False,
            "is_weekend": work_date.weekday() >= 5,
            "is_post_termination": False,
            "submission_lag_days": (submitted_at.date() - work_date).days,
            "approval_lag_hours": (
                (approved_at - submitted_at).total_seconds() / 3600 if approved_at else None
            ),
            "is_self_approved": approver_id == employee_id,
            "is_manager_approved": approver_id is not None and approver_id == emp["manager_id"],
            "active_minutes": None,  # filled per day in finish()
            "has_activity": True,
            "is_duplicate_line": False,
        }
        row.update(attrs)
        self.next_entry_id += 1
        self.entries.append(row)

    def finish_days(self) -> None:
        """Fill the day-level columns; activity defaults to matching the counted hours."""
        days: dict[tuple[int, date], list[dict[str, Any]]] = {}
        for row in self.entries:
            days.setdefault((row["employee_id"], row["work_date"]), []).append(row)
        for rows in days.values():
            counted = sum(r["hours"] for r in rows if r["is_counted"])
            explicit = [r["active_minutes"] for r in rows if r["active_minutes"] is not None]
            active = explicit[0] if explicit else int(counted * 60)
            has_activity = all(r["has_activity"] for r in rows)
            spans = [r["presence_minutes"] for r in rows if r.get("presence_minutes") is not None]
            # the span covers the counted hours and a lunch break unless a test says otherwise
            presence = spans[0] if spans else int(counted * 60) + 45
            for r in rows:
                r["active_minutes"] = active if has_activity else 0
                r["has_activity"] = has_activity
                r["presence_minutes"] = presence if has_activity else None
                r["day_counted_hours"] = counted
                r["day_entry_count"] = len(rows)

    def employee_days(self) -> list[tuple[int, date]]:
        return sorted({(r["employee_id"], r["work_date"]) for r in self.entries})

    def write(self, dates: set[date] | None = None) -> None:
        """Write processed entries (only ``dates`` when given) and the matching scores."""
        self.finish_days()
        processed = self.root / "processed" / "timesheet_entries"
        scores_dir = self.root / "scores" / "timesheet_scores"
        wanted = [r for r in self.entries if dates is None or r["work_date"] in dates]
        write_partitioned(wanted, processed, PROCESSED_TIMESHEET_ENTRY_SCHEMA)
        write_partitioned(
            self.scores(dates), scores_dir, TIMESHEET_SCORE_SCHEMA, file_name="data.parquet"
        )
        for day in dates or set():
            if not any(r["work_date"] == day for r in self.entries):
                remove_partition(processed, day)
                remove_partition(scores_dir, day)
        write_snapshot(
            [
                {
                    **e,
                    "contracted_hours_per_week": Decimal(str(e["contracted_hours_per_week"])),
                }
                for e in self.employees.values()
            ],
            self.root / "raw" / "employees",
            RAW_EMPLOYEE_SCHEMA,
        )

    def scores(self, dates: set[date] | None) -> list[dict[str, Any]]:
        """A stand-in for the scoring asset: one row per employee-day, suspects fixed."""
        rows: list[dict[str, Any]] = []
        for employee_id, work_date in self.employee_days():
            if dates is not None and work_date not in dates:
                continue
            suspect = employee_id in self.suspects
            rows.append(
                {
                    "employee_id": employee_id,
                    "work_date": work_date,
                    "fraud_score": 0.9 if suspect else round(0.01 * (employee_id % 50), 2),
                    "is_suspect": suspect,
                    "reasons": "test reason" if suspect else "",
                    "model_version": "test-v1",
                }
            )
        for day in {r["work_date"] for r in rows}:
            same_day = sorted(
                (r for r in rows if r["work_date"] == day),
                key=lambda r: (-r["fraud_score"], r["employee_id"]),
            )
            for rank, r in enumerate(same_day, start=1):
                r["rank"] = rank
        return rows


def build_scenarios(lake: Lake) -> None:
    """Each employee is one scenario; ids are quoted in the tests below."""
    for employee_id in range(101, 148):
        lake.employee(employee_id)
    for employee_id in (MANAGER, 124):
        lake.employee(employee_id, grade="partner", manager_id=None)

    # Long days: one honest (activity matches), one inflated (half the hours unaccounted for).
    lake.entry(101, T, 12, active_minutes=12 * 60)
    lake.entry(102, T, 12, active_minutes=6 * 60)
    # Leave: booked on approved leave vs. on a leave that was cancelled (not on leave).
    lake.entry(103, T, 8, is_on_leave=True, leave_type="vacation")
    lake.entry(104, T, 8)
    lake.entry(105, T, 8, is_holiday=True)
    lake.entry(106, d(3), 8)  # Saturday
    lake.entry(107, T, 8, is_assigned=False)
    lake.entry(108, T, 8, is_project_open=False)
    lake.employee(109, termination_date=date(2024, 1, 31))
    lake.entry(109, T, 8, is_post_termination=True)
    # Duplicate line vs. the same hours split over two projects.
    lake.entry(110, T, 4)
    lake.entry(110, T, 4, is_duplicate_line=True)
    lake.entry(111, T, 4)
    lake.entry(111, T, 4, project_id=2)

    # Own baseline: [T-28, T-1] holds 6,6,6,6,6,7,7,7,7,7 (median 6.5); T-29 and T-30 hold
    # 1 h (outside), T itself 12 h (must not count). Any off-by-one moves the median.
    for offset, hours in [(-1, 6), (-2, 6), (-5, 6), (-6, 6), (-7, 6)]:
        lake.entry(112, d(offset), hours)
    for offset, hours in [(-8, 7), (-9, 7), (-12, 7), (-13, 7), (-28, 7)]:
        lake.entry(112, d(offset), hours)
    lake.entry(112, d(-29), 1)
    lake.entry(112, d(-30), 1)
    lake.entry(112, T, 12)
    # A part-timer: the contract, not 8 h, is the yardstick (and the fallback baseline).
    lake.employee(113, contracted_hours_per_week=30.0)
    lake.entry(113, T, 8)

    # Peers: 114-116 share grade/practice/country; 117 too, but only with rejected time.
    for employee_id in (114, 115, 116, 117, 118):
        lake.employee(employee_id, practice="strategy")
    lake.employee(118, practice="strategy", country_code="DE", office="Berlin")
    lake.entry(114, T, 10)
    lake.entry(115, T, 6)
    lake.entry(116, T, 8)
    lake.entry(117, T, 8, status="rejected")
    lake.entry(118, T, 12, active_minutes=12 * 60)  # same job abroad: no peers

    # Approvals: 120 and 121 approve each other (121's day two days before T), 122's
    # manager 123 approves 122 but is approved by 124, 125 approves itself, and 126/127
    # approved each other 40 days apart (outside the trailing 28 days).
    lake.entry(120, T, 8, approver_id=121)
    lake.entry(121, d(-2), 8, approver_id=120)
    lake.employee(122, manager_id=123)
    lake.employee(123, manager_id=124)
    lake.entry(122, T, 8, approver_id=123)
    lake.entry(123, T, 8, approver_id=124)
    lake.entry(125, T, 8, approver_id=125)
    lake.entry(127, d(-40), 8, approver_id=126)
    lake.entry(126, T, 8, approver_id=127)

    # Submissions: 130 backfills six days in one go 16+ days late; 131 is late once;
    # 132 submits the whole week on Friday (a batch, but not late).
    for offset in (-7, -6, -5, -2, -1, 0):
        lake.entry(130, d(offset), 8, submitted_at=at(d(16), 9))
    lake.entry(131, d(-1), 8)
    lake.entry(131, T, 8, submitted_at=at(d(20), 9))
    for offset in (-2, -1, 0, 1, 2):
        lake.entry(132, d(offset), 8, submitted_at=at(d(2), 17))

    # Round hours: all whole, none whole, half whole.
    lake.entry(135, T, 8)
    lake.entry(136, T, 7.5)
    lake.entry(136, T, 0.25)
    lake.entry(137, T, 4)
    lake.entry(137, T, 3.5)

    # Statuses: approved after 24 h + rejected + withdrawn; one merely submitted.
    lake.entry(140, T, 8, approved_at=at(T, 18 + 24))
    lake.entry(140, T, 4, status="rejected")
    lake.entry(140, T, 2, status="withdrawn")
    lake.entry(141, T, 8, status="submitted")
    # No workstation activity at all vs. 101's long day with activity.
    lake.entry(142, T, 8, has_activity=False)
    # Only rejected time: the employee-day exists, with zero hours.
    lake.entry(145, T, 8, status="rejected")

    # Clients: 147 (a suspect) worked a day long before T, outside the staging view of any
    # later window run: 6 h for client 7, 2 h internal (no client) and 1 h rejected.
    lake.entry(147, OLD_DAY, 6, client_id=7)
    lake.entry(147, OLD_DAY, 2, client_id=None, project_id=3, project_type="internal")
    lake.entry(147, OLD_DAY, 1, client_id=7, status="rejected")

    build_habit_scenarios(lake)

    write_snapshot(
        [
            case(1, 103, T, "confirmed", "leave_booking", closed=d(6)),
            case(2, 104, T, "cleared", None, closed=d(6)),
            case(3, 102, T, None, None, closed=None),  # still open: no label
            case(4, 110, T, "cleared", None, closed=d(4)),  # superseded by case 5
            case(5, 110, T, "confirmed", "duplicate_lines", closed=d(11)),
        ],
        lake.root / "raw" / "investigation_cases",
        RAW_INVESTIGATION_CASE_SCHEMA,
    )


PRIOR_WEEKDAYS = (-1, -2, -5, -6, -7, -8)  # six working days before T (a Wednesday)


def build_habit_scenarios(lake: Lake) -> None:
    """Each person against their own habits (#13): activity ratio, approver speed, and
    colleagues who enter time together. Ids 150-183; nothing on T trips a firm-wide rule."""
    for employee_id in range(150, 184):
        lake.employee(employee_id)
    # Same day on T (10 h claimed, 7 h active: under every firm-wide threshold) for a padder
    # whose screen is usually busy (ratio 1.0) and for someone whose screen is usually idle
    # 30% of the time (ratio 0.7); 152 has only four earlier days (and T): no baseline.
    for offset in PRIOR_WEEKDAYS:
        lake.entry(150, d(offset), 8, active_minutes=8 * 60)
        lake.entry(151, d(offset), 8, active_minutes=int(5.6 * 60))
    for offset in PRIOR_WEEKDAYS[:4]:
        lake.entry(152, d(offset), 8, active_minutes=8 * 60)
    for employee_id in (150, 151, 152):
        lake.entry(employee_id, T, 10, active_minutes=7 * 60)

    # Approvers: 160 takes 16 h (the default) over 161's days, then approves 162's day on T
    # in 10 minutes: rushed. 163 always approves 164's days within 20 minutes, and 165's day
    # on T as fast: their habit, not a rush.
    for offset in PRIOR_WEEKDAYS:
        lake.entry(161, d(offset), 8, approver_id=160)
        sub = at(d(offset), 18)
        lake.entry(164, d(offset), 8, approver_id=163, approved_at=sub + timedelta(minutes=20))
    lake.entry(162, T, 8, approver_id=160, approved_at=at(T, 18) + timedelta(minutes=10))
    lake.entry(165, T, 8, approver_id=163, approved_at=at(T, 18) + timedelta(minutes=20))

    # Coordination: 171's day is entered 20 s after 170's, from the same channel, on five
    # working days up to T. 172 and 173 coincide once (T); 174 enters seconds after 170 on
    # T but from another channel.
    for offset in (*PRIOR_WEEKDAYS[:4], 0):
        lake.entry(170, d(offset), 8, submitted_at=at(d(offset), 9.5), entry_channel="mobile")
        lake.entry(
            171,
            d(offset),
            8,
            submitted_at=at(d(offset), 9.5) + timedelta(seconds=20),
            entry_channel="mobile",
        )
    lake.entry(172, T, 8, submitted_at=at(T, 11), entry_channel="api")
    lake.entry(173, T, 8, submitted_at=at(T, 11) + timedelta(seconds=30), entry_channel="api")
    lake.entry(174, T, 8, submitted_at=at(T, 9.5) + timedelta(seconds=10), entry_channel="web")

    # Changed after approval, in the row itself: 176's 5 h line was edited three days after
    # its approval and never re-approved; 177's line was touched 30 minutes after approval
    # (inside the hour an approval takes to settle); 178's line is only submitted, so an edit
    # days later is an ordinary correction before approval.
    approved = at(T, 18) + timedelta(hours=16)
    lake.entry(176, T, 5, updated_at=approved + timedelta(days=3))
    lake.entry(176, T, 3, project_id=2)
    lake.entry(177, T, 8, updated_at=approved + timedelta(minutes=30))
    lake.entry(178, T, 8, status="submitted", updated_at=at(T, 18) + timedelta(days=3))

    # Presence: 179 claims 10 h on T while the workstation was seen from first to last for
    # 7.5 h. 175 works at client sites: every day 8 h claimed over a 5 h span, T included.
    lake.entry(179, T, 10, presence_minutes=450)
    for offset in (*PRIOR_WEEKDAYS, 0):
        lake.entry(175, d(offset), 8, presence_minutes=300)

    # The padding shape as a habit (before T only). After six ordinary days (8 h, the screen
    # busy throughout), 180 claims 10 h on an 8 h contract with 6 h of workstation activity on
    # five days, then an ordinary day on T-1. 181 works the same 10 h days with the activity
    # to match (honest long days). 182 claims 8.5 h with 4 h active: a gap, but only half an
    # hour over the contract. 183's screen is usually half idle (client sites: 8 h, 4 h
    # active); their 10 h days with 5 h active are a firm-wide gap but ordinary for them.
    for offset in (-19, -16, -15, -14, -13, -12):
        for employee_id in (180, 181, 182):
            lake.entry(employee_id, d(offset), 8, active_minutes=8 * 60)
        lake.entry(183, d(offset), 8, active_minutes=4 * 60)
    for offset in PRIOR_WEEKDAYS[1:]:
        lake.entry(180, d(offset), 10, active_minutes=6 * 60)
        lake.entry(181, d(offset), 10, active_minutes=10 * 60)
        lake.entry(182, d(offset), 8.5, active_minutes=4 * 60)
        lake.entry(183, d(offset), 10, active_minutes=5 * 60)
    for employee_id in (180, 181, 182, 183):
        lake.entry(employee_id, d(-1), 8, active_minutes=8 * 60)


def case(
    case_id: int,
    employee_id: int,
    work_date: date,
    outcome: str | None,
    fraud_type: str | None,
    closed: date | None,
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "employee_id": employee_id,
        "work_date": work_date,
        "opened_at": at(work_date, 24 * 3),
        "closed_at": at(closed, 12) if closed else None,
        "outcome": outcome,
        "fraud_type": fraud_type,
        "updated_at": at(closed or work_date, 12),
    }


def change_window_input(lake: Lake) -> None:
    """T's input changes (and T-1's, which the window run must leave alone in the mart)."""
    for row in lake.entries:
        if row["employee_id"] == 102 and row["work_date"] == T:
            row["hours"] = 9.0  # 102 corrected the day: 9 h, no longer suspect
            row["active_minutes"] = None
        if row["employee_id"] == 112 and row["work_date"] == d(-1):
            row["hours"] = 20.0  # history before the window changed
    lake.entries = [
        r for r in lake.entries if not (r["employee_id"] == 145 and r["work_date"] == T)
    ]
    lake.entry(146, T, 8)  # a late-arriving employee-day
    lake.suspects.discard(102)
    lake.write({d(-1), T})


# --------------------------------------------------------------------------- running dbt


def run_dbt(args: list[str], target_path: Path, log_path: Path) -> Any:
    """Run dbt in-process and fail the test on any error or failing data test.

    dbt-duckdb keeps its DuckDB handle in a process-wide environment after the run; it is
    closed here so the test can open the warehouse file itself.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        [
            *args,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target",
            "duckdb",
            "--target-path",
            str(target_path),
            "--log-path",
            str(log_path),
            "--quiet",
        ]
    )
    env = DuckDBConnectionManager._ENV
    if env is not None:
        env.close()
    DuckDBConnectionManager.close_all_connections()
    if result.exception is not None:
        raise result.exception
    node_results: Any = result.result
    problems = [
        f"{r.node.unique_id}: {r.status} {r.message or ''}"
        for r in node_results
        if str(r.status) not in ("success", "pass")
    ]
    assert result.success and not problems, "\n".join(problems) or "dbt failed"
    return result


@dataclass
class Warehouse:
    """Snapshots of the marts after each dbt run, as lists of dicts."""

    full: dict[str, list[dict[str, Any]]]
    after_window: dict[str, list[dict[str, Any]]]
    after_rerun: dict[str, list[dict[str, Any]]]
    feature_columns: list[str]
    full_employee_days: list[tuple[int, date]]
    passed_tests: set[str]
    #: the warehouse file as the last (window) run left it
    db_path: Path


MARTS = (
    "employee_day_features",
    "investigation_labels",
    "suspect_timesheets",
    "daily_suspect_summary",
    "weekly_suspect_trend",
    "daily_signal_summary",
    "daily_client_hours",
)


def snapshot(db_path: Path) -> dict[str, list[dict[str, Any]]]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        tables = {}
        for name in MARTS:
            cursor = con.execute(f"select * from {name}")
            names = [c[0] for c in cursor.description]
            tables[name] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        return tables


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    tmp = tmp_path_factory.mktemp("dbt")
    lake = Lake(tmp / "lake")
    build_scenarios(lake)
    lake.write()
    full_employee_days = lake.employee_days()
    db_path = tmp / "warehouse.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TSFRAUD_LAKE", str(lake.root))
        mp.setenv("TSFRAUD_DUCKDB_PATH", str(db_path))
        built = run_dbt(["build"], tmp / "target", tmp / "logs")
        passed_tests = {r.node.name for r in built.result if r.node.resource_type == "test"}
        full = snapshot(db_path)
        with duckdb.connect(str(db_path), read_only=True) as con:
            columns = [r[0] for r in con.execute("describe employee_day_features").fetchall()]

        change_window_input(lake)
        for name, value in dbt_window_env(T, T).items():  # the window, as the assets pass it
            mp.setenv(name, value)
        run_dbt(["build"], tmp / "target", tmp / "logs")
        after_window = snapshot(db_path)

        run_dbt(
            ["run", "--select", "tag:features", "tag:reports"],
            tmp / "target",
            tmp / "logs",
        )
        after_rerun = snapshot(db_path)
    yield Warehouse(
        full, after_window, after_rerun, columns, full_employee_days, passed_tests, db_path
    )


def row(rows: list[dict[str, Any]], employee_id: int, work_date: date = T) -> dict[str, Any]:
    found = [r for r in rows if r["employee_id"] == employee_id and r["work_date"] == work_date]
    assert len(found) == 1, f"{len(found)} rows for employee {employee_id} on {work_date}"
    return found[0]


@pytest.fixture(scope="module")
def features(warehouse: Warehouse) -> list[dict[str, Any]]:
    return warehouse.full["employee_day_features"]


def feature(features: list[dict[str, Any]], employee_id: int, work_date: date = T) -> Any:
    return row(features, employee_id, work_date)


# --------------------------------------------------------------------------- shape


def test_the_dbt_tests_ran_and_passed(warehouse: Warehouse) -> None:
    """run_dbt fails on any failing test; this makes sure the business rules were among them."""
    assert {
        "assert_daily_total_hours_at_most_24",
        "assert_every_feature_row_has_an_employee",
        "assert_fraud_scores_between_0_and_1",
        "unique_combination_of_columns_employee_day_features_employee_id__work_date",
    } <= warehouse.passed_tests
    assert len(warehouse.passed_tests) > 80


def test_features_have_exactly_the_contract_columns_with_work_date_last(
    warehouse: Warehouse,
) -> None:
    assert sorted(warehouse.feature_columns) == sorted(contract_feature_columns())
    assert warehouse.feature_columns[-1] == "work_date"


def test_one_row_per_employee_day_with_an_entry_and_no_nulls(
    warehouse: Warehouse, features: list[dict[str, Any]]
) -> None:
    keys = [(r["employee_id"], r["work_date"]) for r in features]
    assert len(keys) == len(set(keys))
    assert set(keys) == set(warehouse.full_employee_days)
    assert (145, T) in keys  # only rejected entries: still an employee-day
    nulls = [(k, c) for r, k in zip(features, keys, strict=True) for c, v in r.items() if v is None]
    assert not nulls


# --------------------------------------------------------------------------- hours


def test_long_day_with_matching_activity_is_over_contract_but_not_over_activity(
    features: list[dict[str, Any]],
) -> None:
    honest = feature(features, 101)
    assert honest["total_hours"] == 12
    assert honest["contracted_daily_hours"] == 8
    assert honest["hours_over_contracted"] == 4
    assert honest["active_hours"] == pytest.approx(12)
    assert honest["hours_minus_active"] == pytest.approx(0)
    assert honest["no_activity_hours"] == 0
    assert honest["rule_flag_count"] == 1  # long day only

    inflated = feature(features, 102)
    assert inflated["hours_over_contracted"] == 4
    assert inflated["hours_minus_active"] == pytest.approx(6)
    assert inflated["rule_flag_count"] == 2  # long day + hours beyond activity


def test_no_activity_day(features: list[dict[str, Any]]) -> None:
    ghost = feature(features, 142)
    assert ghost["no_activity_hours"] == 8
    assert ghost["active_hours"] == 0
    assert ghost["hours_minus_active"] == 8


def test_part_timer_is_measured_against_their_contract(features: list[dict[str, Any]]) -> None:
    part_timer = feature(features, 113)
    assert part_timer["contracted_daily_hours"] == 6
    assert part_timer["hours_over_contracted"] == 2
    assert part_timer["own_median_hours_28d"] == 6  # no history: falls back to the contract


def test_statuses_count_only_submitted_and_approved_hours(features: list[dict[str, Any]]) -> None:
    mixed = feature(features, 140)
    assert mixed["total_hours"] == 8
    assert mixed["entry_count"] == 3
    assert mixed["rejected_entries"] == 1
    assert mixed["withdrawn_entries"] == 1
    assert mixed["avg_approval_lag_hours"] == pytest.approx(24)

    pending = feature(features, 141)
    assert pending["total_hours"] == 8
    assert pending["avg_approval_lag_hours"] == 0  # not approved yet: 0, not null

    rejected_only = feature(features, 145)
    assert rejected_only["total_hours"] == 0
    assert rejected_only["entry_count"] == 1
    assert rejected_only["rejected_entries"] == 1
    assert rejected_only["round_hour_share"] == 0
    assert rejected_only["rule_flag_count"] == 0


# --------------------------------------------------------------------------- calendar flags


@pytest.mark.parametrize(
    ("employee_id", "work_date", "column"),
    [
        (103, T, "leave_hours"),
        (105, T, "holiday_hours"),
        (106, d(3), "weekend_hours"),
        (107, T, "unassigned_hours"),
        (108, T, "closed_project_hours"),
        (109, T, "post_termination_hours"),
    ],
)
def test_flagged_hours_land_in_their_column_only(
    features: list[dict[str, Any]], employee_id: int, work_date: date, column: str
) -> None:
    flagged = feature(features, employee_id, work_date)
    flag_columns = [
        "leave_hours",
        "holiday_hours",
        "weekend_hours",
        "unassigned_hours",
        "closed_project_hours",
        "post_termination_hours",
    ]
    assert {c: flagged[c] for c in flag_columns} == {
        c: 8 if c == column else 0 for c in flag_columns
    }
    assert flagged["rule_flag_count"] == (0 if column == "weekend_hours" else 1)


def test_cancelled_leave_is_not_leave(features: list[dict[str, Any]]) -> None:
    cancelled = feature(features, 104)
    assert cancelled["leave_hours"] == 0
    assert cancelled["rule_flag_count"] == 0


def test_duplicate_line_vs_same_hours_on_two_projects(features: list[dict[str, Any]]) -> None:
    assert feature(features, 110)["duplicate_lines"] == 1
    assert feature(features, 110)["total_hours"] == 8
    assert feature(features, 111)["duplicate_lines"] == 0
    assert feature(features, 111)["rule_flag_count"] == 0


# --------------------------------------------------------------------------- baselines


def test_own_median_uses_exactly_the_previous_28_days(features: list[dict[str, Any]]) -> None:
    history = [6, 6, 6, 6, 6, 7, 7, 7, 7, 7]
    day = feature(features, 112)
    assert day["own_median_hours_28d"] == pytest.approx(median(history))  # 6.5
    assert day["hours_vs_own_median"] == pytest.approx(12 - 6.5)
    assert day["hours_stddev_28d"] == pytest.approx(stdev(history))

    first = feature(features, 112, d(-30))  # nothing before it
    assert first["own_median_hours_28d"] == 8
    assert first["hours_stddev_28d"] == 0
    assert feature(features, 101)["own_median_hours_28d"] == 8  # no history: the contract


def test_peer_mean_excludes_self_other_countries_and_zero_hour_days(
    features: list[dict[str, Any]],
) -> None:
    assert feature(features, 114)["peer_mean_hours"] == pytest.approx((6 + 8) / 2)
    assert feature(features, 114)["hours_vs_peer"] == pytest.approx(10 - 7)
    assert feature(features, 115)["peer_mean_hours"] == pytest.approx((10 + 8) / 2)
    assert feature(features, 117)["peer_mean_hours"] == pytest.approx((10 + 6 + 8) / 3)
    abroad = feature(features, 118)
    assert abroad["peer_mean_hours"] == 8  # no peer in DE: the contract
    assert abroad["hours_vs_peer"] == 4


# --------------------------------------------------------------------------- approvals


def test_reciprocal_approval_vs_one_directional_manager_approval(
    features: list[dict[str, Any]],
) -> None:
    reciprocal = feature(features, 120)
    assert reciprocal["reciprocal_approval_hours"] == 8
    assert reciprocal["self_approved_hours"] == 0
    assert reciprocal["rule_flag_count"] == 1
    # 121's day came first: 120's approval of it is not yet returned in the trailing window.
    assert feature(features, 121, d(-2))["reciprocal_approval_hours"] == 0
    for employee_id in (122, 123):
        assert feature(features, employee_id)["reciprocal_approval_hours"] == 0
        assert feature(features, employee_id)["rule_flag_count"] == 0
    assert feature(features, 126)["reciprocal_approval_hours"] == 0  # 40 days apart


def test_self_approval(features: list[dict[str, Any]]) -> None:
    own = feature(features, 125)
    assert own["self_approved_hours"] == 8
    assert own["reciprocal_approval_hours"] == 0
    assert own["rule_flag_count"] == 1


# --------------------------------------------------------------------------- own habits


def test_hours_beyond_own_activity_uses_the_persons_own_ratio_before_the_day(
    features: list[dict[str, Any]],
) -> None:
    padder, idle_screen, new = (feature(features, e) for e in (150, 151, 152))
    # the same firm-wide figures on T
    for day in (padder, idle_screen, new):
        assert (day["total_hours"], day["hours_minus_active"]) == (10, 3)
        assert day["rule_flag_count"] == 0
    assert padder["own_activity_ratio_28d"] == 1.0
    assert padder["hours_beyond_own_activity"] == 3.0  # 7 h of activity supports 7 h
    assert idle_screen["own_activity_ratio_28d"] == pytest.approx(0.7, abs=0.01)
    assert idle_screen["hours_beyond_own_activity"] == pytest.approx(0.0, abs=0.05)
    # four earlier days (T itself not counted) are too few for a baseline
    assert new["own_activity_ratio_28d"] == 0 and new["hours_beyond_own_activity"] == 0
    # everyone with a baseline on T (112, 150, 151) has a steady ratio: clean logs
    assert padder["activity_noise_28d"] == 0 and new["activity_noise_28d"] == 0


def test_rushed_approval_is_fast_against_the_approvers_own_habit(
    features: list[dict[str, Any]],
) -> None:
    assert feature(features, 162)["rushed_approval_hours"] == 8
    assert feature(features, 165)["rushed_approval_hours"] == 0  # always that fast
    assert feature(features, 161, d(-1))["rushed_approval_hours"] == 0  # the usual 16 h
    assert feature(features, 125)["rushed_approval_hours"] == 0  # self-approval: own signal


def test_cosubmissions_count_repeated_same_minute_entries_with_one_colleague(
    features: list[dict[str, Any]],
) -> None:
    assert feature(features, 171)["cosubmitted_days_28d"] == 5
    assert feature(features, 170)["cosubmitted_days_28d"] == 5
    assert feature(features, 171, d(-6))["cosubmitted_days_28d"] == 1  # the first time
    assert feature(features, 172)["cosubmitted_days_28d"] == 1  # a one-off coincidence
    assert feature(features, 174)["cosubmitted_days_28d"] == 0  # another channel


def test_hours_beyond_the_presence_span_and_the_persons_usual_gap(
    features: list[dict[str, Any]],
) -> None:
    stayed_late = feature(features, 179)
    assert stayed_late["hours_beyond_presence"] == pytest.approx(2.5)
    assert stayed_late["usual_hours_beyond_presence_28d"] == 0  # no five earlier days
    field = feature(features, 175)
    assert field["hours_beyond_presence"] == pytest.approx(3.0)
    assert field["usual_hours_beyond_presence_28d"] == pytest.approx(3.0)  # their habit
    assert feature(features, 101)["hours_beyond_presence"] == 0  # span covers the day
    assert feature(features, 142)["hours_beyond_presence"] == 0  # no activity: no span


def test_padding_shape_days_count_the_habit_over_the_days_before(
    features: list[dict[str, Any]],
) -> None:
    assert feature(features, 180, d(-1))["padding_shape_days_28d"] == 5
    assert feature(features, 180, d(-2))["padding_shape_days_28d"] == 4  # the day itself not
    assert feature(features, 180, d(-8))["padding_shape_days_28d"] == 0  # ordinary days before
    assert feature(features, 181, d(-1))["padding_shape_days_28d"] == 0  # activity matches
    assert feature(features, 182, d(-1))["padding_shape_days_28d"] == 0  # not over contract
    assert feature(features, 183, d(-1))["padding_shape_days_28d"] == 0  # their usual ratio
    assert feature(features, 183, d(-2))["hours_minus_active"] == 5  # yet a firm-wide gap


def test_an_approved_line_changed_later_without_a_new_approval(
    features: list[dict[str, Any]],
) -> None:
    assert feature(features, 176)["changed_after_approval_hours"] == 5
    assert feature(features, 177)["changed_after_approval_hours"] == 0
    assert feature(features, 178)["changed_after_approval_hours"] == 0
    assert feature(features, 140)["changed_after_approval_hours"] == 0  # approved late, untouched


# --------------------------------------------------------------------------- submissions


def test_bulk_backdated_vs_single_late_day_vs_timely_weekly_batch(
    features: list[dict[str, Any]],
) -> None:
    backfill = feature(features, 130, d(-7))
    assert backfill["max_submission_lag_days"] == 23
    assert backfill["days_submitted_same_batch"] == 6
    assert backfill["rule_flag_count"] == 1
    assert feature(features, 130)["max_submission_lag_days"] == 16

    late_once = feature(features, 131)
    assert late_once["max_submission_lag_days"] == 20
    assert late_once["days_submitted_same_batch"] == 1
    assert late_once["rule_flag_count"] == 0

    weekly = feature(features, 132)
    assert weekly["days_submitted_same_batch"] == 5
    assert weekly["max_submission_lag_days"] == 2
    assert weekly["rule_flag_count"] == 0


def test_round_hour_share(features: list[dict[str, Any]]) -> None:
    assert feature(features, 135)["round_hour_share"] == 1
    assert feature(features, 136)["round_hour_share"] == 0
    assert feature(features, 137)["round_hour_share"] == 0.5


# --------------------------------------------------------------------------- labels, reports


def test_investigation_labels_are_closed_cases_latest_verdict(warehouse: Warehouse) -> None:
    labels = warehouse.full["investigation_labels"]
    assert {(r["employee_id"], r["outcome"]) for r in labels} == {
        (103, "confirmed"),
        (104, "cleared"),
        (110, "confirmed"),
    }
    assert row(labels, 110)["fraud_type"] == "duplicate_lines"
    assert row(labels, 110)["closed_at"] == at(d(11), 12)


def test_suspect_timesheets_join_employee_attributes(warehouse: Warehouse) -> None:
    suspects = warehouse.full["suspect_timesheets"]
    assert {(r["employee_id"], r["work_date"]) for r in suspects if r["work_date"] == T} == {
        (102, T),
        (103, T),
        (110, T),
        (130, T),
    }
    inflated = row(suspects, 102)
    assert inflated["employee_code"] == "EMP00102"
    assert inflated["office"] == "London"
    assert inflated["total_hours"] == 12
    assert inflated["fraud_score"] == 0.9
    assert inflated["model_version"] == "test-v1"
    assert 1 <= inflated["rank"] <= 4
    assert len(suspects) == 4 + 5 + 1  # 130's five other backfilled days, 147's old day


def test_daily_summaries(warehouse: Warehouse, features: list[dict[str, Any]]) -> None:
    summary = [r for r in warehouse.full["daily_suspect_summary"] if r["work_date"] == T]
    assert sum(r["employee_days"] for r in summary) == sum(
        1 for f in features if f["work_date"] == T
    )
    assert sum(r["flagged_days"] for r in summary) == 4
    assert sum(r["suspect_hours"] for r in summary) == 12 + 8 + 8 + 8

    signals = {r["work_date"]: r for r in warehouse.full["daily_signal_summary"]}[T]
    assert signals["leave_booked_days"] == 1
    assert signals["leave_booked_suspect_days"] == 1
    assert signals["approval_conflict_days"] == 2  # 120 reciprocal, 125 self
    assert signals["approval_conflict_suspect_days"] == 0
    assert signals["bulk_backdated_days"] == 1
    assert signals["long_day_days"] == 4  # 101, 102, 112, 118


def test_weekly_trend_compares_with_the_previous_week(warehouse: Warehouse) -> None:
    trend = {(r["week_start"], r["practice"]): r for r in warehouse.full["weekly_suspect_trend"]}
    this_week, last_week = d(-2), d(-9)  # Mondays
    backfill_now, backfill_before = (
        trend[(this_week, "practice_130")],
        trend[(last_week, "practice_130")],
    )
    assert backfill_before["flagged_days"] == 3  # T-7, T-6, T-5
    assert backfill_now["flagged_days"] == 3  # T-2, T-1, T
    assert backfill_now["flagged_days_change"] == 0
    assert trend[(this_week, "practice_103")]["flagged_days_change"] == 1


# --------------------------------------------------------------------------- windows


def test_window_run_replaces_only_the_window(warehouse: Warehouse) -> None:
    for name in (
        "employee_day_features",
        "suspect_timesheets",
        "daily_suspect_summary",
        "daily_signal_summary",
        "daily_client_hours",
    ):
        before = [r for r in warehouse.full[name] if r["work_date"] != T]
        after = [r for r in warehouse.after_window[name] if r["work_date"] != T]
        assert sorted(map(repr, before)) == sorted(map(repr, after)), name

    features = warehouse.after_window["employee_day_features"]
    keys = [(r["employee_id"], r["work_date"]) for r in features]
    assert len(keys) == len(set(keys))
    assert feature(features, 102)["total_hours"] == 9
    assert (145, T) not in keys  # its only entry vanished: the day goes too
    assert feature(features, 146)["total_hours"] == 8
    # T-1 changed in the lake but lies outside the window: the mart keeps the old value ...
    assert feature(features, 112, d(-1))["total_hours"] == 6
    # ... while T's baseline, computed from history read before the window, sees the change.
    assert feature(features, 112)["own_median_hours_28d"] == pytest.approx(
        median([20, 6, 6, 6, 6, 7, 7, 7, 7, 7])
    )
    # Baselines that need history from before the window still have it.
    assert feature(features, 130)["days_submitted_same_batch"] == 6
    assert feature(features, 120)["reciprocal_approval_hours"] == 8

    suspects = warehouse.after_window["suspect_timesheets"]
    assert (102, T) not in {(r["employee_id"], r["work_date"]) for r in suspects}


def test_window_run_computes_what_a_full_run_computes(warehouse: Warehouse) -> None:
    """Features must not depend on how a run was windowed, or training and scoring skew.

    Every day-T row whose input did not change comes out of the one-day window run exactly
    as out of the full run: baselines, peers, reciprocal approvals and submission batches
    (132 submitted T together with the two days after it) all reach outside the window.
    """
    changed = {102, 112, 145, 146}
    full = {
        r["employee_id"]: r
        for r in warehouse.full["employee_day_features"]
        if r["work_date"] == T and r["employee_id"] not in changed
    }
    window = {
        r["employee_id"]: r
        for r in warehouse.after_window["employee_day_features"]
        if r["work_date"] == T and r["employee_id"] not in changed
    }
    assert window == full
    assert window[132]["days_submitted_same_batch"] == 5


def test_client_hours_split_each_days_counted_hours_by_client(
    warehouse: Warehouse, features: list[dict[str, Any]]
) -> None:
    client_hours = warehouse.full["daily_client_hours"]
    per_day: dict[tuple[int, date], float] = {}
    for r in client_hours:
        key = (r["employee_id"], r["work_date"])
        per_day[key] = per_day.get(key, 0.0) + r["counted_hours"]
    counted_days = {
        (f["employee_id"], f["work_date"]): f["total_hours"] for f in features if f["total_hours"]
    }
    assert per_day.keys() == counted_days.keys()  # rejected-only days (145) have no row
    for key, hours in counted_days.items():
        assert per_day[key] == pytest.approx(hours), key
    old = {(r["client_id"], r["project_type"]): r for r in client_hours if r["employee_id"] == 147}
    assert old.keys() == {(7, "billable"), (None, "internal")}
    client_7 = old[(7, "billable")]
    assert (client_7["counted_hours"], client_7["counted_entries"]) == (6, 1)  # not the rejected


def test_hours_at_risk_by_client_answers_for_days_older_than_the_staging_window(
    warehouse: Warehouse,
) -> None:
    """The last run's window was T alone, so the staging view of entries holds T-63..T+35
    only; the client query reads the mart and still answers for two months earlier."""
    from tsfraud_assets.queries.catalog import run_named_query
    from tsfraud_assets.resources.warehouse import DuckDBWarehouse

    with duckdb.connect(str(warehouse.db_path), read_only=True) as con:
        staged = con.execute(
            "select count(*) from stg_timesheet_entries where work_date = ?", [OLD_DAY]
        ).fetchone()
    assert staged == (0,)
    frame = run_named_query(
        DuckDBWarehouse(path=str(warehouse.db_path)),
        "hours_at_risk_by_client",
        {"start_date": OLD_DAY - timedelta(days=7), "end_date": OLD_DAY},
    )
    rows = {
        (None if r["client_id"] is None else int(r["client_id"]), r["project_type"]): (
            r["suspect_days"],
            r["employees"],
            r["suspect_hours"],
        )
        for r in frame.astype(object).where(frame.notna(), None).to_dict("records")
    }
    assert rows == {(7, "billable"): (1, 1, 6.0), (None, "internal"): (1, 1, 2.0)}


def test_staging_survives_datasets_without_files(tmp_path: Path) -> None:
    """Before the first model is trained there are no scores, and on a fresh lake some
    snapshots may not exist yet; DuckDB's read_parquet fails on a glob matching no file, so
    the staging views must come out empty (and typed) instead of failing the run."""
    lake = Lake(tmp_path / "lake")
    lake.employee(101)
    write_snapshot(
        [{**e, "contracted_hours_per_week": Decimal("40.00")} for e in lake.employees.values()],
        lake.root / "raw" / "employees",
        RAW_EMPLOYEE_SCHEMA,
    )
    (lake.root / "scores" / "timesheet_scores").mkdir(parents=True)  # folder, no file
    db_path = tmp_path / "warehouse.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TSFRAUD_LAKE", str(lake.root))
        mp.setenv("TSFRAUD_DUCKDB_PATH", str(db_path))
        run_dbt(
            ["run", "--select", "stg_timesheet_scores", "stg_investigation_cases", "stg_employees"],
            tmp_path / "target",
            tmp_path / "logs",
        )
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert con.execute("select count(*) from stg_timesheet_scores").fetchone() == (0,)
        assert con.execute("select count(*) from stg_investigation_cases").fetchone() == (0,)
        assert con.execute("select count(*) from stg_employees").fetchone() == (1,)
        types = dict(
            con.execute(
                "select column_name, column_type from (describe stg_timesheet_scores)"
            ).fetchall()
        )
    assert types["fraud_score"] == "DOUBLE"
    assert types["work_date"] == "DATE"


def test_rerunning_a_window_changes_nothing(warehouse: Warehouse) -> None:
    for name in MARTS:
        assert sorted(map(repr, warehouse.after_rerun[name])) == sorted(
            map(repr, warehouse.after_window[name])
        ), name
