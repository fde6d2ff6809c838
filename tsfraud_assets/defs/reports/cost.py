"""What a work date's run cost: the query spend each asset recorded, summed for the report.

Every Athena query the project runs leaves its bytes scanned and estimated USD on the asset's
materialization (`query_stats_metadata`; dbt models get the bytes dbt-athena reports for their
build, `dbt_support.adapter_response_metadata`). For one work date this reads the latest
materialization of that partition of every daily asset (all that the day's run builds: the
report's upstream and `daily_client_hours`), adds the report's own queries and returns a
per-asset table and its total.

A run that covered several work dates (a backfill range) stamps the whole run's spend on each
of its days; such rows say how many days their run covered, and the day's share spreads them
evenly. On the local deployment nothing is billed per query: the cost is $0, and bytes are
not metered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg

QUERIES = "warehouse_queries"
BYTES_SCANNED = "athena_bytes_scanned"
COST_USD = "athena_estimated_cost_usd"
ATHENA = "athena"
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
PAGE_SIZE = 1000
UNPARTITIONED_NOTE = (
    "Unpartitioned assets (the reference snapshots and the models built on them, the weekly "
    "fraud model, the model evaluation) run on their own schedule and are not part of a "
    "day's run."
)


@dataclass(frozen=True)
class AssetCost:
    """One asset's share of a day's run, as its materialization of the day recorded it."""

    asset: str
    engine: str
    queries: int | None
    """Queries counted (None: not metered by this engine)."""
    bytes_scanned: int | None
    cost_usd: float | None
    """Estimated USD; None when the engine bills but the asset recorded no cost."""
    run_days: int = 1
    """Work dates the run that built it covered; its cost is the whole run's."""

    @property
    def day_share_usd(self) -> float | None:
        return None if self.cost_usd is None else self.cost_usd / self.run_days


@dataclass(frozen=True)
class DayRunCost:
    day: dt.date
    rows: tuple[AssetCost, ...]
    billed: bool
    """Whether the deployment's warehouse bills per query (Athena) or not (local DuckDB)."""
    not_materialized: tuple[str, ...] = ()
    """Daily assets with no materialization of this work date."""

    @property
    def total_usd(self) -> float:
        return sum(r.cost_usd for r in self.rows if r.cost_usd is not None)

    @property
    def day_share_usd(self) -> float:
        return sum(r.day_share_usd for r in self.rows if r.day_share_usd is not None)

    @property
    def total_bytes(self) -> int | None:
        counted = [r.bytes_scanned for r in self.rows if r.bytes_scanned is not None]
        return sum(counted) if counted else None

    @property
    def total_queries(self) -> int | None:
        counted = [r.queries for r in self.rows if r.queries is not None]
        return sum(counted) if counted else None

    @property
    def unrecorded(self) -> list[str]:
        return [r.asset for r in self.rows if r.cost_usd is None]

    @property
    def spans_several_days(self) -> bool:
        return any(r.run_days > 1 for r in self.rows)

    def notes(self) -> list[str]:
        """What the figures mean and what they leave out, in plain words."""
        notes = []
        if self.billed:
            notes.append(
                "Athena bills USD 5 per TB scanned with a 10 MB minimum per query; failed "
                "queries, DDL and reused results are free. dbt models count the statement "
                "dbt-athena reports for each model's build; dbt tests and dbt's housekeeping "
                "queries are not counted."
            )
        else:
            notes.append(
                "Local deployment: DuckDB, Spark and the source database run on this machine, "
                "so no query is billed and the cost is $0. Bytes are not metered locally."
            )
        if self.unrecorded:
            notes.append(
                f"No cost recorded for {', '.join(self.unrecorded)}: the EMR cluster (no step "
                "duration or instance hours are recorded on the asset), S3 requests and the "
                "source database are billed outside Athena and not counted here."
            )
        if self.spans_several_days and self.total_usd > 0:
            notes.append(
                "Some assets were built by a run covering several work dates ('Run covered'); "
                "their cost is the whole run's. Spread evenly over those days, this day's "
                f"share is {format_usd(self.day_share_usd)}."
            )
        if self.not_materialized:
            notes.append(
                "No materialization of this work date recorded for "
                f"{', '.join(self.not_materialized)}."
            )
        notes.append(UNPARTITIONED_NOTE)
        return notes


# --- reading the records (pure) ---------------------------------------------------------------


def _value(metadata: Mapping[str, Any], key: str) -> Any:
    value = metadata.get(key)
    return getattr(value, "value", value)


def asset_cost(
    asset: str, metadata: Mapping[str, Any], *, engine: str, billed: bool, run_days: int = 1
) -> AssetCost:
    """One asset's row from its materialization metadata.

    Athena figures when it recorded any; otherwise $0 where nothing is billed per query
    (local), and "not recorded" (None) where the deployment bills but the asset kept no cost.
    """
    if run_days < 1:
        raise ValueError(f"{asset}: a run covers at least one work date, got {run_days}")
    scanned, usd = _value(metadata, BYTES_SCANNED), _value(metadata, COST_USD)
    if scanned is not None or usd is not None:
        queries = _value(metadata, QUERIES)
        return AssetCost(
            asset=asset,
            engine=ATHENA,
            queries=None if queries is None else int(queries),
            bytes_scanned=None if scanned is None else int(scanned),
            cost_usd=None if usd is None else float(usd),
            run_days=run_days,
        )
    return AssetCost(asset, engine, None, None, None if billed else 0.0, run_days)


