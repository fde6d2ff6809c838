"""Spark processing of the raw lake into the processed layer.

One job (`tsfraud_assets/spark_jobs/process_timesheets.py`) and two ways to run it:
- `LocalSparkProcessing` (embedded default): dagster-pyspark's resource gives one local
  SparkSession per run; the job runs in-process over the whole partition range.
- the EMR implementation (production) submits the same script with the same arguments.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dagster as dg
from dagster_pyspark import PySparkResource
from pydantic import Field

from tsfraud_assets.processing.session import local_spark_conf


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
        from tsfraud_assets.spark_jobs.process_timesheets import run

        return run(self.pyspark.spark_session, lake_uri, start, end)
