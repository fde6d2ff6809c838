"""Time the simulator at the size the pipeline is sized for: 3,000 employees x 120 days.

Target: under 2 minutes each on SQLite and on PostgreSQL (127.0.0.1:5432, user postgres), on a
2-core machine. Run with `.venv/bin/python benchmarks/simulate.py [--employees N --days D]`;
PostgreSQL is skipped with a message when the server is not reachable. A one-day append batch
is timed as well, since the pipeline's sensors see the simulator mostly through those.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from tsfraud_simulator import SimulationSummary, append_through, simulate

TARGET_S = 120.0
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def _report(label: str, summary: SimulationSummary) -> None:
    print(f"\n== {label}: {summary.elapsed_s:.1f} s")
    width = max(len(t) for t in summary.rows)
    for table, n in summary.rows.items():
        print(f"   {table:<{width}}  {n:>10,}")
    print(
        f"   employee-days {summary.employee_days:,}, fraud days {summary.fraud_days:,} "
        f"({summary.fraud_share:.2%}), look-alike days {summary.lookalike_days:,}"
    )


def _run(label: str, url: str, gt: str, args: argparse.Namespace) -> bool:
    start = dt.date.fromisoformat(args.start)
    t0 = time.monotonic()
    summary = simulate(url, args.employees, start, args.days, seed=args.seed, ground_truth_path=gt)
    wall = time.monotonic() - t0
    _report(f"{label} simulate {args.employees} x {args.days}", summary)
    rows = sum(summary.rows.values())
    print(f"   wall {wall:.1f} s, {rows / wall:,.0f} rows/s")
    through = summary.last_work_date + dt.timedelta(days=1)
    batch = append_through(url, through, ground_truth_path=gt)
    print(
        f"   append 1 day: {batch.elapsed_s:.1f} s, inserted "
        f"{sum(batch.inserted.values()):,}, updated {sum(batch.updated.values()):,} rows"
    )
    ok = wall < TARGET_S
    print(f"   {'OK' if ok else 'TOO SLOW'} (target < {TARGET_S:.0f} s)")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--employees", type=int, default=3000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--start", default="2026-03-02")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(prefix="tsfraud-bench-") as tmp:
        db = Path(tmp) / "source.db"
        ok &= _run("SQLite", f"sqlite:///{db}", f"{db}.ground_truth.parquet", args)
        if args.skip_postgres:
            return 0 if ok else 1
        name = f"tsfraud_bench_{uuid.uuid4().hex[:8]}"
        try:
            admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
        except psycopg.OperationalError as exc:
            print(f"\nPostgreSQL not reachable on 127.0.0.1:5432, skipped: {exc}")
            return 0 if ok else 1
        admin.execute(f"CREATE DATABASE {name}")
        try:
            url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
            ok &= _run("PostgreSQL", url, str(Path(tmp) / "pg.ground_truth.parquet"), args)
        finally:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
            admin.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
