"""What the review pages show, read through the warehouse resource (DuckDB or Athena).

Plain functions returning plain data, so the pages stay templates and each rule (what "still
filling" means, how repeat flags are counted) is tested on its own. Every query takes `?`
parameters and is portable SQL, so the same code runs on both engines; date arithmetic is
done here in Python for the same reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tsfraud_assets.lib.modeling.prior import HIGH_RISK
from tsfraud_assets.resources.warehouse import Warehouse
from tsfraud_assets.reviews.history import ListChanges, list_changes

FILLING_SHARE = 0.8
"""A day is "still filling" while it has fewer scored employee-days than this share of the
usual count for its weekday."""
USUAL_WEEKS = 8
"""The usual count is the median of the same weekday over this many previous weeks."""
RECENT_DAYS = 30


@dataclass(frozen=True)
class Completeness:
    scored: int
    usual: int | None
    complete: bool
    explanation: str


@dataclass
class DayList:
    day: dt.date
    first_day: dt.date
    last_day: dt.date
    completeness: Completeness
    rows: list[dict[str, Any]] = field(default_factory=list)
    changes: ListChanges | None = None
    tally: ReviewTally | None = None


def _date(value: Any) -> dt.date:
    return pd.Timestamp(value).date()


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _num(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def scored_span(warehouse: Warehouse) -> tuple[dt.date, dt.date] | None:
    scores = warehouse.relation("stg_timesheet_scores")
    span = warehouse.query(f"select min(work_date) as lo, max(work_date) as hi from {scores}")
    if span.empty or pd.isna(span["lo"].iloc[0]):
        return None
    return _date(span["lo"].iloc[0]), _date(span["hi"].iloc[0])


def completeness(warehouse: Warehouse, day: dt.date) -> Completeness:
    """Whether `day` looks complete: its scored employee-days against the median of the same
    weekday over the previous USUAL_WEEKS weeks. Late submissions keep arriving for days, so
    the newest day usually holds a fraction of its final count; this says so instead of
    letting a short list read as a quiet day."""
    scores = warehouse.relation("stg_timesheet_scores")
    same_weekdays = [day - dt.timedelta(weeks=w) for w in range(USUAL_WEEKS + 1)]
    placeholders = ", ".join("?" for _ in same_weekdays)
    counts = warehouse.query(
        f"select work_date, count(*) as n from {scores} "
        f"where work_date in ({placeholders}) group by work_date",
        same_weekdays,
    )
    by_day = {_date(r["work_date"]): int(r["n"]) for r in _records(counts)}
    scored = by_day.get(day, 0)
    history = [by_day[d] for d in same_weekdays[1:] if d in by_day]
    weekday = day.strftime("%A")
    if len(history) < 2:
        return Completeness(
            scored,
            None,
            True,
            f"{scored:,} employee-days scored; too little history to compare with other {weekday}s",
        )
    usual = int(pd.Series(history).median())
    complete = scored >= FILLING_SHARE * usual
    share = scored / usual if usual else 1.0
    if complete:
        text = (
            f"complete: {scored:,} employee-days scored, the usual for a {weekday} is "
            f"{usual:,} (median of the last {len(history)})"
        )
    else:
        text = (
            f"still filling: {scored:,} employee-days scored, {share:.0%} of the usual "
            f"{usual:,} for a {weekday} (median of the last {len(history)}); late "
            "submissions will add to this list"
        )
    return Completeness(scored, usual, complete, text)


def _latest_verdicts(frame: pd.DataFrame) -> dict[tuple[int, dt.date], dict[str, Any]]:
    latest: dict[tuple[int, dt.date], dict[str, Any]] = {}
    if frame.empty:
        return latest
    for r in _records(frame.sort_values("decided_at")):
        latest[(int(r["employee_id"]), _date(r["work_date"]))] = r
    return latest


def _projects(frame: pd.DataFrame) -> dict[tuple[int, dt.date], list[dict[str, Any]]]:
    out: dict[tuple[int, dt.date], list[dict[str, Any]]] = {}
    for r in _records(frame.sort_values("hours", ascending=False)):
        out.setdefault((int(r["employee_id"]), _date(r["work_date"])), []).append(
            {
                "project_code": r["project_code"],
                "project_type": r["project_type"],
                "client_name": None if pd.isna(r["client_name"]) else r["client_name"],
                "hours": round(float(r["hours"]), 1),
                "unassigned": bool(r["has_unassigned_lines"]),
            }
        )
    return out


def risk_level(fraud_score: float) -> str:
    """The model's own word for a listed day's calibrated risk (lib/modeling/prior.py): high
    from HIGH_RISK up; every other listed day is medium, since the list takes only days of at
    least MEDIUM_RISK or with a blatant red flag (lib/modeling/score.py)."""
    return "high" if fraud_score >= HIGH_RISK else "medium"


def day_list(warehouse: Warehouse, day: dt.date | None = None) -> DayList | None:
    """The flagged employee-days of `day` (default: the latest scored day) with everything an
    investigator needs to act on a row; None when nothing was ever scored."""
    span = scored_span(warehouse)
    if span is None:
        return None
    first, last = span
    day = day or last
    suspects = warehouse.relation("review_suspects")
    rows = warehouse.query(
        f"select * from {suspects} where work_date = ? order by rank, employee_id", [day]
    )
    history = warehouse.query(
        f"select listed.employee_id, "
        f"sum(case when earlier.work_date >= ? then 1 else 0 end) as flags_30d, "
        f"count(*) as flags_90d "
        f"from {suspects} as listed join {suspects} as earlier "
        f"on earlier.employee_id = listed.employee_id and earlier.work_date between ? and ? "
        f"where listed.work_date = ? group by listed.employee_id",
        [day - dt.timedelta(days=29), day - dt.timedelta(days=89), day, day],
    )
    counts = {
        int(r["employee_id"]): (int(r["flags_30d"]), int(r["flags_90d"])) for r in _records(history)
    }
    hours = warehouse.query(
        f"select * from {warehouse.relation('review_entry_hours')} where work_date = ? "
        f"and employee_id in (select employee_id from {suspects} where work_date = ?)",
        [day, day],
    )
    projects = _projects(hours)
    verdicts = _latest_verdicts(
        warehouse.query(
            f"select * from {warehouse.relation('suspect_dispositions')} where work_date = ?",
            [day],
        )
    )
    versions = warehouse.query(
        f"select employee_code, fraud_score, scored_at "
        f"from {warehouse.relation('suspect_list_versions')} where work_date = ?",
        [day],
    )
    if not versions.empty:  # the version just before the current one: the latest archived
        versions = versions[versions["scored_at"] == versions["scored_at"].max()]
    out = DayList(day, first, last, completeness(warehouse, day))
    out.changes = list_changes(rows, versions)
    out.tally = review_tally(warehouse, day)
    for r in _records(rows):
        key = (int(r["employee_id"]), day)
        f30, f90 = counts.get(int(r["employee_id"]), (1, 1))
        out.rows.append(
            {
                **r,
                "work_date": day,
                "risk_level": risk_level(float(r["fraud_score"])),
                "reasons_list": [s for s in str(r["reasons"] or "").split("; ") if s],
                "flags_30d": f30,
                "flags_90d": f90,
                "projects": projects.get(key, []),
                "verdict": verdicts.get(key),
                "total_hours": _num(r["total_hours"]),
                "active_hours": _num(r["active_hours"]),
                "scored_at_iso": pd.Timestamp(r["scored_at"]).isoformat(),
            }
        )
    return out


@dataclass(frozen=True)
class ReviewTally:
    """The standing verdicts on flags of the 30 days to a day: how the list is doing, as
    auditors track it (a cleared flag is a false positive)."""

    since: dt.date
    until: dt.date
    confirmed: int
    cleared: int
    needs_info: int

    @property
    def confirmed_share(self) -> float | None:
        decided = self.confirmed + self.cleared
        return self.confirmed / decided if decided else None


def review_tally(warehouse: Warehouse, day: dt.date) -> ReviewTally:
    since = day - dt.timedelta(days=29)
    rows = warehouse.query(
        f"select employee_id, work_date, verdict, decided_at "
        f"from {warehouse.relation('suspect_dispositions')} where work_date between ? and ?",
        [since, day],
    )
    standing = [v["verdict"] for v in _latest_verdicts(rows).values()]
    return ReviewTally(
        since,
        day,
        standing.count("confirmed"),
        standing.count("cleared"),
        standing.count("needs_info"),
    )


@dataclass
class Person:
    employee: dict[str, Any]
    since: dt.date
    until: dt.date
    days: list[dict[str, Any]]
    verdicts: list[dict[str, Any]]
    flags_90d: int


def person(warehouse: Warehouse, employee_code: str, until: dt.date | None = None) -> Person | None:
    """One person's recent days (hours booked vs hours active, score, flag, reasons), their
    flags and every verdict recorded on them; None for an unknown code."""
    employees = warehouse.relation("stg_employees")
    found = warehouse.query(
        f"select e.*, m.employee_code as manager_code from {employees} as e "
        f"left join {employees} as m on m.employee_id = e.manager_id "
        f"where e.employee_code = ?",
        [employee_code],
    )
    if found.empty:
        return None
    employee = _records(found)[0]
    employee_id = int(employee["employee_id"])
    span = scored_span(warehouse)
    until = until or (span[1] if span else dt.date.today())
    since = until - dt.timedelta(days=RECENT_DAYS - 1)
    features = warehouse.relation("employee_day_features")
    scores = warehouse.relation("stg_timesheet_scores")
    days = warehouse.query(
        f"select f.work_date, f.total_hours, f.active_hours, f.entry_count, "
        f"s.fraud_score, s.is_suspect, s.rank, s.reasons "
        f"from {features} as f left join {scores} as s "
        f"on s.employee_id = f.employee_id and s.work_date = f.work_date "
        f"where f.employee_id = ? and f.work_date between ? and ? order by f.work_date desc",
        [employee_id, since, until],
    )
    hours = warehouse.query(
        f"select * from {warehouse.relation('review_entry_hours')} "
        f"where employee_id = ? and work_date between ? and ?",
        [employee_id, since, until],
    )
    projects = _projects(hours)
    verdict_rows = warehouse.query(
        f"select * from {warehouse.relation('suspect_dispositions')} where employee_id = ? "
        "order by decided_at desc",
        [employee_id],
    )
    latest = _latest_verdicts(verdict_rows)
    # The list version of each flagged day, which a verdict from this page is keyed to.
    listed = warehouse.query(
        f"select work_date, model_version, scored_at from {warehouse.relation('review_suspects')} "
        "where employee_id = ? and work_date between ? and ?",
        [employee_id, since, until],
    )
    versions = {
        _date(r["work_date"]): (str(r["model_version"]), pd.Timestamp(r["scored_at"]).isoformat())
        for r in _records(listed)
    }
    flags = warehouse.query(
        f"select count(*) as n from {scores} where employee_id = ? and is_suspect "
        "and work_date between ? and ?",
        [employee_id, until - dt.timedelta(days=89), until],
    )
    out_days = []
    for r in _records(days):
        day = _date(r["work_date"])
        out_days.append(
            {
                "work_date": day,
                "total_hours": _num(r["total_hours"]),
                "active_hours": _num(r["active_hours"]),
                "fraud_score": _num(r["fraud_score"]),
                "is_suspect": bool(r["is_suspect"]) if not pd.isna(r["is_suspect"]) else False,
                "reasons_list": [s for s in str(r["reasons"] or "").split("; ") if s]
                if not pd.isna(r["reasons"])
                else [],
                "projects": projects.get((employee_id, day), []),
                "verdict": latest.get((employee_id, day)),
                "list_version": versions.get(day),
            }
        )
    verdicts = _records(verdict_rows)
    for v in verdicts:
        v["work_date"] = _date(v["work_date"])
    return Person(employee, since, until, out_days, verdicts, int(flags["n"].iloc[0]))
