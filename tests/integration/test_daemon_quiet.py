"""After `tsfraud run` filled the lake, a daemon started on the same instance launches nothing.

This is "open the UI after the demo": the lake is built in process (here the raw layer, which
is what the sensor's cut-down jobs in tests/daemon_defs.py run; Spark and dbt would make it
minutes long), the command hands the source's high-water mark to the batch sensor
(handoff.py), then the real `dagster-daemon` starts with the real sensor and the real daily
close schedule. Its first sensor tick must store that mark as its cursor and request nothing,
and no run may be launched. A fresh schedule starts from "now" (no catch-up) in dagster 1.13;
the schedule is in the location so that a change of that behaviour shows here.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from pathlib import Path

import dagster as dg

from tests.integration.test_daemon import START, _sensor_cursor
from tests.process_utils import start_daemon, stop_process_group
from tsfraud_assets.defs.automation.handoff import hand_off, plan_handoff, read_handoff
from tsfraud_assets.defs.partitions import daily_partitions
from tsfraud_assets.defs.raw.assets import build_raw_daily_tables, raw_reference_tables
from tsfraud_assets.defs.raw.checks import build_raw_entries_reconcile
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase
from tsfraud_assets.settings import PROJECT_ROOT
from tsfraud_simulator import simulate

DAYS = 5
QUIET_FOR = 20.0  # seconds watched after the first tick: a launched run would be queued by then


def _workspace(tmp: Path) -> Path:
    path = tmp / "workspace.yaml"
    target = {
        "module_name": "tests.daemon_quiet_defs",
        "attribute": "defs",
        "working_directory": str(PROJECT_ROOT),
        "location_name": "tsfraud",
    }
    path.write_text(json.dumps({"load_from": [{"python_module": target}]}))
    return path


def test_a_daemon_started_after_tsfraud_run_launches_nothing(tmp_path: Path) -> None:
    source_url = f"sqlite:///{tmp_path / 'source.db'}"
    simulate(
        source_url,
        employees=20,
        start=START,
        days=DAYS,
        seed=3,
        ground_truth_path=str(tmp_path / "truth.parquet"),
    )
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    partitions = daily_partitions(START.isoformat())
    end = START + dt.timedelta(days=DAYS - 1)
    source = SourceDatabase(url=source_url)
    resources = {"source": source, "lake": Lake(root=str(tmp_path / "lake"))}

    # `tsfraud run` for the simulated range, cut to the raw layer
    with dg.DagsterInstance.from_config(str(home)) as instance:
        plan = plan_handoff(source, instance, partitions)
        assert set(plan.changed_days) == {START + dt.timedelta(days=i) for i in range(DAYS)}
        dg.materialize([raw_reference_tables], resources=resources, instance=instance)
        dg.materialize(
            [build_raw_daily_tables(partitions), build_raw_entries_reconcile(partitions)],
            resources=resources,
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": START.isoformat(),
                "dagster/asset_partition_range_end": end.isoformat(),
            },
        )
        hand_off(instance, plan, START, end, by="test")
        mark = read_handoff(instance)
        assert mark is not None
        runs_before = {r.run_id for r in instance.get_runs()}
        assert len(runs_before) == 2

    log = tmp_path / "daemon.log"
    proc = start_daemon(tmp_path, home, source_url, _workspace(tmp_path), START, PROJECT_ROOT)
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            deadline = time.monotonic() + 150
            while _sensor_cursor(instance) is None:
                assert proc.poll() is None, log.read_text(errors="replace")[-4000:]
                assert time.monotonic() < deadline, log.read_text(errors="replace")[-4000:]
                time.sleep(2)
            # the first tick took the hand-off as its position and asked for nothing
            cursor = json.loads(_sensor_cursor(instance) or "{}")
            assert dt.datetime.fromisoformat(cursor["high_water_mark"]) == mark
            time.sleep(QUIET_FOR)
            runs_after = {r.run_id for r in instance.get_runs()}
            assert runs_after == runs_before, [
                (r.job_name, r.tags) for r in instance.get_runs() if r.run_id not in runs_before
            ]
    finally:
        stop_process_group(proc)
