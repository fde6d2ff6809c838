"""The completeness sweep: proof, day by day, that the lake holds what the source holds.

The batch sensor follows the source's `updated_at` high-water mark, which cannot see a row
deleted outright (nothing is stamped), any change to `workstation_activity` (it has no stamp),
or a row committed late with an `updated_at` older than the mark; the daily close re-checks only
yesterday. The sweep looks at the last N work dates (`TSFRAUD_SWEEP_DAYS`, default 35) and
compares four fingerprints per day and table, source against lake (raw + quarantine, since every
source row lands in one of the two):

* row count;
* the sum of the measure (hours; active minutes);
* the latest change stamp (max `updated_at`; for activity, which has none, max `last_seen_at`);
* an order-free checksum of the row keys: the sum over rows of (key mod p) * 48271 mod p, with
  p = 2^31 - 1 (Park-Miller's bijection, so a swapped id shows). The key is the entry_id for
  entries and (employee_id, active_minutes) for activity, so a changed minute count shows even
  when the day's total happens to balance. It is integer arithmetic that SQLite and PostgreSQL
  compute alike, with truncating `%`, which the lake side reproduces (numpy's fmod).

Cheap on the source: ONE grouped, read-only query per table for the whole window, inside the
read-only snapshot the ingest uses. The days that differ are re-ingested through
`daily_timesheet_job` (one run per contiguous range: the schedule below), and `tsfraud sweep`
prints the same comparison in a terminal.
"""

import datetime as dt
import hashlib
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import dagster as dg
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from tsfraud_assets.defs.automation.schedules import PIPELINE_TAG
from tsfraud_assets.defs.automation.sensors import contiguous_ranges, range_tags
from tsfraud_assets.lib.lake_layout import quarantine_dataset, raw_dataset
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase

SWEEP_SCHEDULE_NAME = "completeness_sweep"
SWEEP_CRON = "0 4 * * *"
"""04:00 local: repairs queue ahead of the 05:30 daily close and the 07:00 deadline."""
PRIME = 2_147_483_647
MULTIPLIER = 48_271
CENT = Decimal("0.01")


@dataclass(frozen=True)
class SweptTable:
    name: str
    date_column: str
    measure: str
    stamp: str
    key_sql: str  # the checksum key, in SQL both SQLite and PostgreSQL evaluate alike
    key_label: str

    def key(self, data: pa.Table) -> np.ndarray:
        """The same key from the lake's rows (nulls dropped, as SQL's SUM drops them)."""
        if self.name == "timesheet_entries":
            key = data.column("entry_id")
        else:
            key = pc.add(
                pc.multiply(data.column("employee_id").cast(pa.int64()), 1441),
                data.column("active_minutes").cast(pa.int64()),
            )
        return np.asarray(pc.drop_null(key.cast(pa.int64())).to_numpy(), dtype=np.int64)


SWEPT: tuple[SweptTable, ...] = (
    SweptTable("timesheet_entries", "work_date", "hours", "updated_at", "entry_id", "entry ids"),
    # 1441 > the most minutes a day holds (1440): (employee, minutes) -> one integer.
    SweptTable(
        "workstation_activity",
        "activity_date",
        "active_minutes",
        "last_seen_at",
        "employee_id * 1441 + active_minutes",
        "(employee, minutes) pairs",
    ),
)


@dataclass(frozen=True)
class Fingerprint:
    rows: int = 0
    total: Decimal = Decimal(0)
    last_change: dt.datetime | None = None
    checksum: int = 0


@dataclass(frozen=True)
class DayComparison:
    table: str
    day: dt.date
    source: Fingerprint
    lake: Fingerprint

    @property
    def reasons(self) -> list[str]:
        spec = next(t for t in SWEPT if t.name == self.table)
        s, lk = self.source, self.lake
        why = []
        if s.rows != lk.rows:
            why.append(f"rows {s.rows:,} in source vs {lk.rows:,} in lake")
        if s.total != lk.total:
            why.append(f"{spec.measure} {s.total:,} vs {lk.total:,}")
        if s.last_change != lk.last_change:
            why.append(f"latest {spec.stamp} {_stamp(s.last_change)} vs {_stamp(lk.last_change)}")
        if s.checksum != lk.checksum:
            why.append(f"{spec.key_label} differ")
        return why

    @property
    def differs(self) -> bool:
        return bool(self.reasons)


def _stamp(value: dt.datetime | None) -> str:
    return "none" if value is None else value.isoformat(sep=" ", timespec="seconds")


def checksum_term_sql(key_sql: str) -> str:
    return f"((({key_sql}) % {PRIME}) * {MULTIPLIER}) % {PRIME}"


def checksum(keys: np.ndarray) -> int:
    """Sum of the SQL term over `keys`, with SQL's truncating modulo (np.fmod)."""
    terms = np.fmod(np.fmod(keys, PRIME) * MULTIPLIER, PRIME)
    return int(terms.sum(dtype=np.int64)) if len(terms) else 0


