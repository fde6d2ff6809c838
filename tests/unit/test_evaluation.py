"""The model measured against ground truth next to its baselines: the plain functions on
hand-built frames, and the `model_evaluation` asset on a tiny hand-built DuckDB and lake."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tsfraud_assets.defs.evaluation.assets import build_model_evaluation
from tsfraud_assets.defs.evaluation.measure import (
    GROUND_TRUTH_ENV,
    IFOREST,
    MODEL,
    RULES,
    EvaluationError,
    GroundTruthMissing,
    ModelWindow,
    check_targets,
    evaluate_with_baselines,
    load_ground_truth,
    metrics_table,
    recall_by_type_table,
    unseen_rows,
)
from tsfraud_assets.defs.model import model_store
from tsfraud_assets.defs.suspects.scoring import SCORES_DATASET, SCORES_SCHEMA
from tsfraud_assets.lib.modeling import FEATURE_COLUMNS
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.warehouse import DuckDBWarehouse
from tsfraud_assets.settings import load_settings

DAYS = [dt.date(2026, 5, 4) + dt.timedelta(days=i) for i in range(4)]
TRAIN_END = DAYS[1]
EMPLOYEES = 50
VERSION = "20260506T000000-abcdef12"
# Employee 1 pads hours, employee 2 is a ghost worker (daily totals like everyone's); 3 and 4 are
# honest look-alikes that trip a rule with longer days, so the rules baseline lists them first.
FRAUDS = {1: "padding", 2: "ghost"}


def features_frame(employees: int = EMPLOYEES) -> pd.DataFrame:
    rows = []
    for day in DAYS:
        for emp in range(1, employees + 1):
            row: dict[str, Any] = dict.fromkeys(FEATURE_COLUMNS, 0.0)
            hours = {3: 10.0, 4: 10.0}.get(emp, 8.0)
            row.update(
                employee_id=emp,
                work_date=day,
                total_hours=hours,
                entry_count=2.0,
                contracted_daily_hours=8.0,
                rule_flag_count=1.0 if emp in (1, 3, 4) else 0.0,
            )
            rows.append(row)
    return pd.DataFrame(rows)


def truth_frame(employees: int = EMPLOYEES) -> pd.DataFrame:
    keys = [(emp, day) for day in DAYS for emp in range(1, employees + 1)]
    return pd.DataFrame(
        {
            "employee_id": [k[0] for k in keys],
            "work_date": [k[1] for k in keys],
            "is_fraud": [k[0] in FRAUDS for k in keys],
            "fraud_type": [FRAUDS.get(k[0]) for k in keys],
            "lookalike": ["long_day" if k[0] in (3, 4) else None for k in keys],
        }
    )


def model_scores(
    days: list[dt.date], good: bool = True, employees: int = EMPLOYEES
) -> pd.DataFrame:
    """A model that puts both frauds on top (`good`), or at the very bottom."""
    rng = np.random.default_rng(0)
    rows = []
    for day in days:
        for emp in range(1, employees + 1):
            if emp in FRAUDS:
                score = (0.9 if emp == 1 else 0.8) if good else 0.001 * emp
            else:
                score = float(rng.uniform(0.05, 0.5))
            rows.append({"employee_id": emp, "work_date": day, "fraud_score": score})
    return pd.DataFrame(rows)


# --- plain functions -------------------------------------------------------------------------


def test_model_and_baselines_on_the_same_days_with_a_fraud_rate_budget() -> None:
    result = evaluate_with_baselines(features_frame(), model_scores(DAYS[2:]), truth_frame())
    assert (result.first_day, result.last_day) == (DAYS[2], DAYS[3])
    assert (result.n_rows, result.n_fraud) == (2 * EMPLOYEES, 4)  # other days left out
    assert result.fraud_rate_budget == pytest.approx(0.04)
    assert result.budgets == (0.005, 0.01, pytest.approx(0.04))
    model, rules = result.results[MODEL], result.results[RULES]
    assert model["pr_auc"] == pytest.approx(1.0)
    # 1% of 50 employee-days is a list of one a day: both listed days are frauds, half caught
    assert model["precision_at_0.01"] == 1.0 and model["recall_at_0.01"] == 0.5
    # at the fraud rate each day's list holds two: every fraud of every type is caught
    rate_key = f"{result.fraud_rate_budget:g}"
    assert model[f"recall_at_{rate_key}"] == 1.0
    assert model["recall_by_fraud_type"][rate_key] == {"ghost": 1.0, "padding": 1.0}
    # the rules put an honest long day first every day, and never see the ghost worker
    assert rules["precision_at_0.01"] == 0.0
    assert rules["recall_by_fraud_type"][rate_key]["ghost"] == 0.0
    assert set(result.results) == {MODEL, RULES, IFOREST}
    assert 0.0 <= result.results[IFOREST]["roc_auc"] <= 1.0

    # The warehouse returns rows in any order; the IsolationForest baseline (which subsamples
    # 256 rows) must not care.
    rng = np.random.default_rng(5)
    noisy = features_frame(employees=200)
    noisy["total_hours"] = rng.normal(8, 1.5, len(noisy)).round(2)
    scores, truth = model_scores(DAYS[2:], employees=200), truth_frame(employees=200)
    runs = [
        evaluate_with_baselines(frame, scores, truth).results[IFOREST]
        for frame in (noisy, noisy.sample(frac=1, random_state=1))
    ]
    assert runs[0] == runs[1]

    table = metrics_table(result)
    assert "| PR-AUC | 1.000 |" in table and "fraud rate (4.00%)" in table
    by_type = recall_by_type_table(result)
    assert by_type.splitlines()[2].startswith("| ghost | 2 |")


def test_targets_pass_for_a_perfect_ranking_and_fail_for_a_bad_one() -> None:
    good = check_targets(
        evaluate_with_baselines(features_frame(), model_scores(DAYS), truth_frame())
    )
    assert all(c.passed for c in good), [c for c in good if not c.passed]
    assert {c.name for c in good} >= {
        "PR-AUC",
        "precision at 1.0%",
        "recall of ghost at fraud-rate budget",
        "recall of padding at fraud-rate budget",
        "PR-AUC ahead of rules only",
        "precision at 1.0% ahead of IsolationForest (daily totals)",
    }
    bad = check_targets(
        evaluate_with_baselines(features_frame(), model_scores(DAYS, good=False), truth_frame())
    )
    failed = {c.name for c in bad if not c.passed}
    assert {"PR-AUC", "precision at 1.0%", "recall of ghost at fraud-rate budget"} <= failed
    assert "PR-AUC ahead of rules only" in failed


def test_rows_count_only_after_the_window_of_the_model_that_scored_them() -> None:
    scores = model_scores(DAYS).assign(model_version="new")
    scores.loc[scores["work_date"] == DAYS[2], "model_version"] = "old"
    scores.loc[scores["work_date"] == DAYS[3], "model_version"] = "unknown"
    windows = {
        "new": ModelWindow("new", TRAIN_END, "supervised"),
        "old": ModelWindow("old", DAYS[2], "supervised"),  # trained on the day it scored
    }
    kept = unseen_rows(scores, windows)
    assert kept.empty
    windows["old"] = ModelWindow("old", DAYS[0], "fallback")
    kept = unseen_rows(scores, windows)
    assert set(kept["work_date"]) == {DAYS[2]} and len(kept) == EMPLOYEES


def test_ground_truth_location_and_a_missing_file(tmp_path: Path) -> None:
    def ground_truth_location(env: dict[str, str]) -> str:
        return load_settings(env).ground_truth_location

    assert ground_truth_location({GROUND_TRUTH_ENV: "/x/truth.parquet"}) == "/x/truth.parquet"
    default = ground_truth_location({"TSFRAUD_DATA_DIR": str(tmp_path)})
    assert default == str(tmp_path.resolve() / "source.db.ground_truth.parquet")
    with pytest.raises(GroundTruthMissing, match="only makes sense against a simulated source"):
        load_ground_truth(str(tmp_path / "absent.parquet"))
    with pytest.raises(EvaluationError, match="no scored employee-days"):
        evaluate_with_baselines(features_frame(), model_scores([]), truth_frame())


# --- the asset -------------------------------------------------------------------------------


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Features of four days in DuckDB; a promoted model trained to DAYS[1] and its lists of all
    four days in the lake, hopeless on the two days it trained on and perfect afterwards."""
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        frame = features_frame()
        con.register("frame", frame)
        con.execute("create table employee_day_features as select * from frame")
    lake = Lake(root=str(tmp_path / "lake"))
    lake.write_json(
        f"{model_store.MODEL_DIR}/{VERSION}/metadata.json",
        {"version": VERSION, "mode": "supervised", "training_window": {"end": str(TRAIN_END)}},
    )
    model_store.promote(lake, VERSION, "test")
    for day in DAYS:
        scores = model_scores([day], good=day > TRAIN_END)
        scores["rank"] = scores["fraud_score"].rank(ascending=False, method="first")
        scores = scores.assign(
            rank=scores["rank"].astype("int32"),
            is_suspect=scores["rank"] <= 1,
            reasons="",
            model_version=VERSION,
            previous_score=np.nan,
            score_changed=False,
            scored_at=pd.Timestamp("2026-05-10"),
            risk_level="low",
            scoring_mode="blended",
        )
        table = pa.Table.from_pandas(scores[SCORES_SCHEMA.names], schema=SCORES_SCHEMA)
        lake.write_partition(SCORES_DATASET, day, SCORES_SCHEMA, table.to_batches())
    truth = tmp_path / "truth.parquet"
    pq.write_table(pa.Table.from_pandas(truth_frame(), preserve_index=False), truth)
    return {
        "asset": build_model_evaluation(str(truth)),
        "resources": {"warehouse": DuckDBWarehouse(path=str(db)), "lake": lake},
        "truth": truth,
    }


