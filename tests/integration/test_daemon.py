"""The real `dagster-daemon` turns new timesheet batches into materialized partitions unaided.

A simulated source with one work week, the project's dagster.yaml (the run queue, one run at a
time: the daemon dequeues) and the real `timesheet_batch_sensor`, which defaults to RUNNING.
The first tick must ingest the existing week; after a second batch lands in the source, the
next tick (60 s later: the sensor's minimum interval) must ingest the dates the batch
touched (the new days and the older days that got late submissions and corrections) in one run.

The code location is tests/daemon_defs.py: the sensor's jobs are cut to the raw layer there,
because Spark and dbt would make each run minutes long. Everything lives in a temporary folder;
the daemon and its code server and run workers are one process group, killed at the end.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from tests.process_utils import start_daemon, stop_process_group
from tsfraud_assets.settings import PROJECT_ROOT
from tsfraud_simulator import append_through, simulate

SENSOR = "timesheet_batch_sensor"
ENTRIES = dg.AssetKey("raw_timesheet_entries")
TODAY = dt.date.today()
# A Monday two to three weeks back, so the week and the next batch are complete UTC partitions.
START = TODAY - dt.timedelta(days=TODAY.weekday() + 14)
FIRST_BATCH_DAYS = 5
SECOND_BATCH_THROUGH = START + dt.timedelta(days=9)  # the following Wednesday
STARTUP_AND_FIRST_TICK_TIMEOUT = 150.0
SECOND_TICK_TIMEOUT = 180.0


@dataclass
class Daemon:
    home: Path
    lake: Path
    source_url: str
    truth: Path
    log: Path
    proc: subprocess.Popen[bytes]

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-6000:] if self.log.exists() else ""


def _workspace(tmp: Path) -> Path:
    path = tmp / "workspace.yaml"
    workspace = {
        "load_from": [
            {
                "python_module": {
                    "module_name": "tests.daemon_defs",
                    "attribute": "defs",
                    "working_directory": str(PROJECT_ROOT),
                    "location_name": "tsfraud",
                }
            }
        ]
    }
    path.write_text(json.dumps(workspace, indent=2))  # JSON is YAML
    return path


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    tmp = tmp_path_factory.mktemp("daemon")
    source_url = f"sqlite:///{tmp / 'source.db'}"
    truth = tmp / "truth.parquet"
    simulate(
        source_url,
        employees=25,
        start=START,
        days=FIRST_BATCH_DAYS,
        seed=3,
        ground_truth_path=str(truth),
    )
    home = tmp / "dagster_home"
    home.mkdir()
    # The embedded default as shipped: queued runs, one at a time, drained by this daemon.
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    log = tmp / "daemon.log"
    proc = start_daemon(tmp, home, source_url, _workspace(tmp), START, PROJECT_ROOT)
    try:
        yield Daemon(home, tmp / "lake", source_url, truth, log, proc)
    finally:
        stop_process_group(proc)


@pytest.fixture(scope="module")
def instance(daemon: Daemon) -> Iterator[dg.DagsterInstance]:
    """The daemon's instance, read from this process (SQLite under its DAGSTER_HOME)."""
    with dg.DagsterInstance.from_config(str(daemon.home)) as inst:
        yield inst


def _source_days(url: str, since: str | None = None) -> set[str]:
    engine = sa.create_engine(url)
    sql = "SELECT DISTINCT work_date FROM timesheet_entries"
    with engine.connect() as conn:
        if since is None:
            rows = conn.execute(sa.text(sql)).all()
        else:
            rows = conn.execute(sa.text(sql + " WHERE updated_at > :t"), {"t": since}).all()
    engine.dispose()
    # only complete UTC days are partitions: the sensor leaves the rest for later
    return {str(r[0])[:10] for r in rows if str(r[0])[:10] < TODAY.isoformat()}


