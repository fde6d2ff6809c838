"""`simulate` a firm into an empty source database, or `append_through` a later date.

A run keeps what a later append needs (seed, size, start, fraud rate, last day) in a JSON
sidecar next to the ground-truth file, never in the source database: the pipeline reads that
database and must find nothing in it that a real timesheet system would not have.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tsfraud_simulator.clock import snapshot_at, to_datetime
from tsfraud_simulator.firm import Firm, FirmParams, build_firm
from tsfraud_simulator.fraud import DEFAULT_FRAUD_RATE
from tsfraud_simulator.knobs import WorldKnobs
from tsfraud_simulator.snapshot import (
    GROUND_TRUTH_SCHEMA,
    activity_rows,
    case_rows,
    case_state,
    concat,
    entry_rows,
    entry_state,
    firm_tables,
    truth_rows,
)
from tsfraud_simulator.timesheets import H_DAYS, generate_day
from tsfraud_simulator.writer import SourceDB, default_ground_truth_path, normalize_url

SIDECAR_FORMAT = 1
CHUNK_DAYS = 10
# Reference tables whose rows can change after they are written (they carry updated_at).
_MUTABLE = ("employees", "projects", "project_assignments", "leave_records")


@dataclass
class SimulationSummary:
    url: str
    ground_truth_path: str
    first_work_date: dt.date
    last_work_date: dt.date
    batch_time: dt.datetime
    rows: dict[str, int]
    inserted: dict[str, int]
    updated: dict[str, int]
    employee_days: int
    fraud_days: int
    fraud_days_by_type: dict[str, int]
    lookalike_days: int
    elapsed_s: float
    appended_days: int = 0
    notes: list[str] = field(default_factory=list)
    deleted: dict[str, int] = field(default_factory=dict)
    """Rows an append deleted (approved lines removed since the previous batch)."""

    @property
    def fraud_share(self) -> float:
        return self.fraud_days / max(self.employee_days, 1)

    def __str__(self) -> str:
        return (
            f"{self.first_work_date}..{self.last_work_date}: "
            f"{self.rows.get('employees', 0)} employees, "
            f"{self.rows.get('timesheet_entries', 0)} timesheet entries, "
            f"{self.employee_days} employee-days of which {self.fraud_days} fraudulent "
            f"({self.fraud_share:.2%}); ground truth {self.ground_truth_path}; "
            f"{self.elapsed_s:.1f} s"
        )

    def describe(self) -> str:
        """A few lines for people: what was written and how much of it is fraud."""
        lines = [str(self)]
        lines.append("  rows: " + ", ".join(f"{t} {n}" for t, n in self.rows.items()))
        if self.updated:
            changed = {t: n for t, n in self.updated.items() if n}
            lines.append(
                "  this batch: inserted "
                + ", ".join(f"{t} {n}" for t, n in self.inserted.items() if n)
                + (
                    "; updated " + ", ".join(f"{t} {n}" for t, n in changed.items())
                    if changed
                    else ""
                )
                + (
                    "; deleted " + ", ".join(f"{t} {n}" for t, n in self.deleted.items())
                    if self.deleted
                    else ""
                )
            )
        types = ", ".join(f"{t} {n}" for t, n in sorted(self.fraud_days_by_type.items()))
        lines.append(f"  fraud days by type: {types or 'none'}")
        lines.append(f"  honest look-alike days: {self.lookalike_days}")
        lines.append(f"  snapshot time (UTC): {self.batch_time:%Y-%m-%d %H:%M:%S}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


def _sidecar_path(ground_truth_path: str) -> Path:
    return Path(ground_truth_path).with_suffix(".json")


def _redact(url: str) -> str:
    return normalize_url(url).render_as_string(hide_password=True)


def _truth_stats(truth: pa.Table) -> tuple[int, int, dict[str, int], int]:
    fraud_types = [t for t in truth.column("fraud_type").to_pylist() if t is not None]
    looks = truth.num_rows - pc.sum(pc.is_null(truth.column("lookalike"))).as_py()
    return truth.num_rows, len(fraud_types), dict(Counter(fraud_types)), int(looks)


def _write_truth(path: str, truth: pa.Table) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    truth = truth.sort_by([("work_date", "ascending"), ("employee_id", "ascending")])
    pq.write_table(truth.cast(GROUND_TRUTH_SCHEMA), path)


def _day_range(first: int, last: int) -> list[list[int]]:
    days = list(range(first, last + 1))
    return [days[i : i + CHUNK_DAYS] for i in range(0, len(days), CHUNK_DAYS)]


def _visible_truth(batches_labels: list[dict[str, np.ndarray]], at: int) -> pa.Table:
    lab = concat(batches_labels)
    rows = np.flatnonzero(lab["first_sub"] <= at)
    return truth_rows({k: v[rows] for k, v in lab.items()}, lab["day"][rows])


def _labels_with_visibility(
    batch_labels: dict[str, np.ndarray], ent: dict[str, np.ndarray], day: int
) -> dict[str, np.ndarray]:
    first_sub = np.full(len(batch_labels["emp"]), np.iinfo(np.int64).max, dtype=np.int64)
    pos = np.searchsorted(batch_labels["emp"], ent["emp"])
    np.minimum.at(first_sub, pos, ent["t_sub"])
    return {
        **batch_labels,
        "first_sub": first_sub,
        "day": np.full(len(first_sub), day, dtype=np.int64),
    }


def _generate(firm: Firm, days: list[int]) -> tuple[dict, dict, dict, dict]:
    batches = [generate_day(firm, d) for d in days]
    ent = concat([b.entries for b in batches])
    act = concat([b.activity for b in batches])
    cases = concat([b.cases for b in batches])
    labels = concat([_labels_with_visibility(b.labels, b.entries, b.day) for b in batches])
    return ent, act, cases, labels


def simulate(
    url: str,
    employees: int,
    start: dt.date,
    days: int,
    seed: int = 7,
    fraud_rate: float = DEFAULT_FRAUD_RATE,
    ground_truth_path: str | None = None,
    replace: bool = False,
    knobs: WorldKnobs | None = None,
) -> SimulationSummary:
    """Create the source schema and fill it with `days` work dates from `start`.

    `knobs` vary what real firms vary (investigations, fraud intensity and mix, activity noise,
    look-alikes; see knobs.py); None is the default world. They are kept in the sidecar, so an
    append continues the same world."""
    t0 = time.monotonic()
    if employees < 20:
        raise ValueError("employees must be at least 20 (a firm needs a few people per country)")
    if days < 1:
        raise ValueError("days must be at least 1")
    if not 0.0 <= fraud_rate < 0.5:
        raise ValueError("fraud_rate is a share of employee-days in [0, 0.5)")
    params = FirmParams(
        seed=seed,
        employees=employees,
        start=start,
        fraud_rate=fraud_rate,
        knobs=knobs or WorldKnobs(),
    )
    first, last = start.toordinal(), start.toordinal() + days - 1
    firm = build_firm(params, dt.date.fromordinal(last))
    at = snapshot_at(last)
    gt_path = ground_truth_path or default_ground_truth_path(url)
    inserted: dict[str, int] = {}
    truth_parts: list[pa.Table] = []
    with SourceDB(url, bulk_load=True) as db:
        db.create_schema(replace=replace)
        for table, data in firm_tables(firm, at, last).items():
            inserted[table] = db.insert(table, data)
        for chunk in _day_range(first, last):
            ent, act, cases, labels = _generate(firm, chunk)
            st = entry_state(ent, at)
            n = db.insert("timesheet_entries", entry_rows(ent, st, np.flatnonzero(st["visible"])))
            inserted["timesheet_entries"] = inserted.get("timesheet_entries", 0) + n
            n = db.insert("workstation_activity", activity_rows(act))
            inserted["workstation_activity"] = inserted.get("workstation_activity", 0) + n
            cs = case_state(cases, at)
            n = db.insert(
                "investigation_cases", case_rows(cases, cs, np.flatnonzero(cs["visible"]))
            )
            inserted["investigation_cases"] = inserted.get("investigation_cases", 0) + n
            truth_parts.append(_visible_truth([labels], at))
        if db.backend == "postgresql":
            db.analyze()
        db.commit()
        counts = db.counts()
    truth = pa.concat_tables(truth_parts) if truth_parts else GROUND_TRUTH_SCHEMA.empty_table()
    _write_truth(gt_path, truth)
    _write_sidecar(gt_path, params, first, last, at, url)
    summary = _summary(url, gt_path, first, last, at, counts, inserted, {}, truth, t0, days)
    if not params.knobs.is_default:
        summary.notes.append(f"world knobs: {params.knobs.describe()}")
    return summary


def _write_sidecar(
    gt_path: str, params: FirmParams, first: int, last: int, at: int, url: str
) -> None:
    path = _sidecar_path(gt_path)
    state: dict[str, Any] = {
        "format": SIDECAR_FORMAT,
        "generator": "tsfraud_simulator",
        "seed": params.seed,
        "employees": params.employees,
        "start": params.start.isoformat(),
        "fraud_rate": params.fraud_rate,
        "knobs": params.knobs.to_json(),
        "first_work_date": dt.date.fromordinal(first).isoformat(),
        "last_work_date": dt.date.fromordinal(last).isoformat(),
        "batch_time": to_datetime(at).isoformat(),
        "source": _redact(url),
        "ground_truth_path": str(gt_path),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2) + "\n")


def _summary(
    url: str,
    gt_path: str,
    first: int,
    last: int,
    at: int,
    counts: dict[str, int],
    inserted: dict[str, int],
    updated: dict[str, int],
    truth: pa.Table,
    t0: float,
    appended: int,
) -> SimulationSummary:
    n_days, n_fraud, by_type, looks = _truth_stats(truth)
    return SimulationSummary(
        url=_redact(url),
        ground_truth_path=str(gt_path),
        first_work_date=dt.date.fromordinal(first),
        last_work_date=dt.date.fromordinal(last),
        batch_time=to_datetime(at),
        rows=counts,
        inserted=inserted,
        updated=updated,
        employee_days=n_days,
        fraud_days=n_fraud,
        fraud_days_by_type=by_type,
        lookalike_days=looks,
        elapsed_s=round(time.monotonic() - t0, 2),
        appended_days=appended,
    )


def _keys(table: pa.Table) -> np.ndarray:
    if table.column_names[:2] == ["country_code", "holiday_date"]:  # composite primary key
        days = table.column("holiday_date").cast(pa.int32()).to_numpy().astype(np.int64)
        codes = np.array([c.encode()[0] * 256 + c.encode()[1] for c in table.column(0).to_pylist()])
        return codes.astype(np.int64) * 1_000_000 + days
    return table.column(0).to_numpy()


def _diff_rows(old: pa.Table, new: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Rows of `new` absent from `old` (by key), and rows whose updated_at moved."""
    old_keys = _keys(old)
    new_keys = _keys(new)
    is_new = ~np.isin(new_keys, old_keys)
    changed = np.zeros(new.num_rows, dtype=bool)
    if "updated_at" in new.column_names:
        old_upd = dict(
            zip(
                old_keys.tolist(),
                old.column("updated_at").cast(pa.int64()).to_pylist(),
                strict=True,
            )
        )
        new_upd = new.column("updated_at").cast(pa.int64()).to_pylist()
        changed = np.array(
            [
                not fresh and old_upd[k] != u
                for k, u, fresh in zip(new_keys.tolist(), new_upd, is_new, strict=True)
            ],
            dtype=bool,
        )
    return new.filter(pa.array(is_new)), new.filter(pa.array(changed))


