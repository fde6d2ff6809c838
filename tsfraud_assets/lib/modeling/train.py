"""Training the fraud model: supervised on investigation outcomes, informed by anomaly signals.

Design, and why:

* **What was known at the time.** Only feature rows with `work_date <= train_end` (and whose
  latest entry was submitted by then, `work_date + max_submission_lag_days <= train_end`) and
  only labels whose case was *closed* on or before `train_end` are used. A case closed later was
  an open question at `train_end`; using it would make back-tests look better than production
  can ever be. The filtered frame is hashed into the data fingerprint, so "this future label did
  not influence the model" is checkable: the fingerprint (and the model) are unchanged.
* **Labels are few and biased.** Investigations cover a small, rule-driven minority of days.
  The supervised learner (HistGradientBoostingClassifier) therefore trains on the labelled days
  (confirmed = 1, cleared = 0) *plus* the unlabelled days as presumed negatives (positive-
  unlabelled learning: fraud is rare, so an unlabelled day is almost always honest, and without
  them the model never sees what an ordinary day looks like). Cleared look-alikes teach it what
  *not* to flag.
* **Anomaly signals as features.** IsolationForest score and peer-group deviation are learned on
  every training day (labels not needed) and fed to the learner, so it can use "odd in a way no
  rule describes". `rule_flag_count` (the hand-written rules) is an ordinary input.
* **Monotone constraints** on the red-flag features (leave hours, hours after termination,
  duplicate lines, ...): with few labels a tree can learn "8 h on leave is less suspicious than
  4 h" from noise; the constraint forbids that and keeps reasons and score consistent.
* **The prior leads, labels refine** (see prior.py). The score is an expert red-flag prior
  (documented severities + anomaly evidence) on a fixed risk curve. With fewer than
  `min_positive_labels` confirmed or `min_negative_labels` cleared cases the learner is skipped
  and the prior alone scores (`mode` "prior-only", `fallback_reason` says why); training never
  crashes on a young system. Otherwise the learner's log-odds, re-centred on the prior's
  firm-wide level (a confirmed-case probability is far below a fraud probability: most frauds
  are never investigated), move the prior's by `label_weight(n_confirmed)`, and a blatant red
  flag keeps at least its prior risk (`mode` "blended").
* **Deterministic.** Row order is canonicalised (work_date, employee_id) and every random draw
  is seeded, so the same data + seed give byte-identical scores.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import warnings
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import (
    average_precision_score,
    roc_auc_score,
)
from threadpoolctl import threadpool_limits

from tsfraud_assets.lib.formatting import json_safe as _json_safe
from tsfraud_assets.lib.modeling.anomaly import ANOMALY_COLUMNS, AnomalyDetector
from tsfraud_assets.lib.modeling.features import (
    CATEGORICAL_COLUMNS,
    FEATURE_COLUMNS,
    KEY_COLUMNS,
    FeatureValidationError,
    to_day,
    validate_features,
)
from tsfraud_assets.lib.modeling.prior import (
    PRIOR_COLUMNS,
    FirmCalibration,
    blend,
    evidence_points,
    label_weight,
    logit,
    prior_fingerprint,
    prior_logit,
)
from tsfraud_assets.lib.modeling.reasons import (
    SIGNALS,
    ReasonNorms,
    explain,
    fit_reason_norms,
    signal_weights_from_importance,
)

FORMAT_VERSION = 2
MODEL_NAME = "fraud_model"
PRIOR_INPUT = "prior_points"
MODEL_INPUTS: tuple[str, ...] = FEATURE_COLUMNS + ANOMALY_COLUMNS + (PRIOR_INPUT,)
PRIOR_ONLY = "prior-only"
BLENDED = "blended"

MONOTONE_INCREASING: frozenset[str] = frozenset(
    {
        "hours_minus_active",
        "no_activity_hours",
        "leave_hours",
        "holiday_hours",
        "unassigned_hours",
        "closed_project_hours",
        "post_termination_hours",
        "duplicate_lines",
        "self_approved_hours",
        "reciprocal_approval_hours",
        "rule_flag_count",
        "hours_beyond_own_activity",
        "rushed_approval_hours",
        "cosubmitted_days_28d",
        "iforest_score",
        PRIOR_INPUT,
        "hours_raised_after_approval",
        "hours_added_after_approval",
        "project_changed_after_approval",
        "reapproved_by_other",
        "changed_after_approval_hours",
        "hours_beyond_presence",
        "padding_shape_days_28d",
    }
)
"""Inputs whose growth can never make a day less suspicious (see module docstring)."""

LABEL_COLUMNS: tuple[str, ...] = ("employee_id", "work_date", "outcome", "closed_at")


@dataclass
class TrainedModel:
    """Everything needed to score: fitted estimators, reason norms, version and metadata.

    Pickled as a whole (`to_bytes`); only unpickle bytes you wrote yourself (pickle runs code).
    """

    version: str
    metadata: dict[str, Any]
    anomaly: AnomalyDetector
    classifier: HistGradientBoostingClassifier | None
    reason_norms: ReasonNorms
    signal_weights: dict[str, float] = field(default_factory=dict)
    label_weight: float = 0.0
    """How far the learner's log-odds move the prior's (prior.label_weight); 0 = prior only."""
    supervised_shift: float = 0.0
    """Added to the learner's log-odds so their firm-wide mean risk equals the prior's."""
    calibration: FirmCalibration | None = None
    """The firm's base rates the prior's severities were adjusted to (prior.FirmCalibration),
    measured on the training days; None: severities as written."""

    @property
    def mode(self) -> str:
        """'prior-only' (red-flag prior + anomaly, no or too few labels) or 'blended'."""
        return str(self.metadata["mode"])

    @property
    def scoring_mode(self) -> str:
        """What investigators and the UI see: 'prior-only' or 'blended with N labels'."""
        return str(self.metadata.get("scoring_mode", self.mode))

    def _prior(self, validated: pd.DataFrame, derived: pd.DataFrame) -> tuple[np.ndarray, Any]:
        cols = {c: validated[c].to_numpy(dtype="float64") for c in PRIOR_COLUMNS}
        return evidence_points(
            cols,
            self.anomaly.iforest_z(derived["iforest_score"].to_numpy(dtype="float64")),
            derived["peer_deviation"].to_numpy(dtype="float64"),
            self.calibration,
        )

    def design_matrix(self, validated: pd.DataFrame) -> np.ndarray:
        """Model inputs (MODEL_INPUTS order) for an already validated features frame."""
        derived = self.anomaly.transform(validated)
        points, _ = self._prior(validated, derived)
        return np.column_stack(
            [
                validated.loc[:, list(FEATURE_COLUMNS)].to_numpy(dtype="float64"),
                derived.loc[:, list(ANOMALY_COLUMNS)].to_numpy(dtype="float64"),
                points,
            ]
        )

    def score_parts(self, validated: pd.DataFrame) -> dict[str, np.ndarray]:
        """Prior log-odds, blatant flag, learner log-odds (re-centred; NaN in prior-only mode)
        and the final risk, per row of a validated frame."""
        n = len(validated)
        if n == 0:
            empty = np.zeros(0, dtype="float64")
            return {
                "prior": empty,
                "blatant": empty.astype(bool),
                "supervised": empty,
                "risk": empty,
            }
        derived = self.anomaly.transform(validated)
        points, blatant = self._prior(validated, derived)
        prior_lo = prior_logit(points)
        sup_lo = None
        if self.classifier is not None:
            x = np.column_stack(
                [
                    validated.loc[:, list(FEATURE_COLUMNS)].to_numpy(dtype="float64"),
                    derived.loc[:, list(ANOMALY_COLUMNS)].to_numpy(dtype="float64"),
                    points,
                ]
            )
            sup_lo = logit(self.classifier.predict_proba(x)[:, 1]) + self.supervised_shift
        risk = blend(prior_lo, sup_lo, self.label_weight, blatant)
        return {
            "prior": prior_lo,
            "blatant": np.asarray(blatant, dtype=bool),
            "supervised": sup_lo if sup_lo is not None else np.full(n, np.nan),
            "risk": np.clip(risk, 0.0, 1.0),
        }

    def predict_scores_validated(self, validated: pd.DataFrame) -> np.ndarray:
        """`predict_scores` for a frame already passed through validate_features."""
        if len(validated) == 0:
            return np.zeros(0, dtype="float64")
        return self.score_parts(validated)["risk"]

    def predict_scores(self, features: pd.DataFrame) -> np.ndarray:
        """Fraud score in [0, 1] per row of `features`, in the frame's row order."""
        return self.predict_scores_validated(validate_features(features))

    def explain(self, features: pd.DataFrame) -> list[str]:
        """Plain-language reasons per row of `features` (see reasons.py), in row order."""
        return explain(validate_features(features), self.reason_norms, self.signal_weights)

    def explain_validated(self, validated: pd.DataFrame) -> list[str]:
        """`explain` for a frame already passed through validate_features (skips the copy)."""
        return explain(validated, self.reason_norms, self.signal_weights)

    def to_bytes(self) -> bytes:
        """joblib pickle of the whole object, for `models/fraud_model/<version>/model.joblib`."""
        buf = io.BytesIO()
        joblib.dump(self, buf, compress=3)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TrainedModel:
        """Inverse of `to_bytes`. Warns when the scikit-learn version differs from training."""
        obj = joblib.load(io.BytesIO(data))
        if not isinstance(obj, cls):
            raise TypeError(f"bytes hold a {type(obj).__name__}, not a {cls.__name__}")
        fmt = obj.metadata.get("format_version")
        if fmt != FORMAT_VERSION:
            raise ValueError(f"model format {fmt!r} is not supported (expected {FORMAT_VERSION})")
        trained_with = obj.metadata.get("library_versions", {}).get("scikit-learn")
        if trained_with != sklearn.__version__:
            warnings.warn(
                f"model {obj.version} was trained with scikit-learn {trained_with}, "
                f"loaded with {sklearn.__version__}; scores may differ",
                stacklevel=2,
            )
        return obj

    def metadata_json(self) -> str:
        """metadata as JSON (NaN -> null), for `models/fraud_model/<version>/metadata.json`."""
        return json.dumps(_json_safe(self.metadata), indent=2, sort_keys=True)


