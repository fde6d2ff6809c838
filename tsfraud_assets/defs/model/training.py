"""Train a candidate fraud model, judge it on held-out investigated days, promote or keep.

Production has no ground truth, only investigation outcomes, so promotion compares the
candidate and the current model on the most recent window of investigated days, which the
candidate never trained on (it trains only on days before that window, with labels known by
`now`).

Three rules on top of that, and why:

* **No labels is a normal state, not an error.** A young firm has no closed case: the model is
  then the label-free prior (red flags + anomaly), fitted on every day known by `now` and
  promoted, since there is nothing to judge a challenger on and fresher anomaly norms beat stale
  ones.
* **The hold-out judges, then is given back.** When the candidate wins, the model that is
  promoted is the same recipe refitted on every feature row and every label known at `now`
  (the hold-out's labels are the freshest the firm has; on the firm of issue #13 a quarter of
  the closed cases went to the hold-out and never came back). The candidate is kept in the
  lake for audit.
* **Nothing changed, nothing happens.** If the promoted model was trained on exactly the data
  and settings a refit would use now (same data and config fingerprints), it is reused: no new
  version, no promotion, and scoring leaves the stored lists untouched.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import pandas as pd
from dagster._core.definitions.metadata import RawMetadataValue

from tsfraud_assets.defs.model import model_store
from tsfraud_assets.lib.formatting import json_safe
from tsfraud_assets.lib.modeling.promote import PR_AUC_KEY, holdout_metrics, should_promote
from tsfraud_assets.lib.modeling.train import (
    TrainedModel,
    default_config_fingerprint,
    train_model,
    training_data,
)
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.warehouse import Warehouse

HOLDOUT_DAYS = 14


@dataclass(frozen=True)
class TrainingWindow:
    train_end: dt.date
    holdout_start: dt.date
    holdout_end: dt.date


NO_HOLDOUT = "none: no closed investigation cases yet"


@dataclass
class TrainingOutcome:
    version: str
    """The model that scores from now on (the promoted refit, or the kept/reused current one
    when the candidate lost)."""
    promoted: bool
    reason: str
    window: TrainingWindow | None
    """None when there was no label to hold out (prior-only)."""
    candidate_metrics: dict[str, Any]
    current_version: str | None
    current_metrics: dict[str, Any] | None
    model_uri: str
    model_metadata: dict[str, Any] = field(default_factory=dict)
    candidate_version: str | None = None
    """The hold-out candidate (trained before the hold-out), when one was judged."""
    reused: bool = False
    """The promoted model already had exactly this training data and config."""

    @property
    def passed(self) -> bool:
        """The promotion check: the scoring model is at least as good as the one it replaced
        (promoted, or reused because nothing changed)."""
        return self.promoted or self.reused

    def metadata(self) -> dict[str, RawMetadataValue]:
        meta = self.model_metadata
        labels = meta.get("labels", {})
        window = self.window
        return {
            "model_version": self.version,
            "scoring_mode": str(meta.get("scoring_mode", meta.get("mode", "unknown"))),
            "labels_used": int(labels.get("confirmed", 0)) + int(labels.get("cleared", 0)),
            "promoted": self.promoted,
            "reused_unchanged": self.reused,
            "promotion_reason": self.reason,
            "candidate_version": self.candidate_version or "none",
            "train_end": str(meta.get("training_window", {}).get("end", "")),
            "holdout_window": (
                f"{window.holdout_start} .. {window.holdout_end}" if window else NO_HOLDOUT
            ),
            "candidate_metrics": dg.MetadataValue.json(json_safe(self.candidate_metrics)),
            "current_version": self.current_version or "none",
            "current_metrics": dg.MetadataValue.json(json_safe(self.current_metrics or {})),
            "path": dg.MetadataValue.path(self.model_uri),
            # red flags that fire on many of this firm's ordinary days, and their points here
            "weighed_less_here": dg.MetadataValue.json(
                json_safe((meta.get("firm_calibration") or {}).get("damped") or {})
            ),
        }


def training_window(
    labels: pd.DataFrame, now: dt.datetime, holdout_days: int = HOLDOUT_DAYS
) -> TrainingWindow | None:
    """The last `holdout_days` of days whose investigations closed by `now` are held out
    (a quarter of the labelled span at most, so a young history still leaves days to train on).
    None when no case has closed yet: there is nothing to hold out (the prior scores alone)."""
    closed = pd.to_datetime(labels["closed_at"], utc=True)
    known = labels[closed <= _utc(now)]
    if known.empty:
        return None
    days = pd.to_datetime(known["work_date"])
    first, last = days.min().date(), days.max().date()
    holdout_days = max(1, min(holdout_days, ((last - first).days + 1) // 4))
    holdout_start = last - dt.timedelta(days=holdout_days - 1)
    return TrainingWindow(
        train_end=holdout_start - dt.timedelta(days=1),
        holdout_start=holdout_start,
        holdout_end=last,
    )


def _utc(now: dt.datetime) -> pd.Timestamp:
    """`now` as an aware UTC timestamp (naive values are taken as UTC, like every lake time)."""
    ts = pd.Timestamp(now)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def refit_end(now: dt.datetime) -> dt.date:
    """The refit's train_end: the UTC day of `now`, so every label closed by then counts."""
    return _utc(now).date()


def _load_current(lake: Lake) -> tuple[str | None, TrainedModel | None]:
    version = model_store.current_version(lake)
    if version is None:
        return None, None
    try:
        return version, model_store.load_model(lake, version)
    except (ValueError, TypeError) as exc:
        # An artefact of an older format cannot score any more: it is replaced, said so.
        return f"{version} (unloadable: {exc})", None


