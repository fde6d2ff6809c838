"""The cost of a day's run: what each asset's materialization of the work date recorded,
read back from a real (ephemeral) Dagster instance; and the dbt models' Athena bytes, taken
from dbt's run results onto their materializations."""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from tsfraud_assets.defs.automation.sensors import range_tags
from tsfraud_assets.defs.dbt.invocation import (
    adapter_response_metadata,
    stream_with_adapter_responses,
    with_adapter_responses,
)
from tsfraud_assets.defs.partitions import daily_partitions as daily_partitions_from
from tsfraud_assets.defs.partitions import single_run
from tsfraud_assets.defs.reports.cost import (
    asset_cost,
    collect_day_run_cost,
    collect_run_costs,
    cost_markdown,
    daily_asset_engines,
    days_in_range_tags,
    format_usd,
)
from tsfraud_assets.resources.warehouse import QueryStats, athena_cost_usd, query_stats_metadata
from tsfraud_assets.settings import DEFAULT_PARTITION_START, load_settings

daily_partitions = daily_partitions_from(DEFAULT_PARTITION_START)

DAY = dt.date(2026, 3, 11)
MB = 1024**2
SCORES = dg.AssetKey("timesheet_scores")
SUSPECTS = dg.AssetKey("suspect_timesheets")
PROCESSED = dg.AssetKey("processed_timesheet_entries")
SUMMARY = dg.AssetKey("daily_suspect_summary")


def stats(*scanned: int) -> list[QueryStats]:
    return [
        QueryStats(
            query_id=f"q-{i}-{n}",
            state="SUCCEEDED",
            workgroup="tsfraud",
            statement_type="DML",
            bytes_scanned=n,
            estimated_cost_usd=athena_cost_usd(n),
            reused_result=False,
            engine_ms=120,
            queued_ms=5,
            total_ms=130,
            output_location=None,
            attempt=0,
        )
        for i, n in enumerate(scanned)
    ]


#: Bytes each query of the materialization scanned; none on DuckDB, which records none.
SCANNED = {"bytes_scanned": dg.Field([int], default_value=[])}


