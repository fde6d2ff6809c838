"""Unsupervised anomaly signals, learned on every employee-day (labelled or not).

Investigations label only a small, rule-driven minority of days, so a purely supervised model
knows little about patterns no rule ever surfaced. Two label-free signals are therefore computed
here and handed to the supervised learner as extra inputs (and, when labels are too few, to the
fallback score):

* `iforest_score`: how easily an IsolationForest isolates the day among all days (high = odd).
* `peer_deviation`: how far the day sits *above* the norm of its peer group (same practice and
  grade), in robust z units, over a handful of behaviour features. A consultant's 11 h day is
  normal in one practice and odd in another; the population-wide IsolationForest cannot see that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest

from tsfraud_assets.lib.modeling.features import PEER_GROUP_COLUMNS, feature_matrix

ANOMALY_COLUMNS: tuple[str, ...] = ("iforest_score", "peer_deviation")
"""Derived model inputs added after FEATURE_COLUMNS."""

PEER_FEATURES: dict[str, float] = {
    # feature -> smallest robust scale allowed (so a group where everyone books exactly 8.0 h
    # does not turn an 8.5 h day into a 50-sigma event).
    "total_hours": 0.5,
    "hours_minus_active": 0.5,
    "no_activity_hours": 0.5,
    "max_submission_lag_days": 1.0,
    "days_submitted_same_batch": 1.0,
    "weekend_hours": 0.5,
}
"""Behaviour features compared against the peer group; only deviations upwards count, since
fewer hours or earlier submission is never the suspicious direction."""

MIN_GROUP_ROWS = 30
"""Peer groups smaller than this use population norms: a median of a handful of days is noise."""

Z_CAP = 10.0
"""Cap on each robust z so one absurd value cannot swamp the combined deviation."""

_MAD_TO_SIGMA = 1.4826


def robust_center_scale(values: np.ndarray, min_scale: float) -> tuple[float, float]:
    """Median and MAD-based sigma (floored at `min_scale`): robust to the frauds in the data."""
    if values.size == 0:
        return 0.0, float(min_scale)
    center = float(np.median(values))
    scale = float(_MAD_TO_SIGMA * np.median(np.abs(values - center)))
    return center, max(scale, float(min_scale))


@dataclass
class AnomalyDetector:
    """Fitted IsolationForest plus per-peer-group robust norms. Plain data, pickles cleanly."""

    iforest: IsolationForest
    iforest_center: float
    iforest_scale: float
    group_columns: tuple[str, ...]
    group_stats: pd.DataFrame
    """Indexed by the group columns; columns `<feature>__center` and `<feature>__scale`."""
    global_center: dict[str, float]
    global_scale: dict[str, float]

    @classmethod
    def fit(
        cls,
        features: pd.DataFrame,
        *,
        seed: int,
        n_estimators: int = 100,
        max_fit_rows: int = 200_000,
    ) -> AnomalyDetector:
        """Fit on a validated features frame (every row, labelled or not).

        The forest sees at most `max_fit_rows` rows (seeded sample): each tree draws only 256
        rows anyway, and the cap keeps memory flat on years of history.
        """
        if len(features) == 0:
            raise ValueError("cannot fit anomaly signals on an empty features frame")
        x = feature_matrix(features)
        if len(x) > max_fit_rows:
            rng = np.random.default_rng(seed)
            x_fit = x[np.sort(rng.choice(len(x), size=max_fit_rows, replace=False))]
        else:
            x_fit = x
        forest = IsolationForest(n_estimators=n_estimators, random_state=seed, n_jobs=1)
        forest.fit(x_fit)
        raw = -forest.score_samples(x_fit)
        if_center, if_scale = robust_center_scale(raw, 1e-3)

        g_center: dict[str, float] = {}
        g_scale: dict[str, float] = {}
        for col, floor in PEER_FEATURES.items():
            g_center[col], g_scale[col] = robust_center_scale(features[col].to_numpy(), floor)

        group_cols = tuple(c for c in PEER_GROUP_COLUMNS if c in features.columns)
        if len(group_cols) == len(PEER_GROUP_COLUMNS):
            stats = _group_stats(features, group_cols)
        else:
            group_cols = ()
            stats = pd.DataFrame()
        return cls(
            iforest=forest,
            iforest_center=if_center,
            iforest_scale=if_scale,
            group_columns=group_cols,
            group_stats=stats,
            global_center=g_center,
            global_scale=g_scale,
        )

    def iforest_raw(self, features: pd.DataFrame) -> np.ndarray:
        """Higher = more anomalous (negated sklearn score_samples, in (0, 1])."""
        if len(features) == 0:
            return np.zeros(0)
        return np.asarray(-self.iforest.score_samples(feature_matrix(features)), dtype="float64")

    def iforest_z(self, raw: np.ndarray) -> np.ndarray:
        """IsolationForest score in robust z units relative to the training days."""
        return np.asarray((raw - self.iforest_center) / self.iforest_scale, dtype="float64")

    def peer_deviation(self, features: pd.DataFrame) -> np.ndarray:
        """Root-mean-square of the upward robust z of PEER_FEATURES against the peer group norm
        (population norm for unknown or small groups, or when categoricals are absent)."""
        n = len(features)
        if n == 0:
            return np.zeros(0)
        centers = pd.DataFrame(
            {c: np.full(n, self.global_center[c]) for c in PEER_FEATURES}, index=features.index
        )
        scales = pd.DataFrame(
            {c: np.full(n, self.global_scale[c]) for c in PEER_FEATURES}, index=features.index
        )
        if self.group_columns and all(c in features.columns for c in self.group_columns):
            keys = features.loc[:, list(self.group_columns)].astype("string").fillna("")
            joined = keys.merge(
                self.group_stats, how="left", left_on=list(self.group_columns), right_index=True
            )
            joined.index = features.index
            for col in PEER_FEATURES:
                c = joined[f"{col}__center"].astype("float64")
                s = joined[f"{col}__scale"].astype("float64")
                centers[col] = c.fillna(centers[col])
                scales[col] = s.fillna(scales[col])
        values = features.loc[:, list(PEER_FEATURES)].to_numpy(dtype="float64")
        z = (values - centers.to_numpy()) / scales.to_numpy()
        z = np.clip(z, 0.0, Z_CAP)
        return np.asarray(np.sqrt(np.mean(z**2, axis=1)), dtype="float64")

    def transform(self, features: pd.DataFrame) -> pd.DataFrame:
        """ANOMALY_COLUMNS for a validated features frame, aligned on its index."""
        return pd.DataFrame(
            {
                "iforest_score": self.iforest_raw(features),
                "peer_deviation": self.peer_deviation(features),
            },
            index=features.index,
        )


def _group_stats(features: pd.DataFrame, group_cols: tuple[str, ...]) -> pd.DataFrame:
    """Median / MAD-sigma per peer group for PEER_FEATURES, for groups with enough rows."""
    keys = features.loc[:, list(group_cols)].astype("string").fillna("")
    values = features.loc[:, list(PEER_FEATURES)].astype("float64")
    frame = pd.concat([keys, values], axis=1)
    grouped = frame.groupby(list(group_cols), sort=True)
    sizes = grouped.size()
    medians = grouped[list(PEER_FEATURES)].median()
    row_medians = grouped[list(PEER_FEATURES)].transform("median")
    abs_dev = pd.concat([keys, (values - row_medians).abs()], axis=1)
    mads = abs_dev.groupby(list(group_cols), sort=True)[list(PEER_FEATURES)].median()
    out = pd.DataFrame(index=medians.index)
    for col, floor in PEER_FEATURES.items():
        out[f"{col}__center"] = medians[col].astype("float64")
        out[f"{col}__scale"] = np.maximum(_MAD_TO_SIGMA * mads[col].astype("float64"), floor)
    return out.loc[sizes[sizes >= MIN_GROUP_ROWS].index]


__all__ = ["ANOMALY_COLUMNS", "AnomalyDetector", "robust_center_scale"]
