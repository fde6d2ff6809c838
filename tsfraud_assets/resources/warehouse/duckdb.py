"""The embedded side: the dbt-duckdb file, opened read-only for the length of one query.

Some models are views over the lake's Parquet files (the review views, the list versions), so
a query may read the lake: a folder natively, an `s3://` lake through the same fsspec
filesystem the dbt profile registers (`resources.lake.engine_filesystem`). Extensions are never
installed or loaded on the fly: a path only httpfs could read fails with DuckDB's message
instead of a download.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pandas as pd
from pydantic import Field

from tsfraud_assets.resources.lake import engine_filesystem
from tsfraud_assets.resources.warehouse.base import (
    Warehouse,
    WarehouseBusyError,
    WarehouseError,
    WarehouseNotFoundError,
)

# --------------------------------------------------------------------------------------------
# DuckDB
# --------------------------------------------------------------------------------------------

# The same settings as the dbt profile's: nothing downloads at run time.
NO_EXTENSION_DOWNLOADS: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


class DuckDBWarehouse(Warehouse):
    engine: ClassVar[str] = "duckdb (local)"
    billed: ClassVar[bool] = False

    path: str = Field(description="dbt-duckdb database file")
    schema_name: str = Field(default="main", description="schema the dbt models are built in")
    lake_root: str | None = Field(
        default=None,
        description="the lake the warehouse's views read (TSFRAUD_LAKE); an s3:// lake gets "
        "its fsspec filesystem registered on each connection",
    )
    lock_wait_seconds: float = Field(
        default=30.0,
        description="how long to keep retrying while a dbt build holds the file's write lock",
    )

    def relation(self, name: str) -> str:
        return f'"{self.schema_name}"."{name}"'

    def query(
        self, sql: str, params: Sequence[Any] | None = None, *, max_age_minutes: int | None = None
    ) -> pd.DataFrame:
        with self._connect() as con:
            try:
                return con.execute(sql, list(params or [])).df()
            except duckdb.CatalogException as exc:
                # A model not built yet (a new one, or a warehouse from before it existed):
                # say which and what builds it, not a DuckDB traceback.
                first = str(exc).splitlines()[0]
                raise WarehouseError(
                    f"DuckDB warehouse {self.path}: {first}; build the dbt models for the days "
                    "you need (`tsfraud run --start ... --end ...`)"
                ) from exc

    def _connect(self) -> duckdb.DuckDBPyConnection:
        # DuckDB would report a missing file as an opaque IO error in read-only mode; say
        # what to do instead.
        if self.path != ":memory:" and not Path(self.path).exists():
            raise WarehouseNotFoundError(
                f"DuckDB warehouse {self.path} does not exist: build the dbt models first "
                "(`tsfraud run` or `dbt build`), or point TSFRAUD_DUCKDB_PATH at the file"
            )
        deadline = time.monotonic() + self.lock_wait_seconds
        delay = 0.1
        while True:
            try:
                con = duckdb.connect(self.path, read_only=True, config=NO_EXTENSION_DOWNLOADS)
            except duckdb.IOException as exc:
                # A writer in another process (dbt) excludes readers; its runs are short, so
                # wait a little rather than fail a scoring step that merely overlapped it.
                if "lock" not in str(exc).lower():
                    raise
                if time.monotonic() + delay > deadline:
                    raise WarehouseBusyError(
                        f"DuckDB warehouse {self.path} is locked by another process (a running "
                        f"dbt build?) and stayed locked for {self.lock_wait_seconds:g}s: {exc}"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            filesystem = engine_filesystem(self.lake_root) if self.lake_root else None
            if filesystem is not None:
                con.register_filesystem(filesystem)
            return con
