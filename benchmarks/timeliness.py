"""Timeliness: from a batch landing in the source to its new day's suspect list, nobody clicking.

Through the real `dagster-daemon`, the real `timesheet_batch_sensor` and the project's
dagster.yaml (queued runs, one at a time, the monitored run launcher), as a deployment runs:
  1. the simulator fills a fresh PostgreSQL database with `--days` (35) work dates of history
     for `--employees` people;
  2. set-up, not timed: `tsfraud run` over that history (every layer, the model trained), which
     hands the source's high-water mark to the batch sensor;
  3. the daemon starts on that instance; its first sensor tick must take the hand-off and
     launch nothing (checked: the run count before and after);
  4. timed from here: the simulator's append mode lands the next work date's batch (the new
     day plus the late submissions and corrections to older days it carries);
  5. the sensor sees it on its next tick and requests runs; the clock stops when the new day's
     `timesheet_scores` partition (the suspect list) is materialized, and again when every run
     the batch caused has finished (reports included).
The split comes from the instance: the tick's start (sensor latency), each run's queue wait
(created -> dequeued), launch (dequeued -> run process up), and its steps from the run's event
log, grouped into raw/ingest, Spark, dbt, scoring and report, plus the run's own overhead.

`--batch corrections` lands a batch of corrections alone instead (`--corrections` entries of
the history's last day, +0.5 h each, no reference table touched): the sensor then runs the
daily chain without the reference refresh (`daily_entries_job`), and the clock stops at that
day's re-scored suspect list.

Targets: the new day's suspect list <= 2 minutes after the batch lands at 3,000 employees,
<= 4 minutes at 25,000.

    .venv/bin/python benchmarks/timeliness.py [--employees 3000] [--days 35]
        [--workdir DIR] [--keep] [--timeout 1200] [--setup-dir DIR]
        [--batch append|corrections] [--corrections 200]

Figures go to stdout and to `<workdir>/timeliness.json` (kept with --keep). A measurement,
never a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
HISTORY_START = dt.date(
    2026, 9, 1
)  # a Tuesday: after 35 days of history the batch brings a Tuesday
SEED = 11
SENSOR = "timesheet_batch_sensor"
TARGET_SECONDS = {3000: 120, 25000: 240}
SUSPECT_LIST = "timesheet_scores"

STEP_GROUPS = (
    ("raw/ingest", ("raw_", "timesheet_entry_history")),
    ("spark", ("processed_",)),
    ("dbt", ("dbt_",)),
    ("scoring", ("timesheet_scores",)),
    ("report", ("investigator_report",)),
)


def step_group(step_key: str) -> str:
    for group, prefixes in STEP_GROUPS:
        if step_key.startswith(prefixes):
            return group
    return "checks/other"


# --- the world: a PostgreSQL source, a work folder, the environment of every process -------
def create_database(template: str | None = None) -> tuple[str, str]:
    name = f"tsfraud_timely_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if template:  # a template must have no other session (the simulator keeps its pool)
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{template}' AND pid <> pg_backend_pid()"
            )
        conn.exec_driver_sql(
            f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")
        )
    admin.dispose()
    return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


# --- a set-up kept for repeated measurements (--setup-dir) ------------------------------------
def save_setup(setup_dir: Path, workdir: Path, database: str, out: dict[str, Any]) -> None:
    """The world after `tsfraud run` (folder and source database), before the daemon starts,
    so the next measurement (e.g. after a code change) starts from the same firm in minutes."""
    saved_db, _ = create_database(template=database)
    shutil.rmtree(setup_dir, ignore_errors=True)
    shutil.copytree(workdir, setup_dir / "world", symlinks=True)
    (setup_dir / "setup.json").write_text(
        json.dumps({"workdir": str(workdir), "database": saved_db, **out}, indent=2)
    )


def restore_setup(setup_dir: Path, workdir: Path) -> tuple[str, str, dict[str, Any]]:
    """The saved world back in `workdir` (the same path: the warehouse's views and the
    instance name paths under it) and a copy of its source database."""
    saved = json.loads((setup_dir / "setup.json").read_text())
    if Path(saved["workdir"]) != workdir:
        raise SystemExit(f"{setup_dir} was set up in {saved['workdir']}: pass --workdir that")
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.copytree(setup_dir / "world", workdir, symlinks=True)
    name, url = create_database(template=saved["database"])
    return name, url, saved


def drop_database(name: str) -> None:
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


def world_env(workdir: Path, url: str, first: dt.date, last: dt.date) -> dict[str, str]:
    """The environment `tsfraud run`, the daemon and its run workers share: everything under
    `workdir`, partitions exactly the history plus the day the batch brings."""
    env = {
        **os.environ,
        "DAGSTER_HOME": str(workdir / "dagster_home"),
        "TSFRAUD_DEPLOYMENT": "local",
        "TSFRAUD_DATA_DIR": str(workdir),
        "TSFRAUD_SETTINGS_FILE": "",
        "TSFRAUD_LAKE": str(workdir / "lake"),
        "TSFRAUD_DUCKDB_PATH": str(workdir / "warehouse.duckdb"),
        "TSFRAUD_SOURCE_URL": url,
        "TSFRAUD_PARTITION_START": first.isoformat(),
        "TSFRAUD_PARTITION_END": last.isoformat(),
    }
    env.pop("DAGSTER_IS_DEV_CLI", None)
    return env


def start_daemon(workdir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """The real daemon over the project's workspace.yaml, in its own process group."""
    with (workdir / "daemon.log").open("wb") as out:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", "workspace.yaml"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_daemon(proc: subprocess.Popen[bytes]) -> None:
    import signal

    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            continue
        time.sleep(0.5)


