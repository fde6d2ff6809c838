"""Firm-scale benchmark: the daily incremental run at 25k/50k/100k employees, and a 90-day backfill.

Daily incremental (per size, PostgreSQL source, embedded engines: local Spark, DuckDB):
  1. the simulator fills a fresh PostgreSQL database with `--days` (35) work dates of history;
  2. set-up, not timed against the target: `tsfraud run`'s four runs over that history
     (reference, ingest → Spark → features, model training, scores → reports), so the next
     day finds a trained model and its look-back window in place;
  3. the simulator's append mode adds the next work date's batch (with the late submissions and
     corrections it carries);
  4. timed: what the batch sensor launches for that day, in a fresh process as the daemon's run
     launcher would start it: `reference_tables_job`, then `daily_timesheet_job` for the new
     partition (raw ingest + reconcile check → Spark → dbt features → scores → dbt report
     models → HTML report). Per step: seconds from the run's own event log and peak memory of
     the whole process tree (Python, the Spark JVM, dbt's subprocess) sampled every 0.2 s;
  5. timed too: `daily_timesheet_job` alone for the busiest complete weekday of the history, since
     the new day holds only what was submitted by the batch (a re-run, as for a corrected day).
Target: <= 3 minutes in total at 100,000 employees on a 2-core machine, cost linear in rows.

Backfill: 2,000 employees x 90 days, `tsfraud run` over the whole range from an empty lake: four
runs, each covering the 90 days at once (single-run backfill policies). Target: <= 10 minutes.

    .venv/bin/python benchmarks/e2e.py [--sizes 25000,50000,100000] [--days 35]
        [--backfill-employees 2000] [--backfill-days 90] [--skip-daily] [--skip-backfill]
        [--workdir DIR] [--keep]

Figures go to stdout and to `<workdir>/e2e.json`. This is a measurement, never a test.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
HISTORY_START = dt.date(2026, 9, 1)  # a Tuesday: the appended day (start + days) is a weekday
BACKFILL_START = dt.date(2026, 5, 1)
SEED = 11


# --- child phases (run in their own process, as Dagster's run launcher would) -------------
def configure(workdir: Path, url: str) -> None:
    """Point every resource, dbt and the Dagster instance at `workdir` and the source `url`."""
    os.environ.update(
        {
            "TSFRAUD_DATA_DIR": str(workdir),
            "TSFRAUD_LAKE": str(workdir / "lake"),
            "TSFRAUD_DUCKDB_PATH": str(workdir / "warehouse.duckdb"),
            "TSFRAUD_SOURCE_URL": url,
            "TSFRAUD_GROUND_TRUTH": str(workdir / "ground_truth.parquet"),
            "DAGSTER_HOME": str(workdir / "dagster_home"),
        }
    )


def step_seconds(instance: Any, run_id: str) -> dict[str, tuple[float, float]]:
    """(start, end) wall-clock timestamps of every step of a run, from its event log."""
    import dagster as dg

    starts: dict[str, float] = {}
    spans: dict[str, tuple[float, float]] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or entry.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            starts[entry.step_key] = entry.timestamp
        elif event.event_type in (
            dg.DagsterEventType.STEP_SUCCESS,
            dg.DagsterEventType.STEP_FAILURE,
            dg.DagsterEventType.STEP_SKIPPED,
        ):
            spans[entry.step_key] = (starts.get(entry.step_key, entry.timestamp), entry.timestamp)
    return spans


def phase_history(workdir: Path, url: str, start: dt.date, days: int) -> dict[str, Any]:
    """Run every layer over the history (the set-up before the timed day, or the backfill)."""
    configure(workdir, url)
    import dagster as dg

    from tsfraud_assets.cli.run import STEPS, ensure_dagster_home, run_range
    from tsfraud_assets.definitions import build_definitions
    from tsfraud_assets.settings import load_settings

    settings = load_settings()
    ensure_dagster_home(settings)
    defs = build_definitions(settings)
    end = start + dt.timedelta(days=days - 1)
    out: dict[str, Any] = {"runs": []}
    with dg.DagsterInstance.get() as instance:
        for step in STEPS:
            t0 = time.time()
            (result,) = run_range(defs, start, end, instance, steps=(step,), log_level="ERROR")
            out["runs"].append(
                {
                    "run": step.name,
                    "seconds": time.time() - t0,
                    "steps": step_seconds(instance, result.run_id),
                }
            )
    return out


def phase_daily(
    workdir: Path, url: str, day: dt.date, with_reference: bool = True
) -> dict[str, Any]:
    """What the batch sensor requests for one new day: reference refresh, then the day's chain
    (without the refresh: a corrected older day re-run through the chain)."""
    t_process = time.time()
    configure(workdir, url)
    import dagster as dg

    from tsfraud_assets.definitions import build_definitions
    from tsfraud_assets.settings import load_settings

    defs = build_definitions(load_settings())
    out: dict[str, Any] = {"runs": [], "import_seconds": time.time() - t_process}
    with dg.DagsterInstance.get() as instance:
        jobs = [("daily_timesheet_job", day.isoformat())]
        if with_reference:
            jobs.insert(0, ("reference_tables_job", None))
        for job_name, partition in jobs:
            job = defs.resolve_job_def(job_name)
            t0 = time.time()
            result = job.execute_in_process(
                instance=instance,
                partition_key=partition,
                run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
            )
            if not result.success:
                raise SystemExit(f"{job_name} failed")
            out["runs"].append(
                {
                    "run": job_name,
                    "seconds": time.time() - t0,
                    "steps": step_seconds(instance, result.run_id),
                }
            )
    out["process_seconds"] = time.time() - t_process
    return out


# --- the parent: databases, processes, memory, figures ------------------------------------
class TreeMemory:
    """Samples the resident memory of a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.samples: list[tuple[float, float]] = []  # (timestamp, MB)
        self._pid = pid
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            root = psutil.Process(self._pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop.is_set():
            total = 0
            try:
                for proc in [root, *root.children(recursive=True)]:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        total += proc.memory_info().rss
            except psutil.NoSuchProcess:
                break
            self.samples.append((time.time(), total / 2**20))
            self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float | None = None, end: float | None = None) -> float:
        values = [
            mb
            for t, mb in self.samples
            if (start is None or t >= start) and (end is None or t <= end)
        ]
        if not values and end is not None:
            # A step shorter than the sampling interval: the last reading before it ended.
            values = [mb for t, mb in self.samples if t <= end][-1:]
        return max(values, default=0.0)


