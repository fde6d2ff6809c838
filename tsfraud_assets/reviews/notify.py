"""Which past days' lists a scoring run changed, and the message investigators get.

Compared around the scoring asset's run: the suspects of each day before and after. A day
that had no list before is news to nobody (first scoring); a day whose suspects are the same
people is not worth a message (scores move a little on every re-score). What is: someone
added to, or cleared from, a list that already existed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.notifier import Notifier
from tsfraud_assets.resources.warehouse import Warehouse


@dataclass(frozen=True)
class DayChange:
    day: dt.date
    added: tuple[int, ...]
    cleared: tuple[int, ...]


def suspects_by_day(lake: Lake, dataset: str, days: list[dt.date]) -> dict[dt.date, set[int]]:
    """The flagged employee ids of each day that has a list (days without one are absent)."""
    out: dict[dt.date, set[int]] = {}
    for day in days:
        table = lake.read_partition(dataset, day)
        if table is None:
            continue
        ids = table.column("employee_id").to_pylist()
        flags = table.column("is_suspect").to_pylist()
        out[day] = {int(i) for i, f in zip(ids, flags, strict=True) if f}
    return out


def list_changes(
    before: dict[dt.date, set[int]], after: dict[dt.date, set[int]]
) -> list[DayChange]:
    changes = []
    for day in sorted(before):
        now = after.get(day, set())
        added, cleared = now - before[day], before[day] - now
        if added or cleared:
            changes.append(DayChange(day, tuple(sorted(added)), tuple(sorted(cleared))))
    return changes


def notify_changes(notifier: Notifier, changes: list[DayChange], codes: dict[int, str]) -> int:
    """One message per changed day; returns how many were sent."""
    for change in changes:

        def named(ids: tuple[int, ...]) -> list[str]:
            return [codes.get(i, f"employee {i}") for i in ids]

        parts = []
        if change.added:
            parts.append(f"added {', '.join(named(change.added))}")
        if change.cleared:
            parts.append(f"cleared {', '.join(named(change.cleared))}")
        text = f"tsfraud: the suspect list of {change.day} changed after a late edit: " + (
            "; ".join(parts)
        )
        notifier.send(
            text,
            {
                "work_date": change.day.isoformat(),
                "added": named(change.added),
                "cleared": named(change.cleared),
            },
        )
    return len(changes)


def employee_codes(warehouse: Warehouse, changes: list[DayChange]) -> dict[int, str]:
    ids = sorted({i for c in changes for i in (*c.added, *c.cleared)})
    if not ids:
        return {}
    found = warehouse.query(
        f"select employee_id, employee_code from {warehouse.relation('stg_employees')} "
        f"where employee_id in ({', '.join('?' for _ in ids)})",
        ids,
    )
    return {
        int(i): str(c) for i, c in zip(found["employee_id"], found["employee_code"], strict=True)
    }
