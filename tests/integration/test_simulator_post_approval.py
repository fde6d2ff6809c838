"""Post-approval edits in the simulator: visible to a daily extractor, and labelled right.

A world grown batch by batch (`append_through` one day at a time) must show approved lines
changed in a later batch, with an updated_at after the batch that showed them approved: as
fraud (`post_approval_edit` in the ground truth) and as honest corrections (look-alikes, not
fraud). A one-shot `simulate` of the same world shows only the final values.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tsfraud_simulator import WorldKnobs, append_through, simulate
from tsfraud_simulator.catalog import F_POST_EDIT
from tsfraud_simulator.clock import NO_TIME, snapshot_at, to_datetime
from tsfraud_simulator.firm import FirmParams, build_firm
from tsfraud_simulator.timesheets import generate_day

START = dt.date(2026, 3, 2)
FIRST_DAYS, LAST_DAY = 8, 24
KNOBS = WorldKnobs(fraud_mix={"post_approval_edit": 5.0})


def entries(path: Path) -> pd.DataFrame:
    with sqlite3.connect(path) as con:
        return pd.read_sql("SELECT * FROM timesheet_entries", con)


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every batch's table, and what changed in each approved line from one batch to the next."""
    tmp = tmp_path_factory.mktemp("post-approval")
    path = tmp / "grown.db"
    url = f"sqlite:///{path}"
    simulate(url, 200, START, FIRST_DAYS, seed=5, fraud_rate=0.05, knobs=KNOBS)
    # Per entry once approved: its hours and project as last seen, and its last approver.
    seen: dict[int, dict[str, Any]] = {}
    changes: list[dict[str, Any]] = []

    def remember(table: pd.DataFrame) -> None:
        for entry_id, row in table.iterrows():
            if row.status == "approved":
                seen[int(entry_id)] = dict(row)
            elif int(entry_id) in seen:  # re-opened: keep who approved it last
                approver = seen[int(entry_id)]["approver_id"]
                seen[int(entry_id)] = {**dict(row), "approver_id": approver}

    remember(entries(path).set_index("entry_id"))
    for offset in range(FIRST_DAYS, LAST_DAY):
        day = START + dt.timedelta(days=offset)
        batch_time = to_datetime(snapshot_at((day - dt.timedelta(days=1)).toordinal()))
        append_through(url, day)
        now = entries(path).set_index("entry_id")
        for entry_id, old in list(seen.items()):
            new = now.loc[entry_id] if entry_id in now.index else None
            if new is None:
                del seen[entry_id]
            other = new is not None and new.status == "approved"
            other = other and new.approver_id != old["approver_id"]
            same = new is not None and (new.hours, new.project_id) == (
                old["hours"],
                old["project_id"],
            )
            if same and not other:
                continue
            changes.append(
                {
                    "entry_id": entry_id,
                    "employee_id": old["employee_id"],
                    "work_date": old["work_date"],
                    "deleted": new is None,
                    "raised": new is not None and new.hours > old["hours"],
                    "project_changed": new is not None and new.project_id != old["project_id"],
                    "other_approver": other,
                    "updated_at": None if new is None else new.updated_at,
                    "previous_batch": batch_time,
                }
            )
        remember(now)
    truth = pd.read_parquet(tmp / "grown.db.ground_truth.parquet")
    truth["work_date"] = truth.work_date.astype(str)
    found = pd.DataFrame(changes).merge(truth, on=["employee_id", "work_date"], how="left")
    one_shot = tmp / "one-shot.db"
    simulate(f"sqlite:///{one_shot}", 200, START, LAST_DAY, seed=5, fraud_rate=0.05, knobs=KNOBS)
    return {"changes": found, "truth": truth, "path": path, "one_shot": one_shot}


def test_post_approval_fraud_edits_show_in_a_later_batch(grown: dict[str, Any]) -> None:
    changes = grown["changes"]
    fraud = changes[changes.fraud_type == "post_approval_edit"]
    assert len(fraud) >= 5
    assert (fraud.raised | fraud.project_changed | fraud.other_approver).all()
    assert fraud.raised.any() and fraud.project_changed.any()
    assert not fraud.deleted.any()
    # Stamped after the batch that showed the line approved: a daily extract sees it.
    stamps = pd.to_datetime(fraud.updated_at)
    assert (stamps > pd.to_datetime(fraud.previous_batch)).all()
    # Some re-approved by someone other than the first approver, some left as approved.
    assert 0 < fraud.other_approver.sum() < len(fraud)


def test_honest_corrections_after_approval_are_not_fraud(grown: dict[str, Any]) -> None:
    changes = grown["changes"]
    honest = changes[~changes.is_fraud.astype(bool)]
    corrections = honest[honest.lookalike == "post_approval_correction"]
    assert len(corrections) >= 5
    assert corrections.raised.any() and corrections.project_changed.any()
    assert corrections.deleted.any(), "an approved line deleted"
    # The simulator's older late corrections change approved hours too, without a label.
    assert len(honest) > len(corrections)
    # Every post_approval_edit day is labelled fraud, never a look-alike.
    truth = grown["truth"]
    edits = truth[truth.fraud_type == "post_approval_edit"]
    assert edits.is_fraud.all() and edits.lookalike.isna().all()
    assert len(edits) >= 5


def test_one_shot_simulate_ends_in_the_same_state(grown: dict[str, Any]) -> None:
    """The same world made in one go holds exactly the grown world's final rows."""
    grown_rows = entries(grown["path"]).sort_values("entry_id").reset_index(drop=True)
    one_shot = entries(grown["one_shot"]).sort_values("entry_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(grown_rows, one_shot)


def test_lifecycles_reapprove_by_others_honestly_and_fraudulently() -> None:
    """Re-approval by someone else is no free label: honest delegates do it too (rarely)."""
    params = FirmParams(seed=5, employees=200, start=START, fraud_rate=0.05, knobs=KNOBS)
    firm = build_firm(params, START + dt.timedelta(days=LAST_DAY))
    honest = fraud = 0
    for day in range(START.toordinal(), START.toordinal() + LAST_DAY):
        batch = generate_day(firm, day)
        e = batch.entries
        perpetrators = set(batch.labels["emp"][batch.labels["fraud"] == F_POST_EDIT].tolist())
        other = (e["t_reappr"] != NO_TIME) & (e["appr2"] != e["approver"])
        assert (e["t_reappr"][other] > e["t_edit"][other]).all()
        assert (e["t_edit"][other] > e["t_final"][other]).all(), "edited after the approval"
        for emp in e["emp"][other].tolist():
            fraud += emp in perpetrators
            honest += emp not in perpetrators
    assert honest >= 1 and fraud > honest
