"""The EMR implementation of Spark processing, against a moto server on 127.0.0.1 (no JVM).

moto records clusters and steps but never runs them (its steps stay RUNNING), so a small fake
EMR stands in for the cluster: when the RunJobFlow / AddJobFlowSteps request has gone through,
it does what a node would do with the step's spark-submit line. It downloads the shipped script
and zip from (moto) S3, starts a Python process with the zip as its only source of
`tsfraud_assets` and `dagster_pipes` (as `--py-files` does) and the driver environment EMR
would give it, and runs the real job file's `main` with only the Spark part replaced by canned
metrics. Then it marks the step and the cluster the way EMR would. So the Pipes context, the
message chunks and the metrics really travel through S3 and back into Dagster.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import pytest
from dagster_pipes import decode_param

from tsfraud_assets.defs.partitions import daily_partitions
from tsfraud_assets.defs.processed.assets import (
    PROCESSED_DATASET,
    build_processed_timesheet_entries,
)
from tsfraud_assets.resources import spark as spark_module
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.spark import (
    GIB,
    OUTPUT_SPARK_CONF_KEYS,
    EmrPipesSparkProcessing,
    LocalSparkProcessing,
    SparkProcessing,
    aws_spark_processing_from_env,
    capacity_for_input_bytes,
    job_arguments,
    raw_input_bytes,
    ship_job_code,
)
from tsfraud_assets.resources.spark import emr as emr_module
from tsfraud_assets.resources.spark import emr_code as emr_code_module
from tsfraud_assets.settings import DEFAULT_PARTITION_START
from tsfraud_assets.spark_jobs.packaging import build_package_zip, job_script, package_dir
from tsfraud_assets.spark_jobs.process_timesheets import parse_args
from tsfraud_assets.spark_jobs.session import local_spark_conf

processed_timesheet_entries = build_processed_timesheet_entries(
    daily_partitions(DEFAULT_PARTITION_START)
)

REGION = "eu-west-1"
CODE_BUCKET, LOG_BUCKET, PIPES_BUCKET, LAKE_BUCKET = (
    "tsfraud-code",
    "tsfraud-logs",
    "tsfraud-pipes",
    "tsfraud-lake",
)
LAKE = f"s3://{LAKE_BUCKET}/lake"
START, END = dt.date(2025, 3, 3), dt.date(2025, 3, 5)
RANGE_TAGS = {
    "dagster/asset_partition_range_start": str(START),
    "dagster/asset_partition_range_end": str(END),
}
# What the (fake) Spark part of the job returns; start, end and output come from the job's
# parsed command line, so they prove the arguments reached it.
CANNED = {
    "days_in_range": 3,
    "raw_days_found": 2,
    "rows_read": 14,
    "rows_written": 12,
    "days_written": 2,
    "days_cleared": 1,
    "rows_per_day": {"2025-03-03": 6, "2025-03-05": 6},
}
EXPECTED_METRICS = {
    **CANNED,
    "start": str(START),
    "end": str(END),
    "output": f"{LAKE}/processed/timesheet_entries",
}
# Raw Parquet sizes in the fake lake: in range, out of range, reference snapshots.
DAILY_SIZES = {
    ("timesheet_entries", dt.date(2025, 3, 2)): 7_000,
    ("timesheet_entries", dt.date(2025, 3, 3)): 1_500,
    ("timesheet_entries", dt.date(2025, 3, 5)): 1_500,
    ("timesheet_entries", dt.date(2025, 3, 6)): 9_000,
    ("workstation_activity", dt.date(2025, 3, 4)): 400,
    ("workstation_activity", dt.date(2025, 3, 10)): 8_000,
}
REFERENCE_SIZES = {"employees": 300, "projects": 200, "project_assignments": 100}
IN_RANGE_BYTES = 1_500 + 1_500 + 400 + 300 + 200 + 100  # 4_000

DRIVER = r"""
import os, sys
zip_path, script_path, *job_args = sys.argv[1:]
import dagster_pipes, tsfraud_assets
# Test speed only: at close Pipes waits seconds per captured stream for `tee` to drain.
dagster_pipes.PipesStdioLogWriterChannel.WAIT_FOR_TEE_SECONDS = 0.1
dagster_pipes.PipesDefaultLogWriter.__init__.__defaults__ = (0.1,)
for module in (tsfraud_assets, dagster_pipes):  # --py-files, not the test's installation
    assert module.__file__.startswith(zip_path + os.sep), module.__file__
