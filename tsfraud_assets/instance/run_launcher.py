"""A run launcher whose runs the daemon can check: a run whose process died is failed.

Dagster's run monitoring (`run_monitoring:` in dagster.yaml) fails a STARTED run only when the
run launcher can report its worker's health, and the DefaultRunLauncher cannot
(`supports_check_run_worker_health` is False): after a `kill -9` of `tsfraud run` or of a run
worker, the run stays STARTED for ever and, with one run allowed at a time, every queued run
waits behind it ("Maximum is 1, won't launch more").

Every run logs the process id executing it in its first engine event ("Executing steps in
process (pid: N)", "Started process for run (pid: N)"). This launcher launches exactly like
the default one and, asked for a run's health, looks that process up: gone (or replaced by a
newer process with the same id) means FAILED, and the monitoring daemon marks the run failed
with that reason, which frees its slot in the queue.

A process id only means something on its own host. Runs started by `tsfraud run` carry the
host's name (`tsfraud/host`, runner.py); the daemon's own runs start on the daemon's host. A
run from another host is reported RUNNING (unknown), and only `max_runtime_seconds` bounds it.
"""

from __future__ import annotations

import socket

import dagster as dg
import psutil
from dagster._core.launcher import DefaultRunLauncher
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus

HOST_TAG = "tsfraud/host"
# A process created this long after the run's first event is a reused pid, not the run's.
PID_REUSE_SLACK_SECONDS = 5.0


class MonitoredRunLauncher(DefaultRunLauncher):
    """DefaultRunLauncher that can tell run monitoring whether a run's process is alive."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        host = run.tags.get(HOST_TAG)
        if host is not None and host != socket.gethostname():
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"run on {host}: not checked here")
        found = run_process(self._instance, run.run_id)
        if found is None:  # no engine event yet: the worker is still starting
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no process recorded yet")
        pid, since = found
        return process_health(pid, since)


def run_process(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """(pid, timestamp) of the first engine event of the run that names a process."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=20
    ).records
    for record in records:
        event = record.event_log_entry.dagster_event
        data = getattr(event, "event_specific_data", None) if event else None
        value = (getattr(data, "metadata", None) or {}).get("pid")
        text = str(getattr(value, "value", value)) if value is not None else ""
        if text.isdigit():
            return int(text), record.event_log_entry.timestamp
    return None


def process_health(pid: int, since: float) -> CheckRunHealthResult:
    """RUNNING while `pid` is the process that logged at `since`; FAILED once it is gone."""
    try:
        proc = psutil.Process(pid)
        alive = proc.status() != psutil.STATUS_ZOMBIE
        created = proc.create_time()
    except psutil.NoSuchProcess:
        return CheckRunHealthResult(WorkerStatus.FAILED, f"the run's process {pid} is gone")
    if not alive:
        return CheckRunHealthResult(WorkerStatus.FAILED, f"the run's process {pid} has exited")
    if created > since + PID_REUSE_SLACK_SECONDS:
        return CheckRunHealthResult(
            WorkerStatus.FAILED, f"the run's process {pid} is gone (the id was reused)"
        )
    return CheckRunHealthResult(WorkerStatus.RUNNING, f"process {pid} is alive")
