"""Raw ingest: the source's rows for a work date, validated, into the lake.

Rows that break the contract are never dropped silently: they go to
`quarantine/<table>/work_date=D/` with a `quarantine_reason`, and the counts are returned so the
asset shows them. Each day is extracted inside one read-only snapshot, so its entries and the
ids they are checked against are consistent.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from tsfraud_assets import contract
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import Snapshot, SourceDatabase, day_query, select_sql

RAW = "raw"
QUARANTINE = "quarantine"
MAX_DAILY_HOURS = Decimal(24)
MAX_DAILY_MINUTES = 24 * 60


def raw_dataset(table: str) -> str:
    return f"{RAW}/{table}"


def quarantine_dataset(table: str) -> str:
    return f"{QUARANTINE}/{table}"


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
        reason = pc.if_else(pc.and_(mask, pc.is_null(reason)), pa.scalar(text), reason)

    spec = contract.table(table)
    for col in spec.columns:
        if not col.nullable and col.name in batch.schema.names:
            flag(pc.is_null(batch.column(col.name)), f"null {col.name}")
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
    today = today or dt.datetime.now(dt.UTC).date()
    result = DayIngest(day=day)
    with source.snapshot() as snap:
        ids = ReferenceIds.read(snap)
        for table, date_column in contract.DAILY_TABLES.items():
            schema = contract.table(table).arrow_schema()
            file_schema = contract.table(table).arrow_schema(exclude=(date_column,))
            bad: list[pa.RecordBatch] = []

            def good_batches(
                table: str = table,
                schema: pa.Schema = schema,
                file_schema: pa.Schema = file_schema,
                bad: list[pa.RecordBatch] = bad,
            ) -> Iterator[pa.RecordBatch]:
                for batch in snap.stream(day_query(table, day), schema):
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
                        total = pc.sum(good.column("hours")).as_py()
                        result.hours += total or Decimal(0)
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
    return result


def ingest_reference(source: SourceDatabase, lake: Lake) -> dict[str, int]:
    """Snapshot every reference table whole, all from one consistent read."""
    counts: dict[str, int] = {}
    with source.snapshot() as snap:
        for table in contract.REFERENCE_TABLES:
            schema = contract.table(table).arrow_schema()
            data = pa.Table.from_batches(
                list(snap.stream(select_sql(table) + " ORDER BY 1", schema)), schema
            )
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
