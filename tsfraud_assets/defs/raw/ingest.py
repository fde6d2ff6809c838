"""Raw ingest: the source's rows for a work date, validated, into the lake.

Rows that break the contract are never dropped silently: they go to
`quarantine/<table>/work_date=D/` with a `quarantine_reason`, and the counts are returned so the
asset shows them. Each day is extracted inside one read-only snapshot, so its entries and the
ids they are checked against are consistent.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tsfraud_assets.lib import contract
from tsfraud_assets.lib.lake_layout import quarantine_dataset, raw_dataset
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import Snapshot, SourceDatabase

MAX_DAILY_HOURS = Decimal(24)
MAX_DAILY_MINUTES = 24 * 60


@dataclass
class DayIngest:
    day: dt.date
    rows: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    reasons: Counter[str] = field(default_factory=Counter)
    hours: Decimal = Decimal(0)
    bytes: int = 0


@dataclass(frozen=True)
class ReferenceIds:
    employees: pa.Array
    projects: pa.Array

    @classmethod
    def read(cls, snap: Snapshot) -> ReferenceIds:
        return cls(
            employees=pa.array(
                [r[0] for r in snap.scalar_rows("SELECT employee_id FROM employees")], pa.int64()
            ),
            projects=pa.array(
                [r[0] for r in snap.scalar_rows("SELECT project_id FROM projects")], pa.int64()
            ),
        )


def quarantine_reasons(
    table: str, batch: pa.RecordBatch, ids: ReferenceIds, day: dt.date, today: dt.date
) -> pa.Array:
    """One reason per row (null = the row is fine); the first broken rule is named."""
    n = batch.num_rows
    reason = pa.nulls(n, pa.string())

    def flag(mask: pa.Array, text: str) -> None:
        nonlocal reason
        mask = pc.fill_null(mask, False)
        if not pc.any(mask).as_py():  # the usual case: nothing to mark, nothing to build
            return
        reason = pc.if_else(pc.and_(mask, pc.is_null(reason)), pa.scalar(text), reason)

    spec = contract.table(table)
    for col in spec.columns:
        if not col.nullable and col.name in batch.schema.names:
            values = batch.column(col.name)
            if values.null_count:
                flag(pc.is_null(values), f"null {col.name}")
    if day > today:
        flag(pa.array([True] * n), "work_date in the future")
    if "employee_id" in batch.schema.names:
        flag(
            pc.invert(pc.is_in(batch.column("employee_id"), value_set=ids.employees)),
            "unknown employee_id",
        )
    if table == "timesheet_entries":
        flag(
            pc.invert(pc.is_in(batch.column("project_id"), value_set=ids.projects)),
            "unknown project_id",
        )
        hours = batch.column("hours")
        flag(pc.less(hours, pa.scalar(Decimal(0), hours.type)), "hours negative")
        flag(pc.greater(hours, pa.scalar(MAX_DAILY_HOURS, hours.type)), "hours above 24")
    if table == "workstation_activity":
        minutes = batch.column("active_minutes")
        flag(
            pc.or_(pc.less(minutes, 0), pc.greater(minutes, MAX_DAILY_MINUTES)),
            "active_minutes outside 0-1440",
        )
    return reason


def ingest_day(
    source: SourceDatabase, lake: Lake, day: dt.date, today: dt.date | None = None
) -> DayIngest:
    """Extract one work date of every daily table into its raw partition, atomically."""
    return ingest_days(source, lake, [day], today)[0]


def ingest_days(
    source: SourceDatabase,
    lake: Lake,
    days: list[dt.date],
    today: dt.date | None = None,
    tables: tuple[str, ...] = tuple(contract.DAILY_TABLES),
) -> list[DayIngest]:
    """Extract a range of work dates of every daily table, one partition file per day.

    One snapshot and one query per table for the whole range, ordered by date and streamed:
    a backfill costs one round trip per table instead of one per day and table, and memory
    stays one batch whatever the range (the per-day split happens on the stream)."""
    if not days:
        return []
    today = today or dt.datetime.now(dt.UTC).date()
    wanted = sorted(set(days))
    results = {day: DayIngest(day=day) for day in wanted}
    # Sqoop's split-by: contiguous slices of the range on parallel connections, each its own
    # snapshot (a day is never split, so each day stays consistent). The driver and Parquet
    # writer release the GIL, so threads overlap the database fetch with the file writes.
    slices = _split(wanted, max(1, min(source.parallel_ranges, len(wanted))))
    if len(slices) == 1:
        _ingest_slice(source, lake, slices[0], today, tables, results)
    else:
        with ThreadPoolExecutor(max_workers=len(slices)) as pool:
            for future in [
                pool.submit(_ingest_slice, source, lake, part, today, tables, results)
                for part in slices
            ]:
                future.result()
    return [results[day] for day in wanted]


def _split(days: list[dt.date], parts: int) -> list[list[dt.date]]:
    size = -(-len(days) // parts)
    return [days[i : i + size] for i in range(0, len(days), size)]


def _ingest_slice(
    source: SourceDatabase,
    lake: Lake,
    wanted: list[dt.date],
    today: dt.date,
    tables: tuple[str, ...],
    results: dict[dt.date, DayIngest],
) -> None:
    with source.snapshot() as snap:
        ids = ReferenceIds.read(snap)
        for table in tables:
            date_column = contract.DAILY_TABLES[table]
            file_schema = contract.table(table).arrow_schema(exclude=(date_column,))
            # Ordered by date only: the split needs nothing more, and a second sort key made
            # PostgreSQL sort every day's rows (+45% on the extract, measured).
            batches = snap.stream_table(
                table, where=range_filter(table, wanted[0], wanted[-1]), order_by=date_column
            )
            pieces = _pieces_by_day(batches, date_column, set(wanted))
            seen: set[dt.date] = set()
            for day, group in itertools.groupby(pieces, key=lambda p: p[0]):
                seen.add(day)
                batches = (b for _, b in group)
                _write_day(lake, table, day, file_schema, batches, ids, today, results[day])
            for day in wanted:
                if day not in seen:  # no rows any more: the partition must say so
                    _write_day(lake, table, day, file_schema, iter(()), ids, today, results[day])


def range_filter(table: str, first: dt.date, last: dt.date) -> str:
    date_column = contract.DAILY_TABLES[table]
    return f"{date_column} BETWEEN '{first.isoformat()}' AND '{last.isoformat()}'"


def _pieces_by_day(
    batches: Iterator[pa.RecordBatch], date_column: str, wanted: set[dt.date]
) -> Iterator[tuple[dt.date, pa.RecordBatch]]:
    """Split a date-ordered stream into (day, batch slice) pieces, in date order.

    The rows arrive sorted by date, so a day is a run of rows: zero-copy slices, no filter."""
    epoch = dt.date(1970, 1, 1)
    for batch in batches:
        if not batch.num_rows:
            continue
        days = batch.column(date_column).cast(pa.int32()).to_numpy(zero_copy_only=False)
        steps = np.diff(days)
        if (steps < 0).any():
            raise RuntimeError(f"the {date_column} stream is not in date order")
        bounds = [0, *(np.flatnonzero(steps) + 1).tolist(), len(days)]
        for start, end in itertools.pairwise(bounds):
            day = epoch + dt.timedelta(days=int(days[start]))
            if day in wanted:
                yield day, batch.slice(start, end - start)


def _write_day(
    lake: Lake,
    table: str,
    day: dt.date,
    file_schema: pa.Schema,
    batches: Iterator[pa.RecordBatch],
    ids: ReferenceIds,
    today: dt.date,
    result: DayIngest,
) -> None:
    bad: list[pa.RecordBatch] = []

    def good_batches() -> Iterator[pa.RecordBatch]:
        for batch in batches:
            reasons = quarantine_reasons(table, batch, ids, day, today)
            ok = pc.is_null(reasons)
            if not pc.all(ok).as_py():
                bad.append(
                    batch.filter(pc.invert(ok)).append_column(
                        "quarantine_reason", reasons.filter(pc.invert(ok))
                    )
                )
            good = batch.filter(ok)
            if table == "timesheet_entries" and good.num_rows:
                result.hours += pc.sum(good.column("hours")).as_py() or Decimal(0)
            yield good.select(file_schema.names)

    stats = lake.write_partition(raw_dataset(table), day, file_schema, good_batches())
    result.rows[table] = stats.rows
    result.bytes += stats.bytes
    result.quarantined[table] = sum(b.num_rows for b in bad)
    if bad:
        q = pa.Table.from_batches(bad)
        result.reasons.update(q.column("quarantine_reason").to_pylist())
        lake.write_partition(quarantine_dataset(table), day, q.schema, q.to_batches())
    else:
        # A rerun that finds the day clean must not leave the old quarantine behind.
        lake.delete_partition(quarantine_dataset(table), day)


def ingest_reference(source: SourceDatabase, lake: Lake) -> dict[str, int]:
    """Snapshot every reference table whole, all from one consistent read."""
    counts: dict[str, int] = {}
    with source.snapshot() as snap:
        for table in contract.REFERENCE_TABLES:
            schema = contract.table(table).arrow_schema()
            data = pa.Table.from_batches(list(snap.stream_table(table, order_by="1")), schema)
            lake.write_snapshot(raw_dataset(table), data)
            counts[table] = data.num_rows
    return counts


@dataclass(frozen=True)
class Reconciliation:
    day: dt.date
    source_rows: int
    source_hours: Decimal
    lake_rows: int
    lake_hours: Decimal
    quarantined_rows: int
    quarantined_hours: Decimal

    @property
    def ok(self) -> bool:
        return (
            self.source_rows == self.lake_rows + self.quarantined_rows
            and self.source_hours == self.lake_hours + self.quarantined_hours
        )


def _rows_and_hours(data: pa.Table | None) -> tuple[int, Decimal]:
    if data is None or data.num_rows == 0:
        return 0, Decimal(0)
    total = pc.sum(data.column("hours")).as_py()
    return data.num_rows, Decimal(total or 0)


def reconcile_day(source: SourceDatabase, lake: Lake, day: dt.date) -> Reconciliation:
    """Sqoop-style --validate: row count and hours of the day, source vs lake (+ quarantine)."""
    with source.snapshot() as snap:
        ((rows, hours),) = snap.scalar_rows(
            "SELECT COUNT(*), COALESCE(SUM(hours), 0) FROM timesheet_entries "
            f"WHERE work_date = '{day.isoformat()}'"
        )
    lake_rows, lake_hours = _rows_and_hours(
        lake.read_partition(raw_dataset("timesheet_entries"), day)
    )
    q_rows, q_hours = _rows_and_hours(
        lake.read_partition(quarantine_dataset("timesheet_entries"), day)
    )
    return Reconciliation(
        day=day,
        source_rows=int(rows),
        source_hours=Decimal(str(hours)).quantize(Decimal("0.01")),
        lake_rows=lake_rows,
        lake_hours=lake_hours.quantize(Decimal("0.01")),
        quarantined_rows=q_rows,
        quarantined_hours=q_hours.quantize(Decimal("0.01")),
    )
