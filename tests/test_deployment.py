"""Deployment selection swaps every resource in one place."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tsfraud_assets.settings import PROJECT_ROOT, load_settings

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

PROBE = """
import json
from tsfraud_assets.definitions import defs
from tsfraud_assets.resources.source_db import SourceDatabase
repo = defs.get_repository_def()
res = defs.resources
print(json.dumps({
    "types": {k: type(v).__name__ for k, v in res.items()},
    "lake": res["lake"].root,
    "dbt_target": res["dbt"].target,
    "source_url_is_env": type(res["source"].url).__name__ == "EnvVar",
    "assets": len(list(repo.asset_graph.get_all_asset_keys())),
}))
"""


def _probe(env: dict[str, str], tmp_path: Path) -> dict:
    """Load the Definitions in a fresh interpreter, as `dagster dev` would, under `env`."""
    import json
    import os

    # Only what this test sets: other tests in this process export TSFRAUD_* for dbt.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("TSFRAUD_")}
    full = {**inherited, "TSFRAUD_DATA_DIR": str(tmp_path), **env}
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", PROBE],
        cwd=PROJECT_ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_aws_deployment_uses_every_cloud_resource(tmp_path: Path) -> None:
    got = _probe(AWS_ENV, tmp_path)
    assert got["types"] == {
        "source": "SourceDatabase",
        "lake": "Lake",
        "spark": "EmrPipesSparkProcessing",
        "dbt": "DbtCliResource",
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
    from tsfraud_assets.deployment import resources_for

    with pytest.raises(ValueError, match="needs TSFRAUD_LAKE=s3://"):
        resources_for(load_settings({"TSFRAUD_DEPLOYMENT": "aws", "TSFRAUD_LAKE": "/tmp/lake"}))