# --- reading the instance ---------------------------------------------------------------------
def sensor_state(instance: Any) -> Any | None:
    for state in instance.all_instigator_state():
        if state.name == SENSOR:
            return state
    return None


def sensor_ticks(instance: Any) -> list[Any]:
    state = sensor_state(instance)
    if state is None:
        return []
    return list(instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=500))


def materialized_at(instance: Any, asset: str, partition: str, after: float) -> float | None:
    import dagster as dg

    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey(asset), asset_partitions=[partition], after_timestamp=after
        ),
        limit=1,
        ascending=True,
    ).records
    return records[0].timestamp if records else None


def run_timeline(instance: Any, run_id: str) -> dict[str, Any]:
    """Wall-clock marks of one run, from its event log: created, enqueued, launched (left the
    queue), its process up, each step, end."""
    import dagster as dg

    record = instance.get_run_records(dg.RunsFilter(run_ids=[run_id]))[0]
    marks: dict[str, float] = {"created": record.create_timestamp.timestamp()}
    kinds = {
        dg.DagsterEventType.RUN_ENQUEUED: "enqueued",
        dg.DagsterEventType.RUN_STARTING: "launched",
        dg.DagsterEventType.RUN_START: "started",
        dg.DagsterEventType.RUN_SUCCESS: "ended",
        dg.DagsterEventType.RUN_FAILURE: "ended",
    }
    step_ends = (
        dg.DagsterEventType.STEP_SUCCESS,
        dg.DagsterEventType.STEP_FAILURE,
        dg.DagsterEventType.STEP_SKIPPED,
    )
    starts: dict[str, float] = {}
    steps: dict[str, tuple[float, float]] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        kind = event.event_type
        if kind in kinds:
            marks.setdefault(kinds[kind], entry.timestamp)
        elif kind == dg.DagsterEventType.STEP_START and entry.step_key:
            starts[entry.step_key] = entry.timestamp
        elif kind in step_ends and entry.step_key:
            steps[entry.step_key] = (starts.get(entry.step_key, entry.timestamp), entry.timestamp)
    tags = record.dagster_run.tags
    return {
        "run_id": run_id,
        "job": record.dagster_run.job_name,
        "status": record.dagster_run.status.value,
        "range": [
            tags.get("dagster/asset_partition_range_start"),
            tags.get("dagster/asset_partition_range_end"),
        ],
        "marks": marks,
        "steps": steps,
    }


