"""`tsfraud run`: every layer for a range of work dates, as Dagster runs on the instance.

The layers run in four runs, in dependency order, each covering the whole range at once
(single-run backfills: one Spark session and one dbt invocation per range, not per day):
1. reference snapshots and the models built on them (unpartitioned),
2. raw ingest → Spark → employee-day features for the range,
3. the fraud model (trained, versioned, promoted if at least as good),
4. scores and suspect list → investigators' report models (and the client hours) for the range.
The runs are recorded in the Dagster instance, so they show in the UI like any other run.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from tsfraud_assets.defs.automation.sensors import contiguous_ranges, range_tags
from tsfraud_assets.defs.raw.moves import stale_days
from tsfraud_assets.instance.run_launcher import HOST_TAG
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase
from tsfraud_assets.settings import PROJECT_ROOT, Settings


@dataclass(frozen=True)
class Step:
    name: str
    selection: dg.AssetSelection
    partitioned: bool


REFERENCE = (
    dg.AssetSelection.groups("raw").required_multi_asset_neighbors()
    - dg.AssetSelection.assets("raw_timesheet_entries", "raw_workstation_activity")
) | dg.AssetSelection.assets(
    "stg_employees",
    "stg_investigation_cases",
    "suspect_dispositions",
    "investigation_labels",
    "stg_clients",
)
MODEL = dg.AssetSelection.assets("fraud_model")
# Needs the simulator's ground truth: the demo and the detection benchmark run it, not `run`.
EVALUATION = dg.AssetSelection.assets("model_evaluation")

STEPS = (
    Step("reference", REFERENCE, partitioned=False),
    Step(
        "ingest-to-features",
        dg.AssetSelection.assets("employee_day_features").upstream() - REFERENCE,
        partitioned=True,
    ),
    Step("model", MODEL, partitioned=False),
    Step(
        "scores-and-reports",
        # The report group also holds daily_client_hours, which reads the entries, not scores.
        (
            dg.AssetSelection.assets("timesheet_scores").downstream()
            | dg.AssetSelection.groups("reports")
        )
        - REFERENCE
        - EVALUATION,
        partitioned=True,
    ),
)
EVALUATION_STEP = Step("evaluation", EVALUATION, partitioned=False)


def ensure_dagster_home(settings: Settings) -> Path:
    """Point DAGSTER_HOME at a persistent folder holding the project's dagster.yaml.

    An existing dagster.yaml there is left alone: it may be a production (PostgreSQL) instance."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(settings.data_dir / "dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    source = PROJECT_ROOT / "dagster.yaml"
    if source.exists() and not target.exists():
        shutil.copyfile(source, target)
    return home


def run_range(
    defs: dg.Definitions,
    start: dt.date,
    end: dt.date,
    instance: dg.DagsterInstance,
    steps: tuple[Step, ...] = STEPS,
    log_level: str = "INFO",
    heal_moved_entries: bool = True,
) -> list[dg.ExecuteInProcessResult]:
    """Materialize every layer for [start, end]; stops at the first failed run.

    Days that still hold entries the source has since moved into [start, end] are rebuilt
    too, each partitioned step once per extra range (see ingest/moves.py)."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    assets = list(defs.assets or []) + list(defs.asset_checks or [])
    resources = dict(defs.resources or {})
    ranges = [(start, end)]
    if heal_moved_entries and any(step.partitioned for step in steps):
        for first, last in contiguous_ranges(moved_from_days(resources, start, end)):
            print(f"also rebuilding {first}..{last}: it holds entries since moved into the range")
            ranges.append((first, last))
    results = []
    for step in steps:
        for first, last in ranges if step.partitioned else [(start, end)]:
            result = dg.materialize(
                assets,  # type: ignore[arg-type]
                selection=step.selection,
                resources=resources,
                instance=instance,
                run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
                tags={
                    "tsfraud/step": step.name,
                    # whose process runs it: run monitoring checks the pid on this host only
                    HOST_TAG: socket.gethostname(),
                    **(range_tags(first, last) if step.partitioned else {}),
                },
                raise_on_error=True,
            )
            results.append(result)
    return results


def moved_from_days(resources: dict[str, Any], start: dt.date, end: dt.date) -> list[dt.date]:
    """Lake days outside [start, end] holding entries the source now files inside it."""
    source, lake = resources.get("source"), resources.get("lake")
    if not isinstance(source, SourceDatabase) or not isinstance(lake, Lake):
        return []
    if isinstance(source.url, dg.EnvVar):  # the URL may hold a password: resolved only here
        source = SourceDatabase(url=source.url.get_value() or "")
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    return stale_days(source, lake, days)