def train_and_register_frames(
    features: pd.DataFrame, labels: pd.DataFrame, lake: Lake, now: dt.datetime
) -> TrainingOutcome:
    full_end = refit_end(now)
    # A case closed after `now` is news from the future (a back-fill, a replayed history): the
    # day-granular label rule alone would let one closed later on `now`'s own day in.
    closed = pd.to_datetime(labels["closed_at"], utc=True)
    labels = labels.loc[closed.isna() | (closed <= _utc(now))]
    current_version, current = _load_current(lake)
    # Rule 3 (module docstring): same data and config as the promoted model -> reuse it.
    full = training_data(features, labels, train_end=full_end)
    config = default_config_fingerprint()
    if (
        current is not None
        and current.metadata.get("data_fingerprint") == full.fingerprint
        and current.metadata.get("config_fingerprint") == config
    ):
        return TrainingOutcome(
            version=current.version,
            promoted=False,
            reused=True,
            reason=(
                f"unchanged: the promoted model {current.version} was trained on exactly this "
                "data and configuration; reused, nothing re-trained or re-promoted"
            ),
            window=None,
            candidate_metrics={},
            current_version=current.version,
            current_metrics=None,
            model_uri=lake.uri(model_store.MODEL_DIR, current.version),
            model_metadata=current.metadata,
        )

    window = training_window(labels, now)
    if window is None:
        # Rule 1: nothing to hold out or judge on; the label-free model on every day wins.
        model = train_model(features, labels, train_end=full_end, trained_at=now)
        uri = model_store.save_model(lake, model)
        reason = (
            "promoted: no closed investigation case yet, so no hold-out to judge on; the "
            f"label-free prior fitted on every day known by {full_end} replaces "
            f"{current_version or 'nothing'}"
        )
        model_store.promote(lake, model.version, reason, now=now)
        return TrainingOutcome(
            version=model.version,
            promoted=True,
            reason=reason,
            window=None,
            candidate_metrics={},
            current_version=current_version,
            current_metrics=None,
            model_uri=uri,
            model_metadata=model.metadata,
        )

    candidate = train_model(features, labels, train_end=window.train_end, trained_at=now)
    holdout = (window.holdout_start, window.holdout_end)
    candidate_metrics = holdout_metrics(candidate, features, labels, holdout)
    current_metrics = None
    if current is not None:
        current_metrics = holdout_metrics(current, features, labels, holdout)
    promote, reason = should_promote(candidate_metrics, current_metrics)
    if (
        current is not None
        and current.metadata.get("config_fingerprint") == config
        and _saw(current, window.holdout_start)
    ):
        # The current model is a refit that trained on this very hold-out, so it would win
        # any comparison on it. Same recipe (config) + newer data is what a refit is for.
        promote = True
        reason = (
            "promoted: same configuration as the current model, which was refitted on this "
            "hold-out (comparing on it would always favour it); newer data wins"
        )
    if (
        not promote
        and current_metrics is not None
        and _unjudgeable(candidate_metrics)
        and _unjudgeable(current_metrics)
    ):
        promote = True
        reason = (
            "promoted: the hold-out has no confirmed-and-cleared pair, so neither model can "
            "be judged on it; the refit on every known label replaces the current model"
        )
    if current is None and current_version is not None:
        promote, reason = True, f"promoted: the current model {current_version} cannot be loaded"
    candidate_uri = model_store.save_model(lake, candidate)
    if not promote:
        return TrainingOutcome(
            version=current_version or candidate.version,
            promoted=False,
            reason=reason,
            window=window,
            candidate_metrics=candidate_metrics,
            current_version=current_version,
            current_metrics=current_metrics,
            model_uri=candidate_uri,
            model_metadata=candidate.metadata,
            candidate_version=candidate.version,
        )
    # Rule 2: the hold-out has judged; the promoted model learns from every label known now.
    refit = train_model(features, labels, train_end=full_end, trained_at=now)
    refit.metadata["judged_as"] = {
        "candidate_version": candidate.version,
        "holdout_window": [d.isoformat() for d in holdout],
        "holdout_metrics": candidate_metrics,
    }
    uri = model_store.save_model(lake, refit)
    reason = f"{reason}; refitted on every label known by {full_end} as {refit.version}"
    model_store.promote(lake, refit.version, reason, now=now)
    return TrainingOutcome(
        version=refit.version,
        promoted=True,
        reason=reason,
        window=window,
        candidate_metrics=candidate_metrics,
        current_version=current_version,
        current_metrics=current_metrics,
        model_uri=uri,
        model_metadata=refit.metadata,
        candidate_version=candidate.version,
    )


def _saw(model: TrainedModel, day: dt.date) -> bool:
    end = model.metadata.get("training_window", {}).get("end")
    return end is not None and dt.date.fromisoformat(str(end)) >= day


def _unjudgeable(metrics: dict[str, Any]) -> bool:
    value = metrics.get(PR_AUC_KEY)
    return value is None or (isinstance(value, float) and value != value)


def train_and_register(warehouse: Warehouse, lake: Lake, now: dt.datetime) -> TrainingOutcome:
    features = warehouse.query(f"select * from {warehouse.relation('employee_day_features')}")
    labels = warehouse.query(f"select * from {warehouse.relation('investigation_labels')}")
    return train_and_register_frames(features, labels, lake, now)