@dg.asset(
    key=SCORES, partitions_def=daily_partitions, backfill_policy=single_run, config_schema=SCANNED
)
def scores(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    # What the warehouse resource records for an asset's own Athena queries.
    scanned = context.op_config["bytes_scanned"]
    return dg.MaterializeResult(metadata=query_stats_metadata(stats(*scanned)))


@dg.asset(
    key=SUSPECTS, partitions_def=daily_partitions, backfill_policy=single_run, config_schema=SCANNED
)
def suspects(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    # What a dbt model's materialization carries on Athena.
    (scanned,) = context.op_config["bytes_scanned"]
    response = {"code": "OK", "rows_affected": 4, "data_scanned_in_bytes": scanned}
    return dg.MaterializeResult(
        metadata={
            "unique_id": "model.tsfraud.suspect_timesheets",
            **adapter_response_metadata(response),
        }
    )


@dg.asset(key=PROCESSED, partitions_def=daily_partitions, backfill_policy=single_run)
def processed() -> dg.MaterializeResult:
    # The Spark step records rows, not cost.
    return dg.MaterializeResult(metadata={"dagster/row_count": 1200})


ASSETS = [scores, suspects, processed]


def run(
    instance: dg.DagsterInstance,
    key: dg.AssetKey,
    *scanned: int,
    day: dt.date = DAY,
    tags: dict[str, str] | None = None,
) -> None:
    """Materialize one asset for `day`, or for the range in `tags` as one run."""
    config = {"ops": {key.to_python_identifier(): {"config": {"bytes_scanned": list(scanned)}}}}
    result = dg.materialize(
        ASSETS,
        selection=[key],
        instance=instance,
        run_config=config if scanned else {},
        partition_key=None if tags else day.isoformat(),
        tags=tags,
    )
    assert result.success


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


def test_a_days_cost_sums_the_latest_materialization_of_the_day_of_each_asset(
    instance: dg.DagsterInstance,
) -> None:
    run(instance, SCORES, 100 * MB, 5 * MB)
    run(instance, SCORES, 200 * MB)  # re-run of the day: this one counts
    run(instance, SCORES, 900_000 * MB, day=DAY + dt.timedelta(days=1))  # another day
    three_days = range_tags(DAY - dt.timedelta(days=1), DAY + dt.timedelta(days=1))
    run(instance, SUSPECTS, 300 * MB, tags=three_days)
    run(instance, PROCESSED)
    engines = {SCORES: "athena", SUSPECTS: "athena", PROCESSED: "spark (EMR)", SUMMARY: "athena"}
    own = asset_cost(
        "investigator_report", query_stats_metadata(stats(50 * MB)), engine="athena", billed=True
    )

    cost = collect_day_run_cost(instance, DAY, engines, billed=True, own=own)

    rows = {r.asset: r for r in cost.rows}
    assert set(rows) == {
        "timesheet_scores",
        "suspect_timesheets",
        "processed_timesheet_entries",
        "investigator_report",
    }
    scored = rows["timesheet_scores"]
    assert (scored.engine, scored.queries, scored.bytes_scanned, scored.run_days) == (
        "athena",
        1,
        200 * MB,
        1,
    )
    assert scored.cost_usd == pytest.approx(athena_cost_usd(200 * MB), abs=1e-6)  # 6 decimals
    built = rows["suspect_timesheets"]
    assert (built.queries, built.bytes_scanned, built.run_days) == (1, 300 * MB, 3)
    spark = rows["processed_timesheet_entries"]
    assert (spark.engine, spark.cost_usd, spark.bytes_scanned) == ("spark (EMR)", None, None)
    assert rows["investigator_report"].bytes_scanned == 50 * MB

    expected = athena_cost_usd(200 * MB) + athena_cost_usd(300 * MB) + athena_cost_usd(50 * MB)
    assert cost.total_usd == pytest.approx(expected, abs=3e-6)  # each rounded to 6 decimals
    assert cost.total_bytes == 550 * MB
    assert cost.total_queries == 3
    share = athena_cost_usd(200 * MB) + athena_cost_usd(300 * MB) / 3 + athena_cost_usd(50 * MB)
    assert cost.day_share_usd == pytest.approx(share, abs=3e-6)
    assert cost.not_materialized == ("daily_suspect_summary",)
    assert cost.unrecorded == ["processed_timesheet_entries"]
    notes = " ".join(cost.notes())
    assert "USD 5 per TB" in notes
    assert "No cost recorded for processed_timesheet_entries" in notes
    assert f"this day's share is {format_usd(cost.day_share_usd)}" in notes
    assert "daily_suspect_summary" in notes
    table = cost_markdown(cost)
    assert "| suspect_timesheets | athena | 1 | 300.0 MiB |" in table
    assert f"**{format_usd(cost.total_usd)}**" in table


def test_a_range_of_days_is_read_in_pages_per_asset_each_day_its_own_latest(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tsfraud_assets.defs.reports import cost as cost_module

    monkeypatch.setattr(cost_module, "PAGE_SIZE", 1)  # every record on its own page
    later = DAY + dt.timedelta(days=1)
    run(instance, SCORES, 10 * MB)
    run(instance, SCORES, 700 * MB, day=later)
    run(instance, SCORES, 20 * MB)
    run(instance, SCORES, 30 * MB, day=DAY - dt.timedelta(days=5))  # outside the range
    costs = collect_run_costs(instance, [DAY, later], {SCORES: "athena"}, billed=True)
    assert {day: [r.bytes_scanned for r in c.rows] for day, c in costs.items()} == {
        DAY: [20 * MB],
        later: [700 * MB],
    }


def test_the_local_deployment_costs_nothing_and_says_so(instance: dg.DagsterInstance) -> None:
    run(instance, PROCESSED)
    engines = {PROCESSED: "spark (local)", SCORES: "duckdb (local)"}
    own = asset_cost("investigator_report", {}, engine="duckdb (local)", billed=False)
    run(instance, SCORES)  # DuckDB records no query stats: empty config, no metadata

    cost = collect_day_run_cost(instance, DAY, engines, billed=False, own=own)

    rows = {r.asset: r for r in cost.rows}
    assert {a: (r.engine, r.cost_usd) for a, r in rows.items()} == {
        "processed_timesheet_entries": ("spark (local)", 0.0),
        "timesheet_scores": ("duckdb (local)", 0.0),
        "investigator_report": ("duckdb (local)", 0.0),
    }
    assert cost.total_usd == 0.0
    assert cost.total_bytes is None and cost.total_queries is None  # not metered, not zero
    assert cost.unrecorded == []
    assert "no query is billed and the cost is $0" in " ".join(cost.notes())
    assert format_usd(cost.total_usd) == "$0.00"


def test_every_daily_asset_of_the_graph_is_looked_up_with_its_engine() -> None:
    from tsfraud_assets.definitions import build_definitions

    graph = build_definitions(load_settings()).resolve_asset_graph()

    report = dg.AssetKey("investigator_report")
    engines = daily_asset_engines(graph, "athena", billed=True, exclude=[report])
    assert engines[dg.AssetKey("raw_timesheet_entries")] == "source database → lake"
    assert engines[PROCESSED] == "spark (EMR)"
    for key in ("stg_timesheet_entries", "employee_day_features", "timesheet_scores"):
        assert engines[dg.AssetKey(key)] == "athena", key
    assert {SUSPECTS, SUMMARY, dg.AssetKey("daily_client_hours")} <= engines.keys()
    # the weekly model, the snapshots and the report itself are not a day's run's cost rows
    for key in ("fraud_model", "raw_employees", "investigation_labels", "investigator_report"):
        assert dg.AssetKey(key) not in engines, key
    local = daily_asset_engines(graph, "duckdb (local)", billed=False)
    assert local[PROCESSED] == "spark (local)"
    assert local[SCORES] == local[report] == "duckdb (local)"


def test_partition_range_tags_give_the_days_a_run_covered() -> None:
    assert days_in_range_tags({}) == 1
    assert days_in_range_tags(range_tags(DAY, DAY + dt.timedelta(days=41))) == 42
    with pytest.raises(ValueError, match="ends before it starts"):
        days_in_range_tags(range_tags(DAY, DAY - dt.timedelta(days=1)))
    with pytest.raises(ValueError, match="at least one work date"):
        asset_cost("x", {}, engine="athena", billed=True, run_days=0)


# --- dbt models: Athena bytes from dbt's run results ----------------------------------------


def run_results(**scanned: int | None) -> dict[str, Any]:
    """run_results.json as dbt-athena writes it (duckdb's responses have no bytes)."""
    results = []
    for model, nbytes in scanned.items():
        response: dict[str, Any] = {"_message": "OK 3", "code": "OK", "rows_affected": 3}
        if nbytes is not None:
            response["data_scanned_in_bytes"] = nbytes
        results.append({"unique_id": f"model.tsfraud.{model}", "adapter_response": response})
    return {"results": results}


def model_output(model: str) -> dg.Output:
    return dg.Output(
        None,
        output_name=model,
        metadata={"unique_id": f"model.tsfraud.{model}", "status": "success"},
    )


def test_dbt_models_carry_the_bytes_their_build_scanned() -> None:
    events = [
        model_output("suspect_timesheets"),
        model_output("stg_timesheet_scores"),
        model_output("daily_suspect_summary"),
        dg.AssetCheckResult(asset_key="suspect_timesheets", check_name="not_null", passed=True),
    ]
    results = run_results(
        suspect_timesheets=250 * MB, stg_timesheet_scores=0, daily_suspect_summary=None
    )
    out = list(with_adapter_responses(events, results))
    assert len(out) == len(events) and out[3] is events[3]
    built = out[0].metadata
    assert built["athena_bytes_scanned"].value == 250 * MB
    assert built["athena_estimated_cost_usd"].value == pytest.approx(
        athena_cost_usd(250 * MB), abs=1e-6
    )
    assert built["warehouse_queries"].value == 1
    assert built["status"].value == "success"  # dagster-dbt's own metadata kept
    assert out[1].metadata["athena_estimated_cost_usd"].value == 0.0  # a view: DDL is free
    assert "athena_bytes_scanned" not in out[2].metadata  # DuckDB: no bytes, nothing added
    (unchanged,) = with_adapter_responses(events[:1], None)
    assert unchanged.metadata == events[0].metadata


class FailingInvocation:
    """A dbt invocation that built one model and then failed, as dagster-dbt reports it."""

    def __init__(self, folder: Path) -> None:
        self.project_dir = folder
        self.target_path = folder / "invocation-target"  # dbt failed before saving a parse

    def stream(self) -> Iterator[Any]:
        yield model_output("suspect_timesheets")
        raise RuntimeError("dbt build failed: a test did not pass")

    def get_artifact(self, name: str) -> dict[str, Any]:
        assert name == "run_results.json"
        return run_results(suspect_timesheets=20 * MB)


def test_a_failed_dbt_build_still_hands_over_what_it_built_before_the_error(
    tmp_path: Path,
) -> None:
    seen: list[Any] = []
    with pytest.raises(RuntimeError, match="a test did not pass"):
        for event in stream_with_adapter_responses(FailingInvocation(tmp_path)):
            seen.append(event)
    assert [e.metadata["athena_bytes_scanned"].value for e in seen] == [20 * MB]
