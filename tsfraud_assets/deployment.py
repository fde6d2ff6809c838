"""Every resource of every deployment, in one mapping: the deployment picks, asset code stays."""

from __future__ import annotations

import os
from typing import Any

import dagster as dg

from tsfraud_assets.resources.dbt import dbt_cli, dbt_project
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.notifier import FileNotifier, Notifier, WebhookNotifier
from tsfraud_assets.resources.source_db import SourceDatabase
from tsfraud_assets.resources.spark import LocalSparkProcessing, aws_spark_processing_from_env
from tsfraud_assets.resources.warehouse import DuckDBWarehouse, athena_warehouse_from_env
from tsfraud_assets.settings import Settings


def _source(settings: Settings) -> SourceDatabase:
    # A URL from the environment may hold a password: keep it an EnvVar so the UI never shows it.
    url: Any = (
        dg.EnvVar("TSFRAUD_SOURCE_URL") if settings.source_url_from_env else settings.source_url
    )
    return SourceDatabase(url=url)


def export_for_dbt(settings: Settings) -> None:
    """dbt runs as a subprocess and reads the lake and warehouse locations from its profile's
    env_var() calls: hand it the same resolved values the Python resources use."""
    os.environ.setdefault("TSFRAUD_LAKE", settings.lake_root)
    os.environ.setdefault("TSFRAUD_DUCKDB_PATH", settings.duckdb_path)


def _notifier(settings: Settings) -> Notifier:
    if settings.notify_webhook_from_env:
        return WebhookNotifier(url=dg.EnvVar("TSFRAUD_NOTIFY_WEBHOOK"))
    return FileNotifier(path=str(settings.data_dir / "notifications.jsonl"))


def resources_for(settings: Settings) -> dict[str, Any]:
    """The resource set of the settings' deployment: same keys, same asset code.

    local: SQLite (or any URL) source, a lake folder, local PySpark, dbt-duckdb, DuckDB reads.
    aws:   PostgreSQL (or any URL) source, an S3 lake, EMR through Dagster Pipes, dbt-athena,
           Athena reads. The cloud resources read their own TSFRAUD_EMR_* / TSFRAUD_ATHENA_*
           variables (docs/emr.md, docs/bi-access.md) and name every missing one.
    """
    export_for_dbt(settings)
    if settings.deployment == "local":
        return {
            "source": _source(settings),
            "lake": Lake(root=settings.lake_root),
            "spark": LocalSparkProcessing(),
            "dbt": dbt_cli(dbt_project("local")),
            "warehouse": DuckDBWarehouse(path=settings.duckdb_path),
            "notifier": _notifier(settings),
        }
    if not settings.lake_root.startswith("s3://"):
        raise ValueError(
            f"the aws deployment needs TSFRAUD_LAKE=s3://bucket/prefix, got {settings.lake_root!r}"
        )
    return {
        "source": _source(settings),
        "lake": Lake(root=settings.lake_root),
        "spark": aws_spark_processing_from_env(),
        "dbt": dbt_cli(dbt_project("aws")),
        "warehouse": athena_warehouse_from_env(),
        "notifier": _notifier(settings),
    }
