"""DuckDB reads an s3:// lake through fsspec, never through a downloaded extension.

The duckdb target of dbt_project/profiles.yml is rendered by dbt's own profile renderer and
opened by dbt-duckdb's own connection code, as `dbt build` does; the warehouse resource's
connections are opened as every Python reader's are.
"""

from __future__ import annotations

import os
from typing import Any

import duckdb
import pytest
import yaml

from tsfraud_assets.resources.warehouse import DuckDBWarehouse
from tsfraud_assets.settings import DBT_PROJECT_DIR

S3_FILESYSTEM = {"fs": "s3", "skip_instance_cache": True, "use_listings_cache": False}
NOT_DOWNLOADED = "requires the extension httpfs to be loaded"


def _duckdb_target(lake: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context

    monkeypatch.setenv("TSFRAUD_LAKE", lake)
    set_invocation_context(dict(os.environ))
    profiles = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    rendered: dict[str, Any] = ProfileRenderer({}).render_data(
        profiles["tsfraud"]["outputs"]["duckdb"]
    )
    return rendered


def _dbt_duckdb_connection(target: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    """A cursor set up by dbt-duckdb from the rendered target, on an in-memory database."""
    from dbt.adapters.duckdb.credentials import DuckDBCredentials
    from dbt.adapters.duckdb.environments import Environment

    fields = {k: v for k, v in target.items() if k not in ("type", "threads")}
    creds = DuckDBCredentials.from_dict(
        {**fields, "path": ":memory:", "database": "memory", "schema": "main"}
    )
    con = Environment.initialize_db(creds)
    cursor: duckdb.DuckDBPyConnection = Environment.initialize_cursor(creds, con.cursor())
    return cursor


def test_an_s3_lake_gets_s3fs_registered_in_dbt_duckdb(monkeypatch: pytest.MonkeyPatch) -> None:
    target = _duckdb_target("s3://bucket/lake", monkeypatch)
    assert target["filesystems"] == [S3_FILESYSTEM]
    cursor = _dbt_duckdb_connection(target)
    assert "s3" in cursor.list_filesystems()


def test_a_folder_lake_registers_nothing_and_s3_paths_fail_without_a_download(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = _duckdb_target("data/lake", monkeypatch)
    assert target["filesystems"] == []
    assert target["settings"]["autoinstall_known_extensions"] is False
    assert target["settings"]["autoload_known_extensions"] is False
    cursor = _dbt_duckdb_connection(target)
    assert "s3" not in cursor.list_filesystems()
    # With auto-install on, DuckDB would try to fetch httpfs here ("Failed to download").
    with pytest.raises(duckdb.Error, match=NOT_DOWNLOADED):
        cursor.sql("select * from glob('s3://bucket/lake/raw/employees/*.parquet')").fetchall()


def test_the_warehouse_reads_an_s3_lake_through_s3fs(tmp_path: Any) -> None:
    path = str(tmp_path / "warehouse.duckdb")
    duckdb.connect(path).close()
    with DuckDBWarehouse(path=path, lake_root="s3://bucket/lake")._connect() as con:
        assert "s3" in con.list_filesystems()
    with DuckDBWarehouse(path=path, lake_root=str(tmp_path / "lake"))._connect() as con:
        assert "s3" not in con.list_filesystems()
        with pytest.raises(duckdb.Error, match=NOT_DOWNLOADED):
            con.sql("select * from glob('s3://bucket/lake/scores/*/*.parquet')").fetchall()
