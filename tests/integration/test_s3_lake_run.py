"""#15: an S3 lake with the embedded engines, offline, through what `tsfraud run` runs.

The same simulated firm (50 people, 12 work dates) goes through `run_range_handing_off` twice
on the local deployment: (1) a lake folder and a SQLite source, (2) an `s3://` lake on moto's
S3 server on loopback and a PostgreSQL source. Run (2) exercises every embedded engine against
S3: ingest and history through s3fs, local PySpark through staging, dbt-duckdb and the DuckDB
warehouse through the s3fs filesystem the profile registers (no httpfs, no download), the
model, scores and report through the lake resource. Both must give the same suspect list, and
run (2) must leave nothing on local disk but the warehouse file and the Dagster instance.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import boto3
import dagster as dg
import pandas as pd
import pytest

from tests.aws_env import point_aws_clients_at
from tests.source_fixtures import postgres_source
from tsfraud_assets.cli.run import STEPS, run_range_handing_off
from tsfraud_assets.definitions import build_definitions
from tsfraud_assets.defs.suspects.scoring import SCORES_DATASET
from tsfraud_assets.lib import lake_layout
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.spark.staging import STAGE_PREFIX
from tsfraud_assets.resources.warehouse import DuckDBWarehouse
from tsfraud_assets.settings import Settings, load_settings
from tsfraud_simulator import simulate

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

START = dt.date(2026, 3, 2)
DAYS = 12
END = START + dt.timedelta(days=DAYS - 1)
EMPLOYEES = 50
SEED = 11
LIST_COLUMNS = ["work_date", "employee_id", "fraud_score", "rank", "is_suspect", "risk_level"]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh database on 127.0.0.1:5432, dropped afterwards."""
    with postgres_source() as url:
        yield url


def _point_clients_at(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """AWS clients on moto, and a fresh bucket."""
    point_aws_clients_at(endpoint, monkeypatch)
    bucket = f"lake-{uuid4().hex[:10]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return bucket


def _run(
    data_dir: Path, lake: str, source_url: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[Settings, float]:
    """Simulate the firm into `source_url`, then every layer over the range as `tsfraud run`
    does (its function, on an ephemeral instance); the settings and the run's wall time."""
    env = {
        "TSFRAUD_DATA_DIR": str(data_dir),
        "TSFRAUD_LAKE": lake,
        "TSFRAUD_DUCKDB_PATH": str(data_dir / "warehouse.duckdb"),
        "TSFRAUD_SOURCE_URL": source_url,
        "TSFRAUD_PARTITION_START": START.isoformat(),
        "TSFRAUD_PARTITION_END": END.isoformat(),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    simulate(
        source_url,
        employees=EMPLOYEES,
        start=START,
        days=DAYS,
        seed=SEED,
        replace=True,
        # beside the data dir: the simulator's files are not the run's
        ground_truth_path=str(data_dir.parent / f"{data_dir.name}-truth.parquet"),
    )
    began = time.monotonic()
    with dg.DagsterInstance.ephemeral() as instance:
        results, _ = run_range_handing_off(
            build_definitions(settings), settings, START, END, instance, log_level="ERROR"
        )
    seconds = time.monotonic() - began
    assert len(results) == len(STEPS) and all(r.success for r in results)
    return settings, seconds


def _scores(settings: Settings) -> pd.DataFrame:
    lake = Lake(root=settings.lake_root)
    table = lake.read_partitions(SCORES_DATASET, lake.list_partitions(SCORES_DATASET))
    assert table is not None, f"no scores under {settings.lake_root}"
    frame = table.to_pandas()[LIST_COLUMNS]
    return frame.sort_values(["work_date", "employee_id"], ignore_index=True)


def _local_files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def _stage_folders() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob(f"{STAGE_PREFIX}*")}


def test_an_s3_lake_with_a_postgres_source_scores_as_a_folder_lake_with_sqlite(
    tmp_path: Path, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, pg_url: str
) -> None:
    folder_dir = tmp_path / "folder-run"
    folder_settings, folder_seconds = _run(
        folder_dir,
        str(folder_dir / "lake"),
        f"sqlite:///{tmp_path / 'source.db'}",
        monkeypatch,
    )

    bucket = _point_clients_at(moto_endpoint, monkeypatch)
    s3_dir = tmp_path / "s3-run"
    stages_before = _stage_folders()
    s3_settings, s3_seconds = _run(s3_dir, f"s3://{bucket}/tsfraud", pg_url, monkeypatch)
    print(
        f"\nwall time of `tsfraud run` over {DAYS} days x {EMPLOYEES} employees: "
        f"folder lake + SQLite {folder_seconds:.0f} s, "
        f"S3 lake (moto) + PostgreSQL {s3_seconds:.0f} s"
    )

    # The same list: the same employee-days, scores, ranks, flags and risk levels.
    folder, s3 = _scores(folder_settings), _scores(s3_settings)
    # most of the 50 people on most of the range's 10 weekdays, and a list to compare
    assert len(folder) > EMPLOYEES * 5 and folder["is_suspect"].any()
    pd.testing.assert_frame_equal(
        s3.drop(columns="fraud_score"), folder.drop(columns="fraud_score")
    )
    pd.testing.assert_series_equal(s3["fraud_score"], folder["fraud_score"], rtol=1e-9, atol=1e-12)

    # Every layer wrote to the bucket ...
    listed = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket)
    keys = [o["Key"] for page in listed for o in page.get("Contents", [])]
    for dataset in (
        lake_layout.raw_dataset("timesheet_entries"),
        lake_layout.raw_dataset("employees"),
        lake_layout.PROCESSED_ENTRIES,
        lake_layout.ENTRY_VERSIONS,
        lake_layout.MODELS,
        SCORES_DATASET,
        lake_layout.REPORTS,
    ):
        assert any(k.startswith(f"tsfraud/{dataset}/") for k in keys), dataset
    processed = [k for k in keys if k.startswith(f"tsfraud/{lake_layout.PROCESSED_ENTRIES}/")]
    assert processed and all(k.endswith("/data.parquet") for k in processed)
    # ... nothing to local disk but the warehouse (the run-2 data dir holds nothing else; the
    # folder run's lake shows what a lake on disk would have looked like) ...
    assert _local_files(s3_dir) == {"warehouse.duckdb"}
    assert any(name.endswith(".parquet") for name in _local_files(folder_dir / "lake"))
    # ... and Spark's staging folders are gone.
    assert _stage_folders() == stages_before

    # The warehouse's views over the lake read S3 through the registered filesystem.
    warehouse = DuckDBWarehouse(path=s3_settings.duckdb_path, lake_root=s3_settings.lake_root)
    counted = warehouse.query(
        f"select count(*) as n from {warehouse.relation('stg_timesheet_scores')}"
    )
    assert int(counted["n"].iloc[0]) == len(s3)