@dataclass
class TrainingData:
    """Exactly what a model trained up to `train_end` may see (see module docstring)."""

    frame: pd.DataFrame
    """Validated feature rows known at train_end, sorted (work_date, employee_id), with a
    `__label` column equal to `y`."""
    y: np.ndarray
    """Per row: 1 confirmed, 0 cleared, -1 unlabelled (or case not closed by train_end)."""
    fingerprint: str
    row_counts: dict[str, int]
    label_counts: dict[str, Any]


def training_data(
    features: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    train_end: date,
    train_start: date | None = None,
) -> TrainingData:
    """Select what was known at the end of `train_end`: feature rows with work_date <= train_end
    whose last entry was submitted by then, and labels of cases closed on or before train_end.
    Split out of `train_model` so the no-leakage rule can be checked without fitting."""
    end_ts = pd.Timestamp(train_end)
    start_ts = pd.Timestamp(train_start) if train_start is not None else None
    if start_ts is not None and start_ts > end_ts:
        raise ValueError(f"train_start {train_start} is after train_end {train_end}")

    feats = validate_features(features)
    in_window = feats["work_date"] <= end_ts
    if start_ts is not None:
        in_window &= feats["work_date"] >= start_ts
    lag_days = np.ceil(np.clip(feats["max_submission_lag_days"].to_numpy(), 0, None))
    submitted_by = feats["work_date"] + pd.to_timedelta(lag_days, unit="D")
    known = in_window & (submitted_by <= end_ts)
    train = (
        feats.loc[known]
        .sort_values(["work_date", "employee_id"], kind="stable")
        .reset_index(drop=True)
    )
    if len(train) == 0:
        raise ValueError(f"no feature rows with work_date <= {train_end} to train on")
    row_counts = {
        "input": len(feats),
        "used": len(train),
        "after_train_end": int((feats["work_date"] > end_ts).sum()),
        "before_train_start": int((feats["work_date"] < start_ts).sum()) if start_ts else 0,
        "submitted_after_train_end": int((in_window & ~known).sum()),
    }
    y, label_counts = _training_labels(train, labels, end_ts)
    train["__label"] = y
    return TrainingData(
        frame=train,
        y=y,
        fingerprint=data_fingerprint(train),
        row_counts=row_counts,
        label_counts=label_counts,
    )


