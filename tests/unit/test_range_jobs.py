"""Every step `tsfraud run` launches is a named job of the Definitions, selecting exactly the
step's assets (so the run list reads `suspect_list_job`, not `__ephemeral_asset_job__`)."""

from __future__ import annotations

from pathlib import Path

from tsfraud_assets.definitions import build_definitions
from tsfraud_assets.defs.automation.range_jobs import EVALUATION_STEP, STEPS
from tsfraud_assets.settings import load_settings


def test_each_step_is_a_named_job_over_its_selection(tmp_path: Path) -> None:
    defs = build_definitions(load_settings({"TSFRAUD_DATA_DIR": str(tmp_path)}))
    graph = defs.resolve_asset_graph()
    names = set()
    for step in (*STEPS, EVALUATION_STEP):
        job = defs.resolve_job_def(step.job_name)
        assert not job.name.startswith("__"), step
        selected = step.selection.resolve(graph)
        assert selected and set(job.asset_layer.executable_asset_keys) == selected, step.name
        assert (job.partitions_def is not None) == step.partitioned, step.name
        assert job.description, step.name  # readable in the UI's job list
        names.add(job.name)
    assert len(names) == len(STEPS) + 1


def test_features_step_builds_the_history_and_stops_at_the_features(tmp_path: Path) -> None:
    """The entry history feeds the features (changes after approval), so the features step
    builds it and its dbt views, and nothing after the features: the model, the scores and the
    evaluation have steps of their own."""
    defs = build_definitions(load_settings({"TSFRAUD_DATA_DIR": str(tmp_path)}))
    graph = defs.resolve_asset_graph()
    step = next(s for s in STEPS if s.name == "ingest-to-features")
    keys = {k.to_user_string() for k in step.selection.resolve(graph)}
    assert {"timesheet_entry_history", "entry_history", "int_entry_revisions"} <= keys
    assert "employee_day_features" in keys
    assert not keys & {"fraud_model", "timesheet_scores", "model_evaluation", "suspect_timesheets"}
