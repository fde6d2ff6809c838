"""The data lake: a local folder (embedded default) or an S3 prefix (production).

One code path for both through fsspec (s3fs honours `AWS_ENDPOINT_URL`, so any S3-compatible
store works). A partition is ONE Parquet file, `<dataset>/work_date=YYYY-MM-DD/data.parquet`,
which makes an overwrite atomic on both back ends: S3 makes an object visible only when its
upload completes, and locally the file is written under a hidden temporary name (ignored by
Spark, DuckDB and Athena) and renamed into place. Readers see the old partition or the new one,
never a mix, and a crash mid-write leaves only an ignored temporary file behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.core import url_to_fs
from pydantic import Field

from tsfraud_assets.lib.lake_layout import PARTITION_COLUMN

DATA_FILE = "data.parquet"
# Row groups of ~128k rows keep files few and readable in parallel; zstd is the best
# size/speed trade-off that Spark, DuckDB and Athena all read.
ROW_GROUP_ROWS = 131_072
COMPRESSION = "zstd"


def dictionary_columns(schema: pa.Schema) -> list[str]:
    """Dictionary-encode text only: codes, statuses and comments repeat, while ids, amounts
    and timestamps are near-unique, so a dictionary there is built only to be abandoned.
    Measured on timesheet rows: a third less CPU to write, and smaller files."""
    return [
        f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]


@dataclass(frozen=True)
class WriteStats:
    path: str
    rows: int
    bytes: int


class Lake(dg.ConfigurableResource):
    """Parquet datasets under one root (`TSFRAUD_LAKE`): a folder or `s3://bucket/prefix`."""

    root: str = Field(description="lake root: a local folder or s3://bucket/prefix")

    # --- locations ------------------------------------------------------------------------
    @property
    def is_local(self) -> bool:
        return "://" not in self.root or self.root.startswith("file://")

    def uri(self, *parts: str) -> str:
        """A location other engines can read (Spark, DuckDB, Athena)."""
        base = self.root.rstrip("/")
        if self.is_local:
            base = str(Path(base.removeprefix("file://")).resolve())
        return "/".join([base, *parts])

    def partition_uri(self, dataset: str, day: dt.date) -> str:
        return self.uri(dataset, f"{PARTITION_COLUMN}={day.isoformat()}")

    def _fs(self) -> tuple[fsspec.AbstractFileSystem, str]:
        fs, path = url_to_fs(self.uri())
        return fs, path.rstrip("/")

    def _path(self, *parts: str) -> tuple[fsspec.AbstractFileSystem, str]:
        fs, base = self._fs()
        return fs, "/".join([base, *parts])

    # --- writing ----------------------------------------------------------------------------
    def write_partition(
        self, dataset: str, day: dt.date, schema: pa.Schema, batches: Iterable[pa.RecordBatch]
    ) -> WriteStats:
        """Replace one day's partition with `batches` (streamed: memory stays one batch)."""
        return self._write_file([dataset, f"{PARTITION_COLUMN}={day.isoformat()}"], schema, batches)

    def write_snapshot(self, dataset: str, data: pa.Table) -> WriteStats:
        """Replace an unpartitioned dataset (a reference table's full snapshot)."""
        return self._write_file([dataset], data.schema, data.to_batches(ROW_GROUP_ROWS))

    def add_partition_file(
        self, dataset: str, day: dt.date, name: str, data: pa.Table
    ) -> WriteStats:
        """Add ONE new file `name` to a day's partition, keeping every file already there.

        For append-only datasets (the entry history): the partition grows by whole files, each
        written atomically like a replaced partition, and an existing name is never
        overwritten, so what was recorded once stays as it was."""
        parts = [dataset, f"{PARTITION_COLUMN}={day.isoformat()}"]
        fs, directory = self._path(*parts)
        final = f"{directory}/{name}"
        if fs.exists(final):
            raise FileExistsError(f"{self.uri(*parts, name)} exists: append-only files stay")
        fs.makedirs(directory, exist_ok=True)
        with self._publishing(fs, directory, final) as target, fs.open(target, "wb") as f:
            pq.write_table(
                data,
                f,
                compression=COMPRESSION,
                use_dictionary=dictionary_columns(data.schema),
                row_group_size=ROW_GROUP_ROWS,
            )
        return WriteStats(path=self.uri(*parts, name), rows=data.num_rows, bytes=fs.size(final))

    def delete_partition(self, dataset: str, day: dt.date) -> None:
        fs, path = self._path(dataset, f"{PARTITION_COLUMN}={day.isoformat()}")
        if fs.exists(path):
            fs.rm(path, recursive=True)

    @contextlib.contextmanager
    def _publishing(self, fs: Any, directory: str, final: str) -> Iterator[str]:
        """The path to write `final` through. In a local folder: a hidden temporary file, moved
        into place once complete (a reader never sees half a file) and removed if the write
        fails. On S3 the object itself: a PUT appears whole or not at all."""
        target = f"{directory}/.{uuid.uuid4().hex}.inprogress" if self.is_local else final
        try:
            yield target
            if self.is_local:
                fs.mv(target, final)
        except BaseException:
            if self.is_local and fs.exists(target):
                fs.rm(target)
            raise

    def _write_file(
        self, parts: list[str], schema: pa.Schema, batches: Iterable[pa.RecordBatch]
    ) -> WriteStats:
        fs, directory = self._path(*parts)
        final = f"{directory}/{DATA_FILE}"
        fs.makedirs(directory, exist_ok=True)
        rows = 0
        with (
            self._publishing(fs, directory, final) as target,
            fs.open(target, "wb") as f,
            pq.ParquetWriter(
                f,
                schema,
                compression=COMPRESSION,
                use_dictionary=dictionary_columns(schema),
            ) as writer,
        ):
            for batch in batches:
                writer.write_batch(batch, row_group_size=ROW_GROUP_ROWS)
                rows += batch.num_rows
        # Whatever else a partition held (an earlier layout, a crashed write's leftovers)
        # would be read alongside the new file, so it goes.
        for other in fs.ls(directory, detail=False):
            if other.rstrip("/") != final and not fs.isdir(other):
                fs.rm(other)
        return WriteStats(path=f"{self.uri(*parts)}/{DATA_FILE}", rows=rows, bytes=fs.size(final))

    def replace_partition_files(
        self, dataset: str, day: dt.date, files: Sequence[Path]
    ) -> WriteStats:
        """Replace one day's partition with Parquet files written elsewhere (a local Spark
        job's output), uploaded as they are.

        The first file becomes `data.parquet`, like every partition this class writes, so
        replacing a one-file partition (the normal case) is one atomic object swap; further
        files (a day beyond the job's records-per-file limit) are `data-00001.parquet`, ....
        Whatever else the partition held goes once the new files are in place."""
        if not files:
            raise ValueError(f"no files to put in {dataset} for {day}")
        parts = [dataset, f"{PARTITION_COLUMN}={day.isoformat()}"]
        fs, directory = self._path(*parts)
        fs.makedirs(directory, exist_ok=True)
        names = [DATA_FILE, *(f"data-{i:05d}.parquet" for i in range(1, len(files)))]
        finals = [f"{directory}/{name}" for name in names]
        size = 0
        for local, final in zip(files, finals, strict=True):
            with self._publishing(fs, directory, final) as target:
                fs.put_file(str(local), target)
            size += int(fs.size(final))
        keep = {f.rstrip("/") for f in finals}
        for other in fs.ls(directory, detail=False):
            if other.rstrip("/") not in keep and not fs.isdir(other):
                fs.rm(other)
        rows = sum(pq.ParquetFile(local).metadata.num_rows for local in files)
        return WriteStats(path=f"{self.uri(*parts)}/{DATA_FILE}", rows=rows, bytes=size)

    def download_folder(self, relative_path: str, local: Path) -> int:
        """Copy the data files directly in a lake folder (not hidden or temporary ones, not
        subfolders) into the local folder `local`; the bytes copied. A missing folder copies
        nothing."""
        fs, path = self._path(relative_path)
        if not fs.exists(path):
            return 0
        local.mkdir(parents=True, exist_ok=True)
        copied = 0
        for info in fs.ls(path, detail=True):
            name = str(info["name"]).rstrip("/").rsplit("/", 1)[-1]
            if info.get("type") != "file" or name.startswith((".", "_")):
                continue
            fs.get_file(str(info["name"]), str(local / name))
            copied += int(info.get("size") or 0)
        return copied

    def write_bytes(self, relative_path: str, data: bytes) -> str:
        fs, path = self._path(relative_path)
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        if self.is_local:
            tmp = f"{path}.{uuid.uuid4().hex}.inprogress"
            fs.pipe_file(tmp, data)
            fs.mv(tmp, path)
        else:
            fs.pipe_file(path, data)
        return self.uri(relative_path)

    def write_json(self, relative_path: str, payload: Any) -> str:
        return self.write_bytes(relative_path, json.dumps(payload, indent=2, default=str).encode())

    # --- reading ----------------------------------------------------------------------------
    def exists(self, relative_path: str) -> bool:
        fs, path = self._path(relative_path)
        return bool(fs.exists(path))

    def read_bytes(self, relative_path: str) -> bytes:
        fs, path = self._path(relative_path)
        return bytes(fs.cat_file(path))

    def read_json(self, relative_path: str) -> Any:
        return json.loads(self.read_bytes(relative_path))

    def read_snapshot(self, dataset: str) -> pa.Table:
        fs, path = self._path(dataset, DATA_FILE)
        with fs.open(path, "rb") as f:
            return pq.read_table(f)

    def read_partition(self, dataset: str, day: dt.date) -> pa.Table | None:
        """The day's rows (without the partition column), or None if never written."""
        fs, path = self._path(dataset, f"{PARTITION_COLUMN}={day.isoformat()}")
        if not fs.exists(path):
            return None
        files = sorted(p for p in fs.ls(path, detail=False) if p.endswith(".parquet"))
        tables = []
        for name in files:
            with fs.open(name, "rb") as f:
                tables.append(pq.read_table(f))
        if not tables:
            return None
        return pa.concat_tables(tables, promote_options="default")

    def read_partitions(self, dataset: str, days: Iterable[dt.date]) -> pa.Table | None:
        """Rows of several days with the `work_date` column restored."""
        tables = []
        for day in days:
            t = self.read_partition(dataset, day)
            if t is not None:
                tables.append(
                    t.append_column(PARTITION_COLUMN, pa.array([day] * t.num_rows, pa.date32()))
                )
        return pa.concat_tables(tables, promote_options="default") if tables else None

    def list_partitions(self, dataset: str) -> list[dt.date]:
        fs, path = self._path(dataset)
        if not fs.exists(path):
            return []
        days = []
        for entry in fs.ls(path, detail=False):
            name = entry.rstrip("/").rsplit("/", 1)[-1]
            if name.startswith(f"{PARTITION_COLUMN}="):
                days.append(dt.date.fromisoformat(name.split("=", 1)[1]))
        return sorted(days)


def engine_filesystem(root: str) -> fsspec.AbstractFileSystem | None:
    """The filesystem an embedded engine (DuckDB) must have registered to read the lake at
    `root`, or None for a folder, which it reads natively.

    For `s3://` that is fsspec's s3fs rather than DuckDB's httpfs extension, which DuckDB
    downloads on first use (never at run time here, and impossible offline). s3fs takes the
    endpoint from `AWS_ENDPOINT_URL`, so any S3-compatible store works. A fresh instance with
    no listing cache: a query must see the partitions an earlier step has just written. The
    dbt profile (`dbt_project/profiles.yml`) registers the same for dbt-duckdb."""
    if root.startswith("s3://"):
        return fsspec.filesystem("s3", skip_instance_cache=True, use_listings_cache=False)
    return None