def split(
    runs: list[dict[str, Any]], landed: float, tick: Any, list_at: float, list_run: str
) -> dict[str, float]:
    """The path from the batch landing to the suspect list, part by part; the parts add up to
    the whole. It follows the run that wrote the list: the sensor's wait for its next tick,
    the tick until that run existed, its submission to the queue, its wait there (what ran
    before it: the batch's earlier runs), its launch (a process, the code loaded), then its
    steps until the list (grouped by layer) and the run's own time between steps."""
    run = next(r for r in runs if r["run_id"] == list_run)
    m = run["marks"]
    enqueued = m.get("enqueued", m["created"])
    launched = m.get("launched", enqueued)
    started = m.get("started", launched)
    before = [r for r in runs if r["marks"]["created"] <= m["created"] and r is not run]
    behind = ", ".join(r["job"] for r in before) or "nothing of the batch"
    out: dict[str, float] = {
        "sensor: wait for its next tick": tick.timestamp - landed,
        "sensor: tick, until the run exists": m["created"] - tick.timestamp,
        "run submitted to the queue": enqueued - m["created"],
        f"queue wait (behind {behind})": launched - enqueued,
        "launch: run process start, code load": started - launched,
    }
    in_steps = 0.0
    for step, (s, e) in sorted(run["steps"].items(), key=lambda kv: kv[1][0]):
        if s >= list_at:
            continue
        seconds = min(e, list_at) - s
        key = f"step: {step_group(step)}"
        out[key] = out.get(key, 0.0) + seconds
        in_steps += seconds
    out["run: between and around steps (step processes, events)"] = max(
        0.0, list_at - started - in_steps
    )
    return {k: round(v, 1) for k, v in out.items()}


def analyse(instance: Any, landed: float, new_day: str) -> dict[str, Any]:
    """What the batch sensor's runs after `landed` did, and when the new day's list existed."""
    import dagster as dg

    listed = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey(SUSPECT_LIST), asset_partitions=[new_day], after_timestamp=landed
        ),
        limit=1,
        ascending=True,
    ).records[0]
    records = instance.get_run_records(dg.RunsFilter(tags={"dagster/sensor_name": SENSOR}))
    batch_runs = [r for r in records if r.create_timestamp.timestamp() >= landed]
    runs = sorted(
        (run_timeline(instance, r.dagster_run.run_id) for r in batch_runs),
        key=lambda r: r["marks"]["created"],
    )
    ticks = [t for t in sensor_ticks(instance) if t.timestamp >= landed - 1]
    tick = next(
        (t for t in ticks if listed.run_id in t.run_ids),
        min([t for t in ticks if t.run_ids] or ticks, key=lambda t: t.timestamp),
    )
    done_at = max(r["marks"].get("ended", time.time()) for r in runs)
    others = instance.get_run_records(
        dg.RunsFilter(created_after=dt.datetime.fromtimestamp(landed, dt.UTC))
    )
    return {
        "seconds_to_suspect_list": round(listed.timestamp - landed, 1),
        "seconds_to_all_runs_done": round(done_at - landed, 1),
        "other_runs_created_meanwhile": sorted(
            {r.dagster_run.job_name for r in others} - {r["job"] for r in runs}
        ),
        "runs": [
            {
                "job": r["job"],
                "range": r["range"],
                "status": r["status"],
                "seconds": round(r["marks"].get("ended", done_at) - r["marks"]["created"], 1),
                "steps": {k: round(e - s, 1) for k, (s, e) in r["steps"].items()},
            }
            for r in runs
        ],
        "split": split(runs, landed, tick, listed.timestamp, listed.run_id),
    }


