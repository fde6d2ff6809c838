"""Investigators' verdicts on the suspect list, stored as data: append-only, never rewritten.

A verdict is one row in the lake dataset `reviews/suspect_dispositions/`, written as ONE new
Parquet file whose name is the verdict's idempotency key. So:

* nothing is ever overwritten: a changed mind is a new row with a later `decided_at`, and the
  history of who said what stays readable (an audit trail, as expense-audit tools keep);
* a double submit (a browser resubmitting the form, a CLI command run twice) finds its file
  already there and writes nothing: one row, and the caller is told it was already recorded;
* a verdict is keyed to the list version the reviewer saw (employee, work date,
  `model_version`, `scored_at`): if the day was re-scored since the page was opened, the
  verdict is refused with a message instead of being pinned to a list nobody looked at.

Validation happens here, before anything is written, with messages an investigator can act
on; the web page and `tsfraud dispose` both call `record_verdict`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from tsfraud_assets.lib import lake_layout
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.warehouse import Warehouse

DISPOSITIONS_DATASET = lake_layout.DISPOSITIONS
SEED_FILE = "00000000T000000000000-empty.parquet"
"""A zero-row file, so the DuckDB view over `*.parquet` has something to match before the
first verdict (a glob matching nothing is an error there); every engine reads it as no rows."""

SCHEMA = pa.schema(
    [
        pa.field("disposition_id", pa.string()),
        pa.field("employee_id", pa.int64()),
        pa.field("employee_code", pa.string()),
        pa.field("work_date", pa.date32()),
        pa.field("model_version", pa.string()),
        # Naive UTC, like every timestamp in the lake.
        pa.field("scored_at", pa.timestamp("us")),
        pa.field("fraud_score", pa.float64()),
        pa.field("verdict", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("reviewer", pa.string()),
        pa.field("note", pa.string()),
        pa.field("decided_at", pa.timestamp("us")),
        pa.field("channel", pa.string()),
    ]
)

VERDICTS: tuple[str, ...] = ("confirmed", "cleared", "needs_info")
#: The fraud types a confirmed verdict names (the firm's taxonomy; the simulator plants these).
FRAUD_TYPES: dict[str, str] = {
    "padding": "hours padded beyond the work done",
    "unassigned_project": "hours on a project the person is not staffed on",
    "closed_project": "hours on a closed project",
    "leave_or_holiday": "hours booked while on leave or on a holiday",
    "duplicate": "the same hours booked twice",
    "ghost": "hours for someone who no longer works here",
    "backdated_bulk": "many past days filled in at once",
    "rubber_stamp": "approved without review (collusion)",
    "post_approval_edit": "approved time changed afterwards (hours raised, project switched)",
    "buddy": "a colleague filed the day for someone who was not there (buddy timesheeting)",
    "other": "other (say which in the note)",
}
#: Why a flag was cleared: the false-positive reasons the model's owners want counted.
CLEAR_REASONS: dict[str, str] = {
    "legitimate_overtime": "legitimate overtime or a deadline",
    "work_off_network": "worked where activity is not captured (client site, travel)",
    "data_entry_error": "honest data-entry error, corrected",
    "approved_exception": "approved exception (manager or HR)",
    "model_error": "nothing unusual: the model was wrong",
    "other": "other (say which in the note)",
}
#: What a needs_info verdict is waiting for.
INFO_REASONS: dict[str, str] = {
    "ask_manager": "waiting for the manager",
    "ask_employee": "waiting for the employee",
    "check_activity_logs": "checking access or activity logs",
    "check_client_records": "checking the client's records",
    "other": "other (say which in the note)",
}
REASONS: dict[str, dict[str, str]] = {
    "confirmed": FRAUD_TYPES,
    "cleared": CLEAR_REASONS,
    "needs_info": INFO_REASONS,
}
MAX_NOTE = 2000
MAX_REVIEWER = 80
EMPLOYEE_CODE = re.compile(r"^[A-Za-z]{1,8}\d{1,12}$")


class VerdictError(ValueError):
    """A verdict that cannot be recorded; the message says why, in the investigator's terms."""


