"""The resource the processed asset calls, and its embedded (local PySpark) side."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import dagster as dg
from dagster_pyspark import PySparkResource
from pydantic import Field

from tsfraud_assets.spark_jobs.session import local_spark_conf

if TYPE_CHECKING:
    pass


def job_arguments(lake: str, start: dt.date, end: dt.date) -> list[str]:
    """The job's command line after the script: the one place both runners build it, so a
    range means the same thing in-process and on a cluster (`--end` is inclusive)."""
    return ["--lake", lake, "--start", start.isoformat(), "--end", end.isoformat()]


class SparkProcessing(dg.ConfigurableResource):
    """What the processed-layer asset needs: run the job for a range of work dates."""

    def process(
        self, context: dg.AssetExecutionContext, lake_uri: str, start: dt.date, end: dt.date
    ) -> dict[str, Any]:
        raise NotImplementedError  # pragma: no cover - each deployment supplies a subclass


class LocalSparkProcessing(SparkProcessing):
    """Local-mode PySpark in the Dagster run process (the JVM starts once per run)."""

    pyspark: PySparkResource = Field(
        default_factory=lambda: PySparkResource(spark_config=local_spark_conf())
    )

    def process(
        self, context: dg.AssetExecutionContext, lake_uri: str, start: dt.date, end: dt.date
    ) -> dict[str, Any]:
        from tsfraud_assets.spark_jobs.process_timesheets import parse_args, run

        # Through the job's own argument parser, as spark-submit on EMR calls it.
        args = parse_args(job_arguments(lake_uri, start, end))
        return run(self.pyspark.spark_session, args.lake, args.start, args.end)
