"""Raw timesheet entries -> processed entries, as small functions over Spark DataFrames.

Each `with_*` function adds the columns of one concern, keeps every input row exactly once
and can be tested alone on a handful of hand-built rows.

Lookups that can match several rows for one entry (assignments, leave records, holidays,
workstation activity) are correlated subqueries: EXISTS for the flags, an aggregate scalar
subquery for the values. Neither can multiply rows, whatever overlaps the reference data
holds (two assignments or leave records covering the same day), and Spark plans the EXISTS
ones as broadcast existence joins: no shuffle, and no keys derived from the entries that
would recompute their plan once per lookup.

Snapshot joins (employees, projects) are plain left joins on the primary key, made safe by
`latest_employees` / `latest_projects`, which `build_processed_entries` applies once; frames
passed to `with_employee` / `with_project_status` directly must hold one row per key.

Every flag is a non-null boolean: an entry whose lookup finds nothing is "not on leave",
"not a holiday" and so on, rather than null, which feature SQL would otherwise have to guess
about.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from tsfraud_assets.lib.lake_layout import PARTITION_COLUMN
from tsfraud_assets.lib.processing.schemas import PROCESSED_TIMESHEET_ENTRIES

D = PARTITION_COLUMN
COUNTED_STATUSES = ("submitted", "approved")
APPROVED = "approved"
# Open to every employee without a staffing record (source DDL: project_assignments comment).
ALWAYS_ASSIGNED_PROJECT_TYPES = ("internal", "bench", "training")
MICROS_PER_HOUR = 3_600_000_000.0


@dataclass(frozen=True)
class RawInputs:
    """The raw datasets one processing run reads.

    `entries` and `activity` hold only the run's work dates and carry the `work_date`
    partition column; the reference tables are full snapshots.
    """

    entries: DataFrame
    activity: DataFrame
    employees: DataFrame
    projects: DataFrame
    assignments: DataFrame
    leave: DataFrame
    holidays: DataFrame


# Correlated subqueries name both sides through aliases: with an unqualified name, the inner
# table's own column of the same name would win and the correlation would silently vanish.
_ENTRY = "_entry"


def _outer(name: str) -> Column:
    """A column of the entry a correlated subquery is evaluated for."""
    return F.col(f"{_ENTRY}.{name}").outer()


def _false_if_null(column: Column) -> Column:
    return F.coalesce(column, F.lit(False))


def _latest_by(df: DataFrame, key: str) -> DataFrame:
    """Keep one row per key, the last updated; ties are broken by a hash of the whole row so
    that reruns pick the same row whatever order the files were read in."""
    window = Window.partitionBy(key).orderBy(
        F.col("updated_at").desc_nulls_last(),
        F.xxhash64(*[F.col(c) for c in df.columns]).desc(),
    )
    return df.withColumn("_rn", F.row_number().over(window)).where(F.col("_rn") == 1).drop("_rn")


def latest_versions(entries: DataFrame) -> DataFrame:
    """One row per entry_id, its latest version.

    Source rows are edited in place and every edit bumps updated_at, so an extract that has
    picked up an entry twice (before and after a correction or a withdrawal) holds two
    versions, and only the newer one is true.
    """
    return _latest_by(entries, "entry_id")


def latest_employees(employees: DataFrame) -> DataFrame:
    """One row per employee, so that joining the snapshot can never multiply entries."""
    return _latest_by(employees, "employee_id")


def latest_projects(projects: DataFrame) -> DataFrame:
    """One row per project, so that joining the snapshot can never multiply entries."""
    return _latest_by(projects, "project_id")


def with_counted(entries: DataFrame) -> DataFrame:
    """Rejected and withdrawn lines stay in the data (they are evidence) but claim no hours."""
    return entries.withColumn("is_counted", _false_if_null(F.col("status").isin(*COUNTED_STATUSES)))


def with_employee(entries: DataFrame, employees: DataFrame) -> DataFrame:
    """Employee attributes as of the snapshot, and whether the day is after their last day.

    The termination day itself is still a working day.
    """
    emp = employees.select(
        "employee_id",
        "employee_code",
        "country_code",
        "office",
        "practice",
        "grade",
        "manager_id",
        "hire_date",
        "termination_date",
        F.col("contracted_hours_per_week").cast("double").alias("contracted_hours_per_week"),
    )
    after_termination = F.col("termination_date").isNotNull() & (
        F.col(D) > F.col("termination_date")
    )
    return entries.join(F.broadcast(emp), on="employee_id", how="left").withColumn(
        "is_post_termination", _false_if_null(after_termination)
    )


def with_project_status(entries: DataFrame, projects: DataFrame) -> DataFrame:
    """Project attributes, and whether the project's own dates cover the work date.

    Openness is judged from the dates, not from the current `status`: a project closed today
    was still open for the days it ran, and reprocessing old days must not change them.
    """
    proj = projects.select(
        "project_id",
        "project_code",
        "project_type",
        F.col("status").alias("project_status"),
        "client_id",
        F.col("start_date").alias("_project_start"),
        F.col("end_date").alias("_project_end"),
    )
    is_open = (F.col("_project_start") <= F.col(D)) & (
        F.col("_project_end").isNull() | (F.col(D) <= F.col("_project_end"))
    )
    return (
        entries.join(F.broadcast(proj), on="project_id", how="left")
        .withColumn("is_project_open", _false_if_null(is_open))
        .drop("_project_start", "_project_end")
    )


def with_assignment_flag(entries: DataFrame, assignments: DataFrame) -> DataFrame:
    """Whether the employee was staffed on the project that day (needs `project_type` from
    `with_project_status`); internal, bench and training work needs no staffing record.

    An assignment covers start_date..end_date inclusive, open-ended while end_date is null.
    """
    a = "_assignment"
    covering = assignments.alias(a).where(
        (F.col(f"{a}.employee_id") == _outer("employee_id"))
        & (F.col(f"{a}.project_id") == _outer("project_id"))
        & (F.col(f"{a}.start_date") <= _outer(D))
        & (_outer(D) <= F.coalesce(F.col(f"{a}.end_date"), _outer(D)))
    )
    open_to_all = F.col("project_type").isin(*ALWAYS_ASSIGNED_PROJECT_TYPES)
    return (
        entries.alias(_ENTRY)
        .withColumn("_staffed", covering.exists())
        .withColumn("is_assigned", _false_if_null(open_to_all) | F.col("_staffed"))
        .drop("_staffed")
    )


def with_leave(entries: DataFrame, leave: DataFrame) -> DataFrame:
    """Whether an approved leave record covers the day (both ends inclusive), and its type.

    Cancelled leave never counts. When approved records overlap, the most recently updated
    one names the leave type, so the choice is the same on every rerun.
    """
    lv = "_leave"
    covering = leave.alias(lv).where(
        (F.col(f"{lv}.status") == APPROVED)
        & (F.col(f"{lv}.employee_id") == _outer("employee_id"))
        & (F.col(f"{lv}.start_date") <= _outer(D))
        & (_outer(D) <= F.col(f"{lv}.end_date"))
    )
    latest_type = covering.select(
        F.max_by(F.col(f"{lv}.leave_type"), F.struct(f"{lv}.updated_at", f"{lv}.leave_id"))
    )
    return entries.alias(_ENTRY).withColumns(
        {"is_on_leave": covering.exists(), "leave_type": latest_type.scalar()}
    )


def with_holiday(entries: DataFrame, holidays: DataFrame) -> DataFrame:
    """Whether the day is a public holiday where the employee works: their own country only
    (needs `country_code` from `with_employee`)."""
    h = "_holiday"
    holiday = holidays.alias(h).where(
        (F.col(f"{h}.country_code") == _outer("country_code"))
        & (F.col(f"{h}.holiday_date") == _outer(D))
    )
    return entries.alias(_ENTRY).withColumn("is_holiday", holiday.exists())


def with_weekend(entries: DataFrame) -> DataFrame:
    """Saturday or Sunday of the work date itself (Spark's dayofweek: 1 = Sunday, 7 = Saturday)."""
    return entries.withColumn("is_weekend", F.dayofweek(F.col(D)).isin(1, 7))


def with_activity(entries: DataFrame, activity: DataFrame) -> DataFrame:
    """The employee-day's recorded workstation minutes and its presence span (minutes from
    the first to the last activity seen: the time at the firm's machine, idle time included);
    no row means no recorded activity (0 minutes, no span: null)."""
    x = "_activity"
    same_day = activity.alias(x).where(
        (F.col(f"{x}.employee_id") == _outer("employee_id")) & (F.col(f"{x}.{D}") == _outer(D))
    )
    minutes = same_day.select(F.max(f"{x}.active_minutes")).scalar()
    span = F.timestamp_diff("MINUTE", F.col(f"{x}.first_seen_at"), F.col(f"{x}.last_seen_at"))
    presence = same_day.select(F.max(span)).scalar()
    return entries.alias(_ENTRY).withColumns(
        {
            "active_minutes": F.coalesce(minutes, F.lit(0)).cast("int"),
            "has_activity": same_day.exists(),
            "presence_minutes": presence.cast("int"),
        }
    )


def with_lags_and_approval(entries: DataFrame) -> DataFrame:
    """Submission and approval timing, and who approved (needs `manager_id` from
    `with_employee`).

    The approval lag exists only for lines that are approved now: a rejection or a later
    withdrawal makes the earlier approval timestamp meaningless as an approval.
    """
    approved = (F.col("status") == APPROVED) & F.col("approved_at").isNotNull()
    lag_hours = F.timestamp_diff(
        "MICROSECOND", F.col("submitted_at"), F.col("approved_at")
    ) / F.lit(MICROS_PER_HOUR)
    return entries.withColumns(
        {
            "submission_lag_days": F.datediff(F.to_date(F.col("submitted_at")), F.col(D)).cast(
                "int"
            ),
            "approval_lag_hours": F.when(approved, lag_hours).cast("double"),
            "is_self_approved": _false_if_null(F.col("approver_id") == F.col("employee_id")),
            "is_manager_approved": _false_if_null(F.col("approver_id") == F.col("manager_id")),
        }
    )


def with_daily_totals(entries: DataFrame) -> DataFrame:
    """The employee-day's counted hours (summed as decimals, so 0.1 + 0.2 is 0.3) and lines."""
    day = Window.partitionBy("employee_id", D)
    counted_hours = F.sum(F.when(F.col("is_counted"), F.col("hours"))).over(day)
    return entries.withColumns(
        {
            "day_counted_hours": F.coalesce(counted_hours, F.lit(0)).cast("double"),
            "day_entry_count": F.count(F.lit(1)).over(day).cast("int"),
        }
    )


def with_duplicate_flag(entries: DataFrame) -> DataFrame:
    """Flag copy-pasted counted lines: same employee-day, project, hours and activity.

    The lowest entry_id of such a group is the original and stays unflagged. Lines that do not
    count are grouped apart and never flagged, so withdrawing a line does not make its
    corrected twin look like a duplicate.
    """
    twins = Window.partitionBy(
        "employee_id", D, "project_id", "hours", "activity_code", "is_counted"
    )
    return entries.withColumn(
        "is_duplicate_line",
        F.col("is_counted") & (F.col("entry_id") > F.min("entry_id").over(twins)),
    )


def to_processed(entries: DataFrame) -> DataFrame:
    """Exactly the contract's columns, types and order, `work_date` last."""
    return entries.select(
        *[F.col(f.name).cast(f.dataType).alias(f.name) for f in PROCESSED_TIMESHEET_ENTRIES]
    )


def build_processed_entries(raw: RawInputs) -> DataFrame:
    """The processed layer for the run's work dates: one enriched row per latest entry.

    The lookups come before `latest_versions`: they depend only on (employee, project, day),
    which every version of an entry shares, and Spark decorrelates the leave-type subquery over
    the distinct work dates of the frame it is applied to, which should be the plain raw scan
    rather than a plan with the deduplication's shuffle in it. The day-level windows come
    after it, since only the latest versions may count.
    """
    entries = with_leave(raw.entries, raw.leave)
    entries = with_activity(entries, raw.activity)
    entries = with_employee(entries, latest_employees(raw.employees))
    entries = with_project_status(entries, latest_projects(raw.projects))
    entries = with_assignment_flag(entries, raw.assignments)
    entries = with_holiday(entries, raw.holidays)
    entries = with_weekend(entries)
    entries = with_lags_and_approval(entries)
    entries = latest_versions(entries)
    entries = with_counted(entries)
    entries = with_daily_totals(entries)
    entries = with_duplicate_flag(entries)
    return to_processed(entries)
