"""Issue #14, case 2: a run whose process is killed is failed, and the queue moves on.

The real `dagster-daemon` on the project's dagster.yaml (one run at a time, run monitoring on,
tsfraud's run launcher). Two deaths, each by a real `kill -9`:
1. a run executed in its own process, as `tsfraud run` executes them, while a second run waits
   in the queue behind it: the dead run must become FAILED and the queued one must then run;
2. a run the daemon launched itself (a run worker process under the code server).
Before the fix both stayed STARTED for ever and the queued run never started.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest

from tests.process_utils import stop_process_group
from tsfraud_assets.instance.run_launcher import HOST_TAG, run_process
from tsfraud_assets.settings import PROJECT_ROOT

BIN = Path(sys.executable).parent
DETECT_TIMEOUT = 120.0  # poll_interval_seconds is 15; the daemon's loop adds a little


@pytest.fixture
def home(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str], Path]]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")  # as shipped
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        textwrap.dedent(
            f"""\
            load_from:
              - python_module:
                  module_name: tests.monitoring_defs
                  attribute: defs
                  working_directory: {PROJECT_ROOT}
                  location_name: monitoring
            """
        )
    )
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": str(PROJECT_ROOT)}
    env.pop("DAGSTER_IS_DEV_CLI", None)
    yield home, env, workspace


def _wait(what: str, timeout: float, done: Callable[[], bool], log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(1)
    tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{tail}")


def _status(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRunStatus | None:
    run = instance.get_run_by_id(run_id)
    return run.status if run else None


def _runs(instance: dg.DagsterInstance, job: str) -> list[dg.DagsterRun]:
    return list(instance.get_runs(filters=dg.RunsFilter(job_name=job)))


def _launch(env: dict[str, str], workspace: Path, job: str) -> None:
    done = subprocess.run(
        [str(BIN / "dagster"), "job", "launch", "-w", str(workspace), "-j", job],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_killed_run_is_failed_and_the_queue_moves(
    home: tuple[Path, dict[str, str], Path],
) -> None:
    dagster_home, env, workspace = home
    log = dagster_home.parent / "daemon.log"
    with log.open("wb") as out:
        daemon = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker: subprocess.Popen[bytes] | None = None
    try:
        with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
            # 1. A run in its own process, the way `tsfraud run` executes each step.
            script = textwrap.dedent(
                f"""\
                import dagster as dg
                from tests.monitoring_defs import slow_step
                with dg.DagsterInstance.get() as instance:
                    dg.materialize([slow_step], instance=instance,
                                   tags={{"{HOST_TAG}": "{socket.gethostname()}"}})
                """
            )
            worker = subprocess.Popen(
                [sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, start_new_session=True
            )
            _wait("the direct run to start", 120, lambda: bool(instance.get_runs()), log)
            (direct,) = instance.get_runs()
            _wait(
                "the direct run's process to be recorded",
                60,
                lambda: run_process(instance, direct.run_id) is not None,
                log,
            )
            _launch(env, workspace, "quick_job")
            (queued,) = _runs(instance, "quick_job")
            time.sleep(20)  # more than a monitoring poll: the queue is held while the run lives
            assert _status(instance, direct.run_id) == dg.DagsterRunStatus.STARTED
            assert _status(instance, queued.run_id) == dg.DagsterRunStatus.QUEUED

            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
            _wait(
                "the killed run to be marked FAILED",
                DETECT_TIMEOUT,
                lambda: _status(instance, direct.run_id) == dg.DagsterRunStatus.FAILURE,
                log,
            )
            _wait(
                "the queued run to start and succeed",
                DETECT_TIMEOUT,
                lambda: _status(instance, queued.run_id) == dg.DagsterRunStatus.SUCCESS,
                log,
            )
            failure = [
                e.message
                for e in instance.all_logs(direct.run_id)
                if e.dagster_event and e.dagster_event.event_type == dg.DagsterEventType.RUN_FAILURE
            ]
            assert failure and "is gone" in failure[-1], failure

            # 2. A run the daemon launched: its run worker is killed.
            _launch(env, workspace, "slow_job")
            (launched,) = _runs(instance, "slow_job")
            _wait(
                "the launched run's process to be recorded",
                180,
                lambda: run_process(instance, launched.run_id) is not None,
                log,
            )
            found = run_process(instance, launched.run_id)
            assert found is not None
            os.kill(found[0], signal.SIGKILL)
            _wait(
                "the launched run to be marked FAILED",
                DETECT_TIMEOUT,
                lambda: _status(instance, launched.run_id) == dg.DagsterRunStatus.FAILURE,
                log,
            )
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        stop_process_group(daemon)