def run_phase(phase: str, workdir: Path, *args: str) -> tuple[dict[str, Any], TreeMemory, float]:
    """Run a phase of this script in a child process; its JSON result, memory and wall time.

    The child's own output (dbt's and Spark's logs) goes to `<workdir>/<phase>.log`."""
    fd, result_path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    cmd = [
        sys.executable, __file__, "--phase", phase, "--result", result_path,
        "--workdir", str(workdir), *args,
    ]  # fmt: skip
    log = workdir / f"{phase}.log"
    t0 = time.time()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        memory = TreeMemory(proc.pid)
        code = proc.wait()
    memory.stop()
    wall = time.time() - t0
    if code != 0:
        tail = "".join(log.read_text().splitlines(keepends=True)[-30:])
        raise SystemExit(f"phase {phase} failed with exit code {code}; end of {log}:\n{tail}")
    result = json.loads(Path(result_path).read_text())
    os.unlink(result_path)
    return result, memory, wall


def create_database(label: str) -> tuple[str, str]:
    name = f"tsfraud_e2e_{label}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


@contextlib.contextmanager
def scratch(label: str, workdir: Path, keep: bool) -> Iterator[str]:
    """A fresh PostgreSQL database (its URL) for one measurement; dropped afterwards with the
    work folder, unless `keep`."""
    name, url = create_database(label)
    try:
        yield url
    finally:
        if not keep:
            drop_database(name)
            shutil.rmtree(workdir, ignore_errors=True)


def drop_database(name: str) -> None:
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


def count_rows(url: str, day: dt.date) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        counts = {
            table: int(
                conn.exec_driver_sql(
                    f"SELECT COUNT(*) FROM {table} WHERE {column} = '{day.isoformat()}'"
                ).scalar_one()
            )
            for table, column in (
                ("timesheet_entries", "work_date"),
                ("workstation_activity", "activity_date"),
            )
        }
        employees = conn.exec_driver_sql("SELECT COUNT(*) FROM employees").scalar_one()
        counts["employees"] = int(employees)
    engine.dispose()
    return counts


