"""Deciding whether a newly trained model replaces the current one.

Production has no ground truth, only investigation outcomes, so models are compared on a
held-out window of labelled days that neither model trained on (the window must start after the
candidate's train_end). Promotion requires the candidate to be at least as good on *both*
PR-AUC and precision at the alert budget: a model that ranks better overall but fills the daily
list with more false alarms costs investigators time, and vice versa.

Known bias (documented, not fixable here): which days got investigated depended on the list the
*current* model produced, so held-out labels favour the incumbent. The rule "at least as good"
(not "better by a margin") keeps that bias from blocking every challenger.
"""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    roc_auc_score,
)

from tsfraud_assets.lib.formatting import fmt3 as _fmt
from tsfraud_assets.lib.modeling.features import to_day
from tsfraud_assets.lib.modeling.score import score_day

if TYPE_CHECKING:
    from tsfraud_assets.lib.modeling.train import TrainedModel

PR_AUC_KEY = "pr_auc"
PRECISION_KEY = "precision_at_budget"


def holdout_metrics(
    model: TrainedModel,
    features: pd.DataFrame,
    labels: pd.DataFrame,
    window: tuple[date, date],
    *,
    alert_budget: float = 0.01,
    min_suspects: int = 1,
) -> dict[str, Any]:
    """Measure `model` on employee-days with work_date in `window` (inclusive both ends).

    * `pr_auc` / `roc_auc`: on the labelled days only, confirmed (1) vs cleared (0): can the
      model tell real cases from the look-alikes investigators had to clear?
    * `precision_at_budget`: confirmed days among *all* daily suspects (top-k by the production
      rule); unlabelled suspects count as not confirmed, so it is a lower bound, and it rewards
      putting known frauds on the list rather than staying off labelled days.
    * `labelled_precision_at_budget`, `recall_at_budget` (share of confirmed days listed) and
      counts for context. Metrics are NaN when undefined (e.g. a one-class window).

    Every case closed by now counts, whenever it closed: this is evaluation after the fact,
    not training. Several cases on one day: confirmed wins.
    """
    start, end = window
    if start > end:
        raise ValueError(f"window start {start} is after its end {end}")
    work_date = to_day(features["work_date"])
    in_window = ((work_date >= pd.Timestamp(start)) & (work_date <= pd.Timestamp(end))).to_numpy()
    scores = score_day(
        model,
        features.loc[in_window],
        alert_budget=alert_budget,
        min_suspects=min_suspects,
        with_reasons=False,
    )
    scores["work_date"] = to_day(scores["work_date"]).to_numpy()

    lab = labels.copy()
    lab["work_date"] = to_day(lab["work_date"]).to_numpy()
    lab["employee_id"] = lab["employee_id"].astype("int64")
    outcome = lab["outcome"].astype("string").str.lower()
    closed = lab["closed_at"].notna() if "closed_at" in lab.columns else True
    lab = lab.loc[(outcome.isin(["confirmed", "cleared"]).fillna(False) & closed).to_numpy()]
    lab = lab.assign(y=(lab["outcome"].astype("string").str.lower() == "confirmed").astype(int))
    per_day = lab.groupby(["employee_id", "work_date"], sort=True)["y"].max().reset_index()
    merged = scores.merge(per_day, how="left", on=["employee_id", "work_date"])
    labelled = merged["y"].notna().to_numpy()
    y = merged.loc[labelled, "y"].to_numpy(dtype="int64")
    s = merged.loc[labelled, "fraud_score"].to_numpy(dtype="float64")
    both = len(y) > 0 and 0 < y.sum() < len(y)
    suspect = merged["is_suspect"].to_numpy(dtype=bool)
    confirmed = (merged["y"] == 1).to_numpy()
    n_suspects = int(suspect.sum())
    n_confirmed = int(confirmed.sum())
    return {
        "model_version": model.version,
        "window": [start.isoformat(), end.isoformat()],
        "alert_budget": float(alert_budget),
        "n_days": int(merged["work_date"].nunique()),
        "n_rows": len(merged),
        "n_labelled": int(labelled.sum()),
        "n_confirmed": n_confirmed,
        "n_cleared": int(labelled.sum()) - n_confirmed,
        "n_suspects": n_suspects,
        PR_AUC_KEY: float(average_precision_score(y, s)) if both else float("nan"),
        "roc_auc": float(roc_auc_score(y, s)) if both else float("nan"),
        PRECISION_KEY: int((suspect & confirmed).sum()) / n_suspects
        if n_suspects
        else float("nan"),
        "labelled_precision_at_budget": int((suspect & confirmed).sum())
        / int((suspect & labelled).sum())
        if (suspect & labelled).any()
        else float("nan"),
        "recall_at_budget": int((suspect & confirmed).sum()) / n_confirmed
        if n_confirmed
        else float("nan"),
    }


def _num(metrics: dict[str, Any], key: str) -> float:
    value = metrics.get(key)
    if value is None:
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def should_promote(
    candidate_metrics: dict[str, Any],
    current_metrics: dict[str, Any] | None,
    *,
    tolerance: float = 0.0,
) -> tuple[bool, str]:
    """Promote iff the candidate is at least as good (within `tolerance`) as the current model
    on both `pr_auc` and `precision_at_budget`, measured on the same held-out window. No current
    model: promote. A candidate metric that is missing/NaN cannot show it is as good: reject.
    Returns (decision, a sentence for the run log / investigators' change note)."""
    if current_metrics is None:
        return True, "no current model: promoting the candidate"
    cand_window = candidate_metrics.get("window")
    curr_window = current_metrics.get("window")
    if (
        cand_window is not None
        and curr_window is not None
        and list(cand_window) != list(curr_window)
    ):
        return False, (
            f"not promoted: metrics come from different windows ({cand_window} vs "
            f"{curr_window}), so they cannot be compared"
        )
    verdicts: list[str] = []
    ok = True
    for key, label in ((PR_AUC_KEY, "PR-AUC"), (PRECISION_KEY, "precision at budget")):
        cand, curr = _num(candidate_metrics, key), _num(current_metrics, key)
        if math.isnan(cand):
            ok = False
            verdicts.append(f"{label} of the candidate is unknown (current {_fmt(curr)})")
        elif math.isnan(curr):
            verdicts.append(f"{label} {_fmt(cand)} (current unknown)")
        elif cand + tolerance >= curr:
            word = "equal" if np.isclose(cand, curr, rtol=0, atol=1e-12) else "better"
            verdicts.append(f"{label} {_fmt(cand)} vs {_fmt(curr)} ({word})")
        else:
            ok = False
            verdicts.append(f"{label} {_fmt(cand)} vs {_fmt(curr)} (worse)")
    head = "promoted" if ok else "not promoted"
    return ok, f"{head}: " + "; ".join(verdicts)