def test_the_asset_measures_only_days_the_model_never_saw(world: dict[str, Any]) -> None:
    result = dg.materialize([world["asset"]], resources=world["resources"])
    assert result.success
    (mat,) = result.asset_materializations_for_node("model_evaluation")
    meta: dict[str, Any] = {k: v.value for k, v in mat.metadata.items()}
    assert meta["evaluation_window"] == f"{DAYS[2]} .. {DAYS[3]}"
    assert meta["model_version"] == VERSION and meta["train_end"] == str(TRAIN_END)
    assert (meta["employee_days"], meta["fraud_days"]) == (2 * EMPLOYEES, 4)
    assert meta["model/pr_auc"] == pytest.approx(1.0)  # the hopeless days did not count
    assert meta["model/precision_at_0.01"] == 1.0
    assert meta["rules/precision_at_0.01"] == 0.0
    assert "| PR-AUC | 1.000 |" in meta["metrics"]
    assert "| ghost | 2 |" in meta["recall_by_fraud_type"]
    assert "PASS" in meta["targets"] and meta["targets_met"] is True
    results = meta["results"]
    assert results["context"]["rows_by_model_version"] == {VERSION: 2 * EMPLOYEES}
    assert results[IFOREST]["n_fraud"] == 4


def test_the_asset_fails_clearly_without_ground_truth(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    world["truth"].unlink()
    result = dg.materialize([world["asset"]], resources=world["resources"], raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert failure is not None
    assert "no ground-truth file" in failure.message
    assert "simulated source" in failure.message
