"""Where the batch sensor starts after the lake was filled outside the daemon.

`tsfraud run` and the demo ingest the source through in-process runs. The sensor knows nothing
of them: with no cursor of its own, its first tick would ask the source for every change ever
made and re-run the whole history those commands had just built (minutes of Spark and dbt the
moment someone opens the UI). So the command records the source's high-water mark it ingested
(read before its ingest: a row changed during the run is newer and is seen again, never lost) in
the instance's key-value store, and the sensor starts from the later of its own cursor and that
hand-off. A key-value entry rather than the sensor's own instigator state: the state is keyed by
the code location's origin (its Python executable, module and working directory), which only
the process serving the location knows, while the instance is shared by every process.

The hand-off only moves forward, and only when the command covered every work date that changed
since the sensor's last position: a range that leaves changed days out leaves the mark where it
was, so the sensor still runs those days.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg
from dagster._core.scheduler.instigation import InstigatorType

from tsfraud_assets.resources.source_db import SourceDatabase

SENSOR_NAME = "timesheet_batch_sensor"
HANDOFF_KEY = f"tsfraud/{SENSOR_NAME}/handoff"


def _mark_of(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    value = json.loads(text).get("high_water_mark")
    return dt.datetime.fromisoformat(value) if value else None


def read_handoff(instance: dg.DagsterInstance) -> dt.datetime | None:
    values = instance.daemon_cursor_storage.get_cursor_values({HANDOFF_KEY})
    return _mark_of(values.get(HANDOFF_KEY))


def stored_sensor_cursor(instance: dg.DagsterInstance) -> str | None:
    """The batch sensor's own cursor as the daemon last stored it (None before its first tick,
    and on an in-memory instance, which has no sensor state)."""
    if instance.schedule_storage is None:
        return None
    for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        if state.name == SENSOR_NAME and state.instigator_data is not None:
            return getattr(state.instigator_data, "cursor", None)
    return None


def sensor_since(cursor: str | None, instance: dg.DagsterInstance | None) -> dt.datetime | None:
    """The later of the sensor's cursor and the hand-off: what the next tick must look past."""
    marks = [m for m in (_mark_of(cursor), read_handoff(instance) if instance else None) if m]
    return max(marks) if marks else None


@dataclass(frozen=True)
class HandoffPlan:
    since: dt.datetime | None  # where the sensor stands now
    mark: dt.datetime | None  # the source's high-water mark before the command's ingest
    changed_days: tuple[dt.date, ...]  # work dates changed since `since`, within the partitions

    def uncovered(self, start: dt.date, end: dt.date) -> list[dt.date]:
        return [d for d in self.changed_days if not start <= d <= end]


def plan_handoff(
    source: SourceDatabase,
    instance: dg.DagsterInstance,
    partitions: dg.TimeWindowPartitionsDefinition,
) -> HandoffPlan:
    """Read before the command ingests: the mark it will have covered and what changed since
    the sensor's position. Days outside the partitions are the sensor's business either way."""
    since = sensor_since(stored_sensor_cursor(instance), instance)
    mark, days, _tables = source.changes_since(since)
    first = partitions.start.date()
    last_key = partitions.get_last_partition_key()
    last = dt.date.fromisoformat(last_key) if last_key else first - dt.timedelta(days=1)
    return HandoffPlan(since, mark, tuple(d for d in days if first <= d <= last))


def hand_off(
    instance: dg.DagsterInstance, plan: HandoffPlan, start: dt.date, end: dt.date, by: str
) -> str:
    """Record the plan's mark for the sensor if [start, end] covered every changed day; returns
    a line for people saying what the sensor will do next."""
    if plan.mark is None:
        return "batch sensor: the source is empty; nothing for it to run"
    if plan.since is not None and plan.mark <= plan.since:
        return (
            f"batch sensor: already at {plan.since:%Y-%m-%d %H:%M:%S}, the source's high-water "
            "mark; nothing for it to re-run"
        )
    left = plan.uncovered(start, end)
    if left:
        return (
            f"batch sensor: left at {plan.since or 'the beginning'}: {len(left)} changed work "
            f"date(s) outside {start}..{end} ({_days(left)}) are still for it to run"
        )
    instance.daemon_cursor_storage.set_cursor_values(
        {
            HANDOFF_KEY: json.dumps(
                {"high_water_mark": plan.mark.isoformat(), "by": by, "range": f"{start}..{end}"}
            )
        }
    )
    return f"batch sensor: starts after {plan.mark:%Y-%m-%d %H:%M:%S} (the source as ingested)"


def _days(days: Sequence[dt.date]) -> str:
    shown = ", ".join(d.isoformat() for d in days[:3])
    return shown + (f" and {len(days) - 3} more" if len(days) > 3 else "")
