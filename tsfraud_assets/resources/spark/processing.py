"""The resource the processed asset calls, and its embedded (local PySpark) side."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import dagster as dg
from dagster_pyspark import PySparkResource
from pydantic import Field

from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.spark.staging import run_staged
from tsfraud_assets.spark_jobs.session import local_spark_conf

if TYPE_CHECKING:
    from tsfraud_assets.resources.spark.emr_code import ShippedCode

# Settings that decide what the output files contain, not how fast they are written: a cluster
# (EMR or standalone) must use the values local mode uses, so they are read from the local conf.
OUTPUT_SPARK_CONF_KEYS = (
    "spark.sql.session.timeZone",
    "spark.sql.sources.partitionOverwriteMode",
    "spark.sql.parquet.compression.codec",
    "spark.sql.parquet.outputTimestampType",
)


def job_arguments(lake: str, start: dt.date, end: dt.date) -> list[str]:
    """The job's command line after the script: the one place every runner builds it, so a
    range means the same thing in-process and on a cluster (`--end` is inclusive)."""
    return ["--lake", lake, "--start", start.isoformat(), "--end", end.isoformat()]


def output_spark_conf() -> dict[str, str]:
    """The local-mode values of `OUTPUT_SPARK_CONF_KEYS`, for every cluster side."""
    local = local_spark_conf()
    return {key: local[key] for key in OUTPUT_SPARK_CONF_KEYS}


def spark_submit_args(
    code: ShippedCode, lake: str, start: dt.date, end: dt.date, spark_conf: Mapping[str, str]
) -> list[str]:
    """What follows `spark-submit [--master ...] [--deploy-mode ...]` on every cluster side:
    the `--conf`s (sorted), the package zip as `--py-files`, the job script and its arguments.
    EMR's step and the standalone cluster's command are both built here, so the code reaches
    a standalone cluster exactly as it reaches EMR."""
    conf_args = [a for key in sorted(spark_conf) for a in ("--conf", f"{key}={spark_conf[key]}")]
    return [
        *conf_args,
        "--py-files",
        code.package_uri,
        code.script_uri,
        *job_arguments(lake, start, end),
    ]


class SparkProcessing(dg.ConfigurableResource):
    """What the processed-layer asset needs: run the job for a range of work dates."""

    def process(
        self, context: dg.AssetExecutionContext, lake_uri: str, start: dt.date, end: dt.date
    ) -> dict[str, Any]:
        raise NotImplementedError  # pragma: no cover - each deployment supplies a subclass


class LocalSparkProcessing(SparkProcessing):
    """Local-mode PySpark in the Dagster run process (the JVM starts once per run).

    A folder lake is read and written by Spark directly. Any other lake (`s3://`) is staged:
    pip's pyspark has no S3 filesystem and its jars cannot be downloaded at run time, so the
    range's inputs are copied to a temporary folder, the same job runs there, and its output
    days replace the lake's (`staging.py` says how and why)."""

    pyspark: PySparkResource = Field(
        default_factory=lambda: PySparkResource(spark_config=local_spark_conf())
    )

    def process(
        self, context: dg.AssetExecutionContext, lake_uri: str, start: dt.date, end: dt.date
    ) -> dict[str, Any]:
        from tsfraud_assets.spark_jobs.process_timesheets import parse_args, run

        def job(lake: str) -> dict[str, Any]:
            # Through the job's own argument parser, as spark-submit on EMR calls it.
            args = parse_args(job_arguments(lake, start, end))
            return run(self.pyspark.spark_session, args.lake, args.start, args.end)

        lake = Lake(root=lake_uri)
        if lake.is_local:
            return job(lake_uri)
        return run_staged(lake, start, end, job, log=context.log.info)
