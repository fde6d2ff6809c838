"""What the source tables show at a given instant, from the generated timelines.

Generation (`firm`, `timesheets`) produces records with their whole future: creation, end,
cancellation, submission, correction, approval, case closure. A snapshot keeps the rows whose
creation has happened and shows each in its state at that instant. Simulating through day L
and appending through day M both reduce to "snapshot at M", and an append writes exactly the
rows whose snapshot differs from the one at L, all stamped after L's snapshot time.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from tsfraud_simulator import catalog as cat
from tsfraud_simulator.calendar import holidays
from tsfraud_simulator.clock import (
    HOUR_S,
    NO_TIME,
    date_array,
    day_start,
    nullable_date_array,
    ts_array,
)
from tsfraud_simulator.firm import Firm


def firm_tables(firm: Firm, at: int, last_day: int) -> dict[str, pa.Table]:
    """The reference tables as the system of record shows them at UTC second `at`."""
    e = firm.emp
    vis = np.flatnonzero(e["hire_rec"] <= at)
    term_known = (e["term_rec"][vis] != NO_TIME) & (e["term_rec"][vis] <= at)
    emp_updated = np.where(term_known, e["term_rec"][vis], e["hire_rec"][vis])
    employees = pa.table(
        {
            "employee_id": pa.array(vis + 1, pa.int64()),
            "employee_code": pa.array([f"E{i + 1:06d}" for i in vis], pa.string()),
            "country_code": pa.array(np.array(cat.COUNTRIES)[e["country"][vis]], pa.string()),
            "office": pa.array(np.array([o.name for o in cat.OFFICES])[e["office"][vis]]),
            "practice": pa.array(np.array(cat.PRACTICES)[e["practice"][vis]], pa.string()),
            "grade": pa.array(np.array(cat.GRADES)[e["grade"][vis]], pa.string()),
            "manager_id": pa.array(e["manager"][vis] + 1, pa.int64(), mask=e["manager"][vis] < 0),
            "hire_date": date_array(e["hire"][vis]),
            "termination_date": nullable_date_array(e["term"][vis], term_known),
            "contracted_hours_per_week": pa.array(e["contracted"][vis], pa.float64()),
            "updated_at": ts_array(emp_updated),
        }
    )
    p = firm.proj
    pvis = np.flatnonzero(p["rec"] <= at)
    closed = p["end"][pvis] < last_day + 1
    close_t = day_start(np.minimum(p["end"][pvis], last_day)) + 22 * HOUR_S
    projects = pa.table(
        {
            "project_id": pa.array(pvis + 1, pa.int64()),
            "project_code": pa.array([firm.project_codes[i] for i in pvis], pa.string()),
            "client_id": pa.array(p["client"][pvis] + 1, pa.int64(), mask=p["client"][pvis] < 0),
            "project_type": pa.array(np.array(cat.PROJECT_TYPES)[p["type"][pvis]], pa.string()),
            "start_date": date_array(p["start"][pvis]),
            "end_date": nullable_date_array(p["end"][pvis], closed),
            "status": pa.array(np.where(closed, "closed", "open"), pa.string()),
            "updated_at": ts_array(np.where(closed, close_t, p["rec"][pvis])),
        }
    )
    c = firm.clients
    cvis = np.flatnonzero(c["rec"] <= at)
    clients = pa.table(
        {
            "client_id": pa.array(cvis + 1, pa.int64()),
            "client_name": pa.array([firm.client_names[i] for i in cvis], pa.string()),
            "industry": pa.array(np.array(cat.INDUSTRIES)[c["industry"][cvis]], pa.string()),
            "country_code": pa.array(np.array(cat.COUNTRIES)[c["country"][cvis]], pa.string()),
        }
    )
    a = firm.asg
    avis = np.flatnonzero(a["rec"] <= at)
    ended = a["end"][avis] <= last_day
    end_t = day_start(a["end"][avis]) + 21 * HOUR_S
    assignments = pa.table(
        {
            "assignment_id": pa.array(avis + 1, pa.int64()),
            "employee_id": pa.array(a["emp"][avis] + 1, pa.int64()),
            "project_id": pa.array(a["proj"][avis] + 1, pa.int64()),
            "start_date": date_array(a["start"][avis]),
            "end_date": nullable_date_array(a["end"][avis], ended),
            "allocation_pct": pa.array(a["alloc"][avis], pa.float64()),
            "updated_at": ts_array(
                np.where(ended, np.maximum(end_t, a["rec"][avis]), a["rec"][avis])
            ),
        }
    )
    lv = firm.leave
    lvis = np.flatnonzero(lv["rec"] <= at)
    cancelled = lv["cancelled"][lvis] & (lv["cancel_t"][lvis] <= at)
    leave = pa.table(
        {
            "leave_id": pa.array(lvis + 1, pa.int64()),
            "employee_id": pa.array(lv["emp"][lvis] + 1, pa.int64()),
            "start_date": date_array(lv["start"][lvis]),
            "end_date": date_array(lv["end"][lvis]),
            "leave_type": pa.array(np.array(cat.LEAVE_TYPES)[lv["type"][lvis]], pa.string()),
            "status": pa.array(np.where(cancelled, "cancelled", "approved"), pa.string()),
            "updated_at": ts_array(np.where(cancelled, lv["cancel_t"][lvis], lv["rec"][lvis])),
        }
    )
    first_year = firm.params.history_start.year - 1
    last_year = dt.date.fromordinal(last_day).year + 1
    rows = [
        (country, day, name)
        for country in cat.COUNTRIES
        for year in range(first_year, last_year + 1)
        for day, name in holidays(country, year)
    ]
    public_holidays = pa.table(
        {
            "country_code": pa.array([r[0] for r in rows], pa.string()),
            "holiday_date": date_array(np.array([r[1].toordinal() for r in rows])),
            "holiday_name": pa.array([r[2] for r in rows], pa.string()),
        }
    )
    return {
        "employees": employees,
        "clients": clients,
        "projects": projects,
        "project_assignments": assignments,
        "leave_records": leave,
        "public_holidays": public_holidays,
    }


def concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    keys = parts[0].keys()
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}


def _done(times: np.ndarray, at: int) -> np.ndarray:
    return np.asarray((times != NO_TIME) & (times <= at))


def entry_state(ent: dict[str, np.ndarray], at: int) -> dict[str, np.ndarray]:
    """Row state of every line at `at`: visible, status, hours, project, approval, updated_at.

    After its final approval a line may still be edited (`t_edit`: hours h2, project proj2),
    then re-approved (`t_reappr`, by appr2; in between it is submitted again) or left under
    its old approval (no t_reappr), or deleted (`t_del`: no longer visible)."""
    visible = (ent["t_sub"] <= at) & ~_done(ent["t_del"], at)
    final_done = ent["t_final"] <= at
    corr_done = _done(ent["t_corr"], at)
    appr1_done = _done(ent["t_appr1"], at)
    edit_done = _done(ent["t_edit"], at)
    reappr_due = edit_done & (ent["t_reappr"] != NO_TIME)
    reappr_done = reappr_due & (ent["t_reappr"] <= at)
    reopened = reappr_due & ~reappr_done
    status = np.where(
        final_done,
        ent["final"],
        np.where(
            corr_done,
            cat.STATUS_SUBMITTED,
            np.where(appr1_done, cat.STATUS_APPROVED, cat.STATUS_SUBMITTED),
        ),
    )
    status = np.where(reopened, cat.STATUS_SUBMITTED, status)
    approved_at = np.where(
        final_done & (ent["final"] == cat.STATUS_APPROVED),
        ent["t_final"],
        np.where(~final_done & ~corr_done & appr1_done, ent["t_appr1"], NO_TIME),
    )
    approved_at = np.where(reopened, NO_TIME, np.where(reappr_done, ent["t_reappr"], approved_at))
    updated = np.where(
        final_done,
        ent["t_final"],
        np.where(corr_done, ent["t_corr"], np.where(appr1_done, ent["t_appr1"], ent["t_sub"])),
    )
    updated = np.where(reappr_done, ent["t_reappr"], np.where(edit_done, ent["t_edit"], updated))
    return {
        "visible": visible,
        "status": status,
        "hours": np.where(edit_done, ent["h2"], np.where(corr_done, ent["h1"], ent["h0"])),
        "project": np.where(edit_done, ent["proj2"], ent["proj"]),
        "approver": np.where(reappr_done, ent["appr2"], ent["approver"]),
        "approved_at": approved_at,
        "updated": updated,
    }


def entry_rows(
    ent: dict[str, np.ndarray], state: dict[str, np.ndarray], rows: np.ndarray
) -> pa.Table:
    status = state["status"][rows]
    has_approver = (status == cat.STATUS_APPROVED) | (status == cat.STATUS_REJECTED)
    comment = ent["comment"][rows]
    approved_at = state["approved_at"][rows]
    return pa.table(
        {
            "entry_id": pa.array(ent["entry_id"][rows], pa.int64()),
            "employee_id": pa.array(ent["emp"][rows] + 1, pa.int64()),
            "project_id": pa.array(state["project"][rows] + 1, pa.int64()),
            "work_date": date_array(ent["day"][rows]),
            "hours": pa.array(state["hours"][rows], pa.float64()),
            "activity_code": pa.array(np.array(cat.ACTIVITY_CODES)[ent["code"][rows]], pa.string()),
            "comment": pa.array(
                np.array(cat.COMMENTS, dtype=object)[np.maximum(comment, 0)],
                pa.string(),
                mask=comment < 0,
            ),
            "entry_channel": pa.array(np.array(cat.CHANNELS)[ent["channel"][rows]], pa.string()),
            "status": pa.array(np.array(cat.STATUSES)[status], pa.string()),
            "submitted_at": ts_array(ent["t_sub"][rows]),
            "approver_id": pa.array(state["approver"][rows] + 1, pa.int64(), mask=~has_approver),
            "approved_at": ts_array(approved_at, approved_at != NO_TIME),
            "updated_at": ts_array(state["updated"][rows]),
        }
    )


def activity_rows(act: dict[str, np.ndarray]) -> pa.Table:
    return pa.table(
        {
            "employee_id": pa.array(act["emp"] + 1, pa.int64()),
            "activity_date": date_array(act["day"]),
            "first_seen_at": ts_array(act["first_seen"]),
            "last_seen_at": ts_array(act["last_seen"]),
            "active_minutes": pa.array(act["minutes"], pa.int32()),
        }
    )


def case_state(cases: dict[str, np.ndarray], at: int) -> dict[str, np.ndarray]:
    closed = cases["t_close"] <= at
    return {
        "visible": cases["t_open"] <= at,
        "closed": closed,
        "updated": np.where(closed, cases["t_close"], cases["t_open"]),
    }


def case_rows(
    cases: dict[str, np.ndarray], state: dict[str, np.ndarray], rows: np.ndarray
) -> pa.Table:
    closed = state["closed"][rows]
    confirmed = cases["confirmed"][rows] & closed
    fraud = cases["fraud"][rows]
    return pa.table(
        {
            "case_id": pa.array(cases["case_id"][rows], pa.int64()),
            "employee_id": pa.array(cases["emp"][rows] + 1, pa.int64()),
            "work_date": date_array(cases["day"][rows]),
            "opened_at": ts_array(cases["t_open"][rows]),
            "closed_at": ts_array(cases["t_close"][rows], closed),
            "outcome": pa.array(
                np.where(confirmed, "confirmed", "cleared"), pa.string(), mask=~closed
            ),
            "fraud_type": pa.array(
                np.array(cat.FRAUD_TYPES, dtype=object)[np.maximum(fraud, 0)],
                pa.string(),
                mask=~confirmed,
            ),
            "updated_at": ts_array(state["updated"][rows]),
        }
    )


GROUND_TRUTH_SCHEMA = pa.schema(
    [
        pa.field("employee_id", pa.int64()),
        pa.field("work_date", pa.date32()),
        pa.field("is_fraud", pa.bool_()),
        pa.field("fraud_type", pa.string()),
        pa.field("lookalike", pa.string()),
    ]
)


def truth_rows(labels: dict[str, np.ndarray], days: np.ndarray) -> pa.Table:
    fraud = labels["fraud"]
    look = labels["lookalike"]
    return pa.table(
        {
            "employee_id": pa.array(labels["emp"] + 1, pa.int64()),
            "work_date": date_array(days),
            "is_fraud": pa.array(fraud >= 0, pa.bool_()),
            "fraud_type": pa.array(
                np.array(cat.FRAUD_TYPES, dtype=object)[np.maximum(fraud, 0)],
                pa.string(),
                mask=fraud < 0,
            ),
            "lookalike": pa.array(
                np.array(cat.LOOKALIKES, dtype=object)[np.maximum(look, 0)],
                pa.string(),
                mask=look < 0,
            ),
        },
        schema=GROUND_TRUTH_SCHEMA,
    )
