"""Retention of the raw extracts and the entry history: whole work-date partitions, by age.

Firm policy decides how long timesheet evidence is kept (7 years is common for DCAA-style
audits: `TSFRAUD_RAW_RETENTION_DAYS`, `TSFRAUD_HISTORY_RETENTION_DAYS`, default 2557 days). Both
datasets are partitioned on the work date, so retention deletes whole `work_date=` folders
older than the cut-off and never edits a file: inside the retention window the history stays
append-only. The quarantine of a raw day goes with it (it is part of that day's extract).
The processed layer, the marts and the reports are rebuilt from these and hold no comments.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tsfraud_assets.lib import contract
from tsfraud_assets.lib.lake_layout import ENTRY_VERSIONS, quarantine_dataset, raw_dataset
from tsfraud_assets.resources.lake import Lake


@dataclass(frozen=True)
class Expired:
    dataset: str
    days: list[dt.date]


def retained_datasets(raw_days: int, history_days: int) -> dict[str, int]:
    """Each dataset under retention and how many days back it keeps."""
    kept = {ENTRY_VERSIONS: history_days}
    for table in contract.DAILY_TABLES:
        kept[raw_dataset(table)] = raw_days
        kept[quarantine_dataset(table)] = raw_days
    return kept


def expired_partitions(
    lake: Lake, today: dt.date, raw_days: int, history_days: int
) -> list[Expired]:
    """The work-date partitions older than their dataset's retention (cut-off excluded)."""
    out = []
    for dataset, keep in retained_datasets(raw_days, history_days).items():
        cutoff = today - dt.timedelta(days=keep)
        old = [d for d in lake.list_partitions(dataset) if d < cutoff]
        if old:
            out.append(Expired(dataset, old))
    return out


def apply_retention(lake: Lake, expired: list[Expired]) -> int:
    """Delete the expired partitions; returns how many were deleted."""
    count = 0
    for item in expired:
        for day in item.days:
            lake.delete_partition(item.dataset, day)
            count += 1
    return count
