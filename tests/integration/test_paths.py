"""Issue #14, cases 5, 6 and 9 (second half): paths that are mistyped, quoted or not there yet.

- A mistyped SQLite path must not create an empty database (the contract check used to open it
  read-write) and must say "no such database", not "table 'employees' is missing".
- An apostrophe in the lake path must reach SQL escaped: dbt's DuckDB sources read it inside a
  string literal (the reference step used to "succeed" with stg_employees at 0 rows).
- The DuckDB file's folder is created before dbt needs it (a fresh clone has no data/).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from tests.integration.test_dbt_lake_sources import run_dbt
from tests.source_fixtures import fill_minimal, sqlite_source
from tsfraud_assets.defs.raw.ingest import ingest_reference
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase, SourceUnavailableError
from tsfraud_assets.settings import load_settings


def test_a_mistyped_sqlite_path_says_so_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "sorce.db"
    source = SourceDatabase(url=f"sqlite:///{missing}")
    with pytest.raises(SourceUnavailableError, match=f"no such database: {missing}"):
        source.check_contract()
    with pytest.raises(SourceUnavailableError, match="no such database"), source.snapshot():
        pass
    assert not missing.exists()


def test_a_sqlite_path_with_uri_characters_opens_read_only(tmp_path: Path) -> None:
    odd = tmp_path / "firm #1 100%"
    odd.mkdir()
    with sqlite_source(odd) as url:
        fill_minimal(sa.create_engine(url))
        source = SourceDatabase(url=url)
        source.check_contract()
        with source.snapshot() as snap:
            assert snap.scalar_rows("SELECT COUNT(*) FROM employees") == [(2,)]
            with pytest.raises(Exception, match=r"readonly|read-only"):
                snap.scalar_rows("DELETE FROM employees")


def test_dbt_reads_a_lake_whose_path_has_an_apostrophe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake_root = tmp_path / "my lake's copy"
    warehouse = tmp_path / "fresh clone" / "data" / "warehouse.duckdb"  # folder not there yet
    with sqlite_source(tmp_path) as url:
        fill_minimal(sa.create_engine(url))
        ingest_reference(SourceDatabase(url=url), Lake(root=str(lake_root)))
    env = {
        **os.environ,
        "TSFRAUD_LAKE": str(lake_root),
        "TSFRAUD_DUCKDB_PATH": str(warehouse),
        "TSFRAUD_DEPLOYMENT": "local",
    }
    from tsfraud_assets.defs.resources import resources_for

    for key in ("TSFRAUD_LAKE", "TSFRAUD_DUCKDB_PATH"):
        monkeypatch.setenv(key, env[key])

    resources_for(load_settings(env))  # what every deployment does before dbt runs
    assert warehouse.parent.is_dir()
    done = run_dbt(["run", "--target", "duckdb", "--select", "stg_employees"], env, tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute("select count(*) from stg_employees").fetchone()
    assert row is not None and row[0] == 2
