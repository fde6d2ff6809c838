"""Measuring a ranking against the simulator's ground truth, and the two baselines to beat.

Metrics mirror how the list is used: PR-AUC (average precision) for the ranking overall, since
fraud is rare and ROC-AUC flatters rare-class rankers; and precision / recall of the *daily*
top-k at each alert budget, computed with the very ranking rule `score_day` uses, because that
is the list investigators receive. Recall per fraud_type shows which schemes slip through.

The baselines answer "is the model worth it?": the hand-written rules alone, and a naive
IsolationForest on raw daily totals. A caller scores the same days with all three and feeds each
to `evaluate` (or `compare`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.metrics import (
    average_precision_score,
    roc_auc_score,
)

from tsfraud_assets.lib.modeling.features import to_day, validate_features
from tsfraud_assets.lib.modeling.promote import holdout_metrics, should_promote
from tsfraud_assets.lib.modeling.score import daily_is_top, daily_rank

__all__ = [
    "baseline_isolation_forest_scores",
    "baseline_rules_scores",
    "compare",
    "evaluate",
    "holdout_metrics",
    "should_promote",
]

BASELINE_IFOREST_COLUMNS: tuple[str, ...] = ("total_hours", "entry_count")


def budget_key(budget: float) -> str:
    """Stable dict key for a budget: 0.005 -> '0.005'."""
    return f"{budget:g}"


def _require(frame: pd.DataFrame, name: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing required column(s): " + ", ".join(missing))


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else float("nan")


def evaluate(
    scores: pd.DataFrame,
    ground_truth: pd.DataFrame,
    budgets: Sequence[float] = (0.005, 0.01),
    *,
    min_suspects: int = 1,
) -> dict[str, Any]:
    """Score a ranking against ground truth on the work_dates present in `scores`.

    `scores`: employee_id, work_date, fraud_score (extra columns ignored; ranks are recomputed
    from fraud_score with the production rule, so baselines need no rank column).
    `ground_truth`: employee_id, work_date, is_fraud, fraud_type (lookalike optional).

    Ground-truth days that were not scored count as missed (lowest score, never flagged);
    scored days without ground truth are ranked (they occupy list slots as in production) but
    left out of every ratio. Returns a flat JSON-friendly dict; per-budget keys use
    `budget_key` ('precision_at_0.01'); ratios are NaN when undefined.
    """
    _require(scores, "scores", ("employee_id", "work_date", "fraud_score"))
    _require(ground_truth, "ground_truth", ("employee_id", "work_date", "is_fraud", "fraud_type"))
    s = scores.loc[:, ["employee_id", "work_date", "fraud_score"]].copy()
    s["employee_id"] = s["employee_id"].astype("int64")
    s["work_date"] = to_day(s["work_date"]).to_numpy()
    s["fraud_score"] = s["fraud_score"].astype("float64")
    if s.duplicated(["employee_id", "work_date"]).any():
        raise ValueError("scores has duplicate (employee_id, work_date) rows")
    s = s.reset_index(drop=True)
    ranks = daily_rank(s["work_date"], s["employee_id"], s["fraud_score"].to_numpy())
    for b in budgets:
        s[f"top_{budget_key(b)}"] = daily_is_top(s["work_date"], ranks, b, min_suspects)

    gt_cols = ["employee_id", "work_date", "is_fraud", "fraud_type"]
    if "lookalike" in ground_truth.columns:
        gt_cols.append("lookalike")
    gt = ground_truth.loc[:, gt_cols].copy()
    gt["employee_id"] = gt["employee_id"].astype("int64")
    gt["work_date"] = to_day(gt["work_date"]).to_numpy()
    gt = gt.loc[gt["work_date"].isin(set(s["work_date"]))]
    gt["is_fraud"] = gt["is_fraud"].fillna(False).astype(bool)
    merged = gt.merge(
        s, how="left", on=["employee_id", "work_date"], validate="one_to_one", indicator=True
    )
    scored = (merged["_merge"] == "both").to_numpy()
    floor = float(s["fraud_score"].min()) - 1.0 if len(s) else -1.0
    score = merged["fraud_score"].fillna(floor).to_numpy(dtype="float64")
    y = merged["is_fraud"].to_numpy(dtype=bool)
    n_fraud = int(y.sum())
    both_classes = 0 < n_fraud < len(y)

    out: dict[str, Any] = {
        "n_rows": len(merged),
        "n_days": int(merged["work_date"].nunique()),
        "n_fraud": n_fraud,
        "fraud_rate": _ratio(n_fraud, len(merged)),
        "n_truth_unscored": int((~scored).sum()),
        "n_scores_without_truth": int(len(s) - scored.sum()),
        "pr_auc": float(average_precision_score(y, score)) if both_classes else float("nan"),
        "roc_auc": float(roc_auc_score(y, score)) if both_classes else float("nan"),
        "budgets": [float(b) for b in budgets],
    }
    types = merged["fraud_type"].where(y).astype("string").fillna("unknown")
    fraud_types = sorted(types[y].unique().tolist())
    out["fraud_count_by_type"] = {t: int((types[y] == t).sum()) for t in fraud_types}
    lookalike = merged["lookalike"].astype("string") if "lookalike" in merged.columns else None
    recall_by_type: dict[str, dict[str, float]] = {}
    lookalike_rate: dict[str, float] = {}
    for b in budgets:
        key = budget_key(b)
        top = merged[f"top_{key}"].astype("boolean").fillna(False).to_numpy(dtype=bool) & scored
        tp = int((top & y).sum())
        out[f"flagged_at_{key}"] = int(top.sum())
        out[f"true_positives_at_{key}"] = tp
        out[f"precision_at_{key}"] = _ratio(tp, int(top.sum()))
        out[f"recall_at_{key}"] = _ratio(tp, n_fraud)
        recall_by_type[key] = {
            t: _ratio(int((top & y & (types == t).to_numpy()).sum()), int((types[y] == t).sum()))
            for t in fraud_types
        }
        if lookalike is not None:
            is_look = lookalike.notna().to_numpy()
            lookalike_rate[key] = _ratio(int((top & is_look).sum()), int(is_look.sum()))
    out["recall_by_fraud_type"] = recall_by_type
    if lookalike is not None:
        out["lookalike_flag_rate"] = lookalike_rate
    return out


def compare(
    named_scores: Mapping[str, pd.DataFrame],
    ground_truth: pd.DataFrame,
    budgets: Sequence[float] = (0.005, 0.01),
) -> dict[str, dict[str, Any]]:
    """`evaluate` for several rankings of the same days (model, baselines) in one call."""
    return {name: evaluate(sc, ground_truth, budgets) for name, sc in named_scores.items()}


def _score_frame(features: pd.DataFrame, score: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "employee_id": features["employee_id"].astype("int64"),
            "work_date": features["work_date"].dt.date,
            "fraud_score": np.asarray(score, dtype="float64"),
        }
    )


def baseline_rules_scores(features: pd.DataFrame) -> pd.DataFrame:
    """What the firm had before: rank by the hand-written rule count.

    Ties (most days have 0 or 1 flags) are broken by claimed hours, more money at stake first;
    the tie-break is < 1 flag, so it never reorders different flag counts. Squashed to [0, 1).
    """
    feats = validate_features(features)
    raw = (
        np.clip(feats["rule_flag_count"].to_numpy(), 0, None)
        + np.clip(feats["total_hours"].to_numpy(), 0, 24) / 100.0
    )
    return _score_frame(feats, raw / (1.0 + raw))


def baseline_isolation_forest_scores(features: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Naive anomaly baseline: IsolationForest on raw daily totals only (total_hours,
    entry_count), fitted on the frame it scores. Score = negated score_samples, in (0, 1]."""
    feats = validate_features(features)
    if len(feats) == 0:
        return _score_frame(feats, np.zeros(0))
    x = feats.loc[:, list(BASELINE_IFOREST_COLUMNS)].to_numpy(dtype="float64")
    # Fitted in a canonical row order: the forest's subsamples are drawn by position, so a
    # warehouse query without ORDER BY would otherwise give another baseline on every run.
    order = np.lexsort((feats["employee_id"].to_numpy(), feats["work_date"].to_numpy()))
    forest = IsolationForest(n_estimators=100, random_state=seed, n_jobs=1).fit(x[order])
    return _score_frame(feats, -forest.score_samples(x))
