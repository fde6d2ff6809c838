"""Edge cases of every processed-layer flag, on a few hand-built rows each.

Work date D is Wednesday 2024-03-06 unless a test says otherwise; the day before and after
are the boundaries most flags get wrong.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from tsfraud_assets.lib.processing import schemas as S
from tsfraud_assets.lib.processing.transforms import (
    RawInputs,
    build_processed_entries,
    latest_versions,
    with_activity,
    with_assignment_flag,
    with_counted,
    with_daily_totals,
    with_duplicate_flag,
    with_employee,
    with_holiday,
    with_lags_and_approval,
    with_leave,
    with_project_status,
    with_weekend,
)

D = dt.date(2024, 3, 6)
BEFORE = D - dt.timedelta(days=1)
AFTER = D + dt.timedelta(days=1)
T0 = dt.datetime(2024, 3, 6, 18, 0)


def _rows(schema: T.StructType, defaults: dict[str, Any], rows: list[dict[str, Any]]) -> list:
    unknown = {k for r in rows for k in r} - set(schema.fieldNames())
    assert not unknown, f"not in schema: {unknown}"
    return [tuple({**defaults, **r}.get(f.name) for f in schema) for r in rows]


def entries(spark: SparkSession, *rows: dict[str, Any]) -> DataFrame:
    defaults = {
        "entry_id": 1,
        "employee_id": 10,
        "project_id": 100,
        "hours": Decimal("8.00"),
        "activity_code": "DEV",
        "comment": None,
        "entry_channel": "web",
        "status": "submitted",
        "submitted_at": T0,
        "approver_id": None,
        "approved_at": None,
        "updated_at": T0,
        "work_date": D,
    }
    schema = S.RAW_TIMESHEET_ENTRIES
    return spark.createDataFrame(_rows(schema, defaults, list(rows)), schema)


def employees(spark: SparkSession, *rows: dict[str, Any]) -> DataFrame:
    defaults = {
        "employee_id": 10,
        "employee_code": "E10",
        "country_code": "DE",
        "office": "Berlin",
        "practice": "technology",
        "grade": "consultant",
        "manager_id": 20,
        "hire_date": dt.date(2020, 1, 1),
        "termination_date": None,
        "contracted_hours_per_week": Decimal("40.00"),
        "updated_at": T0,
    }
    schema = S.RAW_EMPLOYEES
    return spark.createDataFrame(_rows(schema, defaults, list(rows)), schema)


def projects(spark: SparkSession, *rows: dict[str, Any]) -> DataFrame:
    defaults = {
        "project_id": 100,
        "project_code": "P100",
        "client_id": 1,
        "project_type": "billable",
        "start_date": dt.date(2024, 1, 1),
        "end_date": None,
        "status": "open",
        "updated_at": T0,
    }
    schema = S.RAW_PROJECTS
    return spark.createDataFrame(_rows(schema, defaults, list(rows)), schema)


def assignments(spark: SparkSession, *rows: dict[str, Any]) -> DataFrame:
    defaults = {
        "assignment_id": 1,
        "employee_id": 10,
        "project_id": 100,
        "start_date": dt.date(2024, 1, 1),
        "end_date": None,
        "allocation_pct": Decimal("100.00"),
        "updated_at": T0,
    }
    schema = S.RAW_PROJECT_ASSIGNMENTS
    return spark.createDataFrame(_rows(schema, defaults, list(rows)), schema)


def leave(spark: SparkSession, *rows: dict[str, Any]) -> DataFrame:
    defaults = {
        "leave_id": 1,
        "employee_id": 10,
        "start_date": dt.date(2024, 3, 4),
        "end_date": D,
        "leave_type": "vacation",
        "status": "approved",
        "updated_at": T0,
    }
    schema = S.RAW_LEAVE_RECORDS
    return spark.createDataFrame(_rows(schema, defaults, list(rows)), schema)


def holidays(spark: SparkSession, *rows: dict[str, Any]) -> DataFrame:
    defaults = {"country_code": "DE", "holiday_date": D, "holiday_name": "A holiday"}
    schema = S.RAW_PUBLIC_HOLIDAYS
    return spark.createDataFrame(_rows(schema, defaults, list(rows)), schema)


def activity(spark: SparkSession, *rows: dict[str, Any]) -> DataFrame:
    defaults = {
        "employee_id": 10,
        "first_seen_at": dt.datetime(2024, 3, 6, 8, 0),
        "last_seen_at": dt.datetime(2024, 3, 6, 17, 0),
        "active_minutes": 480,
        "work_date": D,
    }
    schema = S.RAW_WORKSTATION_ACTIVITY
    return spark.createDataFrame(_rows(schema, defaults, list(rows)), schema)


def by_entry(df: DataFrame) -> dict[int, Row]:
    rows = df.collect()
    result = {r["entry_id"]: r for r in rows}
    assert len(result) == len(rows), "an entry came out more than once"
    return result


def column(df: DataFrame, name: str) -> dict[int, Any]:
    return {entry_id: row[name] for entry_id, row in by_entry(df).items()}


# --- latest version, counted ------------------------------------------------------------------


def test_latest_versions_keeps_the_last_update_of_each_entry(spark: SparkSession) -> None:
    raw = entries(
        spark,
        {"entry_id": 1, "hours": Decimal("8.00"), "updated_at": T0},
        {
            "entry_id": 1,
            "hours": Decimal("6.00"),
            "status": "withdrawn",
            "updated_at": T0 + dt.timedelta(hours=3),
        },
        {"entry_id": 1, "hours": Decimal("7.00"), "updated_at": T0 + dt.timedelta(hours=1)},
        {"entry_id": 2, "hours": Decimal("2.00")},
    )
    out = by_entry(latest_versions(raw))
    assert set(out) == {1, 2}
    assert out[1]["hours"] == Decimal("6.00")
    assert out[1]["status"] == "withdrawn"
    assert out[2]["hours"] == Decimal("2.00")


def test_only_submitted_and_approved_lines_count(spark: SparkSession) -> None:
    raw = entries(
        spark,
        {"entry_id": 1, "status": "submitted"},
        {"entry_id": 2, "status": "approved"},
        {"entry_id": 3, "status": "rejected"},
        {"entry_id": 4, "status": "withdrawn"},
    )
    assert column(with_counted(raw), "is_counted") == {1: True, 2: True, 3: False, 4: False}


# --- employee ---------------------------------------------------------------------------------


def test_employee_attributes_and_post_termination(spark: SparkSession) -> None:
    raw = entries(
        spark,
        {"entry_id": 1, "employee_id": 10},
        {"entry_id": 2, "employee_id": 11},
        {"entry_id": 3, "employee_id": 12},
        {"entry_id": 4, "employee_id": 13},
    )
    emps = employees(
        spark,
        {"employee_id": 10, "termination_date": None},
        {"employee_id": 11, "termination_date": D, "country_code": "FR"},
        {"employee_id": 12, "termination_date": BEFORE},
        {
            "employee_id": 13,
            "termination_date": AFTER,
            "contracted_hours_per_week": Decimal("32.5"),
        },
    )
    out = by_entry(with_employee(raw, emps))
    assert {k: r["is_post_termination"] for k, r in out.items()} == {
        1: False,
        2: False,  # the termination day itself is still a working day
        3: True,
        4: False,
    }
    assert out[2]["country_code"] == "FR"
    assert out[1]["manager_id"] == 20
    assert out[4]["contracted_hours_per_week"] == 32.5
    assert isinstance(out[4]["contracted_hours_per_week"], float)


def test_unknown_employee_keeps_the_entry_with_null_attributes(spark: SparkSession) -> None:
    out = by_entry(with_employee(entries(spark, {"employee_id": 99}), employees(spark, {})))
    assert out[1]["employee_code"] is None
    assert out[1]["is_post_termination"] is False


# --- project ----------------------------------------------------------------------------------


def test_project_open_on_the_work_date(spark: SparkSession) -> None:
    raw = entries(
        spark,
        {"entry_id": 1, "project_id": 100},
        {"entry_id": 2, "project_id": 101},
        {"entry_id": 3, "project_id": 102},
        {"entry_id": 4, "project_id": 103},
        {"entry_id": 5, "project_id": 104},
        {"entry_id": 6, "project_id": 999},
    )
    projs = projects(
        spark,
        {"project_id": 100, "end_date": None},
        {"project_id": 101, "end_date": BEFORE, "status": "closed"},
        {"project_id": 102, "end_date": D, "status": "closed"},
        {"project_id": 103, "start_date": AFTER},
        {"project_id": 104, "start_date": D, "project_type": "internal", "client_id": None},
    )
    out = by_entry(with_project_status(raw, projs))
    assert {k: r["is_project_open"] for k, r in out.items()} == {
        1: True,
        2: False,  # closed the day before
        3: True,  # ends that day: still open
        4: False,  # not started yet
        5: True,  # starts that day
        6: False,  # unknown project
    }
    assert out[2]["project_status"] == "closed"
    assert out[5]["project_type"] == "internal"
    assert out[5]["client_id"] is None
    assert out[6]["project_code"] is None


def test_assignment_covers_the_work_date(spark: SparkSession) -> None:
    raw = entries(
        spark,
        {"entry_id": 1, "employee_id": 10},
        {"entry_id": 2, "employee_id": 11},
        {"entry_id": 3, "employee_id": 12},
        {"entry_id": 4, "employee_id": 13},
        {"entry_id": 5, "employee_id": 14},
        {"entry_id": 6, "employee_id": 15},
    )
    assigns = assignments(
        spark,
        {"assignment_id": 1, "employee_id": 10, "end_date": BEFORE},
        {"assignment_id": 2, "employee_id": 11, "end_date": D},
        {"assignment_id": 3, "employee_id": 12, "end_date": None},
        {"assignment_id": 4, "employee_id": 13, "start_date": AFTER},
        {"assignment_id": 5, "employee_id": 14, "start_date": D, "end_date": D},
        # staffed, but on another project
        {"assignment_id": 6, "employee_id": 15, "project_id": 101},
    )
    typed = raw.withColumn("project_type", F.lit("billable"))
    assert column(with_assignment_flag(typed, assigns), "is_assigned") == {
        1: False,  # assignment ended yesterday
        2: True,  # ends today
        3: True,  # open-ended
        4: False,  # starts tomorrow
        5: True,  # a one-day assignment
        6: False,
    }


def test_internal_bench_and_training_projects_need_no_assignment(spark: SparkSession) -> None:
    raw = entries(
        spark,
        {"entry_id": 1, "project_id": 200},
        {"entry_id": 2, "project_id": 300},
        {"entry_id": 3, "project_id": 400},
        {"entry_id": 4, "project_id": 100},
    )
    projs = projects(
        spark,
        {"project_id": 200, "project_type": "internal", "client_id": None},
        {"project_id": 300, "project_type": "bench", "client_id": None},
        {"project_id": 400, "project_type": "training", "client_id": None},
        {"project_id": 100, "project_type": "billable"},
    )
    no_assignments = assignments(spark, {"employee_id": 77})
    typed = with_project_status(raw, projs)
    assert column(with_assignment_flag(typed, no_assignments), "is_assigned") == {
        1: True,
        2: True,
        3: True,
        4: False,
    }


def test_overlapping_assignments_do_not_multiply_entries(spark: SparkSession) -> None:
    raw = entries(spark, {"entry_id": 1}, {"entry_id": 2, "hours": Decimal("1.00")})
    assigns = assignments(
        spark,
        {"assignment_id": 1, "start_date": dt.date(2024, 1, 1), "end_date": None},
        {"assignment_id": 2, "start_date": dt.date(2024, 3, 1), "end_date": dt.date(2024, 3, 31)},
        {"assignment_id": 3, "start_date": D, "end_date": D},
    )
    out = with_assignment_flag(raw.withColumn("project_type", F.lit("billable")), assigns)
    assert out.count() == 2
    assert column(out, "is_assigned") == {1: True, 2: True}


# --- leave, holidays, weekend -----------------------------------------------------------------


def test_only_approved_leave_covering_the_day_counts(spark: SparkSession) -> None:
    raw = entries(spark, *({"entry_id": i, "employee_id": i} for i in range(1, 7)))
    records = leave(
        spark,
        {"leave_id": 1, "employee_id": 1, "end_date": D},
        {"leave_id": 2, "employee_id": 2, "end_date": BEFORE},
        {"leave_id": 3, "employee_id": 3, "end_date": AFTER, "status": "cancelled"},
        {"leave_id": 4, "employee_id": 4, "start_date": D, "end_date": AFTER, "leave_type": "sick"},
        {"leave_id": 5, "employee_id": 5, "start_date": AFTER, "end_date": AFTER},
        # employee 6 has no leave; someone else's leave does not count
        {"leave_id": 6, "employee_id": 99},
    )
    out = by_entry(with_leave(raw, records))
    assert {k: r["is_on_leave"] for k, r in out.items()} == {
        1: True,  # leave ends that day
        2: False,  # ended the day before
        3: False,  # cancelled
        4: True,  # starts that day
        5: False,  # starts the day after
        6: False,
    }
    assert {k: r["leave_type"] for k, r in out.items()} == {
        1: "vacation",
        2: None,
        3: None,
        4: "sick",
        5: None,
        6: None,
    }


def test_overlapping_leave_does_not_multiply_entries(spark: SparkSession) -> None:
    raw = entries(spark, {"entry_id": 1}, {"entry_id": 2, "project_id": 200})
    records = leave(
        spark,
        {"leave_id": 1, "leave_type": "vacation", "updated_at": T0},
        {"leave_id": 2, "leave_type": "sick", "updated_at": T0 + dt.timedelta(days=1)},
        {"leave_id": 3, "leave_type": "unpaid", "status": "cancelled", "updated_at": T0},
    )
    out = with_leave(raw, records)
    assert out.count() == 2
    # the most recently updated approved record names the leave
    assert column(out, "leave_type") == {1: "sick", 2: "sick"}
    assert column(out, "is_on_leave") == {1: True, 2: True}


def test_holiday_only_in_the_employees_own_country(spark: SparkSession) -> None:
    raw = entries(
        spark,
        {"entry_id": 1, "employee_id": 10},
        {"entry_id": 2, "employee_id": 30},
        {"entry_id": 3, "employee_id": 10, "work_date": AFTER},
    )
    emps = employees(
        spark, {"employee_id": 10, "country_code": "DE"}, {"employee_id": 30, "country_code": "FR"}
    )
    hols = holidays(spark, {"country_code": "DE", "holiday_date": D})
    assert column(with_holiday(with_employee(raw, emps), hols), "is_holiday") == {
        1: True,
        2: False,  # a German holiday, but employee 30 works in France
        3: False,
    }


def test_holiday_in_another_country_only(spark: SparkSession) -> None:
    raw = entries(spark, {"entry_id": 1, "employee_id": 10})
    emps = employees(spark, {"employee_id": 10, "country_code": "DE"})
    hols = holidays(spark, {"country_code": "FR"}, {"country_code": "US"})
    assert column(with_holiday(with_employee(raw, emps), hols), "is_holiday") == {1: False}


def test_weekend_is_saturday_and_sunday(spark: SparkSession) -> None:
    days = {
        1: dt.date(2024, 3, 8),  # Friday
        2: dt.date(2024, 3, 9),  # Saturday
        3: dt.date(2024, 3, 10),  # Sunday
        4: dt.date(2024, 3, 11),  # Monday
    }
    raw = entries(spark, *({"entry_id": k, "work_date": d} for k, d in days.items()))
    assert column(with_weekend(raw), "is_weekend") == {1: False, 2: True, 3: True, 4: False}


# --- activity ---------------------------------------------------------------------------------


def test_activity_of_the_employee_day_or_zero(spark: SparkSession) -> None:
    raw = entries(
        spark,
        {"entry_id": 1, "employee_id": 10},
        {"entry_id": 2, "employee_id": 10, "project_id": 200},
        {"entry_id": 3, "employee_id": 11},
        {"entry_id": 4, "employee_id": 10, "work_date": AFTER},
    )
    act = activity(
        spark,
        {"employee_id": 10, "active_minutes": 300},
        {"employee_id": 11, "active_minutes": 0},
        {"employee_id": 12, "active_minutes": 500},
    )
    out = by_entry(with_activity(raw, act))
    assert {k: (r["active_minutes"], r["has_activity"]) for k, r in out.items()} == {
        1: (300, True),
        2: (300, True),
        3: (0, True),  # seen, but idle: a row exists
        4: (0, False),  # no row for that day
    }


def test_presence_span_runs_from_first_to_last_activity_seen(spark: SparkSession) -> None:
    """The minutes at the firm's machine, idle time included: 8:00 to 17:00 is 540, however
    few of them were active; no activity row, no span (null, not 0: unknown, not absent)."""
    raw = entries(
        spark,
        {"entry_id": 1, "employee_id": 10},
        {"entry_id": 2, "employee_id": 11},
        {"entry_id": 3, "employee_id": 12},
    )
    act = activity(
        spark,
        {"employee_id": 10, "active_minutes": 120},
        {
            "employee_id": 11,
            "first_seen_at": dt.datetime(2024, 3, 6, 9, 15),
            "last_seen_at": dt.datetime(2024, 3, 6, 12, 45),
        },
    )
    out = by_entry(with_activity(raw, act))
    assert {k: r["presence_minutes"] for k, r in out.items()} == {1: 540, 2: 210, 3: None}


# --- lags and approval ------------------------------------------------------------------------


def test_submission_and_approval_lags(spark: SparkSession) -> None:
    raw = entries(
        spark,
        # submitted two days later, approved 1.5 h after submission
        {
            "entry_id": 1,
            "status": "approved",
            "submitted_at": dt.datetime(2024, 3, 8, 9, 0),
            "approved_at": dt.datetime(2024, 3, 8, 10, 30),
            "approver_id": 20,
        },
        # submitted late on the day itself, approved the next week
        {
            "entry_id": 2,
            "status": "approved",
            "submitted_at": dt.datetime(2024, 3, 6, 23, 59, 59),
            "approved_at": dt.datetime(2024, 3, 13, 23, 59, 59),
            "approver_id": 20,
        },
        # submitted in advance
        {"entry_id": 3, "submitted_at": dt.datetime(2024, 3, 5, 17, 0)},
        # rejected: a decision time exists, but it is not an approval
        {
            "entry_id": 4,
            "status": "rejected",
            "approved_at": T0 + dt.timedelta(hours=2),
            "approver_id": 20,
        },
    )
    out = by_entry(with_lags_and_approval(raw.withColumn("manager_id", raw["employee_id"] + 10)))
    assert {k: r["submission_lag_days"] for k, r in out.items()} == {1: 2, 2: 0, 3: -1, 4: 0}
    assert out[1]["approval_lag_hours"] == pytest.approx(1.5)
    assert out[2]["approval_lag_hours"] == pytest.approx(168.0)
    assert out[3]["approval_lag_hours"] is None
    assert out[4]["approval_lag_hours"] is None


def test_self_and_manager_approval(spark: SparkSession) -> None:
    raw = entries(
        spark,
        {"entry_id": 1, "employee_id": 10, "approver_id": 10, "status": "approved"},
        {"entry_id": 2, "employee_id": 10, "approver_id": 20, "status": "approved"},
        {"entry_id": 3, "employee_id": 10, "approver_id": 30, "status": "approved"},
        {"entry_id": 4, "employee_id": 10, "approver_id": None},
        # a manager approving their own line is self-approval and manager approval at once
        {"entry_id": 5, "employee_id": 20, "approver_id": 20, "status": "approved"},
    )
    managers = employees(
        spark, {"employee_id": 10, "manager_id": 20}, {"employee_id": 20, "manager_id": 20}
    )
    out = by_entry(with_lags_and_approval(with_employee(raw, managers)))
    assert {k: (r["is_self_approved"], r["is_manager_approved"]) for k, r in out.items()} == {
        1: (True, False),
        2: (False, True),
        3: (False, False),
        4: (False, False),
        5: (True, True),
    }


# --- day totals and duplicates ----------------------------------------------------------------


def test_daily_totals_count_only_submitted_and_approved_hours(spark: SparkSession) -> None:
    raw = entries(
        spark,
        {"entry_id": 1, "status": "submitted", "hours": Decimal("0.10")},
        {"entry_id": 2, "status": "approved", "hours": Decimal("0.20")},
        {"entry_id": 3, "status": "withdrawn", "hours": Decimal("4.00")},
        {"entry_id": 4, "status": "rejected", "hours": Decimal("2.00")},
        {"entry_id": 5, "employee_id": 11, "status": "withdrawn", "hours": Decimal("3.00")},
        {"entry_id": 6, "work_date": AFTER, "hours": Decimal("7.25")},
    )
    out = by_entry(with_daily_totals(with_counted(raw)))
    totals = {k: (r["day_counted_hours"], r["day_entry_count"]) for k, r in out.items()}
    assert totals == {
        1: (0.3, 4),  # exact: summed as decimals
        2: (0.3, 4),
        3: (0.3, 4),
        4: (0.3, 4),
        5: (0.0, 1),
        6: (7.25, 1),
    }


def test_duplicate_lines(spark: SparkSession) -> None:
    same: dict[str, Any] = {"project_id": 100, "hours": Decimal("4.00"), "activity_code": "DEV"}
    raw = entries(
        spark,
        # two identical counted lines: the higher id is the duplicate
        {"entry_id": 11, **same},
        {"entry_id": 12, **same, "status": "approved", "comment": "other comment"},
        # a withdrawn twin of them is not a duplicate, and does not make one
        {"entry_id": 13, **same, "status": "withdrawn"},
        # different hours / activity / project: not duplicates
        {"entry_id": 14, **same, "hours": Decimal("4.50")},
        {"entry_id": 15, **same, "activity_code": "MEETING"},
        {"entry_id": 16, **same, "project_id": 200},
        # same line on another day, for another employee
        {"entry_id": 17, **same, "work_date": AFTER},
        {"entry_id": 18, **same, "employee_id": 11},
        # employee 12: withdrawn original (lower id), counted correction -> nothing flagged
        {"entry_id": 21, **same, "employee_id": 12, "status": "withdrawn"},
        {"entry_id": 22, **same, "employee_id": 12},
        # employee 13: three identical counted lines -> all but the lowest id
        {"entry_id": 33, **same, "employee_id": 13},
        {"entry_id": 31, **same, "employee_id": 13},
        {"entry_id": 32, **same, "employee_id": 13},
    )
    flagged = {
        k
        for k, v in column(with_duplicate_flag(with_counted(raw)), "is_duplicate_line").items()
        if v
    }
    assert flagged == {12, 32, 33}


# --- the whole composition --------------------------------------------------------------------


def _raw_inputs(spark: SparkSession) -> RawInputs:
    return RawInputs(
        entries=entries(
            spark,
            {"entry_id": 1, "updated_at": T0},
            {
                "entry_id": 1,
                "status": "approved",
                "approver_id": 20,
                "updated_at": T0 + dt.timedelta(hours=1),
                "approved_at": T0 + dt.timedelta(hours=1),
            },
            {"entry_id": 2, "project_id": 200, "hours": Decimal("1.50"), "status": "withdrawn"},
            {"entry_id": 3, "hours": Decimal("8.00")},
            {"entry_id": 4, "employee_id": 11, "hours": Decimal("0.50")},
        ),
        activity=activity(spark, {"employee_id": 10, "active_minutes": 420}),
        employees=employees(
            spark,
            {"employee_id": 10},
            {"employee_id": 11, "employee_code": "E11", "country_code": "FR"},
            {"employee_id": 20, "employee_code": "E20", "manager_id": None},
        ),
        projects=projects(
            spark,
            {"project_id": 100},
            {"project_id": 200, "project_type": "internal", "client_id": None},
        ),
        # overlapping records everywhere: none may multiply a line
        assignments=assignments(
            spark,
            {"assignment_id": 1},
            {"assignment_id": 2, "start_date": D},
            {"assignment_id": 3, "employee_id": 11},
        ),
        leave=leave(
            spark,
            {"leave_id": 1, "employee_id": 11},
            {"leave_id": 2, "employee_id": 11, "start_date": D, "end_date": AFTER},
        ),
        holidays=holidays(
            spark, {"country_code": "FR"}, {"country_code": "DE", "holiday_date": AFTER}
        ),
    )


def test_build_processed_entries_has_the_contract_schema(spark: SparkSession) -> None:
    out = build_processed_entries(_raw_inputs(spark))
    assert [(f.name, f.dataType) for f in out.schema] == [
        (f.name, f.dataType) for f in S.PROCESSED_TIMESHEET_ENTRIES
    ]
    assert out.columns[-1] == "work_date"


def test_build_processed_entries_values(spark: SparkSession) -> None:
    out = by_entry(build_processed_entries(_raw_inputs(spark)))
    assert set(out) == {1, 2, 3, 4}
    e1, e2, e3, e4 = out[1], out[2], out[3], out[4]
    # latest version of entry 1
    assert (e1["status"], e1["is_counted"], e1["is_manager_approved"]) == ("approved", True, True)
    assert e1["approval_lag_hours"] == pytest.approx(1.0)
    assert e1["hours"] == 8.0 and isinstance(e1["hours"], float)
    # 1 and 3 are the same counted line: 3 is the copy; the withdrawn 2 does not count
    assert [out[k]["is_duplicate_line"] for k in (1, 2, 3)] == [False, False, True]
    assert (e1["day_counted_hours"], e1["day_entry_count"]) == (16.0, 3)
    assert (e2["is_counted"], e2["is_assigned"], e2["project_type"]) == (False, True, "internal")
    assert (e1["active_minutes"], e1["has_activity"], e1["is_holiday"]) == (420, True, False)
    assert (e1["is_on_leave"], e1["is_assigned"], e1["is_project_open"]) == (False, True, True)
    # employee 11 (France): on leave, on a French holiday, assigned, no activity
    assert (e4["is_on_leave"], e4["leave_type"], e4["is_holiday"]) == (True, "vacation", True)
    assert (e4["is_assigned"], e4["has_activity"], e4["active_minutes"]) == (True, False, 0)
    assert (e4["country_code"], e4["day_counted_hours"], e4["day_entry_count"]) == ("FR", 0.5, 1)
    assert e3["work_date"] == D


# --- schemas agree with the DDL ---------------------------------------------------------------

_ARROW_TO_SPARK = {
    pa.int64(): T.LongType(),
    pa.int32(): T.IntegerType(),
    pa.decimal128(5, 2): T.DecimalType(5, 2),
    pa.string(): T.StringType(),
    pa.date32(): T.DateType(),
    pa.timestamp("us"): T.TimestampNTZType(),
}


@pytest.mark.parametrize(
    ("table", "date_column", "spark_schema"),
    [
        ("timesheet_entries", "work_date", S.RAW_TIMESHEET_ENTRIES),
        ("workstation_activity", "activity_date", S.RAW_WORKSTATION_ACTIVITY),
        *((name, None, schema) for name, schema in S.RAW_REFERENCE_SCHEMAS.items()),
    ],
)
def test_raw_read_schemas_match_the_source_ddl(
    table: str, date_column: str | None, spark_schema: T.StructType
) -> None:
    from tsfraud_assets.lib import contract

    arrow = contract.table(table).arrow_schema(exclude=(date_column,) if date_column else ())
    expected = [(f.name, _ARROW_TO_SPARK[f.type]) for f in arrow]
    if date_column:
        expected.append(("work_date", T.DateType()))
    assert [(f.name, f.dataType) for f in spark_schema] == expected
