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

import contextlib
import datetime as dt
import os
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg

from tsfraud_assets.cli.console import Console
from tsfraud_assets.defs.automation.handoff import hand_off, plan_handoff
from tsfraud_assets.defs.automation.range_jobs import (
    EVALUATION,
    EVALUATION_STEP,
    MODEL,
    REFERENCE,
    STEPS,
    Step,
)
from tsfraud_assets.defs.automation.sensors import contiguous_ranges, range_tags
from tsfraud_assets.defs.partitions import daily_partitions
from tsfraud_assets.defs.raw.moves import stale_days
from tsfraud_assets.instance.run_launcher import HOST_TAG
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase
from tsfraud_assets.settings import PROJECT_ROOT, Settings

StepDone = Callable[[Step, dg.ExecuteInProcessResult, float], None]


# The steps and their named jobs are declared with the Definitions (range_jobs.py).
__all__ = ["EVALUATION", "EVALUATION_STEP", "MODEL", "REFERENCE", "STEPS", "Step", "run_range"]


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
    on_step_done: StepDone | None = None,
    console: Console | None = None,
) -> list[dg.ExecuteInProcessResult]:
    """Materialize every layer for [start, end] through the steps' named jobs; stops at the
    first failed run. `on_step_done(step, result, seconds)` hears of each finished step; a
    `console` sends each step's output to its log file (console.py).

    Days that still hold entries the source has since moved into [start, end] are rebuilt
    too, each partitioned step once per extra range (see defs/raw/moves.py)."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    ranges = [(start, end)]
    if heal_moved_entries and any(step.partitioned for step in steps):
        for first, last in contiguous_ranges(
            moved_from_days(dict(defs.resources or {}), start, end)
        ):
            print(f"also rebuilding {first}..{last}: it holds entries since moved into the range")
            ranges.append((first, last))
    results = []
    for step in steps:
        job = defs.resolve_job_def(step.job_name)
        for first, last in ranges if step.partitioned else [(start, end)]:
            began = time.monotonic()
            quiet = console.quiet(step.name) if console else contextlib.nullcontext()
            with quiet:
                result = job.execute_in_process(
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
            if on_step_done is not None:
                on_step_done(step, result, time.monotonic() - began)
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


def run_range_handing_off(
    defs: dg.Definitions,
    settings: Settings,
    start: dt.date,
    end: dt.date,
    instance: dg.DagsterInstance,
    log_level: str = "INFO",
    on_step_done: StepDone | None = None,
    console: Console | None = None,
    by: str = "tsfraud run",
) -> tuple[list[dg.ExecuteInProcessResult], str]:
    """`run_range` over every step, then hand the source's high-water mark it ingested to the
    batch sensor (handoff.py), so a daemon started afterwards does not redo the range.

    Returns the results and a line saying where the sensor stands."""
    plan = plan_handoff(
        SourceDatabase(url=settings.source_url),
        instance,
        daily_partitions(settings.partition_start, settings.partition_end),
    )
    results = run_range(
        defs,
        start,
        end,
        instance,
        log_level=log_level,
        on_step_done=on_step_done,
        console=console,
    )
    return results, hand_off(instance, plan, start, end, by=by)