def train_model(
    features: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    train_end: date,
    seed: int = 0,
    trained_at: datetime | None = None,
    train_start: date | None = None,
    min_positive_labels: int = 10,
    min_negative_labels: int = 5,
    max_unlabelled: int = 300_000,
    n_threads: int | None = 1,
    calibrate: bool = True,
) -> TrainedModel:
    """Fit the fraud model on what was known at the end of `train_end` (see module docstring).

    `features`: employee_day_features rows (any dates; later ones are ignored).
    `labels`: investigation_labels (employee_id, work_date, outcome, closed_at; fraud_type
    optional). `trained_at` defaults to now (UTC); pass it for reproducible versions.
    `max_unlabelled` caps the presumed-negative days (seeded sample, re-weighted to the total).
    `n_threads` caps OpenMP threads while training (None = library default). It defaults to 1
    because on a shared, busy machine OpenMP spin-waiting turned a 3 s fit into 50 s; results
    do not depend on it. `calibrate` adjusts the prior's severities to the firm's own base
    rates (prior.FirmCalibration); False keeps them as written (for measuring what it adds).
    """
    limit = (
        threadpool_limits(limits=n_threads, user_api="openmp")
        if n_threads is not None
        else contextlib.nullcontext()
    )
    with limit:
        return _train_model(
            features,
            labels,
            train_end=train_end,
            seed=seed,
            trained_at=trained_at,
            train_start=train_start,
            min_positive_labels=min_positive_labels,
            min_negative_labels=min_negative_labels,
            max_unlabelled=max_unlabelled,
            calibrate=calibrate,
        )