def append_through(
    url: str, through: dt.date, ground_truth_path: str | None = None
) -> SimulationSummary:
    """Grow a simulated database by the work dates after its last one, up to `through`.

    Besides the new days, the batch carries everything that happened to older rows since the
    previous batch: late submissions, corrections, approvals, closed projects, leavers,
    opened and closed investigations. Every new or changed row has an updated_at later than
    anything already in the database.
    """
    t0 = time.monotonic()
    gt_path = ground_truth_path or default_ground_truth_path(url)
    side = _sidecar_path(gt_path)
    if not side.exists():
        raise FileNotFoundError(
            f"no simulator state at {side}: append works on a database made by simulate() "
            "with the same ground-truth path"
        )
    state = json.loads(side.read_text())
    if state.get("format") != SIDECAR_FORMAT:
        raise ValueError(f"{side}: unknown simulator state format {state.get('format')!r}")
    params = FirmParams(
        seed=int(state["seed"]),
        employees=int(state["employees"]),
        start=dt.date.fromisoformat(state["start"]),
        fraud_rate=float(state["fraud_rate"]),
        knobs=WorldKnobs.from_json(state.get("knobs")),
    )
    first = dt.date.fromisoformat(state["first_work_date"]).toordinal()
    prev_last = dt.date.fromisoformat(state["last_work_date"]).toordinal()
    last = through.toordinal()
    prev_at, at = snapshot_at(prev_last), snapshot_at(last)
    if last <= prev_last:
        with SourceDB(url) as db:
            counts = db.counts()
        truth = pq.read_table(gt_path)
        summary = _summary(url, gt_path, first, prev_last, prev_at, counts, {}, {}, truth, t0, 0)
        summary.notes.append(
            f"nothing to do: the database already runs through {dt.date.fromordinal(prev_last)}"
        )
        return summary
    firm = build_firm(params, through)
    inserted: dict[str, int] = {}
    updated: dict[str, int] = {}
    deleted: dict[str, int] = {}
    window = max(first, prev_last - H_DAYS + 1)
    old_truth = pq.read_table(gt_path)
    keep = pc.less(
        old_truth.column("work_date"), pa.scalar(dt.date.fromordinal(window), pa.date32())
    )
    truth_parts = [old_truth.filter(keep).cast(GROUND_TRUTH_SCHEMA)]
    with SourceDB(url) as db:
        _check_matches(db, prev_last, prev_at)
        old_ref = firm_tables(firm, prev_at, prev_last)
        new_ref = firm_tables(firm, at, last)
        for table, data in new_ref.items():
            fresh, changed = _diff_rows(old_ref[table], data)
            inserted[table] = db.insert(table, fresh)
            if table in _MUTABLE:
                updated[table] = db.update(table, changed)
        for chunk in _day_range(window, last):
            ent, act, cases, labels = _generate(firm, chunk)
            old, new = entry_state(ent, prev_at), entry_state(ent, at)
            fresh = new["visible"] & ~old["visible"]
            changed = new["visible"] & old["visible"] & (new["updated"] != old["updated"])
            _count(
                inserted,
                "timesheet_entries",
                db.insert("timesheet_entries", entry_rows(ent, new, np.flatnonzero(fresh))),
            )
            _count(
                updated,
                "timesheet_entries",
                db.update("timesheet_entries", entry_rows(ent, new, np.flatnonzero(changed))),
            )
            gone = old["visible"] & ~new["visible"]  # approved lines deleted since
            _count(
                deleted,
                "timesheet_entries",
                db.delete("timesheet_entries", pa.array(ent["entry_id"][gone], pa.int64())),
            )
            new_days = act["day"] > prev_last
            _count(
                inserted,
                "workstation_activity",
                db.insert(
                    "workstation_activity", activity_rows({k: v[new_days] for k, v in act.items()})
                ),
            )
            old_c, new_c = case_state(cases, prev_at), case_state(cases, at)
            fresh = new_c["visible"] & ~old_c["visible"]
            changed = new_c["visible"] & old_c["visible"] & (new_c["updated"] != old_c["updated"])
            _count(
                inserted,
                "investigation_cases",
                db.insert("investigation_cases", case_rows(cases, new_c, np.flatnonzero(fresh))),
            )
            _count(
                updated,
                "investigation_cases",
                db.update("investigation_cases", case_rows(cases, new_c, np.flatnonzero(changed))),
            )
            truth_parts.append(_visible_truth([labels], at))
        if db.backend == "postgresql":
            db.analyze()
        db.commit()
        counts = db.counts()
    truth = pa.concat_tables(truth_parts)
    _write_truth(gt_path, truth)
    _write_sidecar(gt_path, params, first, last, at, url)
    summary = _summary(
        url, gt_path, first, last, at, counts, inserted, updated, truth, t0, last - prev_last
    )
    summary.deleted = {t: n for t, n in deleted.items() if n}
    return summary


