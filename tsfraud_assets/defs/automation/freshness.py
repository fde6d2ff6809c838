"""When each layer counts as late, declared once over the asset graph: one verdict per asset.

Investigators start their day at 07:00 (local, `TSFRAUD_TIMEZONE`) with the previous work day's
suspect list. That is a statement about a partition, so the suspect-list assets are judged by
time-partition freshness checks alone ("the previous work day's partition exists by 07:00"),
run by their own sensor after each deadline. They carry no freshness policy: Dagster judges a
policy per asset, not per partition, so a re-run of last month's partition would show
"Freshness policy: Passing" beside an overdue check on the same page, two stories about one
asset. The model is not partitioned and only needs to be recent: a time-window policy says
that (warn after 7 days, fail after 8), and nothing else judges it.

Work days are Monday to Friday: the deadline ticks Tuesday to Saturday at 07:00 and each tick
expects the partition of the day before it, so Monday morning still asks for Friday's list and a
weekend without timesheets is not an alert.

The checks find "the previous work day" in the partitions' own calendar (UTC days). West of
UTC, and up to UTC+7, 07:00 local falls after that day has ended in UTC, so the expected
partition is the local previous work day. Further east it would expect the day before that
(Sunday's partition on a Tuesday): such a deployment needs local-day partitions first.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import warnings
from collections.abc import Iterator, Sequence

import dagster as dg

WORK_DAY_DEADLINE_CRON = "0 7 * * 2-6"
"""07:00 Tuesday to Saturday: the list of the work day (Monday to Friday) before each tick."""
SUSPECT_LIST_KEYS = (
    dg.AssetKey("timesheet_scores"),
    dg.AssetKey("suspect_timesheets"),
    dg.AssetKey("investigator_report"),
)
MODEL_KEY = dg.AssetKey("fraud_model")
MODEL_WARN_AFTER = dt.timedelta(days=7)
MODEL_FAIL_AFTER = dt.timedelta(days=8)
FRESHNESS_SENSOR_NAME = "suspect_list_freshness_sensor"
FRESHNESS_JOB_NAME = "suspect_list_freshness_job"


def deadline_in_words(timezone: str) -> str:
    return (
        f"the previous work day's partition is materialized by 07:00 {timezone}, checked "
        "Tuesday to Saturday (Monday morning expects Friday's)"
    )


def model_policy() -> dg.FreshnessPolicy:
    return dg.FreshnessPolicy.time_window(
        fail_window=MODEL_FAIL_AFTER, warn_window=MODEL_WARN_AFTER
    )


@contextlib.contextmanager
def _superseded_on_purpose() -> Iterator[None]:
    """Dagster marks the check factories superseded by freshness policies, but a policy cannot
    say which partition must exist (see the module docstring): silence that one warning here
    instead of on every load of the code location."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        yield


def partition_freshness_checks(
    timezone: str, keys: Sequence[dg.AssetKey] = SUSPECT_LIST_KEYS
) -> Sequence[dg.AssetChecksDefinition]:
    """One check per suspect-list asset: the previous work day's partition is materialized.
    WARN, not ERROR, and not blocking: a late list is an operations alert, not a reason to
    stop the next run that would produce it."""
    with _superseded_on_purpose():
        return dg.build_time_partition_freshness_checks(
            assets=list(keys),
            deadline_cron=WORK_DAY_DEADLINE_CRON,
            timezone=timezone,
            severity=dg.AssetCheckSeverity.WARN,
        )


_UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def freshness_run_waiting(instance: dg.DagsterInstance) -> str | None:
    """The status of an unfinished freshness run, if there is one.

    Dagster's freshness sensor counts a check as being evaluated only once its run has started;
    while the run waits in the one-at-a-time queue (behind a batch's daily run) it requested
    another run on every tick: measured, four in two minutes, each paying a run launch in the
    queue the next batch then waits in (benchmarks/timeliness.py)."""
    runs = instance.get_runs(
        dg.RunsFilter(job_name=FRESHNESS_JOB_NAME, statuses=_UNFINISHED), limit=1
    )
    return runs[0].status.value.lower() if runs else None


def with_freshness(defs: dg.Definitions, timezone: str) -> dg.Definitions:
    """`defs` with the model's policy, plus the suspect list's partition checks and the sensor
    that runs them after each deadline, in the investigators' `timezone`."""
    checks = partition_freshness_checks(timezone)
    # A named job as the sensor's target: the UI then shows its name and description, where an
    # asset-selection target shows a Python repr of the selection.
    job = dg.define_asset_job(
        FRESHNESS_JOB_NAME,
        selection=dg.AssetSelection.checks(*checks),
        description=f"Freshness checks of the suspect list: {deadline_in_words(timezone)}.",
    )
    with _superseded_on_purpose():
        inner = dg.build_sensor_for_freshness_checks(
            freshness_checks=checks, name=FRESHNESS_SENSOR_NAME
        )

    @dg.sensor(
        name=FRESHNESS_SENSOR_NAME,
        job=job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="After each deadline, runs the suspect list's freshness checks: "
        f"{deadline_in_words(timezone)}. A failed check (WARN) is the late-list alert; it is "
        "not re-run until a run materializes the missing partition.",
    )
    def suspect_list_freshness_sensor(
        context: dg.SensorEvaluationContext,
    ) -> dg.RunRequest | dg.SkipReason | None:
        waiting = freshness_run_waiting(context.instance)
        if waiting:
            return dg.SkipReason(f"a freshness run is already {waiting}")
        # Dagster's own evaluation (which checks are due), under a readable target.
        result = inner(context)
        return result if isinstance(result, dg.RunRequest | dg.SkipReason) else None

    mapped = defs.map_resolved_asset_specs(
        func=lambda spec: dg.apply_freshness_policy(spec, model_policy()),
        selection=[MODEL_KEY],
    )
    return dg.Definitions.merge(
        mapped,
        dg.Definitions(asset_checks=checks, jobs=[job], sensors=[suspect_list_freshness_sensor]),
    )
