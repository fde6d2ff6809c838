"""Deployment selection swaps every resource in one place."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from tsfraud_assets.definitions import build_definitions
from tsfraud_assets.settings import load_settings

AWS_ENV = {
    "TSFRAUD_DEPLOYMENT": "aws",
    "TSFRAUD_LAKE": "s3://firm-lake/tsfraud",
    "TSFRAUD_SOURCE_URL": "postgresql+psycopg://tsfraud_reader:secret@oltp.internal:5432/timesheets",
    "TSFRAUD_EMR_REGION": "eu-west-1",
    "TSFRAUD_EMR_CODE_PREFIX": "s3://firm-lake/code",
    "TSFRAUD_EMR_LOG_URI": "s3://firm-lake/emr-logs/",
    "TSFRAUD_EMR_PIPES_BUCKET": "firm-lake",
    "TSFRAUD_ATHENA_OUTPUT": "s3://firm-lake/athena-results/",
    "TSFRAUD_ATHENA_WORKGROUP": "tsfraud",
    "AWS_ACCESS_KEY_ID": "AKIAFAKE",
    "AWS_SECRET_ACCESS_KEY": "fake",
    "AWS_DEFAULT_REGION": "eu-west-1",
}


def _probe(env: dict[str, str], tmp_path: Path) -> dict[str, Any]:
    """Build the Definitions in this process from settings read from `env` alone: nothing is
    read at import time, so both deployments load side by side."""
    settings = load_settings({"TSFRAUD_DATA_DIR": str(tmp_path), **env})
    defs = build_definitions(settings)
    res = defs.resources
    repo = defs.get_repository_def()
    return {
        "types": {k: type(v).__name__ for k, v in res.items()},
        "lake": res["lake"].root,
        "dbt_target": res["dbt"].target,
        "source_url_is_env": isinstance(res["source"].url, dg.EnvVar),
        "assets": len(list(repo.asset_graph.get_all_asset_keys())),
        "partitions_start": repo.get_job("daily_timesheet_job").partitions_def.start.date(),
    }


def test_aws_deployment_uses_every_cloud_resource(tmp_path: Path) -> None:
    got = _probe(AWS_ENV, tmp_path)
    assert got["types"] == {
        "source": "SourceDatabase",
        "lake": "Lake",
        "spark": "EmrPipesSparkProcessing",
        "dbt": "TsfraudDbtCliResource",
        "warehouse": "AthenaWarehouse",
        "notifier": "FileNotifier",  # WebhookNotifier once TSFRAUD_NOTIFY_WEBHOOK is set
    }
    assert got["lake"] == "s3://firm-lake/tsfraud"
    assert got["dbt_target"] == "athena"
    assert got["source_url_is_env"]  # the password never lands in the run config
    assert got["assets"] > 20


def test_local_deployment_uses_the_embedded_engines(tmp_path: Path) -> None:
    got = _probe({"TSFRAUD_DEPLOYMENT": "local"}, tmp_path)
    assert got["types"]["spark"] == "LocalSparkProcessing"
    assert got["types"]["warehouse"] == "DuckDBWarehouse"
    assert got["dbt_target"] == "duckdb"
    assert got["lake"] == str(tmp_path / "lake")


def test_unknown_deployment_and_local_lake_on_aws_fail_clearly() -> None:
    with pytest.raises(ValueError, match="TSFRAUD_DEPLOYMENT='gcp' is not one of local, aws"):
        load_settings({"TSFRAUD_DEPLOYMENT": "gcp"})
    from tsfraud_assets.defs.resources import resources_for

    with pytest.raises(ValueError, match="needs TSFRAUD_LAKE=s3://"):
        resources_for(load_settings({"TSFRAUD_DEPLOYMENT": "aws", "TSFRAUD_LAKE": "/tmp/lake"}))


def test_settings_alone_decide_partitions_and_dbt_environment(tmp_path: Path) -> None:
    import os

    before = {k: v for k, v in os.environ.items() if k.startswith("TSFRAUD_")}
    local = _probe({"TSFRAUD_PARTITION_START": "2026-03-02"}, tmp_path)
    aws = _probe({**AWS_ENV, "TSFRAUD_PARTITION_START": "2025-06-01"}, tmp_path)
    # two deployments, one process: each follows its own settings
    assert local["partitions_start"] == dt.date(2026, 3, 2)
    assert aws["partitions_start"] == dt.date(2025, 6, 1)
    assert local["types"]["warehouse"] == "DuckDBWarehouse"
    assert aws["types"]["warehouse"] == "AthenaWarehouse"
    # building them wrote nothing into the process environment
    assert {k: v for k, v in os.environ.items() if k.startswith("TSFRAUD_")} == before
    settings = load_settings({"TSFRAUD_DATA_DIR": str(tmp_path)})
    dbt = build_definitions(settings).resources["dbt"]
    assert dbt.subprocess_env["TSFRAUD_LAKE"] == str(tmp_path / "lake")
    assert dbt.subprocess_env["TSFRAUD_DUCKDB_PATH"] == str(tmp_path / "warehouse.duckdb")
