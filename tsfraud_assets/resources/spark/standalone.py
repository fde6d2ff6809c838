"""The third side of the Spark job: a Spark standalone cluster (`spark://host:port`).

Between local mode (one JVM inside the Dagster process) and EMR (YARN on AWS) sits a cluster
of separate JVMs that tsfraud does not start: a standalone master and its workers, on one
machine or several. `StandaloneSparkProcessing` submits the job file to it with the installed
Spark's `spark-submit`, and ships the code exactly as the EMR step does: the same content-hashed
script and `--py-files` zip (`ship_job_code`, into a local folder instead of S3) on the same
command line (`spark_submit_args`). Nothing leans on the Dagster process's memory: the driver is
a fresh process that imports tsfraud from the shipped zip (first on its PYTHONPATH, ahead of any
installed copy), and the executors run in the workers' JVMs, which receive the zip as EMR's do.

Deploy mode is client (Spark refuses cluster mode for Python applications on a standalone
master), so the driver runs on this machine: the lake must be a path every worker reads and
writes under the same name (one machine, or a shared filesystem). Its output goes to a log file
named in the run's log, its metrics come back through Dagster Pipes (temporary files here, S3
on EMR), and a non-zero exit fails the run with the log's path and tail.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from tsfraud_assets.resources.spark.emr import metrics_from_pipes
from tsfraud_assets.resources.spark.emr_code import ShippedCode, ship_job_code
from tsfraud_assets.resources.spark.processing import (
    SparkProcessing,
    output_spark_conf,
    spark_submit_args,
)
from tsfraud_assets.spark_jobs.packaging import package_dir

ENV_PREFIX = "TSFRAUD_SPARK_"
MASTER_ENV = ENV_PREFIX + "MASTER"
LOG_TAIL_LINES = 40
_APP_ID = re.compile(r"Connected to Spark cluster with app ID (\S+)")


def installed_spark_home() -> Path:
    """The Spark that pip installed with pyspark: its `bin/spark-submit` matches the pyspark
    the job imports, and `spark-class` there starts masters and workers of the same version."""
    return package_dir("pyspark")


def validate_master_url(url: str) -> str:
    if not re.fullmatch(r"spark://[^\s/]+:\d+(,[^\s/]+:\d+)*", url):
        raise ValueError(
            f"{MASTER_ENV} must be a standalone master URL spark://host:port, got {url!r}"
        )
    return url


def standalone_spark_conf(
    extra: Mapping[str, str] | None = None, pyspark_python: str | None = None
) -> dict[str, str]:
    """The output-deciding settings of local mode, the Python of driver and executors, then
    `extra` over them (memory, cores, shuffle partitions: the cluster's business)."""
    conf = output_spark_conf()
    if pyspark_python:
        conf["spark.pyspark.python"] = pyspark_python
        conf["spark.pyspark.driver.python"] = pyspark_python
    conf.update(extra or {})
    return conf


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def spark_app_id(path: Path) -> str | None:
    """The application id the driver logged when the master accepted it (INFO level), which
    names the app in the master's UI and the executors' folders on the workers."""
    with contextlib.suppress(OSError), path.open(errors="replace") as log:
        for line in log:
            if match := _APP_ID.search(line):
                return match.group(1)
    return None


def _stop_group(proc: subprocess.Popen[bytes], wait_seconds: float = 20) -> None:
    """SIGTERM spark-submit's process group (its JVM and the Python driver), then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait_seconds)
            return


class StandaloneSparkProcessing(SparkProcessing):
    """The job submitted with `spark-submit --master spark://...` to a standalone cluster."""

    master_url: str = Field(description="the standalone master, spark://host:port")
    code_dir: str = Field(description="folder the job script and package zip are shipped to")
    log_dir: str = Field(description="folder of the driver logs, one file per run")
    spark_home: str | None = Field(
        default=None, description="Spark whose bin/spark-submit is used; default: pyspark's"
    )
    pyspark_python: str = Field(
        default_factory=lambda: sys.executable,
        description="Python of driver and executors; default: this process's interpreter",
    )
    spark_conf: dict[str, str] = Field(
        default_factory=dict, description="extra spark-submit --conf, over the defaults"
    )
    timeout_minutes: float = Field(
        default=360.0, description="stop the driver and fail the run after this long"
    )

    def spark_submit(self) -> Path:
        return Path(self.spark_home or installed_spark_home()) / "bin" / "spark-submit"

    def command(self, code: ShippedCode, lake: str, start: dt.date, end: dt.date) -> list[str]:
        return [
            str(self.spark_submit()),
            "--master",
            validate_master_url(self.master_url),
            "--deploy-mode",
            "client",
            *spark_submit_args(
                code,
                lake,
                start,
                end,
                standalone_spark_conf(self.spark_conf, self.pyspark_python),
            ),
        ]

    def environment(self, pipes_env: Mapping[str, str]) -> dict[str, str]:
        """This process's environment with SPARK_HOME pinned (bin/spark-submit otherwise
        looks for Spark with whatever `python3` is first on PATH) and the Pipes variables of
        this run, not of any session the Dagster process itself runs under."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_PIPES_")}
        env["SPARK_HOME"] = str(self.spark_submit().parent.parent)
        env.update(pipes_env)
        return env

    def process(
        self, context: dg.AssetExecutionContext, lake_uri: str, start: dt.date, end: dt.date
    ) -> dict[str, Any]:
        code = ship_job_code(None, self.code_dir)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        log_path = Path(self.log_dir).resolve() / f"spark-{start}..{end}-{stamp}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        command = self.command(code, lake_uri, start, end)
        announce = (
            f"Spark job {start}..{end} on {self.master_url}, code {code.package_uri}; "
            f"driver log: {log_path}"
        )
        context.log.info(announce)
        # Also on the process's stderr, where local mode's JVM output would be: `tsfraud run`
        # keeps that in its command log (or on screen with -v) whatever Dagster's log level.
        print(announce, file=sys.stderr, flush=True)
        began = time.monotonic()
        with dg.open_pipes_session(
            context=context,
            message_reader=dg.PipesTempFileMessageReader(),
            context_injector=dg.PipesTempFileContextInjector(),
        ) as session:
            env = self.environment(session.get_bootstrap_env_vars())
            returncode = self._run(command, env, log_path)
            if returncode != 0:
                raise dg.Failure(
                    description=(
                        f"spark-submit to {self.master_url} exited with code {returncode} for "
                        f"{start}..{end}; driver log: {log_path}"
                    ),
                    metadata={
                        "driver_log": dg.MetadataValue.path(str(log_path)),
                        "master": self.master_url,
                        "command": dg.MetadataValue.json(command),
                        "log_tail": dg.MetadataValue.text(log_tail(log_path)),
                    },
                )
        seconds = time.monotonic() - began
        metrics = metrics_from_pipes(dg.PipesClientCompletedInvocation(session))
        if not metrics:
            context.log.warning(
                f"spark-submit succeeded but no metrics came back through Dagster Pipes; the "
                f"job prints them as the last JSON line of the driver log {log_path}"
            )
        app_id = spark_app_id(log_path)
        context.log.info(
            f"Spark job {start}..{end} done in {seconds:.0f} s on {self.master_url}"
            + (f" as {app_id}" if app_id else "")
            + f": {metrics.get('rows_written', '?')} rows written"
        )
        return {
            **metrics,
            "spark_master": self.master_url,
            "spark_app_id": app_id,
            "driver_log": str(log_path),
        }

    def _run(self, command: Sequence[str], env: Mapping[str, str], log_path: Path) -> int:
        """spark-submit with its output streaming into `log_path`, in its own process group so
        that a timeout or an interrupted run stops the driver's JVM and Python together."""
        deadline = time.monotonic() + self.timeout_minutes * 60
        with log_path.open("ab") as log:
            log.write(f"$ {' '.join(command)}\n".encode())
            log.flush()
            proc = subprocess.Popen(
                list(command),
                env=dict(env),
                cwd=log_path.parent,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                while True:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        return proc.wait(timeout=2)
                    if time.monotonic() > deadline:
                        raise dg.Failure(
                            description=(
                                f"spark-submit to {self.master_url} still running after "
                                f"{self.timeout_minutes:g} minutes: stopped; driver log: "
                                f"{log_path}"
                            ),
                            metadata={"driver_log": dg.MetadataValue.path(str(log_path))},
                        )
            finally:
                if proc.poll() is None:
                    _stop_group(proc)


def standalone_spark_processing_from_env(
    env: Mapping[str, str], data_dir: Path
) -> StandaloneSparkProcessing:
    """The standalone resource from the `TSFRAUD_SPARK_*` variables (`Settings.spark_env`):
    `TSFRAUD_SPARK_MASTER` (required), `TSFRAUD_SPARK_CONF` (a JSON object of --conf),
    `TSFRAUD_SPARK_HOME`, `TSFRAUD_SPARK_PYTHON`, `TSFRAUD_SPARK_TIMEOUT_MINUTES`; the code and
    the driver logs go under the data dir (`spark-code/`, `logs/`)."""

    def get(name: str) -> str | None:
        value = env.get(ENV_PREFIX + name, "").strip()
        return value or None

    master = get("MASTER")
    if master is None:
        raise ValueError(f"{MASTER_ENV} is not set")
    config: dict[str, Any] = {
        "master_url": validate_master_url(master),
        "code_dir": str(data_dir / "spark-code"),
        "log_dir": str(data_dir / "logs"),
    }
    if text := get("CONF"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{ENV_PREFIX}CONF must be a JSON object: {exc}") from exc
        if not isinstance(value, dict):
            raise ValueError(f"{ENV_PREFIX}CONF must be a JSON object, got {text!r}")
        config["spark_conf"] = {str(k): str(v) for k, v in value.items()}
    if home := get("HOME"):
        config["spark_home"] = home
    if python := get("PYTHON"):
        config["pyspark_python"] = python
    if minutes := get("TIMEOUT_MINUTES"):
        config["timeout_minutes"] = float(minutes)
    return StandaloneSparkProcessing(**config)