def _count(acc: dict[str, int], table: str, n: int) -> None:
    acc[table] = acc.get(table, 0) + n


def _check_matches(db: SourceDB, prev_last: int, prev_at: int) -> None:
    """Refuse to append to a database that is not the one the sidecar describes."""
    missing = set(("timesheet_entries", "employees")) - db.existing_tables()
    if missing:
        raise ValueError(f"the target database has no simulated source tables ({sorted(missing)})")
    max_day = db.scalar("SELECT MAX(work_date) FROM timesheet_entries")
    max_upd = db.scalar("SELECT MAX(updated_at) FROM timesheet_entries")
    if max_day is not None:
        day = max_day if isinstance(max_day, dt.date) else dt.date.fromisoformat(str(max_day))
        if day.toordinal() > prev_last:
            raise ValueError(
                f"the database has work dates up to {day}, after the simulator's last day "
                f"{dt.date.fromordinal(prev_last)}: its state file belongs to another database"
            )
    if max_upd is not None:
        upd = (
            max_upd if isinstance(max_upd, dt.datetime) else dt.datetime.fromisoformat(str(max_upd))
        )
        if upd > to_datetime(prev_at):
            raise ValueError(
                f"the database was changed at {upd}, after the last simulated batch "
                f"({to_datetime(prev_at)}): refusing to append"
            )


__all__ = ["SimulationSummary", "append_through", "simulate"]
