"""What runs when, besides the batch sensor: the weekly retraining and the daily close.

`timesheet_batch_sensor` (sensors.py) is the main trigger: every changed work date flows through
the daily chain within a minute or two of reaching the source. Two schedules cover what a
change-driven trigger cannot:

* `weekly_model_retraining`, Monday 05:00 local (`TSFRAUD_TIMEZONE`, default Europe/London),
  materializes `fraud_model` alone. The model is deliberately outside the daily chain (a model
  per batch would make scores incomparable within a week); the promotion check runs inside the
  asset, so a worse candidate is stored but never scores anything. Monday 05:00 comes after
  Saturday's close has built Friday's features and before Tuesday's close scores Monday with the
  new model.
* `daily_close`, 05:30 local Tuesday to Saturday, re-runs the previous work day's partition
  through the daily chain. The sensor's high-water mark can step over a row whose transaction
  committed after a later one was already seen (its `updated_at` is older than the cursor), and a
  daemon outage or a stopped sensor leaves the day half-processed; this run rebuilds the day from
  the source as it stands 90 minutes before the 07:00 freshness deadline (freshness.py), on the
  same days that deadline is checked. It costs one single-day run per work day.

No automation conditions. `AutomationCondition.eager()` on the downstream assets would
duplicate the sensor: its runs already carry every daily asset from ingest to the reports, so
eager would only add an always-on evaluation loop, and eager acts on the latest partition alone,
so it would not cover the late edits to older days that the sensor handles. Worse,
`timesheet_scores` depends on `fraud_model`: eager would re-score just the latest day after each
retraining, leaving the rest of the week scored by the previous model.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

RETRAIN_SCHEDULE_NAME = "weekly_model_retraining"
RETRAIN_CRON = "0 5 * * 1"
"""Monday 05:00: after Saturday's close has built Friday's features."""
DAILY_CLOSE_SCHEDULE_NAME = "daily_close"
DAILY_CLOSE_CRON = "30 5 * * 2-6"
"""05:30 Tuesday to Saturday: the work day before each 07:00 freshness deadline."""
PIPELINE_TAG = "tsfraud/pipeline"
"""Run tag the production queue limits on (deploy/dagster.production.yaml)."""

fraud_model_job = dg.define_asset_job(
    "fraud_model_job",
    selection=dg.AssetSelection.assets("fraud_model"),
    tags={PIPELINE_TAG: "model"},
    description="Retrain the fraud model; it is promoted only if it beats the current one.",
)


def retraining_schedule(timezone: str) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name=RETRAIN_SCHEDULE_NAME,
        job=fraud_model_job,
        cron_schedule=RETRAIN_CRON,
        execution_timezone=timezone,
        # Declared on: a new deployment that forgets to switch it on would score with a model
        # that only the freshness policy notices getting old.
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Weekly retraining of fraud_model, Monday 05:00 local time.",
    )


def daily_close_request(
    scheduled: dt.datetime, timezone: str, partitions: dg.TimeWindowPartitionsDefinition
) -> dg.RunRequest | dg.SkipReason:
    """The run for the local day before `scheduled`, if that day is a complete partition.

    Partitions are UTC days. Up to UTC+5:30 the local previous day has ended in UTC by 05:30
    local; further east it has not, and processing a day still being written would be wrong,
    so the tick skips and says why (such a deployment needs local-day partitions)."""
    local_day = scheduled.astimezone(zoneinfo.ZoneInfo(timezone)).date()
    key = (local_day - dt.timedelta(days=1)).isoformat()
    with dg.partition_loading_context(effective_dt=scheduled):
        first, last = partitions.get_first_partition_key(), partitions.get_last_partition_key()
    if first is None or last is None or key < first:
        return dg.SkipReason(f"{key} is before the first partition ({first})")
    if key > last:
        return dg.SkipReason(
            f"{key} has not ended in UTC at {scheduled.isoformat()} ({timezone}); "
            f"the latest complete partition is {last}"
        )
    return dg.RunRequest(
        run_key=f"{DAILY_CLOSE_SCHEDULE_NAME}-{key}",
        partition_key=key,
        tags={PIPELINE_TAG: "daily", "tsfraud/trigger": DAILY_CLOSE_SCHEDULE_NAME},
    )


def daily_close_schedule(
    timezone: str,
    daily_job: UnresolvedAssetJobDefinition,
    partitions: dg.TimeWindowPartitionsDefinition,
) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=DAILY_CLOSE_SCHEDULE_NAME,
        job=daily_job,
        cron_schedule=DAILY_CLOSE_CRON,
        execution_timezone=timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Rebuild the previous work day through the daily chain at 05:30 local, "
        "whatever the batch sensor did.",
    )
    def _daily_close(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        scheduled = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
        return daily_close_request(scheduled, timezone, partitions)

    return _daily_close


def automation_schedules(
    timezone: str,
    daily_job: UnresolvedAssetJobDefinition,
    partitions: dg.TimeWindowPartitionsDefinition,
) -> list[dg.ScheduleDefinition]:
    """Both schedules in the investigators' time zone (the settings' `TSFRAUD_TIMEZONE`)."""
    return [retraining_schedule(timezone), daily_close_schedule(timezone, daily_job, partitions)]
