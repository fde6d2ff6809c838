"""Every resource of every deployment, in one mapping: the deployment picks, asset code stays."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from tsfraud_assets.resources.dbt import dbt_cli, dbt_project
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.notifier import FileNotifier, Notifier, WebhookNotifier
from tsfraud_assets.resources.source_db import SourceDatabase
from tsfraud_assets.resources.spark import (
    MASTER_ENV,
    LocalSparkProcessing,
    SparkProcessing,
    aws_spark_processing_from_env,
    standalone_spark_processing_from_env,
)
from tsfraud_assets.resources.warehouse import DuckDBWarehouse, athena_warehouse_from_env
from tsfraud_assets.settings import Settings


def _source(settings: Settings) -> SourceDatabase:
    # A URL from the environment may hold a password: keep it an EnvVar so the UI never shows it.
    url: Any = (
        dg.EnvVar("TSFRAUD_SOURCE_URL") if settings.source_url_from_env else settings.source_url
    )
    return SourceDatabase(url=url)


def _notifier(settings: Settings) -> Notifier:
    if settings.notify_webhook_from_env:
        return WebhookNotifier(url=dg.EnvVar("TSFRAUD_NOTIFY_WEBHOOK"))
    return FileNotifier(path=str(settings.data_dir / "notifications.jsonl"))


def _local_spark(settings: Settings) -> SparkProcessing:
    """In-process local mode, or the standalone cluster TSFRAUD_SPARK_MASTER names."""
    if settings.spark_env.get(MASTER_ENV, "").strip():
        return standalone_spark_processing_from_env(settings.spark_env, settings.data_dir)
    return LocalSparkProcessing()


def resources_for(settings: Settings) -> dict[str, Any]:
    """The resource set of the settings' deployment: same keys, same asset code.

    local: SQLite (or any URL) source, a lake folder, local PySpark (or, with
           TSFRAUD_SPARK_MASTER, a Spark standalone cluster: docs/spark-cluster.md),
           dbt-duckdb, DuckDB reads.
    aws:   PostgreSQL (or any URL) source, an S3 lake, EMR through Dagster Pipes, dbt-athena,
           Athena reads. The cloud resources take their TSFRAUD_EMR_* / TSFRAUD_ATHENA_*
           variables from the settings (docs/emr.md, docs/bi-access.md) and name every missing
           one.
    dbt runs as a subprocess that reads the lake and warehouse locations from its profile's
    `env_var()` calls: its resource hands them over per invocation (`Settings.dbt_env`).
    """
    if settings.deployment == "local":
        # dbt-duckdb creates the warehouse file but not its folder: on a fresh clone with the
        # source and lake elsewhere, `data/` does not exist and DuckDB fails with a raw IO error.
        if settings.duckdb_path != ":memory:":
            Path(settings.duckdb_path).parent.mkdir(parents=True, exist_ok=True)
        return {
            "source": _source(settings),
            "lake": Lake(root=settings.lake_root),
            "spark": _local_spark(settings),
            "dbt": dbt_cli(dbt_project("local"), settings.dbt_env()),
            "warehouse": DuckDBWarehouse(path=settings.duckdb_path, lake_root=settings.lake_root),
            "notifier": _notifier(settings),
        }
    if settings.spark_env.get(MASTER_ENV, "").strip():
        raise ValueError(
            f"{MASTER_ENV} (a standalone Spark cluster) is for the local deployment; the aws "
            "deployment runs Spark on EMR (docs/emr.md)"
        )
    if not settings.lake_root.startswith("s3://"):
        raise ValueError(
            f"the aws deployment needs TSFRAUD_LAKE=s3://bucket/prefix, got {settings.lake_root!r}"
        )
    return {
        "source": _source(settings),
        "lake": Lake(root=settings.lake_root),
        "spark": aws_spark_processing_from_env(settings.emr_env),
        "dbt": dbt_cli(dbt_project("aws"), settings.dbt_env()),
        "warehouse": athena_warehouse_from_env(settings.athena_env),
        "notifier": _notifier(settings),
    }
