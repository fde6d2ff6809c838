"""A Spark standalone cluster on loopback for tests: a master and workers, each its own JVM.

Started from the installed pyspark's `bin/spark-class` (the same Spark the job's spark-submit
uses), every port chosen by the JVM itself (port 0) and read back from the master's log and
JSON, so parallel test runs never race for a port. Everything the daemons write (logs, the
workers' application folders with the executors' output and the shipped code) stays under
the test's temporary folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.process_utils import stop_process_group
from tsfraud_assets.resources.spark import installed_spark_home

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
# Small, short-lived daemons on a shared 2-core machine: little heap, the C1 JIT, serial GC.
DAEMON_JAVA_OPTS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


class ClusterError(RuntimeError):
    pass


@dataclass
class StandaloneCluster:
    master_url: str
    master_webui: str
    log_dir: Path
    worker_dirs: list[Path]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def logs(self) -> list[Path]:
        return sorted(self.log_dir.glob("*.log"))

    def describe_logs(self) -> str:
        return "\n".join(f"--- {p} (last lines)\n{_tail(p)}" for p in self.logs)

    def master_state(self) -> dict[str, Any]:
        return _get_json(f"{self.master_webui}/json")

    def worker_state(self, webui: str) -> dict[str, Any]:
        return _get_json(f"{webui}/json")


def _get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return dict(json.load(response))


def _tail(path: Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return "(no log)"


def _daemon_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_PIPES_")}
    env.update(
        SPARK_HOME=str(installed_spark_home()),
        SPARK_LOCAL_IP="127.0.0.1",
        SPARK_LOG_DIR=str(tmp / "logs"),
        SPARK_WORKER_DIR=str(tmp / "work"),
        SPARK_DAEMON_MEMORY="256m",
        SPARK_DAEMON_JAVA_OPTS=DAEMON_JAVA_OPTS,
        # Its REST submission server would take the fixed port 6066.
        SPARK_MASTER_OPTS="-Dspark.master.rest.enabled=false",
    )
    return env


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # stop_process_group reaches spark-class and its JVM
        )


def _wait_for(
    what: str, check: Any, cluster: StandaloneCluster, deadline: float, poll: float = 0.5
) -> Any:
    while True:
        for proc in cluster.procs:
            if proc.poll() is not None:
                raise ClusterError(
                    f"{what}: a daemon exited with code {proc.returncode} ({proc.args})\n"
                    + cluster.describe_logs()
                )
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise ClusterError(f"{what}: timed out\n{cluster.describe_logs()}")
        time.sleep(poll)


def _log_match(path: Path, pattern: str) -> re.Match[str] | None:
    with contextlib.suppress(OSError):
        return re.search(pattern, path.read_text(errors="replace"))
    return None


@contextlib.contextmanager
def standalone_cluster(
    tmp: Path, workers: int = 2, cores: int = 1, memory: str = "1g", timeout: float = 120
) -> Iterator[StandaloneCluster]:
    """A master and `workers` workers, up and registered; stopped (process groups) on exit.
    Raises ClusterError naming every daemon log if they do not come up within `timeout`."""
    (tmp / "logs").mkdir(parents=True, exist_ok=True)
    env = _daemon_env(tmp)
    spark_class = str(installed_spark_home() / "bin" / "spark-class")
    deadline = time.monotonic() + timeout
    master_log = tmp / "logs" / "master.log"
    cluster = StandaloneCluster(
        master_url="", master_webui="", log_dir=tmp / "logs", worker_dirs=[]
    )
    try:
        # Port 0 everywhere: each JVM takes a free port itself; the master's are read back.
        master_cmd = [spark_class, MASTER_CLASS, "--host", "127.0.0.1", "--port", "0"]
        master_cmd += ["--webui-port", "0"]
        cluster.procs.append(_start(master_cmd, env, master_log))
        url = _wait_for(
            "the master to start",
            lambda: _log_match(master_log, r"Starting Spark master at (spark://\S+)"),
            cluster,
            deadline,
        ).group(1)
        ui_port = _wait_for(
            "the master's web UI",
            lambda: _log_match(master_log, r"service 'MasterUI' on port (\d+)"),
            cluster,
            deadline,
        ).group(1)
        cluster.master_url, cluster.master_webui = url, f"http://127.0.0.1:{ui_port}"
        for i in range(1, workers + 1):
            work_dir = tmp / "work" / f"worker-{i}"
            work_dir.mkdir(parents=True)
            cluster.worker_dirs.append(work_dir)
            cmd = [spark_class, WORKER_CLASS, "--host", "127.0.0.1", "--port", "0"]
            cmd += ["--webui-port", "0", "--cores", str(cores), "--memory", memory]
            cmd += ["--work-dir", str(work_dir), url]
            cluster.procs.append(_start(cmd, env, tmp / "logs" / f"worker-{i}.log"))

        def registered() -> bool:
            try:
                state = cluster.master_state()
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
                return False
            return sum(w["state"] == "ALIVE" for w in state["workers"]) >= workers

        _wait_for(f"{workers} workers to register with {url}", registered, cluster, deadline)
        yield cluster
    finally:
        for proc in reversed(cluster.procs):
            stop_process_group(proc, wait_seconds=10)
