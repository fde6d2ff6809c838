"""How good is the promoted model really? Measured against the simulator's ground truth.

Production only ever sees investigation outcomes, which cover a small, list-driven minority of
days; promotion (`modeling.promote`) has to live with that. A simulated firm knows every fraud,
so there the list can be measured for what it is meant to do: put frauds, of every type, at the
top of each day. Two baselines are measured on the very same days in the same call, because a
number alone says nothing about whether the model is worth running: the hand-written rules
alone, and a naive IsolationForest on raw daily totals.

Only days after the promoted model's training window count: the model has seen the labels and
feature rows up to `train_end`, so scores of those days flatter it.

The `model_evaluation` asset and `benchmarks/detection.py` both go through here, so the number in
the Dagster UI and the benchmark's are computed the same way.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from fsspec.core import url_to_fs

from tsfraud_assets.defs.model import model_store
from tsfraud_assets.defs.suspects.scoring import SCORES_DATASET
from tsfraud_assets.lib import lake_layout
from tsfraud_assets.lib.formatting import fmt3 as _fmt
from tsfraud_assets.lib.formatting import json_safe
from tsfraud_assets.lib.modeling.evaluate import (
    baseline_isolation_forest_scores,
    baseline_rules_scores,
    budget_key,
    compare,
)
from tsfraud_assets.lib.modeling.features import to_day
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.warehouse import Warehouse
from tsfraud_assets.settings import GROUND_TRUTH_ENV

BUDGETS: tuple[float, ...] = (0.005, 0.01)
"""Alert budgets reported: half and all of the production default (1% of employee-days)."""
HEADLINE_BUDGET = 0.01

MODEL = "model"
RULES = "rules"
IFOREST = "isolation_forest"
RANKINGS: tuple[str, ...] = (MODEL, RULES, IFOREST)
RANKING_LABELS: dict[str, str] = {
    MODEL: "model",
    RULES: "rules only",
    IFOREST: "IsolationForest (daily totals)",
}

TARGET_PR_AUC = 0.85
TARGET_PRECISION = 0.8
TARGET_TYPE_RECALL = 0.6


class EvaluationError(RuntimeError):
    """Nothing meaningful can be measured; the message says what is missing and what to do."""


class GroundTruthMissing(EvaluationError):
    """No ground-truth file: the source is not a simulated firm (or the path is wrong)."""


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def load_ground_truth(location: str) -> pd.DataFrame:
    """The simulator's ground truth (a local path or any fsspec URL), or GroundTruthMissing."""
    fs, path = url_to_fs(location)
    if not fs.exists(path):
        raise GroundTruthMissing(
            f"no ground-truth file at {location}: model evaluation only makes sense against a "
            f"simulated source (`tsfraud simulate` writes one); set {GROUND_TRUTH_ENV} to its "
            "path, or do not materialize model_evaluation for a real source"
        )
    with fs.open(path, "rb") as f:
        truth = pq.read_table(f).to_pandas()
    missing = [c for c in ("employee_id", "work_date", "is_fraud", "fraud_type") if c not in truth]
    if missing:
        raise EvaluationError(f"ground truth {location} lacks column(s): {', '.join(missing)}")
    return truth


@dataclass(frozen=True)
class ModelWindow:
    version: str
    train_end: dt.date
    mode: str | None


def model_window(lake: Lake, version: str | None = None) -> ModelWindow:
    """The training window of `version` (default: the promoted one), from its metadata.json."""
    version = version or model_store.current_version(lake)
    if version is None:
        raise EvaluationError(
            f"no promoted fraud model under {lake.uri(model_store.MODEL_DIR)}: "
            "materialize fraud_model and timesheet_scores first"
        )
    meta_path = lake_layout.model_metadata(version)
    if not lake.exists(meta_path):
        raise EvaluationError(f"model {version} has no metadata.json at {lake.uri(meta_path)}")
    meta = lake.read_json(meta_path)
    try:
        # A refit on every known label trains up to today; what it has not seen are the days
        # after its last label (its `label_horizon`), not the days after today.
        window = meta["training_window"]
        end = dt.date.fromisoformat(str(window.get("label_horizon") or window["end"])[:10])
    except (KeyError, TypeError, ValueError) as exc:
        raise EvaluationError(
            f"metadata.json of model {version} has no training_window.end"
        ) from exc
    return ModelWindow(version=version, train_end=end, mode=meta.get("mode"))


