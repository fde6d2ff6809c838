"""The Spark job on a real cluster, as close to EMR as this machine gets.

A standalone master and two workers run as separate JVMs on loopback (tests/spark_cluster.py);
the processed asset runs through Dagster with the deployment's resources, once with
`TSFRAUD_SPARK_MASTER` pointing at that cluster (spark-submit in client mode, the code shipped
as on EMR: the content-hashed job script and `--py-files` zip) and once in local mode, over
copies of the same raw lake of a simulated firm. The two must write the same rows. Nothing can
lean on the Dagster process's state: the driver is a spark-submit process of its own, and the
executors are the workers' JVMs, which get the zip the driver serves them (the job is
DataFrame-only, so they run no Python of ours).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from tests.spark_cluster import ClusterError, StandaloneCluster, standalone_cluster
from tsfraud_assets.definitions import build_definitions
from tsfraud_assets.defs.automation.sensors import range_tags
from tsfraud_assets.defs.raw.assets import DAILY_KEYS, REFERENCE_KEYS
from tsfraud_assets.lib.lake_layout import PROCESSED_ENTRIES
from tsfraud_assets.resources.spark import (
    LocalSparkProcessing,
    StandaloneSparkProcessing,
    ship_job_code,
)
from tsfraud_assets.settings import load_settings
from tsfraud_assets.spark_jobs.packaging import build_package_zip
from tsfraud_assets.spark_jobs.process_timesheets import APP_NAME
from tsfraud_simulator import simulate

START = dt.date(2026, 3, 2)
DAYS = 12
END = START + dt.timedelta(days=DAYS - 1)
PROCESSED_KEY = dg.AssetKey("processed_timesheet_entries")
# Small JVMs on a shared 2-core machine (see local_spark_conf for why C1 and the serial GC).
JVM_OPTS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Duser.timezone=UTC"
CLUSTER_CONF = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.memory": "512m",
    "spark.executor.memory": "512m",
    "spark.executor.cores": "1",
    "spark.cores.max": "2",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.ui.enabled": "false",
    "spark.driver.extraJavaOptions": JVM_OPTS,
    "spark.executor.extraJavaOptions": JVM_OPTS,
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneCluster]:
    try:
        with standalone_cluster(tmp_path_factory.mktemp("spark-cluster")) as running:
            yield running
    except ClusterError as error:
        pytest.fail(f"the standalone Spark cluster did not come up: {error}")


def _env(tmp: Path, lake: Path, **extra: str) -> dict[str, str]:
    # The source is the default under the data dir: sqlite:///<tmp>/source.db.
    return {
        "TSFRAUD_DATA_DIR": str(tmp),
        "TSFRAUD_LAKE": str(lake),
        "TSFRAUD_DUCKDB_PATH": str(tmp / "warehouse.duckdb"),
        "TSFRAUD_PARTITION_START": START.isoformat(),
        "TSFRAUD_PARTITION_END": END.isoformat(),
        **extra,
    }


def _materialize(
    defs: dg.Definitions, keys: list[dg.AssetKey], partitioned: bool, raise_on_error: bool = True
) -> dg.ExecuteInProcessResult:
    return defs.resolve_implicit_global_asset_job_def().execute_in_process(
        asset_selection=keys,
        instance=dg.DagsterInstance.ephemeral(),
        tags=range_tags(START, END) if partitioned else {},
        raise_on_error=raise_on_error,
    )


@pytest.fixture(scope="module")
def raw_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The raw layer of a small simulated firm, ingested through Dagster as `tsfraud run` does."""
    tmp = tmp_path_factory.mktemp("raw-lake")
    lake = tmp / "lake"
    settings = load_settings(_env(tmp, lake))
    simulate(
        settings.source_url,
        employees=60,
        start=START,
        days=DAYS,
        seed=5,
        ground_truth_path=str(tmp / "truth.parquet"),
    )
    defs = build_definitions(settings)
    _materialize(defs, REFERENCE_KEYS, partitioned=False)
    _materialize(defs, DAILY_KEYS, partitioned=True)
    assert any((lake / "raw/timesheet_entries").iterdir())
    return lake


def _copy(raw_lake: Path, dst: Path) -> Path:
    shutil.copytree(raw_lake.parent, dst)
    return dst


def _processed(lake: Path) -> pd.DataFrame:
    partitioning = ds.partitioning(pa.schema([("work_date", pa.date32())]), flavor="hive")
    table = ds.dataset(lake / PROCESSED_ENTRIES, format="parquet", partitioning=partitioning)
    frame = table.to_table().to_pandas()
    return frame.sort_values(["work_date", "entry_id"]).reset_index(drop=True)


