"""Daily scoring: the ranked suspect list of the "Scores" contract.

Investigators work a daily list of limited capacity: at most
`max(min_suspects, ceil(alert_budget * employee-days that day))` per work_date. The budget is a
ceiling, not a quota: only days whose calibrated risk reaches `min_risk` (default: medium, see
prior.py) or that carry a blatant red flag are listed, so a quiet weekend gives a short or empty
list instead of a 0.000 "suspect", while a busy day is still capped at what investigators can
work. The same ranking
rule is shared with evaluation (`daily_rank`) so measured precision at budget is what
investigators will see.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tsfraud_assets.lib.modeling.features import validate_features
from tsfraud_assets.lib.modeling.prior import MEDIUM_RISK, risk_level

if TYPE_CHECKING:
    from tsfraud_assets.lib.modeling.train import TrainedModel

SCORE_COLUMNS: tuple[str, ...] = (
    "employee_id",
    "work_date",
    "fraud_score",
    "rank",
    "is_suspect",
    "reasons",
    "model_version",
    "risk_level",
    "scoring_mode",
)
"""The Scores contract columns plus work_date (the partition column, for the writer).
`fraud_score` is the calibrated risk; `risk_level` says it in words (high / medium / low);
`scoring_mode` says whether labels refined it ('prior-only' or 'blended with N labels')."""

_EPS = 1e-9


def suspect_count(n_rows: int, alert_budget: float, min_suspects: int = 1) -> int:
    """Size of one day's list: max(min_suspects, ceil(budget * n)), never more than n.

    The tiny epsilon keeps float noise from adding a suspect (0.01 * 300 = 3.0000000000000004
    must give 3, not 4).
    """
    if n_rows <= 0:
        return 0
    k = max(int(min_suspects), math.ceil(alert_budget * n_rows - _EPS))
    return min(k, n_rows)


def daily_rank(
    work_date: pd.Series, employee_id: pd.Series, score: np.ndarray | pd.Series
) -> np.ndarray:
    """1-based rank within each work_date: highest score first, ties by ascending employee_id.

    Returned in the input row order. Deterministic for any input order.
    """
    n = len(work_date)
    if n == 0:
        return np.zeros(0, dtype="int64")
    day = pd.to_datetime(pd.Series(work_date)).to_numpy(dtype="datetime64[ns]").astype("int64")
    emp = np.asarray(employee_id, dtype="int64")
    s = np.asarray(score, dtype="float64")
    order = np.lexsort((emp, -s, day))
    sorted_day = day[order]
    starts = np.r_[True, sorted_day[1:] != sorted_day[:-1]]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    ranks = np.empty(n, dtype="int64")
    ranks[order] = np.arange(n) - group_start + 1
    return ranks


def daily_is_top(
    work_date: pd.Series, ranks: np.ndarray, alert_budget: float, min_suspects: int = 1
) -> np.ndarray:
    """Whether each row's rank falls inside its day's `suspect_count`."""
    day = pd.to_datetime(pd.Series(work_date)).reset_index(drop=True)
    sizes = day.map(day.value_counts()).to_numpy(dtype="int64")
    uniq, inverse = np.unique(sizes, return_inverse=True)
    per_size = [suspect_count(int(n), alert_budget, min_suspects) for n in uniq]
    k = np.asarray(per_size, dtype="int64")[inverse]
    return np.asarray(ranks <= k, dtype=bool)


def _check_budget(alert_budget: float, min_suspects: int) -> None:
    if not (0.0 <= alert_budget <= 1.0) or math.isnan(alert_budget):
        raise ValueError(f"alert_budget must be within [0, 1], got {alert_budget}")
    if min_suspects < 0:
        raise ValueError(f"min_suspects must be >= 0, got {min_suspects}")


def score_day(
    model: TrainedModel,
    features: pd.DataFrame,
    alert_budget: float = 0.01,
    min_suspects: int = 1,
    *,
    with_reasons: bool = True,
    min_risk: float = MEDIUM_RISK,
) -> pd.DataFrame:
    """Score employee-days and build the Scores rows (one per features row).

    `features` may hold one or several work_dates; ranks and suspects are per work_date.
    Output columns: SCORE_COLUMNS (employee_id int64, work_date datetime.date, fraud_score
    float64 in [0, 1], rank int32, is_suspect bool, reasons str, model_version str, risk_level
    str, scoring_mode str), sorted by work_date then rank. A row is a suspect when its rank is
    within the day's ceiling (`suspect_count`) and its risk is at least `min_risk` or it has a
    blatant red flag.
    `with_reasons=False` leaves reasons empty, for bulk back-testing only: the contract wants
    them filled.
    """
    _check_budget(alert_budget, min_suspects)
    feats = validate_features(features)
    if len(feats) == 0:
        return pd.DataFrame(
            {
                "employee_id": pd.Series(dtype="int64"),
                "work_date": pd.Series(dtype="object"),
                "fraud_score": pd.Series(dtype="float64"),
                "rank": pd.Series(dtype="int32"),
                "is_suspect": pd.Series(dtype="bool"),
                "reasons": pd.Series(dtype="object"),
                "model_version": pd.Series(dtype="object"),
                "risk_level": pd.Series(dtype="object"),
                "scoring_mode": pd.Series(dtype="object"),
            }
        )
    parts = model.score_parts(feats)
    scores, blatant = parts["risk"], parts["blatant"]
    ranks = daily_rank(feats["work_date"], feats["employee_id"], scores)
    is_top = daily_is_top(feats["work_date"], ranks, alert_budget, min_suspects)
    # Eligible for the list: at least `min_risk`, or a blatant red flag (always worth a look).
    is_top &= (np.asarray(scores, dtype="float64") >= float(min_risk)) | blatant
    reasons = model.explain_validated(feats) if with_reasons else [""] * len(feats)
    out = pd.DataFrame(
        {
            "employee_id": feats["employee_id"].astype("int64"),
            "work_date": feats["work_date"].dt.date,
            "fraud_score": scores.astype("float64"),
            "rank": ranks.astype("int32"),
            "is_suspect": is_top,
            "reasons": reasons,
            "model_version": model.version,
            "risk_level": risk_level(scores, blatant),
            "scoring_mode": model.scoring_mode,
        }
    )
    order = np.lexsort((out["rank"].to_numpy(), feats["work_date"].to_numpy()))
    return out.iloc[order].reset_index(drop=True).loc[:, list(SCORE_COLUMNS)]