def busiest_day(url: str, first: dt.date, last: dt.date) -> tuple[dt.date, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        day, rows = conn.exec_driver_sql(
            "SELECT work_date, COUNT(*) FROM timesheet_entries "
            f"WHERE work_date BETWEEN '{first.isoformat()}' AND '{last.isoformat()}' "
            "GROUP BY work_date ORDER BY 2 DESC, 1 LIMIT 1"
        ).one()
    engine.dispose()
    return day, int(rows)


def layer_rows(result: dict[str, Any], memory: TreeMemory) -> list[dict[str, Any]]:
    rows = []
    for run in result["runs"]:
        for step, (start, end) in sorted(run["steps"].items(), key=lambda kv: kv[1][0]):
            rows.append(
                {
                    "run": run["run"],
                    "step": step,
                    "seconds": round(end - start, 1),
                    "peak_mb": round(memory.peak(start, end)),
                }
            )
    return rows


@dataclass(frozen=True)
class SimulatedRun:
    summary: Any
    simulate_s: float
    result: dict[str, Any]
    memory: TreeMemory
    wall: float


def simulate_and_run(
    workdir: Path, url: str, employees: int, start: dt.date, days: int
) -> SimulatedRun:
    """Simulate the firm into `url`, then run every layer over those days in a child process."""
    from tsfraud_simulator import simulate

    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    t0 = time.time()
    summary = simulate(
        url,
        employees=employees,
        start=start,
        days=days,
        seed=SEED,
        ground_truth_path=str(workdir / "ground_truth.parquet"),
    )
    simulate_s = time.time() - t0
    print(f"[{employees:,}] {summary.describe()}", flush=True)
    result, memory, wall = run_phase(
        "history", workdir, "--url", url, "--start", start.isoformat(), "--days", str(days)
    )
    return SimulatedRun(summary, simulate_s, result, memory, wall)


def daily_for_size(employees: int, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    from tsfraud_assets.defs.automation.sensors import contiguous_ranges
    from tsfraud_assets.resources.source_db import SourceDatabase
    from tsfraud_simulator import append_through

    workdir = root / f"daily_{employees}"
    with scratch(str(employees), workdir, args.keep) as url:
        firm = simulate_and_run(workdir, url, employees, HISTORY_START, args.days)
        simulate_s, history, history_s = firm.simulate_s, firm.result, firm.wall
        print(f"[{employees:,}] set-up over {args.days} days: {history_s:.0f} s", flush=True)
        day = HISTORY_START + dt.timedelta(days=args.days)
        source = SourceDatabase(url=url)
        mark, _, _ = source.changes_since(None)
        t0 = time.time()
        append_through(url, day, ground_truth_path=str(workdir / "ground_truth.parquet"))
        append_s = time.time() - t0
        rows = count_rows(url, day)
        # What the batch sensor would see: the new day, plus late submissions and corrections.
        _, changed_days, changed_tables = source.changes_since(mark)
        daily, memory, wall = run_phase("daily", workdir, "--url", url, "--day", day.isoformat())
        layers = layer_rows(daily, memory)
        out = {
            "employees": employees,
            "history_days": args.days,
            "day": day.isoformat(),
            "day_rows": rows,
            "simulate_seconds": round(simulate_s, 1),
            "setup_seconds": round(history_s, 1),
            "setup_runs": {r["run"]: round(r["seconds"], 1) for r in history["runs"]},
            "append_seconds": round(append_s, 1),
            "batch_changed_days": len(changed_days),
            "batch_changed_ranges": len(contiguous_ranges(changed_days)),
            "batch_changed_tables": changed_tables,
            "daily_total_seconds": round(wall, 1),
            "daily_start_seconds": round(daily["import_seconds"], 1),
            "daily_runs": {r["run"]: round(r["seconds"], 1) for r in daily["runs"]},
            "daily_peak_mb": round(memory.peak()),
            "layers": layers,
        }
        print_daily(out, flush=True)
        # The new day holds only what was submitted by the batch; a complete weekday is the
        # volume a corrected or backfilled day carries. Re-run the busiest one in the history.
        busiest, full_rows = busiest_day(url, HISTORY_START, day - dt.timedelta(days=1))
        full, full_memory, full_wall = run_phase(
            "daily", workdir, "--url", url, "--day", busiest.isoformat(), "--skip-reference"
        )
        out["full_day"] = {
            "day": busiest.isoformat(),
            "entries": full_rows,
            "total_seconds": round(full_wall, 1),
            "peak_mb": round(full_memory.peak()),
            "layers": layer_rows(full, full_memory),
        }
        print(
            f"[{employees:,}] a complete weekday re-run ({busiest}, {full_rows:,} entries, "
            f"daily_timesheet_job only): {full_wall:.0f} s, peak {full_memory.peak():,.0f} MB",
            flush=True,
        )
        for layer in out["full_day"]["layers"]:
            print(f"  {layer['step'][:58]:58} {layer['seconds']:>7.1f} {layer['peak_mb']:>8,}")
        return out


def backfill(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    workdir = root / f"backfill_{args.backfill_employees}"
    with scratch("backfill", workdir, args.keep) as url:
        firm = simulate_and_run(
            workdir, url, args.backfill_employees, BACKFILL_START, args.backfill_days
        )
        summary, simulate_s, result, memory, wall = (
            firm.summary,
            firm.simulate_s,
            firm.result,
            firm.memory,
            firm.wall,
        )
        out = {
            "employees": args.backfill_employees,
            "days": args.backfill_days,
            "timesheet_entries": summary.inserted.get("timesheet_entries"),
            "simulate_seconds": round(simulate_s, 1),
            "total_seconds": round(wall, 1),
            "dagster_runs": len(result["runs"]),
            "runs": {r["run"]: round(r["seconds"], 1) for r in result["runs"]},
            "peak_mb": round(memory.peak()),
            "layers": layer_rows(result, memory),
        }
        print(
            f"\n{out['days']}-day backfill: {out['employees']:,} employees x {out['days']} days "
            f"({out['timesheet_entries']:,} entries): {out['total_seconds']:.0f} s in "
            f"{out['dagster_runs']} Dagster runs, peak {out['peak_mb']:,} MB "
            f"(target <= 600 s: {'PASS' if out['total_seconds'] <= 600 else 'FAIL'})",
            flush=True,
        )
        for name_, seconds in out["runs"].items():
            print(f"  {name_:22} {seconds:>7.1f} s")
        return out


def print_daily(out: dict[str, Any], flush: bool = False) -> None:
    rows = out["day_rows"]
    print(
        f"\n[{out['employees']:,}] daily run for {out['day']} ({rows['timesheet_entries']:,} "
        f"entries, {rows['workstation_activity']:,} activity rows): "
        f"{out['daily_total_seconds']:.0f} s, peak {out['daily_peak_mb']:,} MB "
        f"(process start and Definitions load {out['daily_start_seconds']:.0f} s)"
    )
    print(
        f"  the batch also changed {out['batch_changed_days'] - 1} older work dates in "
        f"{out['batch_changed_ranges']} ranges (late submissions, corrections), which the "
        "sensor re-runs too; not in this figure"
    )
    print(f"  {'run / step':58} {'s':>7} {'peak MB':>8}")
    for layer in out["layers"]:
        label = f"{layer['run']} / {layer['step']}"
        print(f"  {label[:58]:58} {layer['seconds']:>7.1f} {layer['peak_mb']:>8,}")
    print("", flush=flush)


def print_linearity(results: list[dict[str, Any]]) -> None:
    if not results:
        return
    base = results[0]
    base_rows = base["day_rows"]["timesheet_entries"]
    print("\nDaily incremental run, one new work date (target <= 180 s at 100,000 employees)")
    print(
        f"{'employees':>10} {'day entries':>12} {'total s':>8} {'s / 100k rows':>14} {'peak MB':>8}"
    )
    for r in results:
        n = r["day_rows"]["timesheet_entries"]
        print(
            f"{r['employees']:>10,} {n:>12,} {r['daily_total_seconds']:>8.0f} "
            f"{r['daily_total_seconds'] / n * 1e5:>14.1f} {r['daily_peak_mb']:>8,}"
        )
    print("A complete weekday re-run (daily_timesheet_job only)")
    for r in results:
        full = r["full_day"]
        print(
            f"{r['employees']:>10,} {full['entries']:>12,} {full['total_seconds']:>8.0f} "
            f"{full['total_seconds'] / full['entries'] * 1e5:>14.1f} {full['peak_mb']:>8,}"
        )
    if len(results) > 1:
        last = results[-1]
        growth = last["daily_total_seconds"] / base["daily_total_seconds"]
        scale = last["day_rows"]["timesheet_entries"] / base_rows
        print(f"rows x{scale:.1f} → time x{growth:.2f} (linear would be x{scale:.1f} or less)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="25000,50000,100000")
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--backfill-employees", type=int, default=2000)
    parser.add_argument("--backfill-days", type=int, default=90)
    parser.add_argument("--skip-daily", action="store_true")
    parser.add_argument("--skip-backfill", action="store_true")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep databases and work folders")
    # internal: one phase in a child process
    parser.add_argument("--phase", choices=("history", "daily"), help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--start", type=dt.date.fromisoformat, help=argparse.SUPPRESS)
    parser.add_argument("--day", type=dt.date.fromisoformat, help=argparse.SUPPRESS)
    parser.add_argument("--skip-reference", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        if args.phase == "history":
            result = phase_history(args.workdir, args.url, args.start, args.days)
        else:
            result = phase_daily(args.workdir, args.url, args.day, not args.skip_reference)
        Path(args.result).write_text(json.dumps(result))
        return

    root = args.workdir or Path(tempfile.mkdtemp(prefix="tsfraud_e2e_"))
    root.mkdir(parents=True, exist_ok=True)
    memory_gb = psutil.virtual_memory().total / 2**30
    print(f"machine: {os.cpu_count()} cores, {memory_gb:.0f} GB; work in {root}")
    figures: dict[str, Any] = {"daily": [], "backfill": None}
    if not args.skip_daily:
        for size in (int(s) for s in args.sizes.split(",") if s):
            figures["daily"].append(daily_for_size(size, args, root))
            (root / "e2e.json").write_text(json.dumps(figures, indent=2))
    if not args.skip_backfill:
        figures["backfill"] = backfill(args, root)
        (root / "e2e.json").write_text(json.dumps(figures, indent=2))
    print_linearity(figures["daily"])
    print(f"\nfigures: {root / 'e2e.json'}")


if __name__ == "__main__":
    main()
