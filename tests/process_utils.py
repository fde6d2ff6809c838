"""Helpers for tests that run Dagster's own processes (webserver, daemon)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def stop_process_group(proc: subprocess.Popen[bytes], wait_seconds: float = 15) -> None:
    """SIGTERM the process group (code server and run workers included), then SIGKILL what
    outlives it: a code server may outlive its parent by its heartbeat timeout."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait_seconds)
        time.sleep(0.5)


def start_daemon(
    tmp: Path, home: Path, source_url: str, workspace: Path, start: dt.date, cwd: Path
) -> subprocess.Popen[bytes]:
    """A real `dagster-daemon` over `workspace`, with the tsfraud settings of a temporary
    world under `tmp` (instance at `home`), logging to `tmp/daemon.log`. It runs in its own
    process group, so `stop_process_group` reaches every child."""
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "TSFRAUD_DEPLOYMENT": "local",
        "TSFRAUD_DATA_DIR": str(tmp),
        "TSFRAUD_LAKE": str(tmp / "lake"),
        "TSFRAUD_DUCKDB_PATH": str(tmp / "warehouse.duckdb"),
        "TSFRAUD_SOURCE_URL": source_url,
        "TSFRAUD_PARTITION_START": start.isoformat(),
    }
    env.pop("DAGSTER_IS_DEV_CLI", None)
    executable = Path(sys.executable).parent / "dagster-daemon"
    with (tmp / "daemon.log").open("wb") as out:
        return subprocess.Popen(
            [str(executable), "run", "-w", str(workspace)],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
