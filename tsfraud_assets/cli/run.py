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
import time
from collections.abc import Callable
from pathlib import Path

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
from tsfraud_assets.defs.automation.sensors import range_tags
from tsfraud_assets.defs.partitions import daily_partitions
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
    on_step_done: StepDone | None = None,
    console: Console | None = None,
) -> list[dg.ExecuteInProcessResult]:
    """Materialize every layer for [start, end] through the steps' named jobs; stops at the
    first failed run. `on_step_done(step, result, seconds)` hears of each finished step; a
    `console` sends each step's output to its log file (console.py)."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    results = []
    for step in steps:
        began = time.monotonic()
        quiet = console.quiet(step.name) if console else contextlib.nullcontext()
        with quiet:
            result = execute_named_job(
                defs,
                step.job_name,
                instance,
                run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
                tags={
                    "tsfraud/step": step.name,
                    **(range_tags(start, end) if step.partitioned else {}),
                },
            )
        results.append(result)
        if on_step_done is not None:
            on_step_done(step, result, time.monotonic() - began)
    return results


def execute_named_job(
    defs: dg.Definitions,
    job_name: str,
    instance: dg.DagsterInstance,
    run_config: dict[str, object],
    tags: dict[str, str],
) -> dg.ExecuteInProcessResult:
    """Run `job_name` in this process as a run of the code location's repository.

    `JobDefinition.execute_in_process` runs the job without its repository, so an asset that
    reads the whole asset graph from its context (the investigators' report tallies every
    layer's cost) would see only its own run's selection; launched by the daemon the same job
    has its repository. Dagster's public API has no in-process run with one, so this uses the
    internal pair `execute_in_process` itself is made of, with a repository-backed job.
    """
    from dagster._core.definitions.job_base import RepoBackedJob
    from dagster._core.execution.execute_in_process import core_execute_in_process, merge_run_tags

    repository = defs.get_repository_def()
    job_def = repository.get_job(job_name)
    # This process is the run worker: the default executor's in-process mode, as
    # `execute_in_process` would choose (the multiprocess mode needs a reconstructable job).
    run_config = {**run_config, "execution": {"config": {"in_process": {}}}}
    return core_execute_in_process(
        run_config=run_config,
        job=RepoBackedJob(job_name, repository),
        instance=instance,
        output_capturing_enabled=True,
        raise_on_error=True,
        run_tags=merge_run_tags(
            job_def=job_def,
            partition_key=None,
            tags=tags,
            asset_selection=None,
            instance=instance,
            run_config=run_config,
        ),
    )


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