def unseen_rows(scores: pd.DataFrame, windows: Mapping[str, ModelWindow]) -> pd.DataFrame:
    """Rows whose work_date is after the training window of the model version that scored them.

    Partitions scored before the latest promotion carry an older model_version; each row is
    judged against its own model's window, so no row counts that its scorer trained on.
    Rows of a version without known window are dropped (their scorer's knowledge is unknown).
    """
    day = to_day(scores["work_date"]).to_numpy()
    ends = scores["model_version"].map({v: pd.Timestamp(w.train_end) for v, w in windows.items()})
    keep = ends.notna().to_numpy() & (day > pd.to_datetime(ends).to_numpy())
    return scores.loc[keep].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


@dataclass
class Evaluation:
    """The model and both baselines measured on the same employee-days."""

    results: dict[str, dict[str, Any]]
    """Per ranking (RANKINGS): `modeling.evaluate.evaluate` output."""
    budgets: tuple[float, ...]
    """Fixed budgets (BUDGETS) plus, last, the fraud-rate budget when there is fraud."""
    fraud_rate_budget: float | None
    first_day: dt.date
    last_day: dt.date
    n_rows: int
    n_fraud: int
    context: dict[str, Any] = field(default_factory=dict)
    """Provenance for the report (model version, window, ground-truth path)."""

    @property
    def fraud_types(self) -> list[str]:
        return sorted(self.results[MODEL]["fraud_count_by_type"])


def evaluate_with_baselines(
    features: pd.DataFrame,
    model_scores: pd.DataFrame,
    ground_truth: pd.DataFrame,
    budgets: Sequence[float] = BUDGETS,
    *,
    seed: int = 0,
) -> Evaluation:
    """Measure `model_scores` and both baselines on exactly the work_dates `model_scores` holds.

    A budget equal to the window's fraud rate is added: at a 1% budget, recall cannot exceed
    1% / fraud rate, so at a 1.5% fraud rate a perfect ranking still "misses" a third of the
    frauds. At the fraud-rate budget each day's list is about as long as its number of fraud
    days (R-precision), so recall there is what shows whether a fraud type is ranked high at
    all, and it is the recall the per-type target is checked at.
    """
    if model_scores.empty:
        raise EvaluationError("no scored employee-days to evaluate")
    scores = model_scores.copy()
    scores["work_date"] = to_day(scores["work_date"]).to_numpy()
    days = set(scores["work_date"])
    feats = features.copy()
    feats["work_date"] = to_day(feats["work_date"]).to_numpy()
    # Canonical row order: the IsolationForest baseline subsamples rows, and a warehouse returns
    # them in any order, so without this the baseline's numbers would wobble run to run.
    feats = (
        feats.loc[feats["work_date"].isin(days)]
        .sort_values(["work_date", "employee_id"], kind="stable")
        .reset_index(drop=True)
    )
    truth = ground_truth.copy()
    truth["work_date"] = to_day(truth["work_date"]).to_numpy()
    truth = truth.loc[truth["work_date"].isin(days)].reset_index(drop=True)
    if truth.empty:
        first, last = min(days).date(), max(days).date()
        raise EvaluationError(
            f"the ground truth has no employee-day between {first} and {last}: it belongs to "
            "another simulation, or those days were not simulated"
        )
    n_fraud = int(truth["is_fraud"].fillna(False).astype(bool).sum())
    rate = n_fraud / len(truth)
    all_budgets = tuple(float(b) for b in budgets)
    rate_budget = None
    if n_fraud and all(budget_key(rate) != budget_key(b) for b in all_budgets):
        rate_budget = rate
        all_budgets = (*all_budgets, rate)
    named = {
        MODEL: scores,
        RULES: baseline_rules_scores(feats),
        IFOREST: baseline_isolation_forest_scores(feats, seed=seed),
    }
    return Evaluation(
        results=compare(named, truth, all_budgets),
        budgets=all_budgets,
        fraud_rate_budget=rate_budget,
        first_day=min(days).date(),
        last_day=max(days).date(),
        n_rows=len(truth),
        n_fraud=n_fraud,
    )