namespace = {"__name__": "emr_driver", "__file__": script_path}
with open(script_path) as f:
    exec(compile(f.read(), script_path, "exec"), namespace)

def spark_part(args):
    print(f"driver: --lake {args.lake} --start {args.start} --end {args.end}", flush=True)
    return {
        **__import__("json").loads(os.environ["FAKE_METRICS"]),
        "start": args.start.isoformat(),
        "end": args.end.isoformat(),
        "output": args.lake + "/processed/timesheet_entries",
    }

namespace["_run_with_session"] = spark_part
sys.exit(namespace["main"](job_args))
"""


# --- a moto server and a fake EMR in front of it -------------------------------------------


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> boto3.session.Session:
    """Fresh moto state, AWS clients pointed at it, the buckets the deployment needs."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    session = boto3.session.Session(region_name=REGION)
    s3: Any = session.client("s3")
    for bucket in (CODE_BUCKET, LOG_BUCKET, PIPES_BUCKET, LAKE_BUCKET):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    return session


def write_fake_lake(s3: Any) -> None:
    for (dataset, day), size in DAILY_SIZES.items():
        key = f"lake/raw/{dataset}/work_date={day}/data.parquet"
        s3.put_object(Bucket=LAKE_BUCKET, Key=key, Body=b"x" * size)
    for table, size in REFERENCE_SIZES.items():
        s3.put_object(Bucket=LAKE_BUCKET, Key=f"lake/raw/{table}/data.parquet", Body=b"x" * size)
    # not a day folder, and a dataset the job does not read: both ignored
    s3.put_object(Bucket=LAKE_BUCKET, Key="lake/raw/timesheet_entries/_SUCCESS", Body=b"x" * 50)
    s3.put_object(Bucket=LAKE_BUCKET, Key="lake/raw/clients/data.parquet", Body=b"x" * 5_000)


def _moto_cluster(cluster_id: str) -> Any:
    from moto.emr.models import emr_backends

    for account in list(emr_backends.keys()):
        for _, backend in emr_backends[account].items():
            if cluster_id in backend.clusters:
                return backend.clusters[cluster_id]
    raise KeyError(cluster_id)


def _spark_submit_parts(args: list[str]) -> tuple[dict[str, str], str, str, list[str]]:
    """(--conf pairs, --py-files, script, job arguments) of a spark-submit command line."""
    assert args[0] == "spark-submit"
    conf: dict[str, str] = {}
    i, py_files = 1, ""
    while args[i].startswith("--"):
        if args[i] == "--conf":
            key, _, value = args[i + 1].partition("=")
            conf[key] = value
        elif args[i] == "--py-files":
            py_files = args[i + 1]
        i += 2
    return conf, py_files, args[i], args[i + 1 :]


