"""The lake on S3, through the same code as the local folder, against an S3-compatible server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import boto3
import pyarrow as pa
import pytest
import sqlalchemy as sa

from tests.aws_env import point_aws_clients_at
from tests.source_fixtures import DAY, fill_minimal, sqlite_source
from tsfraud_assets.defs.raw.ingest import ingest_day, ingest_reference, reconcile_day
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase

SCHEMA = pa.schema([("id", pa.int64()), ("hours", pa.decimal128(5, 2))])


@pytest.fixture
def s3_lake(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Lake, str]]:
    """A fresh bucket; clients find the endpoint through the standard AWS_ENDPOINT_URL."""
    point_aws_clients_at(moto_endpoint, monkeypatch)
    bucket = f"lake-{uuid4().hex[:10]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    yield Lake(root=f"s3://{bucket}/tsfraud"), bucket


def _keys(bucket: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def test_partition_write_overwrite_and_delete_on_s3(s3_lake: tuple[Lake, str]) -> None:
    lake, bucket = s3_lake
    table = pa.table({"id": [1, 2], "hours": [Decimal("1.50"), Decimal("7.25")]}, schema=SCHEMA)
    lake.write_partition("raw/x", DAY, SCHEMA, table.to_batches())
    assert _keys(bucket) == ["tsfraud/raw/x/work_date=2026-03-03/data.parquet"]
    lake.write_partition("raw/x", DAY, SCHEMA, table.slice(1).to_batches())
    got = lake.read_partition("raw/x", DAY)
    assert got is not None and got.column("id").to_pylist() == [2]
    assert got.schema.field("hours").type == pa.decimal128(5, 2)
    assert lake.list_partitions("raw/x") == [DAY]
    lake.delete_partition("raw/x", DAY)
    assert _keys(bucket) == [] and lake.read_partition("raw/x", DAY) is None
    lake.write_json("models/m/current.json", {"version": "v9"})
    assert lake.read_json("models/m/current.json") == {"version": "v9"}
    assert lake.uri("raw") == f"s3://{bucket}/tsfraud/raw"


def test_ingest_into_an_s3_lake_reconciles(s3_lake: tuple[Lake, str], tmp_path: Path) -> None:
    lake, bucket = s3_lake
    with sqlite_source(tmp_path) as url:
        fill_minimal(sa.create_engine(url))
        source = SourceDatabase(url=url)
        result = ingest_day(source, lake, DAY, today=DAY + dt.timedelta(days=1))
        counts = ingest_reference(source, lake)
        assert result.rows["timesheet_entries"] == 2
        assert counts["employees"] == 2
        assert reconcile_day(source, lake, DAY).ok
    keys = _keys(bucket)
    assert "tsfraud/raw/timesheet_entries/work_date=2026-03-03/data.parquet" in keys
    assert "tsfraud/raw/employees/data.parquet" in keys
    assert not any("inprogress" in k for k in keys)


def test_entry_history_and_sweep_on_an_s3_lake(s3_lake: tuple[Lake, str], tmp_path: Path) -> None:
    """The history appends new objects beside the old ones on S3, and the sweep reads the
    S3 lake as it reads a folder."""
    from tsfraud_assets.defs.automation.sweep import drifted_days, sweep
    from tsfraud_assets.defs.history.versions import entry_versions, record_day

    lake, bucket = s3_lake
    seen = dt.datetime(2026, 3, 4, 6, 0)
    with sqlite_source(tmp_path) as url:
        engine = sa.create_engine(url)
        fill_minimal(engine)
        source = SourceDatabase(url=url)
        ingest_day(source, lake, DAY, today=DAY + dt.timedelta(days=1))
        assert record_day(lake, DAY, seen).inserted == 2
        assert drifted_days(sweep(source, lake, [DAY])) == []
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM timesheet_entries WHERE entry_id = 101")
        assert drifted_days(sweep(source, lake, [DAY])) == [DAY]
        ingest_day(source, lake, DAY, today=DAY + dt.timedelta(days=1))
        assert record_day(lake, DAY, seen + dt.timedelta(days=1)).deleted == 1
        assert record_day(lake, DAY, seen + dt.timedelta(days=2)).file is None
        assert drifted_days(sweep(source, lake, [DAY])) == []
    history = [k for k in _keys(bucket) if k.startswith("tsfraud/history/")]
    assert len(history) == 2 and all(k.endswith(".parquet") for k in history)
    kinds = entry_versions(lake, [DAY]).column("change_kind").to_pylist()
    assert sorted(kinds) == ["deleted", "inserted", "inserted"]
