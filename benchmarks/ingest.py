"""Ingest benchmark: tsfraud's extract vs pandas.read_sql vs connectorx vs COPY (the floor).

Loads a PostgreSQL database with about 2 million timesheet rows through the simulator, then,
in one run on the same data, times:
  - tsfraud: `ingest_day` for every work date (ADBC → validated Arrow batches → Parquet in the lake)
  - pandas.read_sql of the same rows over SQLAlchemy
  - connectorx to Arrow alone (2 partitions)
  - COPY (SELECT ...) TO STDOUT (FORMAT binary), discarded: the floor
and prints rows/s, the ratios to the floor and to pandas, and peak RSS growth of each.

    .venv/bin/python benchmarks/ingest.py [--employees 16000] [--days 180] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

# Loaded before any timing, as in every pipeline process: the first import of the ADBC driver
# pulls in pandas and pyarrow.dataset (~1 s), a start-up cost and not a per-row one.
import adbc_driver_postgresql.dbapi  # noqa: F401
import sqlalchemy as sa

from tsfraud_assets.defs.raw.ingest import ingest_days
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase, select_sql
from tsfraud_simulator import simulate

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, fn: Callable[[], int]) -> tuple[str, int, float, float]:
    before = peak_rss_mb()
    t0 = time.perf_counter()
    rows = fn()
    seconds = time.perf_counter() - t0
    return label, rows, seconds, max(0.0, peak_rss_mb() - before)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--employees", type=int, default=16000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse", metavar="DATABASE", help="time a database kept by an earlier --keep run"
    )
    parser.add_argument(
        "--only", default="copy,tsfraud,connectorx,pandas", help="comma-separated paths to time"
    )
    args = parser.parse_args()

    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    name = args.reuse or f"tsfraud_bench_{uuid.uuid4().hex[:8]}"
    if not args.reuse:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    start = dt.date(2026, 1, 5)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if not args.reuse:
                t0 = time.perf_counter()
                summary = simulate(
                    url,
                    employees=args.employees,
                    start=start,
                    days=args.days,
                    seed=3,
                    ground_truth_path=str(Path(tmp) / "truth.parquet"),
                )
                print(f"loaded: {summary} ({time.perf_counter() - t0:.0f} s)")
            engine = sa.create_engine(url)
            with engine.connect() as conn:
                total, first, last = conn.exec_driver_sql(
                    "SELECT COUNT(*), MIN(work_date), MAX(work_date) FROM timesheet_entries"
                ).one()
                (employees,) = conn.exec_driver_sql("SELECT COUNT(*) FROM employees").one()
            days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
            query = select_sql("timesheet_entries")
            source = SourceDatabase(url=url)
            lake = Lake(root=str(Path(tmp) / "lake"))

            def tsfraud() -> int:
                today = days[-1] + dt.timedelta(days=1)
                # the same rows the other paths read: the entries (activity is a second table)
                results = ingest_days(
                    source, lake, days, today=today, tables=("timesheet_entries",)
                )
                return sum(r.rows["timesheet_entries"] for r in results)

            def pandas_read_sql() -> int:
                import pandas as pd

                with engine.connect() as conn:
                    return len(pd.read_sql(sa.text(query), conn))

            def connectorx() -> int:
                import connectorx as cx

                libpq = f"postgresql://postgres@127.0.0.1:5432/{name}"
                table = cx.read_sql(
                    libpq, query, return_type="arrow", partition_on="entry_id", partition_num=2
                )
                return int(table.num_rows)

            def copy_floor() -> int:
                import psycopg

                n = 0
                libpq = f"postgresql://postgres@127.0.0.1:5432/{name}"
                sql = f"COPY ({query}) TO STDOUT (FORMAT binary)"
                with psycopg.connect(libpq) as conn, conn.cursor().copy(sql) as copy:
                    for block in copy:
                        n += len(block)
                return int(total)

            paths = {
                "copy": ("COPY TO STDOUT (floor)", copy_floor),
                "tsfraud": ("tsfraud extract → Parquet", tsfraud),
                "connectorx": ("connectorx → Arrow", connectorx),
                "pandas": ("pandas.read_sql", pandas_read_sql),
            }
            chosen = [p for p in paths if p in args.only.split(",")]
            results = {p: timed(*paths[p]) for p in chosen}
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def rate_of(path: str) -> float:
        _, rows, seconds, _ = results.get(path, ("", 0, 0.0, 0.0))
        return rows / seconds if seconds else float("nan")

    floor, pandas_rate = rate_of("copy"), rate_of("pandas")
    print(f"\n{total:,} timesheet rows over {len(days)} days, {employees:,} employees")
    print(
        f"{'path':28} {'rows':>10} {'s':>7} {'rows/s':>11} {'x floor':>8} {'x pandas':>9} "
        f"{'+RSS MB':>8}"
    )
    for label, rows, seconds, rss in results.values():
        rate = rows / seconds
        print(
            f"{label:28} {rows:>10,} {seconds:>7.1f} {rate:>11,.0f} {rate / floor:>8.2f} "
            f"{rate / pandas_rate:>9.1f} {rss:>8.0f}"
        )


if __name__ == "__main__":
    main()
