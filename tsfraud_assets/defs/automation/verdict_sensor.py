"""New verdicts reach the model: a sensor that refreshes the labels and retrains.

Verdict files are named `<decided_at>-<id>.parquet` (dispositions.py), so the newest file name
is a complete cursor: anything sorting after it is new. One run per tick, whatever the number
of new verdicts, so a day of reviewing costs a few retrainings, not one per click; the
promotion check inside `fraud_model` keeps a worse candidate from scoring anything.
"""

from __future__ import annotations

import dagster as dg

from tsfraud_assets.defs.automation.schedules import PIPELINE_TAG
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.reviews.dispositions import verdict_files

VERDICT_SENSOR_NAME = "verdict_sensor"
VERDICT_CHECK_SECONDS = 6 * 3600
"""How often new verdicts are looked for (and at most how often they retrain the model)."""

verdict_labels_job = dg.define_asset_job(
    "verdict_labels_job",
    selection=dg.AssetSelection.assets(
        "suspect_dispositions", "investigation_labels", "fraud_model"
    ),
    tags={PIPELINE_TAG: "model"},
    description="Rebuild investigation_labels with the investigators' new verdicts and retrain.",
)


def new_verdicts(files: list[str], cursor: str | None) -> list[str]:
    return [name for name in files if cursor is None or name > cursor]


@dg.sensor(
    name=VERDICT_SENSOR_NAME,
    job=verdict_labels_job,
    minimum_interval_seconds=VERDICT_CHECK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests a labels refresh and retraining when investigators recorded verdicts.",
)
def verdict_sensor(context: dg.SensorEvaluationContext, lake: Lake) -> dg.SensorResult:
    fresh = new_verdicts(verdict_files(lake), context.cursor)
    if not fresh:
        return dg.SensorResult(skip_reason=f"no verdicts after {context.cursor or 'the start'}")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"verdicts-through-{fresh[-1]}",
                tags={"tsfraud/new_verdicts": str(len(fresh))},
            )
        ],
        cursor=fresh[-1],
    )
