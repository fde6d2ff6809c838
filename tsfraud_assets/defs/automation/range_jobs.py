"""The named jobs `tsfraud run` (and the demo) launch, one per step of a range.

Launching by selection (`dg.materialize`) records every run as `__ephemeral_asset_job__`,
which tells a data engineer in the run list nothing. Each step is a job declared with the rest
of the Definitions instead, so a run reads "suspect_list_job 2026-03-02...2026-06-29" and the
same step can be launched from the UI. The reference and model steps are the sensor's and the
schedule's own jobs (same selection); the two partitioned steps and the evaluation get theirs.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from tsfraud_assets.defs.automation.schedules import PIPELINE_TAG, fraud_model_job
from tsfraud_assets.defs.automation.sensors import reference_tables_job
from tsfraud_assets.defs.dbt.assets import REFERENCE_MODELS


@dataclass(frozen=True)
class Step:
    name: str
    selection: dg.AssetSelection
    partitioned: bool
    job_name: str
    description: str = ""


REFERENCE = (
    dg.AssetSelection.groups("raw").required_multi_asset_neighbors()
    - dg.AssetSelection.assets("raw_timesheet_entries", "raw_workstation_activity")
) | dg.AssetSelection.assets(*REFERENCE_MODELS.split())
MODEL = dg.AssetSelection.assets("fraud_model")
# Needs the simulator's ground truth: the demo and the detection benchmark run it, not `run`.
EVALUATION = dg.AssetSelection.assets("model_evaluation")

STEPS = (
    Step("reference", REFERENCE, partitioned=False, job_name=reference_tables_job.name),
    Step(
        "ingest-to-features",
        # The entry history and its dbt views (entry_history, int_entry_revisions) are upstream
        # of the features: they carry the changes after approval. Selecting "downstream of the
        # history" instead would now pull in the model, the scores and the reports as well.
        dg.AssetSelection.assets("employee_day_features").upstream() - REFERENCE,
        partitioned=True,
        job_name="timesheet_features_job",
        description="Raw ingest → Spark → dbt employee-day features for a range of work dates "
        "(the first half of `tsfraud run`; the model trains on its output).",
    ),
    Step("model", MODEL, partitioned=False, job_name=fraud_model_job.name),
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
        job_name="suspect_list_job",
        description="Scores, suspect list and investigators' reports for a range of work dates, "
        "with the promoted model (the second half of `tsfraud run`).",
    ),
)
EVALUATION_STEP = Step(
    "evaluation",
    EVALUATION,
    partitioned=False,
    job_name="model_evaluation_job",
    description="Judge the promoted model against the simulator's ground truth (demo and "
    "detection benchmark only: production has no ground truth).",
)


def build_range_jobs(partitions: dg.PartitionsDefinition) -> list[UnresolvedAssetJobDefinition]:
    """The steps' jobs that are not already declared elsewhere (sensor, schedule)."""
    return [
        dg.define_asset_job(
            step.job_name,
            selection=step.selection,
            partitions_def=partitions if step.partitioned else None,
            tags={PIPELINE_TAG: "daily" if step.partitioned else "evaluation"},
            description=step.description,
        )
        for step in (*STEPS, EVALUATION_STEP)
        if step.description
    ]
