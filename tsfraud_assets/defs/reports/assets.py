"""Investigators' report: one self-contained HTML page per work date, in the lake.

The dbt report models are tables for analysts; investigators want a page they can open in a
browser from the lake or a shared drive. The page is rebuilt with the rest of the day's chain,
so a late correction that re-scores a day also re-renders its report.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

import dagster as dg
from dagster._core.definitions.metadata import RawMetadataValue
from dagster_shared.check import CheckError

from tsfraud_assets.defs.partitions import partition_days, single_run
from tsfraud_assets.defs.reports.cost import (
    asset_cost,
    collect_run_costs,
    cost_markdown,
    daily_asset_engines,
)
from tsfraud_assets.defs.reports.data import (
    load_report_inputs,
    report_data_for,
    top_suspects_markdown,
)
from tsfraud_assets.defs.reports.html import render_report
from tsfraud_assets.lib import lake_layout
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.warehouse import Warehouse

REPORT_DIR = lake_layout.REPORTS
REPORT_FILE = "report.html"
LATEST = f"{REPORT_DIR}/latest.html"


def report_path(day: dt.date) -> str:
    return f"{REPORT_DIR}/work_date={day.isoformat()}/{REPORT_FILE}"


def whole_asset_graph(
    context: dg.AssetExecutionContext, graph: Callable[[], Any] | None = None
) -> Any:
    """The graph of every asset, not only this run's selection: what a day's run builds.

    A run's own job knows only the assets it selected and their parents. `build_definitions`
    hands the report its whole graph (`graph`); a run launched from a code location also has its
    repository; a bare report asset materialized alone (tests) falls back to its job.
    """
    if graph is not None:
        return graph()
    try:
        return context.repository_def.asset_graph
    except CheckError:
        return context.job_def.asset_layer.asset_graph


def plotly_file() -> str:
    """The shared plotly.js beside the pages, named by its version so an upgrade adds a file
    instead of changing the one older pages load."""
    from plotly.offline import get_plotlyjs_version

    return f"plotly-{get_plotlyjs_version()}.min.js"


def ensure_plotly(lake: Lake) -> str:
    """Write the shared plotly.js once; every page of every day loads this one copy."""
    name = plotly_file()
    if not lake.exists(f"{REPORT_DIR}/{name}"):
        from plotly.offline import get_plotlyjs

        lake.write_bytes(f"{REPORT_DIR}/{name}", get_plotlyjs().encode())
    return name


def _locations(lake: Lake, uri: str, name: str) -> dict[str, RawMetadataValue]:
    """The file's path, and for a local lake also a file:// link the UI shows as clickable."""
    out: dict[str, RawMetadataValue] = {name: dg.MetadataValue.path(uri)}
    if lake.is_local:
        out[f"{name}_url"] = dg.MetadataValue.url(f"file://{uri}")
    return out


def build_investigator_report(
    partitions: dg.PartitionsDefinition, asset_graph: Callable[[], Any] | None = None
) -> dg.AssetsDefinition:
    """The daily HTML report over `partitions`; `asset_graph` gives the whole graph the report's
    cost section walks (every daily asset), resolved when the report runs."""

    @dg.asset(
        key="investigator_report",
        deps=[
            "suspect_timesheets",
            "daily_suspect_summary",
            "weekly_suspect_trend",
            "daily_signal_summary",
            "timesheet_scores",
            "fraud_model",
        ],
        partitions_def=partitions,
        backfill_policy=single_run,
        group_name="reports",
        kinds={"html", "plotly"},
        description="Per work date, an HTML page for investigators (no internet needed; one shared "
        "plotly.js beside the pages): the suspect list with reasons, 8-week trends by "
        "office/practice/country, the day's score distribution and the rule signals. The run's "
        "cost is in this asset's metadata, the model's figures in fraud_model's. Also "
        "`latest.html`: the newest work date.",
    )
    def investigator_report(
        context: dg.AssetExecutionContext, warehouse: Warehouse, lake: Lake
    ) -> dg.MaterializeResult:
        days = partition_days(context)
        inputs = load_report_inputs(warehouse, days[0], days[-1])
        # What every daily asset recorded for each day, plus the queries this run just made.
        engines = daily_asset_engines(
            whole_asset_graph(context, asset_graph),
            warehouse.engine,
            warehouse.billed,
            exclude=[context.asset_key],
        )
        own = asset_cost(
            context.asset_key.to_user_string(),
            warehouse.stats_metadata(),
            engine=warehouse.engine,
            billed=warehouse.billed,
            run_days=len(days),
        )
        generated_at = dt.datetime.now(dt.UTC)
        per_day: list[str] = []
        last = None
        costs = collect_run_costs(context.instance, days, engines, billed=warehouse.billed, own=own)
        plotly = ensure_plotly(lake)
        for day in days:
            data = report_data_for(inputs, day, lake, cost=costs[day])
            # A day's page lives one folder below the shared plotly.js.
            page = render_report(
                data, generated_at=generated_at, plotly_src=f"../{plotly}"
            ).encode()
            uri = lake.write_bytes(report_path(day), page)
            hours = float(data.suspects["total_hours"].fillna(0).sum())
            per_day.append(f"| {day} | {len(data.scores)} | {len(data.suspects)} | {hours:.1f} |")
            last = (day, data, uri, page)
        assert last is not None  # a partitioned run covers at least one day
        day, data, uri, page = last
        # Re-rendering an old range (a backfill, a late correction) must not replace the newest
        # day's page with an older one.
        newest = max(lake.list_partitions(REPORT_DIR), default=day)
        metadata: dict[str, RawMetadataValue] = {
            "work_date": day.isoformat(),
            "employee_days": len(data.scores),
            "suspects": len(data.suspects),
            "suspect_hours": float(data.suspects["total_hours"].fillna(0).sum()),
            "model_version": data.models[0].version if data.models else "none",
            "top_suspects": dg.MetadataValue.md(top_suspects_markdown(data.suspects)),
            # One run stamps every partition of its range with the same metadata: for a range,
            # point at the folder and list the days, rather than at the last day's file.
            **_locations(lake, uri if len(days) == 1 else lake.uri(REPORT_DIR), "path"),
            "report_bytes": len(page),
            "days": len(days),
        }
        if data.cost is not None:
            metadata["day_run_cost_usd"] = dg.MetadataValue.float(round(data.cost.total_usd, 6))
            metadata["day_run_cost"] = dg.MetadataValue.md(cost_markdown(data.cost))
        if day >= newest:
            # latest.html sits one folder up, beside plotly.js: the same page, another src.
            latest = page.replace(f'src="../{plotly}"'.encode(), f'src="{plotly}"'.encode(), 1)
            metadata.update(_locations(lake, lake.write_bytes(LATEST, latest), "latest"))
        if len(days) > 1:
            metadata["per_day"] = dg.MetadataValue.md(
                "| work date | scored | suspects | suspect hours |\n|---|---:|---:|---:|\n"
                + "\n".join(per_day)
            )
        context.log.info(
            f"rendered {len(days)} report(s) {days[0]} .. {days[-1]} under {REPORT_DIR}"
        )
        metadata.update(warehouse.stats_metadata())  # Athena: query ids, bytes scanned, cost
        return dg.MaterializeResult(metadata=metadata)

    return investigator_report