def _materialized(instance: dg.DagsterInstance, after: float = 0.0) -> dict[str, str]:
    """Partition → run id of its latest raw_timesheet_entries materialization after `after`."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=ENTRIES, after_timestamp=after), limit=1000
    ).records
    latest: dict[str, str] = {}
    for record in sorted(records, key=lambda r: r.timestamp):
        if record.partition_key is not None:
            latest[record.partition_key] = record.run_id
    return latest


def _wait_for(
    what: str, daemon: Daemon, timeout: float, done: Callable[[], bool], poll: float = 2.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon.proc.poll() is not None:
            pytest.fail(f"dagster-daemon exited with {daemon.proc.returncode}:\n{daemon.tail()}")
        if done():
            return
        time.sleep(poll)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}:\n{daemon.tail()}")


def _sensor_cursor(instance: dg.DagsterInstance) -> str | None:
    for state in instance.all_instigator_state():
        if state.name == SENSOR and state.instigator_data is not None:
            return getattr(state.instigator_data, "cursor", None)
    return None


def _assert_sensor_runs_succeeded(instance: dg.DagsterInstance, run_ids: set[str]) -> None:
    # A run's materializations land before its last step and RUN_SUCCESS: wait for the end.
    deadline = time.monotonic() + 120
    for run_id in run_ids:
        run = instance.get_run_by_id(run_id)
        while run is not None and not run.is_finished and time.monotonic() < deadline:
            time.sleep(1)
            run = instance.get_run_by_id(run_id)
        assert run is not None
        assert run.status == dg.DagsterRunStatus.SUCCESS, (run_id, run.status)
        assert run.tags.get("dagster/sensor_name") == SENSOR, run.tags
        # the reference refresh rides along exactly when the batch changed a reference table
        changed_reference = bool(run.tags.get("tsfraud/changed_tables"))
        expected = "daily_timesheet_job" if changed_reference else "daily_entries_job"
        assert run.job_name == expected, (run.job_name, run.tags)


def test_the_daemon_ingests_each_batch_the_sensor_sees(
    daemon: Daemon, instance: dg.DagsterInstance
) -> None:
    # First tick: the whole simulated week, as soon as the daemon has loaded the code location.
    first_days = _source_days(daemon.source_url)
    assert len(first_days) == FIRST_BATCH_DAYS
    _wait_for(
        "the first tick's partitions",
        daemon,
        STARTUP_AND_FIRST_TICK_TIMEOUT,
        lambda: first_days <= _materialized(instance).keys(),
    )
    first = _materialized(instance)
    _assert_sensor_runs_succeeded(instance, set(first.values()))
    # a contiguous week is one single-run range, not five runs
    assert len(set(first.values())) == 1
    cursor = _sensor_cursor(instance)
    assert cursor is not None, "the sensor stored no cursor in the instance"
    mark = json.loads(cursor)["high_water_mark"]

    # Second batch: new days plus late submissions and corrections to the first week.
    appended_at = time.time()
    append_through(daemon.source_url, SECOND_BATCH_THROUGH, ground_truth_path=str(daemon.truth))
    changed = _source_days(daemon.source_url, since=mark.replace("T", " "))
    new_days = {d for d in changed if d > max(first_days)}
    late_days = changed - new_days
    assert new_days and late_days, (new_days, late_days)  # the batch exercises both paths

    _wait_for(
        "the second tick's partitions",
        daemon,
        SECOND_TICK_TIMEOUT,
        lambda: changed <= _materialized(instance, after=appended_at).keys(),
    )
    second = _materialized(instance, after=appended_at)
    # the touched dates, joined into one range (sensors.merge_near): only the unchanged days
    # between them come along, nothing outside the batch's span
    assert changed <= set(second)
    assert min(second) == min(changed) and max(second) == max(changed)
    assert len(set(second.values())) == 1
    _assert_sensor_runs_succeeded(instance, set(second.values()))
    assert not set(second.values()) & set(first.values())
    for day in changed:
        path = daemon.lake / "raw" / "timesheet_entries" / f"work_date={day}" / "data.parquet"
        assert path.exists(), path
