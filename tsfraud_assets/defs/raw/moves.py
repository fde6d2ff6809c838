"""Entries whose work date moved: the day they left must be rebuilt too.

The source edits rows in place. When an entry's `work_date` changes from D1 to D2, the change
feed (`updated_at`) names only D2; re-ingesting D2 picks the entry up there, but D1's partition
still holds it, in raw and in every layer built on raw, and its hours count twice. The source no
longer knows D1; the lake does: every raw partition holds the ids of the entries it was built
from. `stale_days` asks which lake partitions outside the days being rebuilt hold entries the
source now files under those days, and those days are rebuilt in the same pass.

The lake side (`entry_days_in_lake`) is a column-pruned scan of `entry_id` over a bounded
look-back of partitions, so its cost does not grow with the lake's age; the completeness sweep
(issue #17) reuses it to find entries the source deleted outright, which no feed reports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tsfraud_assets.defs.raw.ingest import raw_dataset
from tsfraud_assets.resources.lake import DATA_FILE, PARTITION_COLUMN, Lake
from tsfraud_assets.resources.source_db import SourceDatabase

ENTRIES = "timesheet_entries"
UNREADABLE = -1
"""Key under which `entry_days_in_lake` lists partitions it could not read."""
DEFAULT_LOOKBACK_DAYS = 35
"""How far back a moved entry's old day is looked for: five weeks, the same window as the
completeness sweep; an entry moved further than that is left to the sweep."""


def entry_days_in_lake(
    lake: Lake, entry_ids: pa.Array, days: Iterable[dt.date]
) -> dict[int, set[dt.date]]:
    """Which of `days`' raw partitions hold which of `entry_ids` (only `entry_id` is read)."""
    wanted = pa.array(entry_ids, pa.int64()).unique()
    found: dict[int, set[dt.date]] = {}
    if not len(wanted):
        return found
    fs, base = lake._path(raw_dataset(ENTRIES))
    for day in days:
        path = f"{base}/{PARTITION_COLUMN}={day.isoformat()}/{DATA_FILE}"
        if not fs.exists(path):
            continue
        try:
            with fs.open(path, "rb") as f:
                ids = pq.read_table(f, columns=["entry_id"]).column("entry_id")
        except (pa.ArrowException, OSError):
            # An unreadable partition holds nothing we can vouch for: rebuild it as well.
            found.setdefault(UNREADABLE, set()).add(day)
            continue
        hits = pc.filter(ids, pc.is_in(ids, value_set=wanted))
        for entry_id in hits.to_pylist():
            found.setdefault(entry_id, set()).add(day)
    return found


def source_entry_ids(source: SourceDatabase, days: list[dt.date]) -> pa.Array:
    """Ids of the source's entries on `days` (one query per contiguous run of days, so the
    days between two changed dates are not read)."""
    if not days:
        return pa.array([], pa.int64())
    with source.snapshot() as snap:
        parts = [
            snap.int_column(
                f"SELECT entry_id FROM {ENTRIES} WHERE {snap.date_filter('work_date', a, b)}"
            )
            for a, b in _runs(days)
        ]
    return pa.concat_arrays(parts)


def _runs(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    runs: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if runs and day == runs[-1][1] + dt.timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def stale_days(
    source: SourceDatabase,
    lake: Lake,
    days: list[dt.date],
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
) -> list[dt.date]:
    """Days outside `days` whose raw partition holds an entry the source now files under one
    of `days`: rebuilding `days` alone would leave the entry counted on both."""
    if not days:
        return []
    now = source_entry_ids(source, days)
    if not len(now):
        return []
    wanted = set(days)
    first = min(days) - dt.timedelta(days=lookback_days)
    last = max(days) + dt.timedelta(days=lookback_days)
    candidates = [d for d in lake.list_partitions(raw_dataset(ENTRIES)) if first <= d <= last]
    candidates = [d for d in candidates if d not in wanted]
    where = entry_days_in_lake(lake, now, candidates)
    return sorted({d for held in where.values() for d in held})