def evaluate_promoted_model(
    warehouse: Warehouse,
    lake: Lake,
    ground_truth: str,
    budgets: Sequence[float] = BUDGETS,
) -> Evaluation:
    """Evaluate the stored daily lists of the days after the promoted model's training window.

    The stored lists are measured, not a fresh scoring: they are what investigators received.
    Ground truth is checked first, since without it nothing else matters.
    """
    truth = load_ground_truth(ground_truth)
    promoted = model_window(lake)
    days = [d for d in lake.list_partitions(SCORES_DATASET) if d > promoted.train_end]
    if not days:
        raise EvaluationError(
            f"no scored day after {promoted.train_end}, the end of model {promoted.version}'s "
            "training window: materialize timesheet_scores for later work dates first"
        )
    table = lake.read_partitions(SCORES_DATASET, days)
    if table is None:  # listed but emptied meanwhile
        raise EvaluationError(f"the score partitions {days[0]}..{days[-1]} could not be read")
    stored = table.to_pandas()
    windows = {promoted.version: promoted}
    for version in stored["model_version"].dropna().unique().tolist():
        if str(version) not in windows:
            try:
                windows[str(version)] = model_window(lake, str(version))
            except EvaluationError:
                continue  # its rows are dropped by unseen_rows
    scores = unseen_rows(stored, windows)
    if scores.empty:
        raise EvaluationError(
            f"every stored score after {promoted.train_end} came from a model that trained on "
            "its day (or has no metadata): re-materialize timesheet_scores with the promoted model"
        )
    features = warehouse.query(
        f"select * from {warehouse.relation('employee_day_features')} "
        "where work_date between ? and ?",
        [days[0], days[-1]],
    )
    result = evaluate_with_baselines(features, scores, truth, budgets)
    result.context = {
        "model_version": promoted.version,
        "model_mode": promoted.mode,
        "train_end": promoted.train_end.isoformat(),
        "ground_truth": ground_truth,
        "rows_by_model_version": {
            str(k): int(v) for k, v in scores["model_version"].value_counts().sort_index().items()
        },
        "rows_dropped_seen_by_their_model": len(stored) - len(scores),
    }
    return result


# --------------------------------------------------------------------------------------------
# Targets and reporting
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetCheck:
    name: str
    value: float
    target: str
    passed: bool


def _get(metrics: Mapping[str, Any], key: str) -> float:
    value = metrics.get(key)
    return float(value) if value is not None else float("nan")


def _ge(value: float, threshold: float) -> bool:
    return not math.isnan(value) and value >= threshold


def check_targets(
    result: Evaluation,
    *,
    pr_auc: float = TARGET_PR_AUC,
    precision: float = TARGET_PRECISION,
    type_recall: float = TARGET_TYPE_RECALL,
    budget: float = HEADLINE_BUDGET,
) -> list[TargetCheck]:
    """The model's targets: PR-AUC, precision of the daily list at `budget`, recall of every
    fraud type at the fraud-rate budget (see `evaluate_with_baselines` for why there), and
    strictly ahead of both baselines on PR-AUC and on precision at `budget`."""
    model = result.results[MODEL]
    key = budget_key(budget)
    model_pr_auc = _get(model, "pr_auc")
    model_precision = _get(model, f"precision_at_{key}")
    checks = [
        TargetCheck("PR-AUC", model_pr_auc, f">= {pr_auc:g}", _ge(model_pr_auc, pr_auc)),
        TargetCheck(
            f"precision at {budget:.1%}",
            model_precision,
            f">= {precision:g}",
            _ge(model_precision, precision),
        ),
    ]
    if result.fraud_rate_budget is not None:
        rate_key = budget_key(result.fraud_rate_budget)
        by_type = model["recall_by_fraud_type"][rate_key]
        for fraud_type in result.fraud_types:
            value = float(by_type.get(fraud_type, float("nan")))
            checks.append(
                TargetCheck(
                    f"recall of {fraud_type} at fraud-rate budget",
                    value,
                    f">= {type_recall:g}",
                    _ge(value, type_recall),
                )
            )
    for metric, label in (
        ("pr_auc", "PR-AUC"),
        (f"precision_at_{key}", f"precision at {budget:.1%}"),
    ):
        mine = _get(model, metric)
        for base in (RULES, IFOREST):
            theirs = _get(result.results[base], metric)
            checks.append(
                TargetCheck(
                    f"{label} ahead of {RANKING_LABELS[base]}",
                    mine - theirs,
                    f"> 0 (model {_fmt(mine)} vs {_fmt(theirs)})",
                    not math.isnan(mine) and (math.isnan(theirs) or mine > theirs),
                )
            )
    return checks


