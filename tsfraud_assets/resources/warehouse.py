"""The warehouse the dbt models live in: every reader of modelled data goes through here.

Local: the dbt-duckdb database file, opened read-only so a reader never takes the write lock a
running `dbt build` needs.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
import duckdb
import pandas as pd
from pydantic import Field


class Warehouse(dg.ConfigurableResource):
    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        raise NotImplementedError  # pragma: no cover - each deployment supplies a subclass

    def relation(self, name: str) -> str:
        raise NotImplementedError  # pragma: no cover


class DuckDBWarehouse(Warehouse):
    path: str = Field(description="dbt-duckdb database file")
    schema_name: str = Field(default="main", description="schema the dbt models are built in")

    def relation(self, name: str) -> str:
        return f'"{self.schema_name}"."{name}"'

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        with duckdb.connect(self.path, read_only=True) as con:
            return con.execute(sql, params or []).df()