def _train_model(
    features: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    train_end: date,
    seed: int,
    trained_at: datetime | None,
    train_start: date | None,
    min_positive_labels: int,
    min_negative_labels: int,
    max_unlabelled: int,
    calibrate: bool,
) -> TrainedModel:
    if trained_at is None:
        trained_at = datetime.now(UTC)
    data = training_data(features, labels, train_end=train_end, train_start=train_start)
    train, y, fingerprint = data.frame, data.y, data.fingerprint
    row_counts, label_counts = data.row_counts, data.label_counts
    version = make_version(trained_at, fingerprint)

    anomaly = AnomalyDetector.fit(train, seed=seed)
    norms = fit_reason_norms(train)
    n_pos = int((y == 1).sum())
    n_neg = int((y == 0).sum())
    fallback_reason = None
    if n_pos < min_positive_labels or n_neg < min_negative_labels:
        fallback_reason = (
            f"{n_pos} confirmed and {n_neg} cleared labels known by {train_end} "
            f"(need >= {min_positive_labels} confirmed and >= {min_negative_labels} cleared); "
            "scoring with the red-flag prior + anomaly signals only"
        )

    model = TrainedModel(
        version=version,
        metadata={},
        anomaly=anomaly,
        classifier=None,
        reason_norms=norms,
        calibration=(
            FirmCalibration.fit({c: train[c].to_numpy(dtype="float64") for c in PRIOR_COLUMNS})
            if calibrate
            else None
        ),
    )
    params: dict[str, Any] = {
        "seed": seed,
        "min_positive_labels": min_positive_labels,
        "min_negative_labels": min_negative_labels,
        "max_unlabelled": max_unlabelled,
        "calibrate": calibrate,
    }
    config = config_fingerprint(params)
    metrics: dict[str, Any] = {}
    importance: dict[str, float] = {}
    if fallback_reason is None:
        x = model.design_matrix(train)
        idx, target, weight, unlabelled_weight = _supervised_rows(y, max_unlabelled, seed)
        hgb_params: dict[str, Any] = {
            "max_iter": 200,
            "learning_rate": 0.05,
            "max_leaf_nodes": 15,
            "min_samples_leaf": 20,
            "l2_regularization": 1.0,
            "early_stopping": False,
            "random_state": seed,
        }
        clf = HistGradientBoostingClassifier(
            monotonic_cst=[1 if c in MONOTONE_INCREASING else 0 for c in MODEL_INPUTS],
            **hgb_params,
        )
        clf.fit(x[idx], target, sample_weight=weight)
        model.classifier = clf
        model.label_weight = label_weight(n_pos)
        # Re-centre on the prior's firm-wide level (module docstring): mean risks over every
        # training day, compared on the log-odds scale.
        parts_prior = prior_logit(x[:, MODEL_INPUTS.index(PRIOR_INPUT)])
        mean_prior = float(np.mean(1.0 / (1.0 + np.exp(-parts_prior))))
        mean_sup = float(np.mean(clf.predict_proba(x)[:, 1]))
        model.supervised_shift = float(logit(np.array([mean_prior]))[0]) - float(
            logit(np.array([mean_sup]))[0]
        )
        params["label_weight"] = model.label_weight
        params["supervised_shift"] = model.supervised_shift
        params["hist_gradient_boosting"] = hgb_params
        params["unlabelled_weight"] = unlabelled_weight
        labelled = y >= 0
        in_sample = model.predict_scores_validated(train.loc[labelled])
        metrics = {
            "in_sample_pr_auc_labelled": _safe_metric(
                average_precision_score, y[labelled], in_sample
            ),
            "in_sample_roc_auc_labelled": _safe_metric(roc_auc_score, y[labelled], in_sample),
            "note": "in-sample, optimistic; compare models with promote.holdout_metrics",
        }
        importance = _signal_importance(model, train, y, seed)
    model.signal_weights = signal_weights_from_importance(importance)

    model.metadata = {
        "format_version": FORMAT_VERSION,
        "model_name": MODEL_NAME,
        "version": version,
        "trained_at": _utc(trained_at).isoformat(),
        "mode": PRIOR_ONLY if fallback_reason else BLENDED,
        "scoring_mode": (
            PRIOR_ONLY
            if fallback_reason
            else f"blended with {n_pos + n_neg} labels ({n_pos} confirmed, weight "
            f"{model.label_weight:.2f})"
        ),
        "fallback_reason": fallback_reason,
        "score_kind": (
            "risk from the expert red-flag prior + anomaly evidence (fixed curve)"
            if fallback_reason
            else "risk: prior log-odds shrunk towards HistGradientBoosting (positive-unlabelled, "
            "re-centred), floored at the prior on blatant red flags"
        ),
        "prior_fingerprint": prior_fingerprint(),
        "firm_calibration": model.calibration.to_json() if model.calibration else None,
        "feature_columns": list(FEATURE_COLUMNS),
        "derived_features": list(ANOMALY_COLUMNS),
        "model_inputs": list(MODEL_INPUTS),
        "training_window": {
            "start": train["work_date"].min().date().isoformat(),
            "end": train_end.isoformat(),
            "last_feature_date": train["work_date"].max().date().isoformat(),
            "label_rule": f"cases closed on or before {train_end.isoformat()}",
            # No label on or after the day after this one reached the model (the day before
            # the first training day when there was none): later days are unseen in the sense
            # that matters for measuring it, even when a refit used their features as
            # presumed negatives (which can only pull a fraud day's score down).
            "label_horizon": (
                train.loc[y >= 0, "work_date"].max()
                if (y >= 0).any()
                else train["work_date"].min() - pd.Timedelta(days=1)
            )
            .date()
            .isoformat(),
        },
        "rows": row_counts,
        "labels": label_counts,
        "metrics": metrics,
        "signal_importance": importance,
        "signal_weights": model.signal_weights,
        "data_fingerprint": fingerprint,
        "config_fingerprint": config,
        "params": params,
        "library_versions": {
            "scikit-learn": sklearn.__version__,
            "pandas": pd.__version__,
            "numpy": np.__version__,
        },
    }
    return model