@dataclass(frozen=True)
class ListEntry:
    """One flagged employee-day as the list shows it: what a verdict is keyed to."""

    employee_id: int
    employee_code: str
    work_date: dt.date
    model_version: str
    scored_at: dt.datetime
    fraud_score: float


@dataclass(frozen=True)
class Recorded:
    disposition_id: str
    created: bool
    """False when this exact verdict was already stored (a double submit): nothing written."""
    path: str
    row: dict[str, Any]


def parse_employee_code(text: str) -> str:
    code = (text or "").strip().upper()
    if not EMPLOYEE_CODE.match(code):
        raise VerdictError(f"{text!r} is not an employee code (like E000761)")
    return code


def parse_work_date(text: str | dt.date) -> dt.date:
    if isinstance(text, dt.date):
        return text
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise VerdictError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def find_list_entry(warehouse: Warehouse, employee_code: str, work_date: dt.date) -> ListEntry:
    """The flagged employee-day `employee_code` / `work_date` on the current list, or a
    VerdictError telling which of the three things is wrong (unknown person, a date outside
    the scored data, a day that person was not listed on)."""
    suspects = warehouse.relation("review_suspects")
    found = warehouse.query(
        f"select employee_id, employee_code, work_date, model_version, scored_at, fraud_score "
        f"from {suspects} where employee_code = ? and work_date = ?",
        [employee_code, work_date],
    )
    if not found.empty:
        row = found.iloc[0]
        return ListEntry(
            employee_id=int(row["employee_id"]),
            employee_code=str(row["employee_code"]),
            work_date=work_date,
            model_version=str(row["model_version"]),
            scored_at=pd.Timestamp(row["scored_at"]).to_pydatetime(),
            fraud_score=float(row["fraud_score"]),
        )
    employees = warehouse.relation("stg_employees")
    known = warehouse.query(
        f"select count(*) as n from {employees} where employee_code = ?", [employee_code]
    )
    if int(known["n"].iloc[0]) == 0:
        raise VerdictError(f"no employee with code {employee_code}")
    scores = warehouse.relation("stg_timesheet_scores")
    span = warehouse.query(f"select min(work_date) as lo, max(work_date) as hi from {scores}")
    lo, hi = span["lo"].iloc[0], span["hi"].iloc[0]
    if pd.isna(lo):
        raise VerdictError("nothing has been scored yet: there is no list to give a verdict on")
    lo_d, hi_d = pd.Timestamp(lo).date(), pd.Timestamp(hi).date()
    if not lo_d <= work_date <= hi_d:
        raise VerdictError(f"{work_date} is outside the scored days ({lo_d} to {hi_d})")
    raise VerdictError(
        f"{employee_code} is not on the suspect list of {work_date}: a verdict is given on a "
        "listed day only"
    )


def idempotency_key(entry: ListEntry, fields: dict[str, str], token: str | None) -> str:
    """The verdict's id. With a form token (the page puts a fresh one in every form) a
    resubmitted form maps to the same id; without one (the CLI) identical verdicts do."""
    identity = json.dumps(
        [
            entry.employee_id,
            entry.work_date.isoformat(),
            entry.model_version,
            entry.scored_at.isoformat(),
            token or fields,
        ],
        sort_keys=True,
    )
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


def _file_name(decided_at: dt.datetime, disposition_id: str) -> str:
    # The time first, so a listing is in decision order (the verdict sensor's cursor).
    return f"{decided_at.strftime('%Y%m%dT%H%M%S%f')}-{disposition_id}.parquet"


def ensure_dataset(lake: Lake) -> None:
    """Write the zero-row seed file if the dataset has none (idempotent, cheap)."""
    path = f"{DISPOSITIONS_DATASET}/{SEED_FILE}"
    if not lake.exists(path):
        lake.write_bytes(path, _parquet_bytes(SCHEMA.empty_table()))


