"""Local Spark over a lake it cannot reach (s3://): what is staged, what is published.

The lake here is fsspec's in-memory filesystem (`memory://`): like S3, it is not a folder, so
`Lake` writes objects in place there, and nothing needs a server. The Spark job itself runs on
a staged folder in tests/integration/test_s3_lake_run.py; here its output is laid out as Spark
writes it (part files, `_SUCCESS`).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tsfraud_assets.lib.lake_layout import PROCESSED_ENTRIES, partition_name, raw_dataset
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.spark.staging import (
    DAILY_INPUTS,
    REFERENCE_INPUTS,
    STAGE_PREFIX,
    publish_outputs,
    run_staged,
    stage_inputs,
)

D1, D2, D3, D4 = (dt.date(2026, 3, d) for d in (2, 3, 4, 5))
SCHEMA = pa.schema([("id", pa.int64())])


def _table(ids: list[int]) -> pa.Table:
    return pa.table({"id": ids}, schema=SCHEMA)


@pytest.fixture
def lake() -> Iterator[Lake]:
    root = f"memory://lake-{uuid4().hex[:8]}/tsfraud"
    lake = Lake(root=root)
    yield lake
    fs, path = lake._fs()
    if fs.exists(path):
        fs.rm(path, recursive=True)


def _fill_raw(lake: Lake, days: list[dt.date]) -> None:
    for table in DAILY_INPUTS:
        for day in days:
            lake.write_partition(raw_dataset(table), day, SCHEMA, _table([day.day]).to_batches())
    for table in REFERENCE_INPUTS:
        lake.write_snapshot(raw_dataset(table), _table([1, 2]))


def _spark_output(root: Path, day: dt.date, *ids: list[int]) -> None:
    """A day of the job's output as Spark leaves it: part files beside `_SUCCESS`-style
    markers and a hidden checksum."""
    folder = root / PROCESSED_ENTRIES / partition_name(day)
    folder.mkdir(parents=True, exist_ok=True)
    for i, part in enumerate(ids):
        pq.write_table(_table(part), folder / f"part-{i:05d}-abc.c000.zstd.parquet")
    (folder / ".part-00000-abc.c000.zstd.parquet.crc").write_bytes(b"x")


def test_the_job_s_inputs_of_the_range_and_every_snapshot_are_staged(
    lake: Lake, tmp_path: Path
) -> None:
    # the Spark job reads exactly these (spark_jobs/lake_io.read_raw_inputs)
    from tsfraud_assets.lib.processing.schemas import RAW_DAILY_SCHEMAS, RAW_REFERENCE_SCHEMAS

    assert set(DAILY_INPUTS) == set(RAW_DAILY_SCHEMAS)
    assert set(REFERENCE_INPUTS) == set(RAW_REFERENCE_SCHEMAS)

    _fill_raw(lake, [D1, D2, D3, D4])
    lake.write_partition("raw/not_an_input", D2, SCHEMA, _table([9]).to_batches())
    staged = stage_inputs(lake, tmp_path, D2, D3)

    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert files == sorted(
        [f"raw/{t}/work_date={d}/data.parquet" for t in DAILY_INPUTS for d in (D2, D3)]
        + [f"raw/{t}/data.parquet" for t in REFERENCE_INPUTS]
    )
    assert staged.days == 2 and staged.bytes == sum(
        p.stat().st_size for p in tmp_path.rglob("*") if p.is_file()
    )
    back = pq.read_table(tmp_path / f"raw/timesheet_entries/{partition_name(D3)}/data.parquet")
    assert back.column("id").to_pylist() == [D3.day]


def test_a_missing_snapshot_is_named_before_spark_starts(lake: Lake, tmp_path: Path) -> None:
    _fill_raw(lake, [D1])
    fs, path = lake._path(raw_dataset("leave_records"))
    fs.rm(path, recursive=True)
    with pytest.raises(FileNotFoundError, match="raw_leave_records"):
        stage_inputs(lake, tmp_path, D1, D1)


def test_publishing_makes_the_range_s_days_exactly_the_job_s_output(
    lake: Lake, tmp_path: Path
) -> None:
    for day in (D1, D2, D3, D4):  # what an earlier run left
        lake.write_partition(PROCESSED_ENTRIES, day, SCHEMA, _table([0]).to_batches())
    _spark_output(tmp_path, D2, [1, 2])
    _spark_output(tmp_path, D3, [3], [4, 5])  # a day split in two files

    published = publish_outputs(tmp_path, lake, D2, D4)

    assert (published.days_written, published.days_cleared, published.rows_written) == (2, 1, 5)
    assert lake.list_partitions(PROCESSED_ENTRIES) == [D1, D2, D3]  # D4 had no output: cleared
    fs, base = lake._path(PROCESSED_ENTRIES)
    names = {
        d: sorted(p.rsplit("/", 1)[-1] for p in fs.ls(f"{base}/{partition_name(d)}", detail=False))
        for d in (D1, D2, D3)
    }
    assert names[D2] == ["data.parquet"]
    assert names[D3] == ["data-00001.parquet", "data.parquet"]
    day3 = lake.read_partition(PROCESSED_ENTRIES, D3)
    assert day3 is not None and sorted(day3.column("id").to_pylist()) == [3, 4, 5]
    day1 = lake.read_partition(PROCESSED_ENTRIES, D1)  # outside the range: untouched
    assert day1 is not None and day1.column("id").to_pylist() == [0]

    # Again with the same output: the same lake (idempotent), nothing left to clear.
    again = publish_outputs(tmp_path, lake, D2, D4)
    assert (again.days_written, again.days_cleared) == (2, 0)
    assert lake.list_partitions(PROCESSED_ENTRIES) == [D1, D2, D3]


def test_a_failed_job_publishes_nothing_and_leaves_no_staged_copy(
    lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    _fill_raw(lake, [D1])
    lake.write_partition(PROCESSED_ENTRIES, D1, SCHEMA, _table([7]).to_batches())
    seen: list[Path] = []

    def job(root: str) -> dict[str, object]:
        seen.append(Path(root))
        assert (Path(root) / "raw/employees/data.parquet").exists()
        raise RuntimeError("the JVM died")

    with pytest.raises(RuntimeError, match="JVM"):
        run_staged(lake, D1, D1, job)
    assert seen and seen[0].parent.name.startswith(STAGE_PREFIX)
    assert not list(tmp_path.glob(f"{STAGE_PREFIX}*"))
    kept = lake.read_partition(PROCESSED_ENTRIES, D1)
    assert kept is not None and kept.column("id").to_pylist() == [7]


def test_published_rows_must_match_what_the_job_says_it_wrote(
    lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    _fill_raw(lake, [D1])

    def job(root: str) -> dict[str, object]:
        _spark_output(Path(root), D1, [1, 2, 3])
        return {"rows_written": 4, "output": f"{root}/{PROCESSED_ENTRIES}"}

    with pytest.raises(RuntimeError, match="4 rows but 3"):
        run_staged(lake, D1, D1, job)


def test_a_staged_run_reports_the_lake_not_the_temporary_folder(
    lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    _fill_raw(lake, [D1, D2])
    lines: list[str] = []

    def job(root: str) -> dict[str, object]:
        _spark_output(Path(root), D1, [1, 2, 3])
        return {"rows_written": 3, "days_written": 1, "output": f"{root}/{PROCESSED_ENTRIES}"}

    metrics = run_staged(lake, D1, D2, job, log=lines.append)
    assert metrics["output"] == lake.uri(PROCESSED_ENTRIES)
    assert metrics["days_written"] == 1 and metrics["rows_written"] == 3
    assert int(metrics["staged_input_bytes"]) > 0 and int(metrics["published_bytes"]) > 0
    assert lake.list_partitions(PROCESSED_ENTRIES) == [D1]
    assert any(line.startswith("staged 2 raw day(s)") for line in lines)
    assert any(line.startswith("published 1 processed day(s)") for line in lines)
