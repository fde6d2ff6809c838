"""Changes after approval, from a hand-built entry history into employee_day_features.

The history (history/timesheet_entry_versions/) is written by hand, one scenario per
employee, next to the processed entries of the same days; then the real dbt-duckdb build runs
(all models, then a window run of the features as the daily job does) and the mart must carry
each revision signal on the right employee-day, and zeros where the history saw no change.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.integration.test_dbt_models import MANAGER, Lake, T, at, d, run_dbt
from tests.lake_fixtures import write_entry_versions
from tsfraud_assets.defs.dbt.invocation import dbt_window_env
from tsfraud_assets.lib.modeling.features import REVISION_COLUMNS

OTHER_APPROVER = 124
SEEN = at(d(1), 6)  # the extract after T
SIGNALS = REVISION_COLUMNS


def version(
    entry_id: int,
    employee_id: int,
    number: int,
    kind: str,
    *,
    hours: float,
    status: str,
    previous: dict[str, Any] | None = None,
    changed: str | None = None,
    project_id: int = 1,
    approver_id: int | None = MANAGER,
    when: datetime = SEEN,
) -> dict[str, Any]:
    approved = status == "approved"
    return {
        "entry_id": entry_id,
        "work_date": T,
        "version": number,
        "change_kind": kind,
        "changed_fields": changed,
        "valid_from": when,
        "employee_id": employee_id,
        "project_id": project_id,
        "hours": Decimal(str(hours)),
        "activity_code": "DEV",
        "entry_channel": "web",
        "status": status,
        "submitted_at": at(T, 18),
        "approver_id": approver_id if approved else None,
        "approved_at": when if approved else None,
        "updated_at": when,
        "old_hours": None if previous is None else Decimal(str(previous["hours"])),
        "old_project_id": None if previous is None else previous["project_id"],
        "old_status": None if previous is None else previous["status"],
        "old_approver_id": None if previous is None else previous["approver_id"],
        "extracted_at": when,
    }


def build(lake: Lake) -> list[dict[str, Any]]:
    """Processed entries as they stand now, and each entry's versions."""
    for employee_id in (*range(150, 156), 124):
        lake.employee(employee_id)
    v: list[dict[str, Any]] = []

    def chain(entry_id: int, employee_id: int, steps: list[dict[str, Any]]) -> None:
        previous = None
        for number, step in enumerate(steps, start=1):
            kind = "inserted" if number == 1 else step.pop("kind", "updated")
            row = version(entry_id, employee_id, number, kind, previous=previous, **step)
            v.append(row)
            previous = row

    # 150: approved at 6 h, then raised to 9 h with no new approval (the approval stands).
    lake.entry(150, T, 9)
    chain(
        1001,
        150,
        [
            dict(hours=6, status="approved", when=at(T, 20)),
            dict(hours=9, status="approved", changed="hours", when=at(d(3), 10)),
        ],
    )
    # 151: approved on project 1, re-opened and moved to project 2, approved by someone else.
    lake.entry(151, T, 8, project_id=2, approver_id=OTHER_APPROVER)
    chain(
        1002,
        151,
        [
            dict(hours=8, status="approved", when=at(T, 20)),
            dict(
                hours=8,
                status="submitted",
                project_id=2,
                changed="project_id,status,approver_id,approved_at",
                when=at(d(2), 9),
            ),
            dict(
                hours=8,
                status="approved",
                project_id=2,
                approver_id=OTHER_APPROVER,
                changed="status,approver_id,approved_at",
                when=at(d(2), 15),
            ),
        ],
    )
    # 152: two approved lines, one deleted afterwards.
    lake.entry(152, T, 4)
    chain(1003, 152, [dict(hours=4, status="approved", when=at(T, 20))])
    chain(
        1004,
        152,
        [
            dict(hours=4, status="approved", when=at(T, 20)),
            dict(kind="deleted", hours=4, status="approved", when=at(d(4), 6)),
        ],
    )
    # 153: raised while still submitted, then approved: a revision, not after approval.
    lake.entry(153, T, 5)
    chain(
        1005,
        153,
        [
            dict(hours=4, status="submitted", when=at(T, 18)),
            dict(hours=5, status="submitted", changed="hours", when=at(T, 19)),
            dict(hours=5, status="approved", changed="status,approver_id,approved_at", when=SEEN),
        ],
    )
    # 154: lowered after approval and re-approved by the same manager: an honest correction.
    lake.entry(154, T, 7)
    chain(
        1006,
        154,
        [
            dict(hours=8, status="approved", when=at(T, 20)),
            dict(
                hours=7,
                status="submitted",
                changed="hours,status,approver_id,approved_at",
                when=at(d(1), 9),
            ),
            dict(
                hours=7,
                status="approved",
                changed="status,approver_id,approved_at",
                when=at(d(1), 12),
            ),
        ],
    )
    # 155: approved once, never changed; 150 also worked the day before, with no history.
    lake.entry(155, T, 8)
    chain(1007, 155, [dict(hours=8, status="approved", when=at(T, 20))])
    lake.entry(150, d(-1), 8)
    return v


@pytest.fixture(scope="module")
def marts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[Any, Any]]]:
    tmp = tmp_path_factory.mktemp("dbt-revisions")
    lake = Lake(tmp / "lake", suspects=set())
    write_entry_versions(build(lake), lake.root)
    lake.write()
    db_path = tmp / "warehouse.duckdb"
    out: dict[str, dict[Any, Any]] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TSFRAUD_LAKE", str(lake.root))
        mp.setenv("TSFRAUD_DUCKDB_PATH", str(db_path))
        run_dbt(["build"], tmp / "target", tmp / "logs")
        out["full"] = features(db_path)
        for name, value in dbt_window_env(T, T).items():  # the window, as the assets pass it
            mp.setenv(name, value)
        run_dbt(["run", "--select", "tag:features"], tmp / "target", tmp / "logs")
        out["window"] = features(db_path)
    yield out


def features(db_path: Path) -> dict[Any, Any]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        cursor = con.execute(
            f"select employee_id, work_date, {', '.join(SIGNALS)} from employee_day_features"
        )
        return {(r[0], r[1]): dict(zip(SIGNALS, r[2:], strict=True)) for r in cursor.fetchall()}


def signals(**nonzero: float) -> dict[str, float]:
    return {s: nonzero.get(s, 0) for s in SIGNALS}


@pytest.mark.parametrize("run", ["full", "window"])
def test_revisions_after_approval_reach_the_features(
    marts: dict[str, dict[Any, Any]], run: str
) -> None:
    rows = marts[run]
    assert rows[(150, T)] == signals(
        revision_count=1, hours_raised_after_approval=1, hours_added_after_approval=3.0
    )
    assert rows[(151, T)] == signals(
        revision_count=1, project_changed_after_approval=1, reapproved_by_other=1
    )
    assert rows[(152, T)] == signals(revision_count=1, deleted_after_approval=1)
    # Edited before its approval: counted as a revision, not as a change after approval.
    assert rows[(153, T)] == signals(revision_count=1)
    # Lowered and re-approved by the same manager: a revision, no raise, no other approver.
    assert rows[(154, T)] == signals(revision_count=1)
    # No change in the history, and no history at all: zeros, not nulls.
    assert rows[(155, T)] == signals()
    assert rows[(150, d(-1))] == signals()
