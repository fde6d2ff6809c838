"""Audit-trail benchmark: what the entry history costs in bytes and the sweep in seconds.

Simulates a firm into a fresh PostgreSQL database, extracts every work date into a temporary
lake, then measures:
  - history, first pass: every entry `inserted` (the one-off cost of starting the history on
    an existing lake): seconds and bytes per day;
  - history, a day of edits: about 1 % of entries edited (hours raised) and 0.1 % deleted in
    the source, the days re-extracted, the history appended: bytes per day of changes;
  - history, an unchanged rerun: seconds to find there is nothing to append;
  - the sweep over all the days: the source's grouped queries alone (one per table) and the
    whole comparison with the lake.

    .venv/bin/python benchmarks/audit.py [--employees 2000] [--days 35]

The issue's target scale is --employees 100000 --days 35 (about 3.5 M entries; the simulation
alone takes a long while on two cores).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from tsfraud_assets.defs.automation.sweep import SWEPT, drifted_days, fingerprint_sql, sweep
from tsfraud_assets.defs.history.versions import record_day
from tsfraud_assets.defs.raw.ingest import ingest_days
from tsfraud_assets.lib.lake_layout import ENTRY_VERSIONS
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase
from tsfraud_simulator import simulate

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*.parquet"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--employees", type=int, default=2000)
    parser.add_argument("--days", type=int, default=35)
    args = parser.parse_args()

    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    name = f"tsfraud_bench_audit_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            summary = simulate(
                url,
                employees=args.employees,
                start=dt.date(2026, 1, 5),
                days=args.days,
                seed=3,
                ground_truth_path=str(Path(tmp) / "truth.parquet"),
            )
            print(f"simulated: {summary} ({time.perf_counter() - t0:.0f} s)")
            engine = sa.create_engine(url)
            with engine.connect() as conn:
                entries, first, last = conn.exec_driver_sql(
                    "SELECT COUNT(*), MIN(work_date), MAX(work_date) FROM timesheet_entries"
                ).one()
            days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
            today = last + dt.timedelta(days=1)
            source = SourceDatabase(url=url)
            lake = Lake(root=str(Path(tmp) / "lake"))
            history = Path(tmp) / "lake" / ENTRY_VERSIONS

            t0 = time.perf_counter()
            ingest_days(source, lake, days, today=today)
            print(
                f"extract: {entries:,} entries, {len(days)} days ({time.perf_counter() - t0:.1f} s)"
            )

            seen = dt.datetime(2026, 6, 1, 6, 0)
            t0 = time.perf_counter()
            first_pass = [record_day(lake, d, seen) for d in days]
            took = time.perf_counter() - t0
            size = folder_bytes(history)
            print(
                f"history, first pass: {sum(r.inserted for r in first_pass):,} versions, "
                f"{took:.1f} s ({took / len(days):.2f} s/day), {size / 1e6:.2f} MB "
                f"({size / len(days) / 1e3:.0f} kB/day, {size / max(entries, 1):.1f} B/entry)"
            )

            with engine.begin() as conn:
                conn.exec_driver_sql(
                    "UPDATE timesheet_entries SET hours = LEAST(hours + 1, 24), "
                    "updated_at = updated_at + interval '3 days' WHERE MOD(entry_id, 100) = 7"
                )
                conn.exec_driver_sql("DELETE FROM timesheet_entries WHERE MOD(entry_id, 1000) = 3")
            ingest_days(source, lake, days, today=today)
            t0 = time.perf_counter()
            edits = [record_day(lake, d, seen + dt.timedelta(days=1)) for d in days]
            took = time.perf_counter() - t0
            grown = folder_bytes(history) - size
            print(
                f"history, edits: {sum(r.updated for r in edits):,} updated, "
                f"{sum(r.deleted for r in edits):,} deleted, {took:.1f} s, "
                f"{grown / len(days) / 1e3:.1f} kB/day appended"
            )
            t0 = time.perf_counter()
            rerun = [record_day(lake, d, seen + dt.timedelta(days=2)) for d in days]
            print(
                f"history, unchanged rerun: {sum(r.appended for r in rerun)} appended, "
                f"{time.perf_counter() - t0:.1f} s"
            )

            with source.snapshot() as snap:
                for spec in SWEPT:
                    t0 = time.perf_counter()
                    snap.scalar_rows(fingerprint_sql(spec, days[0], days[-1]))
                    print(f"sweep, source query {spec.name}: {time.perf_counter() - t0:.2f} s")
            t0 = time.perf_counter()
            comparisons = sweep(source, lake, days)
            print(
                f"sweep, {len(days)} days x {len(SWEPT)} tables: {time.perf_counter() - t0:.2f} s, "
                f"{len(drifted_days(comparisons))} days differ"
            )
            engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
