"""The embedded side: the dbt-duckdb file, opened read-only for the length of one query."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pandas as pd
from pydantic import Field

from tsfraud_assets.resources.warehouse.base import (
    Warehouse,
    WarehouseBusyError,
    WarehouseError,
    WarehouseNotFoundError,
)

# --------------------------------------------------------------------------------------------
# DuckDB
# --------------------------------------------------------------------------------------------


class DuckDBWarehouse(Warehouse):
    engine: ClassVar[str] = "duckdb (local)"
    billed: ClassVar[bool] = False

    path: str = Field(description="dbt-duckdb database file")
    schema_name: str = Field(default="main", description="schema the dbt models are built in")
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
                return duckdb.connect(self.path, read_only=True)
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