class FakeEmr:
    """Records every S3 and EMR request made through `aws_session` and runs the steps."""

    def __init__(self, workdir: Path, behaviour: str = "pipes") -> None:
        self.workdir = workdir
        # pipes: run the driver; silent: complete the step without one (all moto would do);
        # fail: fail the step; hang: leave it running
        self.behaviour = behaviour
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.driver_output: list[str] = []
        self.package, self.script = build_package_zip(), job_script()

    def session(self, region: str) -> boto3.session.Session:
        session = boto3.session.Session(region_name=region)
        session.events.register("provide-client-params.s3", self._record)
        session.events.register("provide-client-params.emr", self._record)
        session.events.register("after-call.emr.RunJobFlow", self._after_run_job_flow)
        session.events.register("after-call.emr.AddJobFlowSteps", self._after_add_steps)
        return session

    def requests(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == operation]

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, copy.deepcopy(params)))

    def _after_run_job_flow(self, parsed: dict[str, Any], **_: Any) -> None:
        request = self.requests("RunJobFlow")[-1]
        cluster = _moto_cluster(parsed["JobFlowId"])
        cluster_env = {
            key.removeprefix("spark.yarn.appMasterEnv."): value
            for conf in request.get("Configurations", [])
            if conf["Classification"] == "spark-defaults"
            for key, value in conf.get("Properties", {}).items()
            if key.startswith("spark.yarn.appMasterEnv.")
        }
        self._run(cluster, cluster.steps, request["Steps"], cluster_env)

    def _after_add_steps(self, parsed: dict[str, Any], **_: Any) -> None:
        request = self.requests("AddJobFlowSteps")[-1]
        cluster = _moto_cluster(request["JobFlowId"])
        steps = [s for s in cluster.steps if s.id in parsed["StepIds"]]
        self._run(cluster, steps, request["Steps"], {})

    def _run(self, cluster: Any, steps: list[Any], configs: list[Any], env: dict[str, str]) -> None:
        if self.behaviour == "hang":
            return
        ok = True
        for step, config in zip(steps, configs, strict=True):
            if self.behaviour == "pipes":
                ok = self._driver(config["HadoopJarStep"]["Args"], env) == 0
            else:
                ok = self.behaviour == "silent"
            step.state = "COMPLETED" if ok else "FAILED"
        if not cluster.keep_job_flow_alive_when_no_steps:
            cluster.terminate()
            if not ok:
                cluster.state = "TERMINATED_WITH_ERRORS"
                cluster.last_state_change_reason = "Shut down as step failed"

    def _download(self, uri: str) -> Path:
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        path = self.workdir / key.rsplit("/", 1)[-1]
        boto3.client("s3").download_file(bucket, key, str(path))
        return path

    def _driver(self, args: list[str], cluster_env: dict[str, str]) -> int:
        conf, py_files, script, job_args = _spark_submit_parts(args)
        step_env = {
            key.removeprefix("spark.yarn.appMasterEnv."): value
            for key, value in conf.items()
            if key.startswith("spark.yarn.appMasterEnv.")
        }
        env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_PIPES")}
        env.update(cluster_env)
        env.update(step_env)  # --conf wins over spark-defaults, as in Spark
        env["FAKE_METRICS"] = json.dumps(CANNED)
        zip_path = self._download(py_files)
        env["PYTHONPATH"] = str(zip_path)
        command = [sys.executable, "-c", DRIVER, str(zip_path), str(self._download(script))]
        proc = subprocess.run(
            [*command, *job_args],
            env=env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.driver_output.append(proc.stdout + proc.stderr)
        return proc.returncode


@pytest.fixture
def fake_emr(
    aws: boto3.session.Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> FakeEmr:
    fake = FakeEmr(tmp_path)
    monkeypatch.setattr(emr_module, "aws_session", fake.session)
    # Built once per test, so that the expected names cannot drift from what a run ships if
    # package files change while the test runs.
    package, script = fake.package, fake.script
    monkeypatch.setattr(emr_code_module, "build_package_zip", lambda: package)
    monkeypatch.setattr(emr_code_module, "job_script", lambda: script)
    return fake


def emr_resource(**overrides: Any) -> EmrPipesSparkProcessing:
    config: dict[str, Any] = {
        "region": REGION,
        "code_prefix": f"s3://{CODE_BUCKET}/tsfraud/code/",
        "log_uri": f"s3://{LOG_BUCKET}/emr/",
        "pipes_bucket": PIPES_BUCKET,
        "pipes_prefix": "tsfraud/pipes",
        "release_label": "emr-spark-8.0.0",
        "master_instance_type": "m6g.xlarge",
        "core_instance_type": "r6g.2xlarge",
        "bytes_per_instance": 1_000,  # so that the fake lake's few KB size the cluster
        "instance_ceiling": 4,
        "service_role": "tsfraud-emr-service",
        "job_flow_role": "tsfraud-emr-ec2",
        "subnet_id": "subnet-0abc",
        "spark_conf": {"spark.executor.memory": "8g"},
        "tags": {"team": "fraud"},
        "poll_seconds": 0.05,
        "pipes_poll_seconds": 0.2,
    }
    config.update(overrides)
    return EmrPipesSparkProcessing(**config)


def materialize_range(spark: SparkProcessing, **kwargs: Any) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [processed_timesheet_entries],
        resources={"spark": spark, "lake": Lake(root=LAKE)},
        tags=RANGE_TAGS,
        **kwargs,
    )


@pytest.fixture
def quick_pipes_close(monkeypatch: pytest.MonkeyPatch) -> None:
    """When no message ever arrives, Pipes waits 10 s after the run for late ones."""
    import dagster._core.pipes.utils as pipes_utils

    monkeypatch.setattr(pipes_utils, "WAIT_FOR_LOGS_AFTER_EXECUTION_INTERVAL", 0)


# --- pure functions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nbytes", "expected"),
    [
        (0, (1, 2)),  # nothing to read: one instance, room for one more
        (GIB // 2, (1, 2)),
        (GIB, (1, 2)),
        (3 * GIB + 1, (1, 4)),  # 4 needed: start with a quarter
        (10 * GIB, (3, 10)),
        (20 * GIB, (5, 20)),
        (200 * GIB, (20, 20)),  # the ceiling bounds both
    ],
)
def test_capacity_for_input_bytes(nbytes: int, expected: tuple[int, int]) -> None:
    assert capacity_for_input_bytes(nbytes) == expected


def test_capacity_options_and_overrides() -> None:
    assert capacity_for_input_bytes(5_000, bytes_per_instance=1_000, ceiling=4) == (2, 4)
    assert capacity_for_input_bytes(0, ceiling=1) == (1, 1)
    with pytest.raises(ValueError):
        capacity_for_input_bytes(-1)
    with pytest.raises(ValueError):
        capacity_for_input_bytes(1, ceiling=0)
    assert emr_resource(min_instances=3).capacity(0) == (3, 3)  # max follows a larger min
    assert emr_resource(max_instances=9).capacity(4_000) == (1, 9)


def test_job_arguments_mean_the_same_to_the_job() -> None:
    args = parse_args(job_arguments(LAKE, START, END))
    assert (args.lake, args.start, args.end) == (LAKE, START, END)


def test_local_and_emr_run_the_job_with_the_same_arguments(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from dagster_pyspark import PySparkResource

    from tsfraud_assets.spark_jobs import process_timesheets

    seen: list[tuple[Any, ...]] = []

    def run(*args: Any) -> dict[str, Any]:
        seen.append(args)
        return {"ok": True}

    monkeypatch.setattr(process_timesheets, "run", run)
    monkeypatch.setattr(PySparkResource, "spark_session", property(lambda self: "session"))
    # A folder lake: local Spark runs an s3:// lake on a staged copy (resources/spark/staging.py)
    folder = str(tmp_path / "lake")
    local = LocalSparkProcessing().process(dg.build_asset_context(), folder, START, END)
    assert local == {"ok": True}
    assert seen == [("session", folder, START, END)]

    code = spark_module.ShippedCode("s3://c/job.py", "s3://c/pkg.zip")
    step = emr_resource().step(code, LAKE, START, END)
    _, _, script, emr_args = _spark_submit_parts(list(step["HadoopJarStep"]["Args"]))
    assert script == "s3://c/job.py"
    assert emr_args == job_arguments(LAKE, START, END)
    parsed = parse_args(emr_args)
    assert (parsed.lake, parsed.start, parsed.end) == (LAKE, START, END)
    local_parsed = parse_args(job_arguments(folder, START, END))  # what the local side parsed
    assert ("session", local_parsed.lake, local_parsed.start, local_parsed.end) == seen[0]


def test_cluster_runs_with_the_output_settings_of_local_mode() -> None:
    conf = spark_module.cluster_spark_conf({"spark.executor.memory": "8g"}, "/usr/bin/python3.11")
    local = local_spark_conf()
    assert {k: conf[k] for k in OUTPUT_SPARK_CONF_KEYS} == {
        k: local[k] for k in OUTPUT_SPARK_CONF_KEYS
    }
    assert conf["spark.pyspark.python"] == "/usr/bin/python3.11"
    assert conf["spark.executor.memory"] == "8g"
    assert conf["spark.yarn.maxAppAttempts"] == "1"


def test_package_zip_is_reproducible_and_holds_the_job_and_pipes() -> None:
    first, second = build_package_zip(), build_package_zip()
    assert first.data == second.data
    assert first.name == f"tsfraud_assets-{first.digest}.zip" and len(first.digest) == 16
    names = zipfile.ZipFile(io.BytesIO(first.data)).namelist()
    assert "tsfraud_assets/spark_jobs/process_timesheets.py" in names
    assert "tsfraud_assets/lib/processing/transforms.py" in names
    assert "dagster_pipes/__init__.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    script = job_script()
    source = package_dir("tsfraud_assets") / "spark_jobs" / "process_timesheets.py"
    assert script.data == source.read_bytes()
    assert script.name == f"process_timesheets-{script.digest}.py"


def test_from_env_reads_every_setting() -> None:
    env = {
        "TSFRAUD_EMR_REGION": "eu-central-1",
        "TSFRAUD_EMR_CODE_PREFIX": "s3://code/prefix",
        "TSFRAUD_EMR_LOG_URI": "s3://logs/emr/",
        "TSFRAUD_EMR_PIPES_BUCKET": "pipes",
        "TSFRAUD_EMR_PIPES_PREFIX": "p/q",
        "TSFRAUD_EMR_RELEASE_LABEL": "emr-spark-8.0.0",
        "TSFRAUD_EMR_CLUSTER_ID": "j-123",
        "TSFRAUD_EMR_CLUSTER_NAME": "fraud",
        "TSFRAUD_EMR_MASTER_INSTANCE_TYPE": "m7g.xlarge",
        "TSFRAUD_EMR_CORE_INSTANCE_TYPE": "r7g.xlarge",
        "TSFRAUD_EMR_MIN_INSTANCES": "2",
        "TSFRAUD_EMR_MAX_INSTANCES": "8",
        "TSFRAUD_EMR_BYTES_PER_INSTANCE": "2147483648",
        "TSFRAUD_EMR_INSTANCE_CEILING": "30",
        "TSFRAUD_EMR_SERVICE_ROLE": "svc",
        "TSFRAUD_EMR_JOB_FLOW_ROLE": "ec2",
        "TSFRAUD_EMR_SUBNET_ID": "subnet-1",
        "TSFRAUD_EMR_BOOTSTRAP_ACTIONS": "s3://code/a.sh, s3://code/b.sh",
        "TSFRAUD_EMR_SPARK_CONF": '{"spark.executor.memory": "8g"}',
        "TSFRAUD_EMR_PYSPARK_PYTHON": "/usr/bin/python3.11",
        "TSFRAUD_EMR_TAGS": '{"team": "fraud"}',
        "TSFRAUD_EMR_POLL_SECONDS": "15",
        "TSFRAUD_EMR_PIPES_POLL_SECONDS": "5",
        "TSFRAUD_EMR_TIMEOUT_MINUTES": "120",
    }
    resource = aws_spark_processing_from_env(env)
    assert resource.model_dump() == {
        "region": "eu-central-1",
        "code_prefix": "s3://code/prefix",
        "log_uri": "s3://logs/emr/",
        "pipes_bucket": "pipes",
        "pipes_prefix": "p/q",
        "release_label": "emr-spark-8.0.0",
        "cluster_id": "j-123",
        "cluster_name": "fraud",
        "master_instance_type": "m7g.xlarge",
        "core_instance_type": "r7g.xlarge",
        "min_instances": 2,
        "max_instances": 8,
        "bytes_per_instance": 2 * GIB,
        "instance_ceiling": 30,
        "service_role": "svc",
        "job_flow_role": "ec2",
        "subnet_id": "subnet-1",
        "bootstrap_actions": ["s3://code/a.sh", "s3://code/b.sh"],
        "spark_conf": {"spark.executor.memory": "8g"},
        "pyspark_python": "/usr/bin/python3.11",
        "tags": {"team": "fraud"},
        "poll_seconds": 15.0,
        "pipes_poll_seconds": 5.0,
        "timeout_minutes": 120.0,
    }


def test_from_env_defaults_and_errors() -> None:
    minimal = {
        "AWS_REGION": "us-east-2",
        "TSFRAUD_EMR_CODE_PREFIX": "s3://code/p",
        "TSFRAUD_EMR_LOG_URI": "s3://logs/",
        "TSFRAUD_EMR_PIPES_BUCKET": "pipes",
        "TSFRAUD_EMR_CLUSTER_ID": "",  # empty means unset
    }
    resource = aws_spark_processing_from_env(minimal)
    assert (resource.region, resource.cluster_id, resource.release_label) == (
        "us-east-2",
        None,
        "emr-spark-8.0.0",
    )
    with pytest.raises(ValueError) as error:
        aws_spark_processing_from_env({"TSFRAUD_EMR_LOG_URI": "s3://logs/"})
    for name in ("TSFRAUD_EMR_REGION", "TSFRAUD_EMR_CODE_PREFIX", "TSFRAUD_EMR_PIPES_BUCKET"):
        assert name in str(error.value)
    with pytest.raises(ValueError, match="JSON object"):
        aws_spark_processing_from_env({**minimal, "TSFRAUD_EMR_TAGS": '["a"]'})


# --- S3 --------------------------------------------------------------------------------------


def test_raw_input_bytes_counts_the_range_and_the_reference_snapshots(
    aws: boto3.session.Session,
) -> None:
    s3 = aws.client("s3")
    write_fake_lake(s3)
    assert raw_input_bytes(s3, LAKE, START, END) == IN_RANGE_BYTES
    one_day = 1_500 + 300 + 200 + 100
    assert raw_input_bytes(s3, LAKE, START, START) == one_day
    assert raw_input_bytes(s3, f"s3://{LAKE_BUCKET}/elsewhere", START, END) == 0
    with pytest.raises(ValueError, match="s3://"):
        raw_input_bytes(s3, "/local/lake", START, END)


def test_code_is_uploaded_once_per_content(fake_emr: FakeEmr) -> None:
    s3 = fake_emr.session(REGION).client("s3")
    first = ship_job_code(s3, f"s3://{CODE_BUCKET}/tsfraud/code")
    assert len(fake_emr.requests("PutObject")) == 2
    again = ship_job_code(s3, f"s3://{CODE_BUCKET}/tsfraud/code")
    assert again == first and len(fake_emr.requests("PutObject")) == 2  # nothing re-uploaded
    assert first.package_uri == f"s3://{CODE_BUCKET}/tsfraud/code/{fake_emr.package.name}"
    assert first.script_uri == f"s3://{CODE_BUCKET}/tsfraud/code/{fake_emr.script.name}"


# --- end to end through Dagster --------------------------------------------------------------


def _pipes_params(env_value: str) -> dict[str, Any]:
    params = decode_param(env_value)
    assert isinstance(params, dict)
    return params


def test_cluster_per_run_request_code_and_metrics(fake_emr: FakeEmr) -> None:
    s3 = boto3.client("s3")
    write_fake_lake(s3)
    result = materialize_range(emr_resource())
    assert result.success

    # -- the one RunJobFlow request, exactly
    [request] = fake_emr.requests("RunJobFlow")
    package, script = fake_emr.package, fake_emr.script
    package_uri = f"s3://{CODE_BUCKET}/tsfraud/code/{package.name}"
    script_uri = f"s3://{CODE_BUCKET}/tsfraud/code/{script.name}"
    expected_step = {
        "Name": "process_timesheets 2025-03-03..2025-03-05",
        "ActionOnFailure": "TERMINATE_CLUSTER",
        "HadoopJarStep": {
            "Jar": "command-runner.jar",
            "Args": [
                "spark-submit",
                "--deploy-mode",
                "cluster",
                "--conf",
                "spark.executor.memory=8g",
                "--conf",
                "spark.sql.parquet.compression.codec=zstd",
                "--conf",
                "spark.sql.parquet.outputTimestampType=TIMESTAMP_MICROS",
                "--conf",
                "spark.sql.session.timeZone=UTC",
                "--conf",
                "spark.sql.sources.partitionOverwriteMode=dynamic",
                "--conf",
                "spark.yarn.maxAppAttempts=1",
                "--py-files",
                package_uri,
                script_uri,
                "--lake",
                LAKE,
                "--start",
                "2025-03-03",
                "--end",
                "2025-03-05",
            ],
        },
    }
    pipes_configurations = request.pop("Configurations")
    dagster_tags = request.pop("Tags")
    assert request == {
        "Name": "tsfraud-process-timesheets 2025-03-03..2025-03-05",
        "LogUri": f"s3://{LOG_BUCKET}/emr/",
        "ReleaseLabel": "emr-spark-8.0.0",
        "Applications": [{"Name": "Spark"}],
        "Instances": {
            "InstanceGroups": [
                {
                    "Name": "primary",
                    "InstanceRole": "MASTER",
                    "Market": "ON_DEMAND",
                    "InstanceType": "m6g.xlarge",
                    "InstanceCount": 1,
                },
                {
                    "Name": "core",
                    "InstanceRole": "CORE",
                    "Market": "ON_DEMAND",
                    "InstanceType": "r6g.2xlarge",
                    "InstanceCount": 1,
                },
            ],
            "KeepJobFlowAliveWhenNoSteps": False,
            "TerminationProtected": False,
            "Ec2SubnetId": "subnet-0abc",
        },
        "Steps": [expected_step],
        "ServiceRole": "tsfraud-emr-service",
        "JobFlowRole": "tsfraud-emr-ec2",
        "VisibleToAllUsers": True,
        # 4_000 bytes of raw input at 1_000 bytes per instance: 4 needed, start with 1
        "ManagedScalingPolicy": {
            "ComputeLimits": {
                "UnitType": "Instances",
                "MinimumCapacityUnits": 1,
                "MaximumCapacityUnits": 4,
            }
        },
    }
    assert capacity_for_input_bytes(IN_RANGE_BYTES, bytes_per_instance=1_000, ceiling=4) == (1, 4)
    assert {"Key": "team", "Value": "fraud"} in dagster_tags
    assert any(t["Key"] == "dagster/run-id" and t["Value"] == result.run_id for t in dagster_tags)

    # -- the Pipes bootstrap reaches the cluster-mode driver, pointing at our bucket/prefix
    [defaults] = [c for c in pipes_configurations if c["Classification"] == "spark-defaults"]
    driver_env = defaults["Properties"]
    context_params = _pipes_params(driver_env["spark.yarn.appMasterEnv.DAGSTER_PIPES_CONTEXT"])
    message_params = _pipes_params(driver_env["spark.yarn.appMasterEnv.DAGSTER_PIPES_MESSAGES"])
    assert context_params["bucket"] == PIPES_BUCKET
    assert context_params["key"].startswith("tsfraud/pipes/context/")
    assert message_params["bucket"] == PIPES_BUCKET
    assert message_params["key_prefix"].startswith("tsfraud/pipes/messages/")
    assert message_params["include_stdio_in_messages"] is True

    # -- shipped code in S3: the script as is, the zip with the job and dagster_pipes
    script_key, package_key = (
        u.removeprefix(f"s3://{CODE_BUCKET}/") for u in (script_uri, package_uri)
    )
    body = s3.get_object(Bucket=CODE_BUCKET, Key=script_key)["Body"].read()
    assert body == script.data
    shipped = s3.get_object(Bucket=CODE_BUCKET, Key=package_key)["Body"].read()
    names = zipfile.ZipFile(io.BytesIO(shipped)).namelist()
    assert "tsfraud_assets/spark_jobs/process_timesheets.py" in names
    assert "dagster_pipes/__init__.py" in names

    # -- the job ran with those arguments, and its metrics came back through Pipes (S3)
    assert (
        "driver: --lake s3://tsfraud-lake/lake --start 2025-03-03 --end 2025-03-05"
        in (fake_emr.driver_output[0])
    )
    message_chunks = s3.list_objects_v2(Bucket=PIPES_BUCKET, Prefix=message_params["key_prefix"])
    assert message_chunks["KeyCount"] >= 1
    # one materialization per day of the range, all with the run's metadata
    materializations = result.asset_materializations_for_node("processed_timesheet_entries")
    assert [m.partition for m in materializations] == ["2025-03-03", "2025-03-04", "2025-03-05"]
    metadata: dict[str, Any] = {k: v.value for k, v in materializations[0].metadata.items()}
    reported = metadata["spark_metrics"]
    # the job's materialization metadata: the local metrics but days_in_range/raw_days_found
    assert reported == {k: EXPECTED_METRICS[k] for k in reported}
    assert set(EXPECTED_METRICS) - set(reported) <= {"days_in_range", "raw_days_found"}
    assert metadata["dagster/row_count"] == CANNED["rows_written"]
    assert metadata["days_written"] == CANNED["days_written"]
    assert metadata["path"] == f"{LAKE}/{PROCESSED_DATASET}"
    # the per-run cluster is gone
    cluster_id = fake_emr.requests("DescribeCluster")[-1]["ClusterId"]
    assert (
        boto3.client("emr").describe_cluster(ClusterId=cluster_id)["Cluster"]["Status"]["State"]
        == "TERMINATED"
    )


def test_existing_cluster_gets_a_step_and_keeps_running(fake_emr: FakeEmr) -> None:
    emr = boto3.client("emr")
    cluster_id = emr.run_job_flow(
        Name="shared",
        ReleaseLabel="emr-spark-8.0.0",
        Instances={
            "InstanceGroups": [
                {"InstanceRole": "MASTER", "InstanceType": "m6g.xlarge", "InstanceCount": 1}
            ],
            "KeepJobFlowAliveWhenNoSteps": True,
        },
        JobFlowRole="ec2",
        ServiceRole="svc",
    )["JobFlowId"]
    resource = emr_resource(cluster_id=cluster_id)

    # From an op: the job has no asset to materialize and sends the whole metrics dict.
    @dg.op(required_resource_keys={"spark"})
    def process_range(context) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        return context.resources.spark.process(context, LAKE, START, END)

    @dg.job(resource_defs={"spark": resource})
    def process_job() -> None:
        process_range()

    result = process_job.execute_in_process()
    assert result.success
    assert result.output_for_node("process_range") == EXPECTED_METRICS  # exactly local's shape

    assert fake_emr.requests("RunJobFlow") == []
    [request] = fake_emr.requests("AddJobFlowSteps")
    assert request["JobFlowId"] == cluster_id
    [step] = request["Steps"]
    assert step["ActionOnFailure"] == "CONTINUE"
    conf, _, _, job_args = _spark_submit_parts(step["HadoopJarStep"]["Args"])
    assert job_args == job_arguments(LAKE, START, END)
    context_params = _pipes_params(conf["spark.yarn.appMasterEnv.DAGSTER_PIPES_CONTEXT"])
    assert context_params["bucket"] == PIPES_BUCKET
    assert emr.describe_cluster(ClusterId=cluster_id)["Cluster"]["Status"]["State"] != (
        "TERMINATED"
    )
    assert emr.list_steps(ClusterId=cluster_id)["Steps"][0]["Status"]["State"] == "COMPLETED"


def test_failed_step_fails_the_run(fake_emr: FakeEmr, quick_pipes_close: None) -> None:
    """dagster-aws 0.29.27 alone would report this run as a success."""
    fake_emr.behaviour = "fail"
    result = materialize_range(emr_resource(), raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "did not complete: Shut down as step failed" in str(failure.step_failure_data.error)


def test_no_metrics_from_pipes_is_a_warning_not_a_failure(
    fake_emr: FakeEmr, quick_pipes_close: None
) -> None:
    fake_emr.behaviour = "silent"  # the step completes but no driver ever talks Pipes
    instance = dg.DagsterInstance.ephemeral()
    result = materialize_range(emr_resource(), instance=instance)
    assert result.success
    materialization = result.asset_materializations_for_node("processed_timesheet_entries")[0]
    assert materialization.metadata["spark_metrics"].value == {}
    messages = [e.user_message for e in instance.all_logs(result.run_id)]
    assert any("no metrics came back through Dagster Pipes" in m for m in messages)


def test_timeout_terminates_the_run_cluster(fake_emr: FakeEmr, quick_pipes_close: None) -> None:
    fake_emr.behaviour = "hang"
    result = materialize_range(emr_resource(timeout_minutes=0.002), raise_on_error=False)
    assert not result.success
    [terminate] = fake_emr.requests("TerminateJobFlows")
    [cluster_id] = terminate["JobFlowIds"]
    state = boto3.client("emr").describe_cluster(ClusterId=cluster_id)["Cluster"]["Status"]
    assert state["State"] == "TERMINATED"


def test_local_lake_is_refused_before_anything_is_uploaded(fake_emr: FakeEmr) -> None:
    with pytest.raises(ValueError, match="s3://"):
        emr_resource().process(dg.build_asset_context(), tempfile.gettempdir(), START, END)
    assert fake_emr.calls == []
