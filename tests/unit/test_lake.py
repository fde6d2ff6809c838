"""The lake's partitions: Hive layout, exact types, atomic and idempotent overwrite."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tsfraud_assets.resources.lake import Lake

DAY = dt.date(2026, 3, 3)
SCHEMA = pa.schema([("id", pa.int64()), ("hours", pa.decimal128(5, 2))])


def _table(ids: list[int]) -> pa.Table:
    from decimal import Decimal

    return pa.table({"id": ids, "hours": [Decimal("7.25")] * len(ids)}, schema=SCHEMA)


def test_partition_is_one_hive_file_with_exact_types(tmp_path: Path) -> None:
    lake = Lake(root=str(tmp_path))
    stats = lake.write_partition("raw/x", DAY, SCHEMA, _table([1, 2, 3]).to_batches())
    part = tmp_path / "raw/x/work_date=2026-03-03"
    assert [p.name for p in part.iterdir()] == ["data.parquet"]
    assert stats.rows == 3 and stats.bytes > 0
    back = pq.read_table(part / "data.parquet")
    assert back.schema.field("hours").type == pa.decimal128(5, 2)
    assert (
        pq.ParquetFile(part / "data.parquet").metadata.row_group(0).column(0).compression == "ZSTD"
    )
    assert lake.list_partitions("raw/x") == [DAY]


def test_overwrite_replaces_whole_partition_and_is_idempotent(tmp_path: Path) -> None:
    lake = Lake(root=str(tmp_path))
    lake.write_partition("raw/x", DAY, SCHEMA, _table([1, 2, 3]).to_batches())
    # a stray file from an earlier layout must not be read alongside the new data
    (tmp_path / "raw/x/work_date=2026-03-03/part-0001.parquet").write_bytes(b"old")
    lake.write_partition("raw/x", DAY, SCHEMA, _table([7]).to_batches())
    lake.write_partition("raw/x", DAY, SCHEMA, _table([7]).to_batches())
    got = lake.read_partition("raw/x", DAY)
    assert got is not None and got.column("id").to_pylist() == [7]
    assert [p.name for p in (tmp_path / "raw/x/work_date=2026-03-03").iterdir()] == ["data.parquet"]


def test_crash_mid_write_leaves_old_partition_intact(tmp_path: Path) -> None:
    lake = Lake(root=str(tmp_path))
    lake.write_partition("raw/x", DAY, SCHEMA, _table([1, 2]).to_batches())

    def exploding():
        yield _table([9, 9]).to_batches()[0]
        raise RuntimeError("source connection lost")

    with pytest.raises(RuntimeError, match="connection lost"):
        lake.write_partition("raw/x", DAY, SCHEMA, exploding())
    got = lake.read_partition("raw/x", DAY)
    assert got is not None and got.column("id").to_pylist() == [1, 2]
    assert [p.name for p in (tmp_path / "raw/x/work_date=2026-03-03").iterdir()] == ["data.parquet"]


def test_read_partitions_restores_work_date_and_skips_missing(tmp_path: Path) -> None:
    lake = Lake(root=str(tmp_path))
    lake.write_partition("s", DAY, SCHEMA, _table([1]).to_batches())
    lake.write_partition("s", DAY + dt.timedelta(days=2), SCHEMA, _table([2, 3]).to_batches())
    days = [DAY + dt.timedelta(days=i) for i in range(3)]
    got = lake.read_partitions("s", days)
    assert got is not None
    assert got.column("work_date").to_pylist() == [
        DAY,
        DAY + dt.timedelta(days=2),
        DAY + dt.timedelta(days=2),
    ]
    lake.delete_partition("s", DAY)
    assert lake.list_partitions("s") == [DAY + dt.timedelta(days=2)]


def test_bytes_and_json_round_trip(tmp_path: Path) -> None:
    lake = Lake(root=str(tmp_path))
    lake.write_json("models/m/current.json", {"version": "v1"})
    assert lake.read_json("models/m/current.json") == {"version": "v1"}
    assert lake.exists("models/m/current.json") and not lake.exists("models/m/none.json")
    assert lake.uri("a", "b") == f"{tmp_path.resolve()}/a/b"
