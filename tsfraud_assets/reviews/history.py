"""Every version of a day's suspect list is kept: a re-score archives the list it replaces.

Late edits re-score past days, so the list investigators saw yesterday may not be today's.
`timesheet_scores` holds the current list of each day (one file, replaced atomically, which
its readers rely on); before it is replaced, the list it held is written, unchanged, to
`scores/timesheet_score_versions/work_date=D/<scored_at>.parquet`. That file is never
rewritten (a second archive of the same version is a no-op), so the versions of a day are
append-only and the review page can say what changed: who was added, who dropped off, whose
score moved.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tsfraud_assets.lib import lake_layout
from tsfraud_assets.resources.lake import PARTITION_COLUMN, Lake

VERSIONS_DATASET = lake_layout.SCORE_VERSIONS
SEED_DAY = dt.date(1970, 1, 1)
"""The zero-row seed lives in a day no list has (DuckDB's glob must match a file; Athena's
partition projection starts at TSFRAUD_PARTITION_START and never reads it)."""
MOVED = 0.05
"""A score that moved by more than this is shown as moved (smaller moves are noise to a
reader; every change is still in the archived files)."""


def _version_name(previous: pa.Table) -> str:
    if "scored_at" in previous.column_names and previous.num_rows:
        stamp = pd.Timestamp(pa.compute.max(previous.column("scored_at")).as_py())
        return f"{stamp:%Y%m%dT%H%M%S%f}.parquet"
    return "00000000T000000000000-before-scored_at.parquet"  # the layout without scored_at


def _bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


def archive_list_version(lake: Lake, day: dt.date, previous: pa.Table) -> str | None:
    """Keep `previous` (the day's list about to be replaced); None if it was already kept."""
    path = f"{VERSIONS_DATASET}/{PARTITION_COLUMN}={day.isoformat()}/{_version_name(previous)}"
    if lake.exists(path):
        return None
    return lake.write_bytes(path, _bytes(previous))


def ensure_dataset(lake: Lake, schema: pa.Schema) -> None:
    path = f"{VERSIONS_DATASET}/{PARTITION_COLUMN}={SEED_DAY.isoformat()}/seed.parquet"
    if not lake.exists(path):
        lake.write_bytes(path, _bytes(schema.empty_table()))


@dataclass
class ListChanges:
    """The day's list against the version it replaced (None: never re-scored)."""

    previous_scored_at: dt.datetime | None
    added: list[str] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    moved: list[dict[str, Any]] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.added or self.dropped or self.moved)


def list_changes(current: pd.DataFrame, previous: pd.DataFrame) -> ListChanges:
    """`current` and `previous`: the flagged rows (employee_code, fraud_score, scored_at) of
    the current list and of the version before it."""
    if previous.empty:
        return ListChanges(None)
    before = {str(r["employee_code"]): float(r["fraud_score"]) for _, r in previous.iterrows()}
    now = {str(r["employee_code"]): float(r["fraud_score"]) for _, r in current.iterrows()}
    changes = ListChanges(pd.Timestamp(previous["scored_at"].max()).to_pydatetime())
    changes.added = sorted(set(now) - set(before))
    changes.dropped = [
        {"employee_code": c, "fraud_score": before[c]} for c in sorted(set(before) - set(now))
    ]
    changes.moved = [
        {"employee_code": c, "before": before[c], "now": now[c]}
        for c in sorted(set(now) & set(before))
        if abs(now[c] - before[c]) > MOVED
    ]
    return changes