def costs_from_records(
    records: Sequence[dg.EventLogRecord],
    engines: Mapping[dg.AssetKey, str],
    *,
    billed: bool,
    run_days: Mapping[str, int] | None = None,
) -> list[AssetCost]:
    """A row per materialization record, in asset order; `run_days` maps a run id to the work
    dates it covered (1 when absent)."""
    rows = []
    for record in records:
        materialization = record.asset_materialization
        if materialization is None:
            raise ValueError(f"event {record.storage_id} is not an asset materialization")
        key = materialization.asset_key
        rows.append(
            asset_cost(
                key.to_user_string(),
                materialization.metadata,
                engine=engines.get(key, "unknown"),
                billed=billed,
                run_days=(run_days or {}).get(record.run_id, 1),
            )
        )
    return sorted(rows, key=lambda r: r.asset)


def days_in_range_tags(tags: Mapping[str, str]) -> int:
    """Work dates a run covered, from its partition-range tags (1 without a range)."""
    if RANGE_START not in tags or RANGE_END not in tags:
        return 1
    start = dt.date.fromisoformat(tags[RANGE_START])
    end = dt.date.fromisoformat(tags[RANGE_END])
    if end < start:
        raise ValueError(f"partition range {start} .. {end} ends before it starts")
    return (end - start).days + 1


# --- reading the instance ---------------------------------------------------------------------


def engine_for(resource_keys: Iterable[str], warehouse_engine: str, billed: bool) -> str:
    """The engine an asset's work ran on, from the resources it uses."""
    keys = set(resource_keys)
    if keys & {"dbt", "warehouse"}:
        return warehouse_engine
    if "spark" in keys:
        return "spark (EMR)" if billed else "spark (local)"
    if "source" in keys:
        return "source database → lake"
    return "python"


def daily_asset_engines(
    graph: Any, warehouse_engine: str, billed: bool, exclude: Iterable[dg.AssetKey] = ()
) -> dict[dg.AssetKey, str]:
    """Every asset partitioned by work date in the asset graph (what a day's run builds),
    with the engine its work runs on."""
    skip = set(exclude)
    out = {}
    for key in graph.get_all_asset_keys():
        if key in skip or graph.get(key).partitions_def is None:
            continue
        resources = graph.assets_def_for_key(key).required_resource_keys
        out[key] = engine_for(resources, warehouse_engine, billed)
    return out


def latest_materializations(
    instance: dg.DagsterInstance, keys: Iterable[dg.AssetKey], days: Sequence[dt.date]
) -> dict[tuple[dg.AssetKey, dt.date], dg.EventLogRecord]:
    """The newest materialization of each work date's partition of each asset that has one:
    one paged query per asset for all the days, so a backfill's report stays cheap."""
    partitions = {day.isoformat(): day for day in days}
    found: dict[tuple[dg.AssetKey, dt.date], dg.EventLogRecord] = {}
    for key in keys:
        cursor = None
        while True:
            page = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=key, asset_partitions=list(partitions)),
                limit=PAGE_SIZE,
                cursor=cursor,
            )
            for record in page.records:  # newest first: the first seen of a day is its latest
                day = partitions.get(record.partition_key or "")
                if day is not None:
                    found.setdefault((key, day), record)
            if not page.has_more:
                break
            cursor = page.cursor
    return found


def collect_run_costs(
    instance: dg.DagsterInstance,
    days: Sequence[dt.date],
    engines: Mapping[dg.AssetKey, str],
    *,
    billed: bool,
    own: AssetCost | None = None,
) -> dict[dt.date, DayRunCost]:
    """The cost table of each work date: every asset in `engines` as its latest
    materialization of the day recorded it, plus `own` (the caller's queries, not stored yet)."""
    records = latest_materializations(instance, engines, days)
    run_days: dict[str, int] = {}
    for run_id in {r.run_id for r in records.values() if r.run_id}:
        run = instance.get_run_by_id(run_id)
        run_days[run_id] = days_in_range_tags(run.tags) if run is not None else 1
    costs = {}
    for day in days:
        of_day = {key: records[(key, day)] for key in engines if (key, day) in records}
        rows = costs_from_records(list(of_day.values()), engines, billed=billed, run_days=run_days)
        if own is not None:
            rows.append(own)
        missing = sorted(k.to_user_string() for k in engines if k not in of_day)
        costs[day] = DayRunCost(day, tuple(rows), billed=billed, not_materialized=tuple(missing))
    return costs


def collect_day_run_cost(
    instance: dg.DagsterInstance,
    day: dt.date,
    engines: Mapping[dg.AssetKey, str],
    *,
    billed: bool,
    own: AssetCost | None = None,
) -> DayRunCost:
    """One work date's cost table (see `collect_run_costs`)."""
    return collect_run_costs(instance, [day], engines, billed=billed, own=own)[day]


# --- presentation -----------------------------------------------------------------------------


def format_usd(value: float | None) -> str:
    if value is None:
        return "not recorded"
    if value == 0:
        return "$0.00"
    if value < 0.000001:
        return "< $0.000001"
    if value < 0.01:
        return f"${value:.6f}".rstrip("0")
    return f"${value:,.2f}"


def format_bytes(value: int | None) -> str:
    if value is None:
        return "—"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def cost_markdown(cost: DayRunCost) -> str:
    """The table for the report asset's page in Dagster."""
    lines = [
        "| asset | engine | queries | scanned | est. USD | run covered |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in cost.rows:
        queries = "—" if r.queries is None else f"{r.queries:,}"
        lines.append(
            f"| {r.asset} | {r.engine} | {queries} | {format_bytes(r.bytes_scanned)} | "
            f"{format_usd(r.cost_usd)} | {r.run_days} d |"
        )
    queries = "—" if cost.total_queries is None else f"{cost.total_queries:,}"
    lines.append(
        f"| **total** | | {queries} | {format_bytes(cost.total_bytes)} | "
        f"**{format_usd(cost.total_usd)}** | |"
    )
    return "\n".join(lines)