def fingerprint_sql(spec: SweptTable, first: dt.date, last: dt.date) -> str:
    """The one grouped query of a table over the window (dates are typed, never user text)."""
    d = spec.date_column
    return (
        f"SELECT {d}, COUNT(*), SUM({spec.measure}), MAX({spec.stamp}), "
        f"SUM({checksum_term_sql(spec.key_sql)}) FROM {spec.name} "
        f"WHERE {d} BETWEEN '{first.isoformat()}' AND '{last.isoformat()}' GROUP BY {d}"
    )


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _as_datetime(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return dt.datetime.fromisoformat(str(value))


def _total(value: Any) -> Decimal:
    """SQLite sums NUMERIC as float, PostgreSQL exactly: both to the cent."""
    return Decimal(str(value if value is not None else 0)).quantize(CENT)


def source_fingerprints(
    source: SourceDatabase, first: dt.date, last: dt.date
) -> dict[str, dict[dt.date, Fingerprint]]:
    """Every swept table's fingerprints per day, from one snapshot, one query per table."""
    out: dict[str, dict[dt.date, Fingerprint]] = {}
    with source.snapshot() as snap:
        for spec in SWEPT:
            out[spec.name] = {
                _as_date(day): Fingerprint(
                    rows=int(rows),
                    total=_total(total),
                    last_change=_as_datetime(stamp),
                    checksum=int(chk or 0),
                )
                for day, rows, total, stamp, chk in snap.scalar_rows(
                    fingerprint_sql(spec, first, last)
                )
            }
    return out


def lake_fingerprint(lake: Lake, spec: SweptTable, day: dt.date) -> Fingerprint:
    parts = [
        t
        for t in (
            lake.read_partition(raw_dataset(spec.name), day),
            lake.read_partition(quarantine_dataset(spec.name), day),
        )
        if t is not None and t.num_rows
    ]
    if not parts:
        return Fingerprint()
    rows = sum(t.num_rows for t in parts)
    total = sum((_total(pc.sum(t.column(spec.measure)).as_py()) for t in parts), Decimal(0))
    stamps = [pc.max(t.column(spec.stamp)).as_py() for t in parts]
    present = [s for s in stamps if s is not None]
    return Fingerprint(
        rows=rows,
        total=total.quantize(CENT),
        last_change=_as_datetime(max(present)) if present else None,
        checksum=sum(checksum(spec.key(t)) for t in parts),
    )


def sweep_days(last: dt.date, days: int, first_allowed: dt.date | None = None) -> list[dt.date]:
    """The `days` work dates ending with `last`, none before the first partition."""
    window = [last - dt.timedelta(days=i) for i in range(days - 1, -1, -1)]
    return [d for d in window if first_allowed is None or d >= first_allowed]


def sweep(source: SourceDatabase, lake: Lake, days: list[dt.date]) -> list[DayComparison]:
    """Source vs lake for each table and day, in (table, day) order."""
    if not days:
        return []
    found = source_fingerprints(source, days[0], days[-1])
    return [
        DayComparison(
            spec.name,
            day,
            found[spec.name].get(day, Fingerprint()),
            lake_fingerprint(lake, spec, day),
        )
        for spec in SWEPT
        for day in days
    ]


def drifted_days(comparisons: list[DayComparison]) -> list[dt.date]:
    return sorted({c.day for c in comparisons if c.differs})


def repair_requests(comparisons: list[DayComparison]) -> list[dg.RunRequest]:
    """One `daily_timesheet_job` run per contiguous range of days that differ.

    The run key is the drift itself (days and both fingerprints): the same unrepaired drift is
    not requested twice, while a new drift on the same days is."""
    requests = []
    for start, end in contiguous_ranges(drifted_days(comparisons)):
        inside = [c for c in comparisons if c.differs and start <= c.day <= end]
        digest = hashlib.sha256(
            repr([(c.table, c.day, c.source, c.lake) for c in inside]).encode()
        ).hexdigest()[:12]
        why = "; ".join(f"{c.day} {c.table}: {', '.join(c.reasons)}" for c in inside)
        requests.append(
            dg.RunRequest(
                run_key=f"{SWEEP_SCHEDULE_NAME}-{start}-{end}-{digest}",
                tags={
                    **range_tags(start, end),
                    PIPELINE_TAG: "daily",
                    "tsfraud/trigger": SWEEP_SCHEDULE_NAME,
                    # run tags are for reading in the UI, not for whole reports
                    "tsfraud/sweep_reasons": why if len(why) <= 500 else why[:497] + "...",
                },
            )
        )
    return requests


def build_completeness_sweep_schedule(
    timezone: str,
    daily_job: UnresolvedAssetJobDefinition,
    partitions: dg.TimeWindowPartitionsDefinition,
    days: int,
) -> dg.ScheduleDefinition:
    """Nightly: sweep the last `days` complete partitions and re-ingest what differs."""

    @dg.schedule(
        name=SWEEP_SCHEDULE_NAME,
        job=daily_job,
        cron_schedule=SWEEP_CRON,
        execution_timezone=timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Compare source and lake fingerprints of the last {days} work dates "
        "and re-ingest exactly the days that differ (docs/audit-trail.md).",
    )
    def completeness_sweep(
        context: dg.ScheduleEvaluationContext, source: SourceDatabase, lake: Lake
    ) -> Iterator[dg.RunRequest | dg.SkipReason]:
        scheduled = context.scheduled_execution_time or dt.datetime.now(zoneinfo.ZoneInfo("UTC"))
        with dg.partition_loading_context(effective_dt=scheduled):
            last_key = partitions.get_last_partition_key()
        if last_key is None:
            yield dg.SkipReason("no complete partition yet")
            return
        window = sweep_days(dt.date.fromisoformat(last_key), days, partitions.start.date())
        comparisons = sweep(source, lake, window)
        for c in comparisons:
            if c.differs:
                context.log.info(f"{c.day} {c.table}: {'; '.join(c.reasons)}")
        requests = repair_requests(comparisons)
        if not requests:
            yield dg.SkipReason(
                f"{len(window)} work dates {window[0]} to {window[-1]}: lake matches source"
            )
        yield from requests

    return completeness_sweep