def _spark_metrics(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    """The job's metrics, as the asset recorded them on each day of the range."""
    per_day = [
        dict(e.materialization.metadata["spark_metrics"].value)  # type: ignore[arg-type]
        for e in result.get_asset_materialization_events()
        if e.asset_key == PROCESSED_KEY
    ]
    assert len(per_day) == DAYS and all(m == per_day[0] for m in per_day)
    return per_day[0]


@pytest.fixture(scope="module")
def runs(
    cluster: StandaloneCluster, raw_lake: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The processed asset over the same raw lake: on the cluster, then in local mode."""
    on_cluster = _copy(raw_lake, tmp_path_factory.mktemp("cluster") / "world")
    settings = load_settings(
        _env(
            on_cluster,
            on_cluster / "lake",
            TSFRAUD_SPARK_MASTER=cluster.master_url,
            TSFRAUD_SPARK_CONF=json.dumps(CLUSTER_CONF),
        )
    )
    cluster_defs = build_definitions(settings)
    cluster_result = _materialize(cluster_defs, [PROCESSED_KEY], partitioned=True)

    local = _copy(raw_lake, tmp_path_factory.mktemp("local") / "world")
    local_defs = build_definitions(load_settings(_env(local, local / "lake")))
    local_result = _materialize(local_defs, [PROCESSED_KEY], partitioned=True)
    return {
        "cluster_defs": cluster_defs,
        "local_defs": local_defs,
        "cluster_lake": on_cluster / "lake",
        "local_lake": local / "lake",
        "cluster_metrics": _spark_metrics(cluster_result),
        "local_metrics": _spark_metrics(local_result),
        "data_dir": on_cluster,
    }


def test_the_setting_selects_the_standalone_cluster(
    runs: dict[str, Any], cluster: StandaloneCluster
) -> None:
    spark = runs["cluster_defs"].resources["spark"]
    assert isinstance(spark, StandaloneSparkProcessing)
    assert spark.master_url == cluster.master_url
    assert isinstance(runs["local_defs"].resources["spark"], LocalSparkProcessing)


def test_the_cluster_writes_the_same_parquet_as_local_mode(runs: dict[str, Any]) -> None:
    on_cluster, local = _processed(runs["cluster_lake"]), _processed(runs["local_lake"])
    assert len(local) > 500
    assert local["work_date"].nunique() == runs["local_metrics"]["days_written"] >= DAYS - 2
    assert list(on_cluster.columns) == list(local.columns)
    pd.testing.assert_frame_equal(on_cluster, local)
    folders = {p.name for p in (runs["local_lake"] / PROCESSED_ENTRIES).iterdir() if p.is_dir()}
    assert {p.name for p in (runs["cluster_lake"] / PROCESSED_ENTRIES).iterdir()} >= folders


def test_metrics_come_back_through_pipes_with_the_driver_log(
    runs: dict[str, Any], cluster: StandaloneCluster
) -> None:
    metrics, local = runs["cluster_metrics"], runs["local_metrics"]
    for key in ("rows_read", "rows_written", "days_written", "rows_per_day"):
        assert metrics[key] == local[key], key
    assert metrics["spark_master"] == cluster.master_url
    log = Path(metrics["driver_log"])
    assert log.parent == runs["data_dir"] / "logs" and log.exists()
    text = log.read_text(errors="replace")
    assert f"--master {cluster.master_url}" in text
    # The driver's own view: two executors registered with it, one per worker.
    assert sorted(set(re.findall(r"Registered executor .* with ID (\d+)", text))) == ["0", "1"]


def test_both_workers_ran_an_executor_with_the_shipped_code(
    runs: dict[str, Any], cluster: StandaloneCluster
) -> None:
    """The master saw the app finish with two cores; each worker ran one of its executors,
    and each executor got the package zip EMR would get, under its content-hashed name."""
    state = cluster.master_state()
    assert [w["state"] for w in state["workers"]] == ["ALIVE", "ALIVE"]
    app_id = runs["cluster_metrics"]["spark_app_id"]
    [app] = [a for a in state["completedapps"] if a["id"] == app_id]
    assert (app["name"], app["state"], app["cores"]) == (APP_NAME, "FINISHED", 2)
    package = build_package_zip().name
    shipped = ship_job_code(None, str(runs["data_dir"] / "spark-code"))
    assert Path(shipped.package_uri).name == package
    for worker in state["workers"]:
        # Running or finished: the worker moves them once the master tells it the app ended.
        seen = cluster.worker_state(worker["webuiaddress"])
        executors = seen["executors"] + seen["finishedexecutors"]
        assert [e["id"] for e in executors if e["appid"] == app_id] != [], worker["id"]
    for work_dir in cluster.worker_dirs:
        [executor_dir] = (work_dir / app_id).iterdir()
        assert (executor_dir / package).is_file(), executor_dir


def test_a_failing_job_fails_the_run_naming_its_driver_log(
    cluster: StandaloneCluster, raw_lake: Path, tmp_path: Path
) -> None:
    """A raw file that is not Parquet fails the tasks on the executors; spark-submit exits
    non-zero and the run fails with the driver log's path and tail, which say why."""
    world = _copy(raw_lake, tmp_path / "world")
    victim = sorted((world / "lake/raw/timesheet_entries").glob("work_date=*/*.parquet"))[0]
    victim.write_bytes(b"this is not a parquet file")
    env = _env(
        world,
        world / "lake",
        TSFRAUD_SPARK_MASTER=cluster.master_url,
        TSFRAUD_SPARK_CONF=json.dumps({**CLUSTER_CONF, "spark.task.maxFailures": "1"}),
    )
    defs = build_definitions(load_settings(env))
    result = _materialize(defs, [PROCESSED_KEY], partitioned=True, raise_on_error=False)
    assert not result.success
    [failure] = result.get_step_failure_events()
    user_failure = failure.step_failure_data.user_failure_data
    assert user_failure is not None
    assert f"spark-submit to {cluster.master_url} exited with code" in str(user_failure.description)
    [log] = (world / "logs").glob("spark-*.log")
    assert str(log) in str(user_failure.description)
    text = log.read_text(errors="replace")
    # The file was read, and failed, on one of the workers' executors, not in the driver.
    assert re.search(r"Lost task \S+ in stage .*executor \d+\): .*FAILED_READ_FILE", text)
    assert f"{victim.parent.name}/{victim.name} is not a Parquet file" in text
    assert "log_tail" in user_failure.metadata
