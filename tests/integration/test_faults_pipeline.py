"""Fault injection past the raw layer: `kill -9` of a pipeline run in each of its steps after
the ingest: Spark, dbt, scoring and the report (issue #14). The killed process group (the JVM
and dbt included) leaves whole partitions; the next run over the same range heals: per day,
processed rows = raw rows, raw + quarantine = source, the features hold exactly one row per
employee-day seen in processed, and there is one score row per feature row and one whole
report page per day.

A firm with no closed case scores with the label-free prior, so a 25-person firm over five
days reaches the scoring and report steps in a minute or two.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest

from tsfraud_assets.cli.run import STEPS
from tsfraud_assets.settings import PROJECT_ROOT

pytestmark = pytest.mark.e2e

START = dt.date(2026, 3, 2)
DAYS = 5
END = START + dt.timedelta(days=DAYS - 1)
STEPS_SCRIPT = """\
import datetime as dt
import dagster as dg
from tsfraud_assets.definitions import build_definitions
from tsfraud_assets.cli.run import STEPS, ensure_dagster_home, run_range
from tsfraud_assets.settings import load_settings
settings = load_settings()
ensure_dagster_home(settings)
steps = tuple(s for s in STEPS if s.name in {names!r})
with dg.DagsterInstance.get() as instance:
    run_range(build_definitions(settings), dt.date.fromisoformat("{start}"),
              dt.date.fromisoformat("{end}"), instance, steps=steps, log_level="WARNING")
"""


def _started_steps(instance: dg.DagsterInstance) -> set[str]:
    steps: set[str] = set()
    for run in instance.get_runs():
        for event in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START):
            if event.step_key:
                steps.add(event.step_key)
    return steps


FEATURE_STEPS = ("reference", "ingest-to-features")
LATE_STEPS = ("model", "scores-and-reports")


def _kill_in_step(step: str, names: tuple[str, ...], into_step_s: float, env: dict) -> None:
    """Start `tsfraud run`'s steps `names` in their own process group and `kill -9` the group
    `into_step_s` seconds after `step` has started."""
    script = STEPS_SCRIPT.format(start=START.isoformat(), end=END.isoformat(), names=set(names))
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        start_new_session=True,
    )
    try:
        with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as watcher:
            deadline = time.monotonic() + 600
            while step not in _started_steps(watcher):
                assert proc.poll() is None, f"the run ended before {step} started"
                assert time.monotonic() < deadline, f"{step} did not start in 600 s"
                time.sleep(0.2)
        time.sleep(into_step_s)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.parametrize(
    ("built_first", "kills", "healed_by"),
    [
        # Long steps: killed a few seconds in, in the middle of the work.
        ((), [("processed_timesheet_entries", FEATURE_STEPS, 3.0)], FEATURE_STEPS),
        ((), [("dbt_feature_models", FEATURE_STEPS, 3.0)], FEATURE_STEPS),
        # Short steps (seconds on this firm), on features built once: killed as soon as the
        # step has started, first in scoring, then in the report, then one healing run.
        (
            FEATURE_STEPS,
            [("timesheet_scores", LATE_STEPS, 0.0), ("investigator_report", LATE_STEPS, 0.0)],
            LATE_STEPS,
        ),
    ],
    ids=["spark", "dbt", "scoring-then-report"],
)
def test_a_run_killed_in_a_step_heals_on_the_next_run(
    built_first: tuple[str, ...],
    kills: list[tuple[str, tuple[str, ...], float]],
    healed_by: tuple[str, ...],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tsfraud_assets.cli.run import ensure_dagster_home, run_range
    from tsfraud_assets.definitions import build_definitions
    from tsfraud_assets.defs.processed.assets import PROCESSED_DATASET
    from tsfraud_assets.defs.raw.ingest import reconcile_day
    from tsfraud_assets.resources.lake import Lake
    from tsfraud_assets.resources.source_db import SourceDatabase
    from tsfraud_assets.settings import load_settings
    from tsfraud_simulator import simulate

    env = {
        "TSFRAUD_DATA_DIR": str(tmp_path),
        "TSFRAUD_LAKE": str(tmp_path / "lake"),
        "TSFRAUD_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "TSFRAUD_SOURCE_URL": f"sqlite:///{tmp_path / 'source.db'}",
        "TSFRAUD_PARTITION_START": "2026-01-01",
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    simulate(settings.source_url, employees=25, start=START, days=DAYS, seed=3)
    ensure_dagster_home(settings)
    if built_first:
        with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
            steps = tuple(s for s in STEPS if s.name in built_first)
            built = run_range(build_definitions(settings), START, END, instance, steps=steps)
        assert all(r.success for r in built)

    for step, names, into_step_s in kills:
        _kill_in_step(step, names, into_step_s, env)

    lake_root = tmp_path / "lake"
    for path in lake_root.rglob("*.parquet"):  # whatever the kill left is whole
        if not path.name.startswith("."):
            pq.read_table(path)

    steps = tuple(s for s in STEPS if s.name in healed_by)
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        results = run_range(build_definitions(settings), START, END, instance, steps=steps)
    assert all(r.success for r in results)

    source, lake = SourceDatabase(url=settings.source_url), Lake(root=settings.lake_root)
    processed_pairs = 0
    for i in range(DAYS):
        day = START + dt.timedelta(days=i)
        assert reconcile_day(source, lake, day).ok, day
        raw = lake.read_partition("raw/timesheet_entries", day)
        processed = lake.read_partition(PROCESSED_DATASET, day)
        assert raw is not None and processed is not None, day
        assert sorted(processed.column("entry_id").to_pylist()) == sorted(
            raw.column("entry_id").to_pylist()
        ), day
        processed_pairs += len(set(processed.column("employee_id").to_pylist()))
    with duckdb.connect(settings.duckdb_path, read_only=True) as con:
        total, distinct = con.execute(
            "select count(*), count(distinct (employee_id, work_date)) "
            "from employee_day_features where work_date between ? and ?",
            [START, END],
        ).fetchone() or (0, 0)
    assert total == distinct, "an employee-day is counted twice in the features"
    assert distinct == processed_pairs
    if "scores-and-reports" not in healed_by:
        return
    from tsfraud_assets.defs.reports.assets import report_path
    from tsfraud_assets.defs.suspects.scoring import SCORES_DATASET

    with duckdb.connect(settings.duckdb_path, read_only=True) as con:
        per_day = dict(
            con.execute(
                "select work_date, count(*) from employee_day_features "
                "where work_date between ? and ? group by work_date",
                [START, END],
            ).fetchall()
        )
    for i in range(DAYS):
        day = START + dt.timedelta(days=i)
        scores = lake.read_partition(SCORES_DATASET, day)
        assert scores is not None, f"no scores for {day} after the rerun"
        keys = list(zip(scores.column("employee_id").to_pylist(), strict=True))
        assert len(keys) == len(set(keys)) == per_day.get(day, 0), day  # one row per feature row
        page = lake.read_bytes(report_path(day)).decode()
        assert page.rstrip().endswith("</html>"), f"the report of {day} is not whole"
