"""When each layer counts as late, declared once over the asset graph.

Investigators start their day at 07:00 (local, `TSFRAUD_TIMEZONE`) with the previous work day's
suspect list. Two mechanisms, because they answer different questions:

* Freshness policies (evaluated by the daemon, shown on every asset) say "this asset was
  refreshed in the day before 07:00". Dagster judges them per asset, not per partition: a
  re-run of last month's partition would satisfy them.
* Time-partition freshness checks (run by their own sensor) say "the previous work day's
  partition exists by 07:00", which is what investigators rely on.

Work days are Monday to Friday: the deadline ticks Tuesday to Saturday at 07:00 and each tick
expects the partition of the day before it, so Monday morning still asks for Friday's list and a
weekend without timesheets is not an alert. The model retrains on its own cadence and only
needs to be recent.

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


def suspect_list_policy(timezone: str) -> dg.FreshnessPolicy:
    # 24 h is the widest window the cron allows: refreshed at any time in the day before the
    # deadline passes; which partition was refreshed is the checks' business.
    return dg.FreshnessPolicy.cron(
        deadline_cron=WORK_DAY_DEADLINE_CRON,
        lower_bound_delta=dt.timedelta(hours=24),
        timezone=timezone,
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


def with_freshness(defs: dg.Definitions, timezone: str) -> dg.Definitions:
    """`defs` with the policies on the suspect list and the model, plus the partition checks
    and the sensor that runs them after each deadline, in the investigators' `timezone`."""
    tz = timezone
    checks = partition_freshness_checks(tz)
    with _superseded_on_purpose():
        sensor = dg.build_sensor_for_freshness_checks(
            freshness_checks=checks,
            name=FRESHNESS_SENSOR_NAME,
            default_status=dg.DefaultSensorStatus.RUNNING,
        )
    suspect_policy = suspect_list_policy(tz)
    mapped = defs.map_resolved_asset_specs(
        func=lambda spec: dg.apply_freshness_policy(spec, suspect_policy),
        selection=list(SUSPECT_LIST_KEYS),
    ).map_resolved_asset_specs(
        func=lambda spec: dg.apply_freshness_policy(spec, model_policy()),
        selection=[MODEL_KEY],
    )
    return dg.Definitions.merge(mapped, dg.Definitions(asset_checks=checks, sensors=[sensor]))
