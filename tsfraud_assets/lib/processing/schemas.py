"""Spark schemas of the raw datasets the job reads and of the processed dataset it writes.

The raw schemas are given to the reader explicitly instead of inferred: a range whose days
all hold zero-row files (or no files) has nothing to infer from, and a file whose types drift
from the contract must fail the read rather than flow on as a silently different type. They
mirror `docs/data-contracts.md` (raw layer); a test checks them against the DDL-derived Arrow
schemas of `tsfraud_assets.lib.contract`, which is not imported here because the Spark job must
run from a zip shipped with `--py-files`, where that module cannot open the DDL file.

Timestamps are `timestamp_ntz` end to end: the raw files hold naive UTC timestamps and the
processed files keep them naive UTC, so no reader (Spark, DuckDB, Athena, pandas) applies a
session or machine time zone to them.
"""

from __future__ import annotations

from pyspark.sql import types as T

from tsfraud_assets.lib.lake_layout import PARTITION_COLUMN

_BIGINT = T.LongType()
_INT = T.IntegerType()
_HOURS = T.DecimalType(5, 2)
_STR = T.StringType()
_DATE = T.DateType()
_TS = T.TimestampNTZType()
_DOUBLE = T.DoubleType()
_BOOL = T.BooleanType()


def _struct(*fields: tuple[str, T.DataType]) -> T.StructType:
    return T.StructType([T.StructField(name, dtype, nullable=True) for name, dtype in fields])


# Daily datasets: the file columns, then the Hive partition column the reader adds from the path.
RAW_TIMESHEET_ENTRIES = _struct(
    ("entry_id", _BIGINT),
    ("employee_id", _BIGINT),
    ("project_id", _BIGINT),
    ("hours", _HOURS),
    ("activity_code", _STR),
    ("comment", _STR),
    ("entry_channel", _STR),
    ("status", _STR),
    ("submitted_at", _TS),
    ("approver_id", _BIGINT),
    ("approved_at", _TS),
    ("updated_at", _TS),
    (PARTITION_COLUMN, _DATE),
)
RAW_WORKSTATION_ACTIVITY = _struct(
    ("employee_id", _BIGINT),
    ("first_seen_at", _TS),
    ("last_seen_at", _TS),
    ("active_minutes", _INT),
    (PARTITION_COLUMN, _DATE),
)

# Reference snapshots: every source column.
RAW_EMPLOYEES = _struct(
    ("employee_id", _BIGINT),
    ("employee_code", _STR),
    ("country_code", _STR),
    ("office", _STR),
    ("practice", _STR),
    ("grade", _STR),
    ("manager_id", _BIGINT),
    ("hire_date", _DATE),
    ("termination_date", _DATE),
    ("contracted_hours_per_week", _HOURS),
    ("updated_at", _TS),
)
RAW_PROJECTS = _struct(
    ("project_id", _BIGINT),
    ("project_code", _STR),
    ("client_id", _BIGINT),
    ("project_type", _STR),
    ("start_date", _DATE),
    ("end_date", _DATE),
    ("status", _STR),
    ("updated_at", _TS),
)
RAW_PROJECT_ASSIGNMENTS = _struct(
    ("assignment_id", _BIGINT),
    ("employee_id", _BIGINT),
    ("project_id", _BIGINT),
    ("start_date", _DATE),
    ("end_date", _DATE),
    ("allocation_pct", _HOURS),
    ("updated_at", _TS),
)
RAW_LEAVE_RECORDS = _struct(
    ("leave_id", _BIGINT),
    ("employee_id", _BIGINT),
    ("start_date", _DATE),
    ("end_date", _DATE),
    ("leave_type", _STR),
    ("status", _STR),
    ("updated_at", _TS),
)
RAW_PUBLIC_HOLIDAYS = _struct(
    ("country_code", _STR),
    ("holiday_date", _DATE),
    ("holiday_name", _STR),
)

# raw dataset name (under raw/) -> read schema
RAW_DAILY_SCHEMAS: dict[str, T.StructType] = {
    "timesheet_entries": RAW_TIMESHEET_ENTRIES,
    "workstation_activity": RAW_WORKSTATION_ACTIVITY,
}
RAW_REFERENCE_SCHEMAS: dict[str, T.StructType] = {
    "employees": RAW_EMPLOYEES,
    "projects": RAW_PROJECTS,
    "project_assignments": RAW_PROJECT_ASSIGNMENTS,
    "leave_records": RAW_LEAVE_RECORDS,
    "public_holidays": RAW_PUBLIC_HOLIDAYS,
}

# processed/timesheet_entries: the contract's table, in its order, then the partition column.
PROCESSED_TIMESHEET_ENTRIES = _struct(
    ("entry_id", _BIGINT),
    ("employee_id", _BIGINT),
    ("project_id", _BIGINT),
    ("hours", _DOUBLE),
    ("activity_code", _STR),
    ("comment", _STR),
    ("entry_channel", _STR),
    ("status", _STR),
    ("submitted_at", _TS),
    ("approved_at", _TS),
    ("updated_at", _TS),
    ("approver_id", _BIGINT),
    ("is_counted", _BOOL),
    ("employee_code", _STR),
    ("country_code", _STR),
    ("office", _STR),
    ("practice", _STR),
    ("grade", _STR),
    ("manager_id", _BIGINT),
    ("hire_date", _DATE),
    ("termination_date", _DATE),
    ("contracted_hours_per_week", _DOUBLE),
    ("project_code", _STR),
    ("project_type", _STR),
    ("project_status", _STR),
    ("client_id", _BIGINT),
    ("is_assigned", _BOOL),
    ("is_project_open", _BOOL),
    ("is_on_leave", _BOOL),
    ("leave_type", _STR),
    ("is_holiday", _BOOL),
    ("is_weekend", _BOOL),
    ("is_post_termination", _BOOL),
    ("submission_lag_days", _INT),
    ("approval_lag_hours", _DOUBLE),
    ("is_self_approved", _BOOL),
    ("is_manager_approved", _BOOL),
    ("active_minutes", _INT),
    ("has_activity", _BOOL),
    ("presence_minutes", _INT),
    ("day_counted_hours", _DOUBLE),
    ("day_entry_count", _INT),
    ("is_duplicate_line", _BOOL),
    (PARTITION_COLUMN, _DATE),
)
PROCESSED_COLUMNS: list[str] = PROCESSED_TIMESHEET_ENTRIES.fieldNames()