# --- the measurement --------------------------------------------------------------------------
def set_up(args: argparse.Namespace, workdir: Path, url: str) -> dict[str, Any]:
    """Simulate the firm's history and build every layer over it with `tsfraud run`."""
    from tsfraud_simulator import simulate

    first = HISTORY_START
    last_history = first + dt.timedelta(days=args.days - 1)
    truth = str(workdir / "ground_truth.parquet")
    env = world_env(workdir, url, first, last_history + dt.timedelta(days=1))
    out: dict[str, Any] = {"employees": args.employees, "history_days": args.days}

    t0 = time.time()
    summary = simulate(url, employees=args.employees, start=first, days=args.days, seed=SEED,
                       ground_truth_path=truth)  # fmt: skip
    out["simulate_seconds"] = round(time.time() - t0, 1)
    print(f"[{args.employees:,}] {summary.describe()}", flush=True)

    t0 = time.time()
    with (workdir / "tsfraud-run.log").open("wb") as log:
        code = subprocess.call(
            [str(Path(sys.executable).parent / "tsfraud"), "run",
             "--start", first.isoformat(), "--end", last_history.isoformat()],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    if code != 0:
        raise SystemExit(f"tsfraud run failed ({code}); see {workdir / 'tsfraud-run.log'}")
    out["setup_seconds"] = round(time.time() - t0, 1)
    print(f"[{args.employees:,}] set-up, tsfraud run over {args.days} days: "
          f"{out['setup_seconds']:.0f} s", flush=True)  # fmt: skip
    return out


def measure(
    args: argparse.Namespace, workdir: Path, url: str, out: dict[str, Any]
) -> dict[str, Any]:
    import dagster as dg

    from tsfraud_simulator import append_through

    new_day = HISTORY_START + dt.timedelta(days=args.days)
    truth = str(workdir / "ground_truth.parquet")
    env = world_env(workdir, url, HISTORY_START, new_day)
    if args.batch == "corrections":  # the clock then stops at the corrected day's list
        new_day = new_day - dt.timedelta(days=1)
    out = dict(out)

    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    daemon = start_daemon(workdir, env)
    try:
        with dg.DagsterInstance.get() as instance:
            runs_before = {r.run_id for r in instance.get_runs()}
            wait_for("the sensor's first tick", daemon, workdir, args.timeout,
                     lambda: bool(sensor_ticks(instance)))  # fmt: skip
            # A few seconds for a run the first tick might have requested to be recorded.
            time.sleep(5)
            launched_at_start = [
                (r.job_name, r.tags.get("dagster/asset_partition_range_start"))
                for r in instance.get_runs()
                if r.run_id not in runs_before
            ]
            out["runs_launched_by_first_tick"] = launched_at_start
            print(f"[{args.employees:,}] daemon up, first tick launched "
                  f"{len(launched_at_start)} runs", flush=True)  # fmt: skip

            t0 = time.time()
            if args.batch == "corrections":
                batch = correct_entries(url, new_day, args.corrections)
            else:
                batch = append_through(url, new_day, ground_truth_path=truth)
            landed = time.time()
            out["append_seconds"] = round(landed - t0, 1)
            print(f"[{args.employees:,}] batch landed: {batch.describe()}", flush=True)

            def suspect_list_exists() -> bool:
                return (
                    materialized_at(instance, SUSPECT_LIST, new_day.isoformat(), landed) is not None
                )

            wait_for("the new day's suspect list", daemon, workdir, args.timeout,
                     suspect_list_exists)  # fmt: skip

            def all_done() -> bool:
                batch_runs = instance.get_runs(
                    dg.RunsFilter(
                        tags={"dagster/sensor_name": SENSOR},
                        created_after=dt.datetime.fromtimestamp(landed, dt.UTC),
                    )
                )
                return all(r.is_finished for r in batch_runs)

            wait_for("every run the batch caused", daemon, workdir, args.timeout, all_done)
            out.update(analyse(instance, landed, new_day.isoformat()))
    finally:
        stop_daemon(daemon)
    out.update({"new_day": new_day.isoformat(), "batch": batch.describe(), "landed_at": landed})
    return out


class Corrections:
    """A batch of corrections alone (`--batch corrections`), described like the simulator's."""

    def __init__(self, day: dt.date, count: int, at: dt.datetime) -> None:
        self.day, self.count, self.at = day, count, at

    def describe(self) -> str:
        return (
            f"{self.count} timesheet entries of {self.day} corrected (+0.5 h), updated_at "
            f"{self.at}; no reference table touched"
        )


def correct_entries(url: str, day: dt.date, count: int) -> Corrections:
    """Corrections to `count` entries of `day`, the history's last (already scored) day, and
    nothing else: the batch that runs the daily chain without the reference refresh
    (`daily_entries_job`). Stamped a minute after the source's newest change, on the
    simulator's clock like every other row."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        (mark,) = conn.execute(sa.text("SELECT MAX(updated_at) FROM timesheet_entries")).one()
        at = mark + dt.timedelta(minutes=1)
        updated = conn.execute(
            sa.text(
                "UPDATE timesheet_entries SET hours = hours + 0.5, updated_at = :at "
                "WHERE entry_id IN (SELECT entry_id FROM timesheet_entries "
                "WHERE work_date = :day ORDER BY entry_id LIMIT :n)"
            ),
            {"at": at, "day": day, "n": count},
        ).rowcount
    engine.dispose()
    return Corrections(day, updated, at)


def wait_for(what: str, daemon: subprocess.Popen[bytes], workdir: Path, timeout: float,
             done: Any, poll: float = 1.0) -> None:  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise SystemExit(
                f"dagster-daemon exited ({daemon.returncode}); see {workdir}/daemon.log"
            )
        if done():
            return
        time.sleep(poll)
    raise SystemExit(
        f"timed out after {timeout:.0f} s waiting for {what}; see {workdir}/daemon.log"
    )


def report(out: dict[str, Any]) -> None:
    n = out["employees"]
    target = TARGET_SECONDS.get(n)
    took = out["seconds_to_suspect_list"]
    print(f"\n[{n:,}] batch for {out['new_day']}: {out['batch']}")
    print(f"[{n:,}] runs launched by the daemon's first tick after tsfraud run: "
          f"{len(out['runs_launched_by_first_tick'])}")  # fmt: skip
    print(f"[{n:,}] runs the batch caused:")
    for run in out["runs"]:
        span = "..".join(x for x in run["range"] if x) or "unpartitioned"
        print(f"  {run['job']:24} {span:24} {run['status']:8} {run['seconds']:>6.0f} s")
    print(f"[{n:,}] from the batch landing to the new day's suspect list, by part:")
    for part, seconds in out["split"].items():
        print(f"  {part:60} {seconds:>7.1f} s")
    if out.get("other_runs_created_meanwhile"):
        others = ", ".join(out["other_runs_created_meanwhile"])
        print(f"[{n:,}] other runs created meanwhile: {others}")
    verdict = ""
    if target is not None:
        verdict = f"  (target <= {target} s: {'MET' if took <= target else 'MISSED'})"
    print(f"[{n:,}] batch landed -> suspect list: {took:.0f} s{verdict}")
    print(f"[{n:,}] batch landed -> every run done (reports too): "
          f"{out['seconds_to_all_runs_done']:.0f} s")  # fmt: skip


def reanalyse(workdir: Path) -> None:
    """The figures of a kept measurement, recomputed from its Dagster instance."""
    import dagster as dg

    path = workdir / "timeliness.json"
    out = json.loads(path.read_text())
    os.environ["DAGSTER_HOME"] = str(workdir / "dagster_home")
    with dg.DagsterInstance.get() as instance:
        landed = out.get("landed_at")
        if landed is None:  # an older file: the new day's list was its only materialization
            first = materialized_at(instance, SUSPECT_LIST, out["new_day"], 0.0)
            assert first is not None, "no suspect list for the new day in this instance"
            landed = first - out["seconds_to_suspect_list"]
        out.update(analyse(instance, landed, out["new_day"]))
    out["landed_at"] = landed
    report(out)
    path.write_text(json.dumps(out, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=3000)
    parser.add_argument("--days", type=int, default=35, help="work dates of history")
    parser.add_argument("--workdir", type=Path, help="default: a temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the folder and the database")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per wait")
    parser.add_argument(
        "--setup-dir",
        type=Path,
        help="keep the set-up here (first time) or start from the one kept here (next times; "
        "same --workdir, --employees and --days)",
    )
    parser.add_argument(
        "--batch",
        choices=("append", "corrections"),
        default="append",
        help="append: the simulator's next day (new entries, late ones, reference changes); "
        "corrections: --corrections entries of the history's last day corrected, nothing else",
    )
    parser.add_argument("--corrections", type=int, default=200)
    parser.add_argument(
        "--reanalyse",
        type=Path,
        help="print the figures again from a kept work folder (its instance), measuring nothing",
    )
    args = parser.parse_args()
    if args.reanalyse:
        reanalyse(args.reanalyse)
        return

    workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="tsfraud-timeliness-"))).resolve()
    reuse = args.setup_dir is not None and (args.setup_dir / "setup.json").exists()
    if reuse:
        name, url, saved = restore_setup(args.setup_dir, workdir)
        setup = {k: saved[k] for k in saved if k not in ("workdir", "database")}
        if (setup["employees"], setup["history_days"]) != (args.employees, args.days):
            raise SystemExit(f"{args.setup_dir} holds another firm: {setup}")
        print(f"[{args.employees:,}] set-up restored from {args.setup_dir}", flush=True)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        name, url = create_database()
    try:
        if not reuse:
            setup = set_up(args, workdir, url)
            if args.setup_dir is not None:
                save_setup(args.setup_dir, workdir, name, setup)
        out = measure(args, workdir, url, setup)
        report(out)
        (workdir / "timeliness.json").write_text(json.dumps(out, indent=2))
        if args.keep:
            print(f"figures: {workdir / 'timeliness.json'}; source database {name}")
    finally:
        if not args.keep:
            drop_database(name)
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
