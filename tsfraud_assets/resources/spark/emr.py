"""The production side: the Spark job as an EMR step through Dagster Pipes, on a cluster per run
or an existing one, with the EMR client fixes tsfraud needs (docs/emr.md)."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

import boto3
import dagster as dg
from dagster_aws.pipes import PipesEMRClient, PipesS3ContextInjector, PipesS3MessageReader
from pydantic import Field

from tsfraud_assets.lib.formatting import parse_s3_uri
from tsfraud_assets.resources.spark.emr_code import (
    GIB,
    ShippedCode,
    capacity_for_input_bytes,
    raw_input_bytes,
    s3_key,
    ship_job_code,
)
from tsfraud_assets.resources.spark.processing import (
    SparkProcessing,
    output_spark_conf,
    spark_submit_args,
)

if TYPE_CHECKING:
    from dagster._core.pipes.client import PipesParams
    from mypy_boto3_emr import EMRClient
    from mypy_boto3_emr.type_defs import (
        DescribeClusterOutputTypeDef,
        DescribeStepOutputTypeDef,
        RunJobFlowInputTypeDef,
        RunJobFlowOutputTypeDef,
        StepConfigTypeDef,
    )


# --- EMR -----------------------------------------------------------------------------------

CLUSTER_ENDED = ("TERMINATED", "TERMINATED_WITH_ERRORS")
STEP_ENDED = ("COMPLETED", "CANCELLED", "FAILED", "INTERRUPTED")


def aws_session(region: str) -> boto3.session.Session:
    """Every AWS client of a run comes from here (tests record the calls made through it)."""
    return boto3.session.Session(region_name=region)


def cluster_spark_conf(
    extra: Mapping[str, str] | None = None, pyspark_python: str | None = None
) -> dict[str, str]:
    conf = output_spark_conf()
    # A second YARN attempt would open a second Pipes session over the first one's message
    # chunks; a failure is reported once, and Dagster's retry policy decides what follows.
    conf["spark.yarn.maxAppAttempts"] = "1"
    if pyspark_python:
        conf["spark.pyspark.python"] = pyspark_python
    conf.update(extra or {})
    return conf


def spark_submit_step(
    name: str,
    code: ShippedCode,
    lake: str,
    start: dt.date,
    end: dt.date,
    spark_conf: Mapping[str, str],
    action_on_failure: str,
) -> StepConfigTypeDef:
    """The EMR step: spark-submit of the job script with the package zip, in cluster mode (the
    driver runs in YARN, not on the primary node, whose memory is then not the limit)."""
    args = [
        "spark-submit",
        "--deploy-mode",
        "cluster",
        *spark_submit_args(code, lake, start, end, spark_conf),
    ]
    return cast(
        "StepConfigTypeDef",
        {
            "Name": name,
            "ActionOnFailure": action_on_failure,
            "HadoopJarStep": {"Jar": "command-runner.jar", "Args": args},
        },
    )


def with_driver_env(step: StepConfigTypeDef, env: Mapping[str, str]) -> StepConfigTypeDef:
    """The step with `env` set in the driver's environment (cluster mode: the YARN AM's)."""
    args = list(step["HadoopJarStep"]["Args"])
    env_args = [
        a for key in sorted(env) for a in ("--conf", f"spark.yarn.appMasterEnv.{key}={env[key]}")
    ]
    args[1:1] = env_args
    return cast(
        "StepConfigTypeDef",
        {**step, "HadoopJarStep": {**step["HadoopJarStep"], "Args": args}},
    )


def wait_for_cluster_end(
    emr: EMRClient, cluster_id: str, poll_seconds: float, timeout_seconds: float, log: Any
) -> DescribeClusterOutputTypeDef:
    """Poll until the cluster is terminated (with or without errors)."""
    deadline = time.monotonic() + timeout_seconds
    last = None
    while True:
        described = emr.describe_cluster(ClusterId=cluster_id)
        state = described["Cluster"]["Status"]["State"]
        if state != last:
            log.info(f"EMR cluster {cluster_id}: {state}")
            last = state
        if state in CLUSTER_ENDED:
            return described
        if time.monotonic() >= deadline:
            raise TimeoutError(f"EMR cluster {cluster_id} still {state} after {timeout_seconds}s")
        time.sleep(poll_seconds)


def wait_for_step_end(
    emr: EMRClient,
    cluster_id: str,
    step_id: str,
    poll_seconds: float,
    timeout_seconds: float,
    log: Any,
) -> DescribeStepOutputTypeDef:
    deadline = time.monotonic() + timeout_seconds
    last = None
    while True:
        described = emr.describe_step(ClusterId=cluster_id, StepId=step_id)
        state = described["Step"]["Status"]["State"]
        if state != last:
            log.info(f"EMR step {step_id} on {cluster_id}: {state}")
            last = state
        if state in STEP_ENDED:
            return described
        if time.monotonic() >= deadline:
            raise TimeoutError(f"EMR step {step_id} still {state} after {timeout_seconds}s")
        time.sleep(poll_seconds)


def _step_failure(cluster_id: str, steps: Sequence[Mapping[str, Any]], reason: str) -> dg.Failure:
    details = [
        {
            "step": s.get("Name"),
            "id": s.get("Id"),
            "state": s["Status"]["State"],
            **{k: v for k, v in s["Status"].get("FailureDetails", {}).items()},
        }
        for s in steps
    ]
    return dg.Failure(
        description=f"EMR job on {cluster_id} did not complete: {reason}",
        metadata={"cluster_id": cluster_id, "steps": dg.MetadataValue.json(details)},
    )


class _ClusterPerRunEMRClient(PipesEMRClient):
    """`PipesEMRClient` (new cluster per run, terminated after) with its wait replaced.

    In dagster-aws 0.29.27 the wait uses boto waiters that give up after 30 minutes, its
    `cluster_running` waiter fails on a cluster that finished between two polls, and its failure
    check compares enum members with strings, so it never fires: a failed step on a cluster that
    terminates is reported as success. This one polls until the cluster has terminated, then
    requires every step to be COMPLETED. No step-log readers either: the step's stdout is
    spark-submit polling YARN, the driver's own output arrives with the Pipes messages, and a
    step log that EMR has not uploaded yet would hold the run for a minute after the job.
    """

    def __init__(
        self,
        *,
        client: EMRClient,
        message_reader: PipesS3MessageReader,
        context_injector: PipesS3ContextInjector,
        poll_seconds: float,
        timeout_seconds: float,
    ) -> None:
        super().__init__(
            client=client,
            message_reader=message_reader,
            context_injector=context_injector,
            forward_termination=True,
        )
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds

    def _add_log_readers(
        self,
        context: dg.OpExecutionContext | dg.AssetExecutionContext,
        response: RunJobFlowOutputTypeDef,
    ) -> None:
        return None

    def _wait_for_completion(
        self,
        context: dg.OpExecutionContext | dg.AssetExecutionContext,
        response: RunJobFlowOutputTypeDef,
    ) -> DescribeClusterOutputTypeDef:
        cluster_id = response["JobFlowId"]
        try:
            described = wait_for_cluster_end(
                self.client, cluster_id, self.poll_seconds, self.timeout_seconds, context.log
            )
        except TimeoutError:
            self._terminate(context, response)
            raise
        steps = self.client.list_steps(ClusterId=cluster_id)["Steps"]
        if not steps or any(s["Status"]["State"] != "COMPLETED" for s in steps):
            status = described["Cluster"]["Status"]
            reason = status.get("StateChangeReason", {}).get("Message") or status["State"]
            raise _step_failure(cluster_id, steps, reason)
        return described


class _PrefixedS3MessageReader(PipesS3MessageReader):
    """`PipesS3MessageReader` puts message chunks at the bucket root under a random name; this
    puts them under one prefix, which the instance profile's write permission and a lifecycle
    expiry rule can then be scoped to."""

    def __init__(self, *, key_prefix: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.key_prefix = key_prefix.strip("/")

    @contextmanager
    def get_params(self) -> Iterator[PipesParams]:
        with super().get_params() as params:
            yield {**params, "key_prefix": s3_key(self.key_prefix, params["key_prefix"])}


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, dg.MetadataValue) else value


def metrics_from_pipes(invocation: dg.PipesClientCompletedInvocation) -> dict[str, Any]:
    """The job's metrics as they came back: the whole dict if the job sent it as a custom
    message (it does when it has no asset to materialize), else the processed asset's
    materialization metadata, without the EMR client's keys and Dagster's own `dagster/*`
    conventions (the asset sets those from the metrics itself); {} if nothing came back."""
    from tsfraud_assets.spark_jobs.process_timesheets import PROCESSED_ASSET_KEY

    for message in reversed(invocation.get_custom_messages()):
        if isinstance(message, dict) and "rows_written" in message:
            return dict(message)
    for result in invocation.get_results(implicit_materializations=False):
        if (
            isinstance(result, dg.MaterializeResult)
            and result.asset_key is not None
            and result.asset_key.path[-1] == PROCESSED_ASSET_KEY
        ):
            return {
                key: _plain(value)
                for key, value in (result.metadata or {}).items()
                if key not in invocation.metadata and not key.startswith("dagster/")
            }
    return {}


class EmrPipesSparkProcessing(SparkProcessing):
    """The job as a spark-submit step on Amazon EMR (on EC2), driven through Dagster Pipes.

    Without `cluster_id` every run gets its own cluster (dagster-aws `PipesEMRClient`), sized
    from the run's input and terminated when the step ends. With `cluster_id` the step is
    added to that running cluster and the cluster is left running: dagster-aws 0.29.27 has no
    Pipes client for that, so the same Pipes session is opened here and its bootstrap
    variables are handed to the driver as spark-submit `--conf`s.
    """

    region: str = Field(description="AWS region of the cluster")
    code_prefix: str = Field(
        description="s3://bucket/prefix where the job script and package zip are uploaded"
    )
    log_uri: str = Field(description="s3://bucket/prefix for EMR cluster and step logs")
    pipes_bucket: str = Field(description="bucket for Pipes context and message chunks")
    pipes_prefix: str = Field(default="tsfraud/pipes", description="key prefix in pipes_bucket")
    release_label: str = Field(
        default="emr-spark-8.0.0",
        description="EMR release; the job needs Spark >= 4.0 (emr-7.x ships Spark 3.5)",
    )
    cluster_id: str | None = Field(
        default=None, description="run on this running cluster instead of one per run"
    )
    cluster_name: str = "tsfraud-process-timesheets"
    master_instance_type: str = "m6g.xlarge"
    core_instance_type: str = "m6g.xlarge"
    min_instances: int | None = Field(
        default=None, description="managed-scaling minimum; default sized from the input"
    )
    max_instances: int | None = Field(
        default=None, description="managed-scaling maximum; default sized from the input"
    )
    bytes_per_instance: int = Field(
        default=GIB, description="raw input bytes one core instance is sized for"
    )
    instance_ceiling: int = Field(default=20, description="upper bound of the sized maximum")
    service_role: str = "EMR_DefaultRole"
    job_flow_role: str = Field(
        default="EMR_EC2_DefaultRole", description="instance profile of the cluster's EC2 nodes"
    )
    subnet_id: str | None = None
    bootstrap_actions: list[str] = Field(
        default_factory=list, description="s3:// scripts run on every node at startup"
    )
    spark_conf: dict[str, str] = Field(
        default_factory=dict, description="extra spark-submit --conf, over the defaults"
    )
    pyspark_python: str | None = Field(
        default=None, description="Python of driver and executors (needs >= 3.11)"
    )
    tags: dict[str, str] = Field(default_factory=dict, description="tags of the cluster")
    poll_seconds: float = Field(default=30.0, description="EMR status poll interval")
    pipes_poll_seconds: float = Field(default=10.0, description="Pipes message poll interval")
    timeout_minutes: float = Field(
        default=360.0, description="give up (and stop the cluster or step) after this long"
    )

    # --- request building (pure: what the tests compare) ---------------------------------
    def capacity(self, nbytes: int) -> tuple[int, int]:
        minimum, maximum = capacity_for_input_bytes(
            nbytes, bytes_per_instance=self.bytes_per_instance, ceiling=self.instance_ceiling
        )
        minimum = self.min_instances or minimum
        maximum = max(self.max_instances or maximum, minimum)
        return minimum, maximum

    def step(self, code: ShippedCode, lake: str, start: dt.date, end: dt.date) -> StepConfigTypeDef:
        # Never take a shared cluster down with a failed step; a per-run cluster has nothing
        # else to do.
        on_failure = "CONTINUE" if self.cluster_id else "TERMINATE_CLUSTER"
        return spark_submit_step(
            name=f"process_timesheets {start}..{end}",
            code=code,
            lake=lake,
            start=start,
            end=end,
            spark_conf=cluster_spark_conf(self.spark_conf, self.pyspark_python),
            action_on_failure=on_failure,
        )

    def run_job_flow_params(
        self, step: StepConfigTypeDef, capacity: tuple[int, int], start: dt.date, end: dt.date
    ) -> RunJobFlowInputTypeDef:
        """The RunJobFlow request for a cluster of one run.

        No `Configurations`: dagster-aws adds the Pipes variables as spark-defaults /
        spark-env classifications, and in 0.29.27 merging them into an existing classification
        of the same name drops them; the Spark settings go on the spark-submit line instead.
        """
        minimum, maximum = capacity
        instances: dict[str, Any] = {
            "InstanceGroups": [
                {
                    "Name": "primary",
                    "InstanceRole": "MASTER",
                    "Market": "ON_DEMAND",
                    "InstanceType": self.master_instance_type,
                    "InstanceCount": 1,
                },
                {
                    "Name": "core",
                    "InstanceRole": "CORE",
                    "Market": "ON_DEMAND",
                    "InstanceType": self.core_instance_type,
                    "InstanceCount": minimum,
                },
            ],
            "KeepJobFlowAliveWhenNoSteps": False,
            "TerminationProtected": False,
        }
        if self.subnet_id:
            instances["Ec2SubnetId"] = self.subnet_id
        params: dict[str, Any] = {
            "Name": f"{self.cluster_name} {start}..{end}",
            "LogUri": self.log_uri,
            "ReleaseLabel": self.release_label,
            "Applications": [{"Name": "Spark"}],
            "Instances": instances,
            "Steps": [step],
            "ServiceRole": self.service_role,
            "JobFlowRole": self.job_flow_role,
            "VisibleToAllUsers": True,
            "ManagedScalingPolicy": {
                "ComputeLimits": {
                    "UnitType": "Instances",
                    "MinimumCapacityUnits": minimum,
                    "MaximumCapacityUnits": maximum,
                }
            },
            "Tags": [{"Key": k, "Value": v} for k, v in sorted(self.tags.items())],
        }
        if self.bootstrap_actions:
            params["BootstrapActions"] = [
                {"Name": f"bootstrap-{i}", "ScriptBootstrapAction": {"Path": path, "Args": []}}
                for i, path in enumerate(self.bootstrap_actions, start=1)
            ]
        return cast("RunJobFlowInputTypeDef", params)

    # --- running -------------------------------------------------------------------------
    def process(
        self, context: dg.AssetExecutionContext, lake_uri: str, start: dt.date, end: dt.date
    ) -> dict[str, Any]:
        parse_s3_uri(lake_uri)  # the cluster reads and writes the lake through EMRFS
        session = aws_session(self.region)
        s3 = session.client("s3")
        emr = session.client("emr")

        code = ship_job_code(s3, self.code_prefix)
        context.log.info(f"job code: {code.script_uri} with {code.package_uri}")
        step = self.step(code, lake_uri, start, end)
        message_reader = _PrefixedS3MessageReader(
            key_prefix=s3_key(self.pipes_prefix, "messages"),
            bucket=self.pipes_bucket,
            client=s3,
            interval=self.pipes_poll_seconds,
            # The driver's stdout/stderr (the job's own log lines) come back with the messages.
            include_stdio_in_messages=True,
        )
        context_injector = PipesS3ContextInjector(
            bucket=self.pipes_bucket,
            client=s3,
            key_prefix=s3_key(self.pipes_prefix, "context") + "/",
        )
        timeout = self.timeout_minutes * 60
        if self.cluster_id:
            invocation = self._run_on_cluster(
                context, emr, self.cluster_id, step, message_reader, context_injector, timeout
            )
        else:
            nbytes = raw_input_bytes(s3, lake_uri, start, end)
            capacity = self.capacity(nbytes)
            context.log.info(f"raw input {nbytes} bytes: {capacity[0]}..{capacity[1]} instances")
            client = _ClusterPerRunEMRClient(
                client=emr,
                message_reader=message_reader,
                context_injector=context_injector,
                poll_seconds=self.poll_seconds,
                timeout_seconds=timeout,
            )
            invocation = client.run(
                context=context,
                run_job_flow_params=self.run_job_flow_params(step, capacity, start, end),
            )
        emr_info = {key: _plain(value) for key, value in invocation.metadata.items()}
        if emr_info:
            context.log.info(f"EMR: {json.dumps(emr_info, default=str)}")
        metrics = metrics_from_pipes(invocation)
        if not metrics:
            context.log.warning(
                "The EMR step completed but no metrics came back through Dagster Pipes; the "
                f"job prints them in its driver log. Pipes messages: s3://{self.pipes_bucket}/"
                f"{s3_key(self.pipes_prefix, 'messages')}/"
            )
        return metrics

    def _run_on_cluster(
        self,
        context: dg.AssetExecutionContext,
        emr: EMRClient,
        cluster_id: str,
        step: StepConfigTypeDef,
        message_reader: PipesS3MessageReader,
        context_injector: PipesS3ContextInjector,
        timeout_seconds: float,
    ) -> dg.PipesClientCompletedInvocation:
        with dg.open_pipes_session(
            context=context, message_reader=message_reader, context_injector=context_injector
        ) as session:
            step = with_driver_env(step, session.get_bootstrap_env_vars())
            step_id = emr.add_job_flow_steps(JobFlowId=cluster_id, Steps=[step])["StepIds"][0]
            session.report_launched({"extras": {"cluster_id": cluster_id, "step_id": step_id}})
            context.log.info(f"EMR step {step_id} added to cluster {cluster_id}")
            try:
                described = wait_for_step_end(
                    emr, cluster_id, step_id, self.poll_seconds, timeout_seconds, context.log
                )
            except (dg.DagsterExecutionInterruptedError, TimeoutError):
                self._cancel_step(context, emr, cluster_id, step_id)
                raise
            if described["Step"]["Status"]["State"] != "COMPLETED":
                raise _step_failure(cluster_id, [described["Step"]], "step did not complete")
        return dg.PipesClientCompletedInvocation(
            session, metadata={"AWS EMR Cluster ID": cluster_id, "AWS EMR Step ID": step_id}
        )

    @staticmethod
    def _cancel_step(
        context: dg.AssetExecutionContext, emr: EMRClient, cluster_id: str, step_id: str
    ) -> None:
        """Best effort: a failed cancel must not hide why the run is stopping."""
        try:
            emr.cancel_steps(
                ClusterId=cluster_id, StepIds=[step_id], StepCancellationOption="TERMINATE_PROCESS"
            )
            context.log.warning(f"cancelled EMR step {step_id} on {cluster_id}")
        except Exception as error:
            context.log.error(f"could not cancel EMR step {step_id} on {cluster_id}: {error}")


# --- deployment config ---------------------------------------------------------------------

ENV_PREFIX = "TSFRAUD_EMR_"


def aws_spark_processing_from_env(env: Mapping[str, str]) -> EmrPipesSparkProcessing:
    """The EMR resource of the aws deployment, from the `TSFRAUD_EMR_*` variables that
    `load_settings` read (`Settings.emr_env`; docs/emr.md).

    Unset optional variables keep the class defaults; all missing required ones are named in
    one error, so a deployment is fixed in one round.
    """

    def get(name: str) -> str | None:
        value = env.get(ENV_PREFIX + name, "").strip()
        return value or None

    region = get("REGION") or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    required = {
        "REGION": region,
        "CODE_PREFIX": get("CODE_PREFIX"),
        "LOG_URI": get("LOG_URI"),
        "PIPES_BUCKET": get("PIPES_BUCKET"),
    }
    missing = [ENV_PREFIX + name for name, value in required.items() if not value]
    if missing:
        raise ValueError(f"the aws deployment needs {', '.join(missing)} (see docs/emr.md)")

    def json_object(name: str) -> dict[str, str] | None:
        text = get(name)
        if text is None:
            return None
        value = json.loads(text)
        if not isinstance(value, dict):
            raise ValueError(f"{ENV_PREFIX}{name} must be a JSON object, got {text!r}")
        return {str(k): str(v) for k, v in value.items()}

    strings = {
        "pipes_prefix": "PIPES_PREFIX",
        "release_label": "RELEASE_LABEL",
        "cluster_id": "CLUSTER_ID",
        "cluster_name": "CLUSTER_NAME",
        "master_instance_type": "MASTER_INSTANCE_TYPE",
        "core_instance_type": "CORE_INSTANCE_TYPE",
        "service_role": "SERVICE_ROLE",
        "job_flow_role": "JOB_FLOW_ROLE",
        "subnet_id": "SUBNET_ID",
        "pyspark_python": "PYSPARK_PYTHON",
    }
    numbers = {
        "min_instances": ("MIN_INSTANCES", int),
        "max_instances": ("MAX_INSTANCES", int),
        "bytes_per_instance": ("BYTES_PER_INSTANCE", int),
        "instance_ceiling": ("INSTANCE_CEILING", int),
        "poll_seconds": ("POLL_SECONDS", float),
        "pipes_poll_seconds": ("PIPES_POLL_SECONDS", float),
        "timeout_minutes": ("TIMEOUT_MINUTES", float),
    }
    config: dict[str, Any] = {
        "region": region,
        "code_prefix": required["CODE_PREFIX"],
        "log_uri": required["LOG_URI"],
        "pipes_bucket": required["PIPES_BUCKET"],
    }
    config.update({field: get(name) for field, name in strings.items() if get(name)})
    for field, (name, kind) in numbers.items():
        text = get(name)
        if text is not None:
            config[field] = kind(text)
    if actions := get("BOOTSTRAP_ACTIONS"):
        config["bootstrap_actions"] = [a.strip() for a in actions.split(",") if a.strip()]
    for field, name in (("spark_conf", "SPARK_CONF"), ("tags", "TAGS")):
        if (value := json_object(name)) is not None:
            config[field] = value
    return EmrPipesSparkProcessing(**config)