def _parquet_bytes(table: pa.Table) -> bytes:
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


def verdict_files(lake: Lake) -> list[str]:
    """The verdict files (not the seed), oldest first."""
    fs, path = lake._path(DISPOSITIONS_DATASET)
    if not fs.exists(path):
        return []
    names = [p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(path, detail=False)]
    return sorted(n for n in names if n.endswith(".parquet") and n != SEED_FILE)


def record_verdict(
    warehouse: Warehouse,
    lake: Lake,
    *,
    employee_code: str,
    work_date: str | dt.date,
    verdict: str,
    reason: str,
    reviewer: str,
    note: str = "",
    channel: str = "cli",
    seen_scored_at: str | dt.datetime | None = None,
    seen_model_version: str | None = None,
    token: str | None = None,
    now: dt.datetime | None = None,
) -> Recorded:
    """Validate and append one verdict; see the module docstring for the guarantees.

    `seen_scored_at` / `seen_model_version`: the list version on the reviewer's screen; a
    verdict is refused if the day has been re-scored since (the page passes them, the CLI
    takes the current list)."""
    code = parse_employee_code(employee_code)
    day = parse_work_date(work_date)
    verdict = (verdict or "").strip().lower()
    if verdict not in VERDICTS:
        raise VerdictError(f"verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}")
    reason = (reason or "").strip().lower()
    allowed = REASONS[verdict]
    if reason not in allowed:
        what = {"confirmed": "fraud type", "cleared": "reason code", "needs_info": "reason"}
        raise VerdictError(
            f"a {verdict} verdict needs a {what[verdict]}, one of {', '.join(allowed)}; "
            f"got {reason or 'none'!r}"
        )
    reviewer = " ".join((reviewer or "").split())
    if not reviewer:
        raise VerdictError("say who you are: the reviewer's name is required")
    if len(reviewer) > MAX_REVIEWER:
        raise VerdictError(f"the reviewer's name is longer than {MAX_REVIEWER} characters")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise VerdictError(f"the note is longer than {MAX_NOTE} characters ({len(note)})")
    if reason == "other" and not note:
        raise VerdictError("'other' needs a note saying what it is")

    entry = find_list_entry(warehouse, code, day)
    if seen_scored_at is not None:
        seen = pd.Timestamp(seen_scored_at).to_pydatetime()
        if seen != entry.scored_at or (
            seen_model_version is not None and seen_model_version != entry.model_version
        ):
            raise VerdictError(
                f"the list of {day} was re-scored since you opened it (you saw the version "
                f"scored at {seen:%Y-%m-%d %H:%M:%S}, it is now "
                f"{entry.scored_at:%Y-%m-%d %H:%M:%S} with model {entry.model_version}): "
                "reload the page, check the flag, and record again"
            )

    fields = {"verdict": verdict, "reason": reason, "reviewer": reviewer, "note": note}
    disposition_id = idempotency_key(entry, fields, token)
    ensure_dataset(lake)
    for name in verdict_files(lake):
        if name.endswith(f"-{disposition_id}.parquet"):
            return Recorded(
                disposition_id, False, lake.uri(DISPOSITIONS_DATASET, name), {"verdict": verdict}
            )
    decided_at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None)
    row: dict[str, Any] = {
        "disposition_id": disposition_id,
        "employee_id": entry.employee_id,
        "employee_code": entry.employee_code,
        "work_date": day,
        "model_version": entry.model_version,
        "scored_at": entry.scored_at,
        "fraud_score": entry.fraud_score,
        "verdict": verdict,
        "reason": reason,
        "reviewer": reviewer,
        "note": note,
        "decided_at": decided_at,
        "channel": channel,
    }
    table = pa.Table.from_pylist([row], schema=SCHEMA)
    name = _file_name(decided_at, disposition_id)
    path = lake.write_bytes(f"{DISPOSITIONS_DATASET}/{name}", _parquet_bytes(table))
    return Recorded(disposition_id, True, path, row)
