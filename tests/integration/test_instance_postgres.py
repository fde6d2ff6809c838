"""The two Dagster instance configs, loaded the way the processes load them.

The production one (deploy/dagster.production.yaml) runs against the local PostgreSQL server in
a database of its own: Dagster creates its schema there from the DAGSTER_PG_* variables, a run
and its materialization are written through the instance and read back with plain SQL, so a
typo in the yaml or a missing driver fails here instead of on the first production run. The
embedded one (dagster.yaml) must stay SQLite under DAGSTER_HOME with a one-run queue.
"""

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from tsfraud_assets.defs.automation.schedules import PIPELINE_TAG
from tsfraud_assets.defs.partitions import daily_partitions as daily_partitions_from
from tsfraud_assets.settings import DEFAULT_PARTITION_START, PROJECT_ROOT

daily_partitions = daily_partitions_from(DEFAULT_PARTITION_START)

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
PRODUCTION_YAML = PROJECT_ROOT / "deploy" / "dagster.production.yaml"
DAY = "2026-03-09"
# Dagster's own tables that the webserver, the daemon and the run workers share.
EXPECTED_TABLES = {
    "runs",
    "run_tags",
    "event_logs",
    "asset_keys",
    "jobs",
    "job_ticks",
    "instigators",
    "bulk_actions",
    "alembic_version",
}

pytestmark = pytest.mark.filterwarnings("ignore::dagster.BetaWarning")


def _dsn(db: str) -> str:
    return f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={db} connect_timeout=3"


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    """A database of its own for this module's instance, dropped (connections and all)."""
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(_dsn("postgres"), autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT}: {exc}")
    name = f"tsfraud_dagster_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def _query(db: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(_dsn(db)) as conn:
        return list(conn.execute(sql, params).fetchall())


@pytest.fixture
def production_instance(
    pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dg.DagsterInstance]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(PRODUCTION_YAML, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_HOST", PG_HOST)
    monkeypatch.setenv("DAGSTER_PG_PORT", str(PG_PORT))
    monkeypatch.setenv("DAGSTER_PG_USER", PG_USER)
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "unused-with-trust-auth")
    monkeypatch.setenv("DAGSTER_PG_DB", pg_database)
    instance = dg.DagsterInstance.get()  # what every Dagster process does with DAGSTER_HOME
    try:
        yield instance
    finally:
        instance.dispose()


@dg.asset(partitions_def=daily_partitions)
def instance_probe(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"day": context.partition_key, "rows": 3})


@pytest.mark.postgres
def test_production_storage_is_the_postgres_database_from_the_environment(
    production_instance: dg.DagsterInstance, pg_database: str
) -> None:
    storages = (
        production_instance.run_storage,
        production_instance.event_log_storage,
        production_instance.schedule_storage,
    )
    assert [type(s).__name__ for s in storages] == [
        "PostgresRunStorage",
        "PostgresEventLogStorage",
        "PostgresScheduleStorage",
    ]
    tables = {
        row[0]
        for row in _query(
            pg_database,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
        )
    }
    assert not EXPECTED_TABLES - tables, f"missing Dagster tables: {EXPECTED_TABLES - tables}"


@pytest.mark.postgres
def test_a_materialization_lands_in_postgres_and_reads_back(
    production_instance: dg.DagsterInstance, pg_database: str
) -> None:
    result = dg.materialize(
        [instance_probe], instance=production_instance, partition_key=DAY, tags={"probe": "pg"}
    )
    assert result.success
    run_id = result.run_id

    # through Dagster, as the webserver reads it
    run = production_instance.get_run_by_id(run_id)
    assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
    records = production_instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("instance_probe"), asset_partitions=[DAY]),
        limit=5,
    ).records
    assert [r.run_id for r in records] == [run_id]
    materialization = records[0].asset_materialization
    assert materialization is not None
    assert materialization.metadata["rows"] == dg.IntMetadataValue(3)

    # and in the database itself: the rows are really in PostgreSQL, not in a local file
    assert _query(pg_database, "SELECT status FROM runs WHERE run_id = %s", (run_id,)) == [
        ("SUCCESS",)
    ]
    events = _query(
        pg_database,
        "SELECT asset_key, partition FROM event_logs "
        "WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
        (run_id,),
    )
    assert [(json.loads(key), part) for key, part in events] == [(["instance_probe"], DAY)]
    tags = dict(_query(pg_database, "SELECT key, value FROM run_tags WHERE run_id = %s", (run_id,)))
    assert tags["probe"] == "pg"
    assert tags["dagster/partition"] == DAY


@pytest.mark.postgres
def test_production_queue_limits_each_pipeline_to_one_run(
    production_instance: dg.DagsterInstance,
) -> None:
    assert type(production_instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    # the config the daemon's dequeue loop reads
    queue = production_instance.get_concurrency_config().run_queue_config
    assert queue is not None
    assert queue.max_concurrent_runs == 4
    limits = {(lim["key"], lim["value"]): lim["limit"] for lim in queue.tag_concurrency_limits}
    assert limits == {
        (PIPELINE_TAG, "daily"): 1,
        (PIPELINE_TAG, "reference"): 1,
        (PIPELINE_TAG, "model"): 1,
    }


def test_embedded_default_is_sqlite_under_dagster_home_with_a_one_run_queue(
    tmp_path: Path,
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert type(instance.event_log_storage).__name__ == "SqliteEventLogStorage"
        queue = instance.get_concurrency_config().run_queue_config
        assert queue is not None and queue.max_concurrent_runs == 1
        result = dg.materialize([instance_probe], instance=instance, partition_key=DAY)
        assert result.success
        assert instance.get_run_by_id(result.run_id) is not None
    assert (home / "history" / "runs.db").exists()