def config_fingerprint(params: dict[str, Any]) -> str:
    """sha256 of everything besides the data that shapes a model: the training parameters, the
    prior's rules and numbers, the artefact format and the scikit-learn version. Same data +
    same config = same model, so a re-run can reuse the promoted one instead of re-training."""
    spec = {
        "params": {k: params[k] for k in sorted(params)},
        "prior": prior_fingerprint(),
        "format_version": FORMAT_VERSION,
        "scikit-learn": sklearn.__version__,
        "model_inputs": list(MODEL_INPUTS),
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def default_config_fingerprint() -> str:
    """The config fingerprint `train_model` records with its default parameters."""
    return config_fingerprint(
        {
            "seed": 0,
            "min_positive_labels": 10,
            "min_negative_labels": 5,
            "max_unlabelled": 300_000,
            "calibrate": True,
        }
    )


def make_version(trained_at: datetime, fingerprint: str) -> str:
    """`YYYYMMDDTHHMMSS-<8 hex>`: sortable by training time, tied to the exact training data."""
    return f"{_utc(trained_at):%Y%m%dT%H%M%S}-{fingerprint[:8]}"


def data_fingerprint(train: pd.DataFrame) -> str:
    """sha256 of the training frame's content (keys, categoricals if present, every model
    feature and the label each day was trained with), independent of input row order."""
    cols = list(KEY_COLUMNS) + [c for c in CATEGORICAL_COLUMNS if c in train.columns]
    cols += [*FEATURE_COLUMNS, "__label"]
    frame = train.loc[:, cols].sort_values(["work_date", "employee_id"], kind="stable").copy()
    frame["work_date"] = frame["work_date"].to_numpy(dtype="datetime64[ns]").astype("int64")
    for c in CATEGORICAL_COLUMNS:
        if c in frame.columns:
            frame[c] = frame[c].astype("string").fillna("<NA>").astype(object)
    digest = hashlib.sha256()
    digest.update(json.dumps(cols).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _training_labels(
    train: pd.DataFrame, labels: pd.DataFrame, end_ts: pd.Timestamp
) -> tuple[np.ndarray, dict[str, Any]]:
    """Label per training row: 1 confirmed, 0 cleared, -1 unlabelled (or not yet closed)."""
    missing = [c for c in LABEL_COLUMNS if c not in labels.columns]
    if missing:
        raise FeatureValidationError(
            "investigation_labels is missing required column(s): " + ", ".join(missing)
        )
    lab = labels.copy()
    lab["work_date"] = to_day(lab["work_date"]).to_numpy()
    lab["employee_id"] = lab["employee_id"].astype("int64")
    # Timestamps are UTC by contract: naive values are taken as UTC, aware ones converted.
    closed = pd.to_datetime(lab["closed_at"], utc=True).dt.tz_localize(None)
    # "On or before train_end" for a timestamp: before midnight ending that day.
    cutoff = end_ts + timedelta(days=1)
    outcome = lab["outcome"].astype("string").str.lower()
    valid_outcome = outcome.isin(["confirmed", "cleared"]).fillna(False).to_numpy(dtype=bool)
    known = (closed.notna() & (closed < cutoff)).to_numpy(dtype=bool)
    usable = lab.loc[known & valid_outcome].copy()
    usable["y"] = (outcome[known & valid_outcome] == "confirmed").astype("int64").to_numpy()
    n_usable_rows = len(usable)
    # Several closed cases on one day: confirmed wins (one confirmed finding settles the day).
    per_day = usable.groupby(["employee_id", "work_date"], sort=True)["y"].max().reset_index()
    merged = train.loc[:, ["employee_id", "work_date"]].merge(
        per_day, how="left", on=["employee_id", "work_date"], validate="one_to_one"
    )
    y = merged["y"].fillna(-1).to_numpy(dtype="int64")
    not_closed = closed.isna().to_numpy(dtype=bool)
    counts: dict[str, Any] = {
        "input": len(lab),
        "confirmed": int((y == 1).sum()),
        "cleared": int((y == 0).sum()),
        "unlabelled_days": int((y == -1).sum()),
        "excluded_closed_after_train_end": int((~not_closed & ~known).sum()),
        "excluded_not_closed": int(not_closed.sum()),
        "excluded_unknown_outcome": int((known & ~valid_outcome).sum()),
        "merged_duplicate_cases": n_usable_rows - len(per_day),
        "excluded_no_training_row": len(per_day) - int((y >= 0).sum()),
    }
    if "fraud_type" in usable.columns:
        used_keys = merged.loc[y >= 0, ["employee_id", "work_date"]]
        conf = usable.loc[usable["y"] == 1].merge(used_keys, on=["employee_id", "work_date"])
        counts["confirmed_by_fraud_type"] = {
            str(k): int(v)
            for k, v in conf["fraud_type"].fillna("unknown").value_counts().sort_index().items()
        }
    return y, counts


def _supervised_rows(
    y: np.ndarray, max_unlabelled: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Row indices, targets, weights and the unlabelled weight: every labelled day, plus
    unlabelled days as presumed negatives (seeded sample of at most `max_unlabelled`, weighted
    up to stand for all of them)."""
    labelled = np.flatnonzero(y >= 0)
    unlabelled = np.flatnonzero(y < 0)
    unl_weight = 1.0
    if len(unlabelled) > max_unlabelled > 0:
        rng = np.random.default_rng(seed)
        unl_weight = len(unlabelled) / max_unlabelled
        unlabelled = np.sort(rng.choice(unlabelled, size=max_unlabelled, replace=False))
    idx = np.concatenate([labelled, unlabelled])
    target = np.where(y[idx] == 1, 1, 0).astype("int64")
    weight = np.where(y[idx] >= 0, 1.0, unl_weight)
    return idx, target, weight, unl_weight


def _signal_importance(
    model: TrainedModel, train: pd.DataFrame, y: np.ndarray, seed: int, n_repeats: int = 2
) -> dict[str, float]:
    """Grouped permutation importance per reason signal: the drop in average precision when the
    signal's features are shuffled together (anomaly inputs recomputed), measured on the
    labelled days plus a seeded sample of unlabelled ones (presumed negatives)."""
    rng = np.random.default_rng(seed + 1)
    labelled = np.flatnonzero(y >= 0)
    unlabelled = np.flatnonzero(y < 0)
    n_unl = min(len(unlabelled), max(5 * len(labelled), 1000), 20_000)
    if n_unl:
        unlabelled = np.sort(rng.choice(unlabelled, size=n_unl, replace=False))
    idx = np.concatenate([labelled, unlabelled[:n_unl]])
    sample = train.iloc[idx].reset_index(drop=True)
    target = (y[idx] == 1).astype("int64")
    if target.min() == target.max():
        return {}
    base = float(average_precision_score(target, model.predict_scores_validated(sample)))
    out: dict[str, float] = {}
    for sig in SIGNALS:
        cols = list(sig.columns)
        values = sample[cols].to_numpy()
        if (values == values[0]).all():  # constant in the sample: shuffling changes nothing
            out[sig.name] = 0.0
            continue
        drops = []
        for _ in range(n_repeats):
            perm = rng.permutation(len(sample))
            shuffled = sample.copy()
            shuffled[cols] = values[perm]
            score = model.predict_scores_validated(shuffled)
            drops.append(base - float(average_precision_score(target, score)))
        out[sig.name] = round(max(0.0, float(np.mean(drops))), 6)
    return out


def _safe_metric(fn: Any, y_true: np.ndarray, score: np.ndarray) -> float | None:
    if len(y_true) == 0 or np.min(y_true) == np.max(y_true):
        return None
    return float(fn(y_true, score))


def _utc(ts: datetime) -> datetime:
    return ts.astimezone(UTC) if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
