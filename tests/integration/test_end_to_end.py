"""The whole asset graph on a tiny simulated firm, through Dagster, on the embedded default."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from tsfraud_assets.cli.run import STEPS, run_range
from tsfraud_assets.definitions import build_definitions
from tsfraud_assets.defs.suspects.scoring import SCORES_DATASET
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.settings import load_settings
from tsfraud_simulator import simulate

pytestmark = pytest.mark.e2e

START = dt.date(2026, 3, 2)
DAYS = 42
END = START + dt.timedelta(days=DAYS - 1)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("e2e")
    env = {
        "TSFRAUD_DATA_DIR": str(tmp),
        "TSFRAUD_LAKE": str(tmp / "lake"),
        "TSFRAUD_DUCKDB_PATH": str(tmp / "warehouse.duckdb"),
        "TSFRAUD_SOURCE_URL": f"sqlite:///{tmp / 'source.db'}",
    }
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    settings = load_settings()
    simulate(
        settings.source_url,
        employees=120,
        start=START,
        days=DAYS,
        seed=11,
        ground_truth_path=str(tmp / "truth.parquet"),
    )
    defs = build_definitions(settings)
    instance = dg.DagsterInstance.ephemeral()
    results = run_range(defs, START, END, instance)
    yield {"settings": settings, "defs": defs, "instance": instance, "results": results, "tmp": tmp}
    mp.undo()


def _source_counts(url: str) -> pd.DataFrame:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        return pd.read_sql(
            "select work_date, count(*) as n from timesheet_entries group by work_date", conn
        )


def test_every_run_succeeds_as_one_run_per_step(pipeline: dict) -> None:
    results = pipeline["results"]
    assert len(results) == len(STEPS) and all(r.success for r in results)
    runs = pipeline["instance"].get_runs()
    assert len(runs) == len(STEPS)


def test_raw_rows_reconcile_with_the_source(pipeline: dict) -> None:
    settings = pipeline["settings"]
    lake = Lake(root=settings.lake_root)
    counts = _source_counts(settings.source_url)
    for _, row in counts.iterrows():
        day = dt.date.fromisoformat(str(row["work_date"])[:10])
        raw = lake.read_partition("raw/timesheet_entries", day)
        quarantined = lake.read_partition("quarantine/timesheet_entries", day)
        got = (raw.num_rows if raw is not None else 0) + (
            quarantined.num_rows if quarantined is not None else 0
        )
        assert got == row["n"], day
    checks = [
        e
        for r in pipeline["results"]
        for e in r.get_asset_check_evaluations()
        if e.asset_check_key.name == "reconciles_with_source"
    ]
    assert checks and all(c.passed for c in checks)


def test_every_employee_day_with_entries_is_scored(pipeline: dict) -> None:
    settings = pipeline["settings"]
    lake = Lake(root=settings.lake_root)
    engine = sa.create_engine(settings.source_url)
    with engine.connect() as conn:
        expected = pd.read_sql(
            "select distinct employee_id, work_date from timesheet_entries", conn
        )
    expected["work_date"] = pd.to_datetime(expected["work_date"]).dt.date
    scores = lake.read_partitions(SCORES_DATASET, lake.list_partitions(SCORES_DATASET))
    assert scores is not None
    got = scores.to_pandas()
    got["work_date"] = pd.to_datetime(got["work_date"]).dt.date
    assert set(map(tuple, got[["employee_id", "work_date"]].values)) == set(
        map(tuple, expected[["employee_id", "work_date"]].values)
    )
    assert got["fraud_score"].between(0, 1).all()
    for _, day in got.groupby("work_date"):
        assert sorted(day["rank"]) == list(range(1, len(day) + 1))
        # The budget is a ceiling, not a quota: a quiet day may list nobody, never a low risk.
        assert day["is_suspect"].sum() <= max(1, -(-len(day) // 100))
        assert (day.loc[day["is_suspect"], "reasons"].str.len() > 0).all()
        assert set(day.loc[day["is_suspect"], "risk_level"]) <= {"high", "medium"}
    assert got["is_suspect"].sum() >= 1
    # scores are queryable in the warehouse through the report models
    import duckdb

    with duckdb.connect(settings.duckdb_path, read_only=True) as con:
        n = con.execute("select count(*) from suspect_timesheets").fetchone()
    assert n is not None and n[0] == int(got["is_suspect"].sum())


def test_rerunning_a_partition_is_idempotent(pipeline: dict) -> None:
    settings = pipeline["settings"]
    lake = Lake(root=settings.lake_root)
    day = START + dt.timedelta(days=10)
    before = {
        ds: lake.read_partition(ds, day)
        for ds in ("raw/timesheet_entries", "raw/workstation_activity", SCORES_DATASET)
    }
    import duckdb

    def feature_rows() -> int:
        with duckdb.connect(settings.duckdb_path, read_only=True) as con:
            r = con.execute(
                "select count(*) from employee_day_features where work_date = ?", [day]
            ).fetchone()
        assert r is not None
        return int(r[0])

    features_before = feature_rows()
    defs = pipeline["defs"]
    daily = [s for s in STEPS if s.partitioned]
    run_range(defs, day, day, pipeline["instance"], steps=tuple(daily))
    for ds, table in before.items():
        assert lake.read_partition(ds, day) == table, ds
    assert feature_rows() == features_before


def test_the_report_shows_what_the_days_run_cost_on_the_local_deployment(pipeline: dict) -> None:
    """Every daily asset is in the report's cost table (asset metadata), at $0 locally: DuckDB
    and local Spark bill nothing, and the table says so rather than showing made-up figures."""
    instance: dg.DagsterInstance = pipeline["instance"]
    day = END - dt.timedelta(days=3)
    (record,) = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey("investigator_report"), asset_partitions=[day.isoformat()]
        ),
        limit=1,
    ).records
    metadata = record.asset_materialization.metadata  # type: ignore[union-attr]
    assert metadata["day_run_cost_usd"].value == 0.0
    table = str(metadata["day_run_cost"].value)
    for asset, engine in (
        ("raw_timesheet_entries", "source database → lake"),
        ("processed_timesheet_entries", "spark (local)"),
        ("employee_day_features", "duckdb (local)"),
        ("timesheet_scores", "duckdb (local)"),
        ("suspect_timesheets", "duckdb (local)"),
        ("daily_client_hours", "duckdb (local)"),
        ("investigator_report", "duckdb (local)"),
    ):
        assert f"| {asset} | {engine} | — | — | $0.00 | {DAYS} d |" in table, table
    page = Lake(root=pipeline["settings"].lake_root).read_bytes(
        f"reports/investigator_report/work_date={day.isoformat()}/report.html"
    )
    # Engineers' material: on the asset's metadata (above), not on the investigators' page.
    assert b"<h2>Cost of this day's run</h2>" not in page


def test_hours_at_risk_by_client_reads_the_client_hours_mart(pipeline: dict) -> None:
    from tsfraud_assets.queries.catalog import run_named_query
    from tsfraud_assets.resources.warehouse import DuckDBWarehouse

    warehouse = DuckDBWarehouse(path=pipeline["settings"].duckdb_path)
    counted = warehouse.query(
        "select sum(counted_hours) as h from daily_client_hours where work_date between ? and ?",
        [START, END],
    )
    features = warehouse.query(
        "select sum(total_hours) as h from employee_day_features where work_date between ? and ?",
        [START, END],
    )
    assert float(counted["h"].iloc[0]) == pytest.approx(float(features["h"].iloc[0]))
    at_risk = run_named_query(
        warehouse, "hours_at_risk_by_client", {"start_date": START, "end_date": END}
    )
    suspects = warehouse.query(
        "select sum(total_hours) as h from suspect_timesheets where work_date between ? and ?",
        [START, END],
    )
    assert at_risk["suspect_hours"].sum() == pytest.approx(float(suspects["h"].iloc[0]), abs=0.1)