def _budget_label(result: Evaluation, budget: float) -> str:
    if result.fraud_rate_budget is not None and budget_key(budget) == budget_key(
        result.fraud_rate_budget
    ):
        return f"fraud rate ({budget:.2%})"
    return f"{budget:.1%}"


def _markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    aligns = ["---"] + ["---:"] * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(aligns) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def metrics_table(result: Evaluation) -> str:
    """Markdown: one row per metric, one column per ranking."""
    header = ["metric", *(RANKING_LABELS[r] for r in RANKINGS)]
    rows: list[list[str]] = []
    for metric, label in (("pr_auc", "PR-AUC"), ("roc_auc", "ROC-AUC")):
        rows.append([label, *(_fmt(_get(result.results[r], metric)) for r in RANKINGS)])
    for b in result.budgets:
        key, where = budget_key(b), _budget_label(result, b)
        for metric, label in (("precision", "precision"), ("recall", "recall")):
            rows.append(
                [
                    f"{label} at {where}",
                    *(_fmt(_get(result.results[r], f"{metric}_at_{key}")) for r in RANKINGS),
                ]
            )
    return _markdown(header, rows)


def recall_by_type_table(result: Evaluation, budgets: Sequence[float] | None = None) -> str:
    """Markdown: recall per fraud type (rows) for each ranking at each budget (columns).

    Default budgets: the headline 1% and the fraud-rate budget, the two that tell apart "capped
    by the list length" from "ranked low"."""
    if budgets is None:
        budgets = [HEADLINE_BUDGET]
        if result.fraud_rate_budget is not None:
            budgets.append(result.fraud_rate_budget)
    short = {MODEL: "model", RULES: "rules", IFOREST: "iforest"}
    header = ["fraud type", "fraud days"]
    columns: list[tuple[str, str]] = []
    for b in budgets:
        for r in RANKINGS:
            columns.append((r, budget_key(b)))
            header.append(f"{short[r]} @ {_budget_label(result, b)}")
    counts = result.results[MODEL]["fraud_count_by_type"]
    rows = []
    for fraud_type in result.fraud_types:
        cells = [fraud_type, str(counts[fraud_type])]
        for r, key in columns:
            value = result.results[r]["recall_by_fraud_type"].get(key, {}).get(fraud_type)
            cells.append(_fmt(float(value)) if value is not None else "n/a")
        rows.append(cells)
    return _markdown(header, rows)


def targets_table(checks: Sequence[TargetCheck]) -> str:
    return _markdown(
        ["target", "value", "required", "result"],
        [[c.name, _fmt(c.value), c.target, "PASS" if c.passed else "FAIL"] for c in checks],
    )


__all__ = [
    "BUDGETS",
    "GROUND_TRUTH_ENV",
    "IFOREST",
    "MODEL",
    "RANKINGS",
    "RULES",
    "Evaluation",
    "EvaluationError",
    "GroundTruthMissing",
    "ModelWindow",
    "TargetCheck",
    "check_targets",
    "evaluate_promoted_model",
    "evaluate_with_baselines",
    "json_safe",
    "load_ground_truth",
    "metrics_table",
    "model_window",
    "recall_by_type_table",
    "targets_table",
    "unseen_rows",
]
