"""Train a candidate fraud model, judge it on held-out investigated days, promote or keep.

Production has no ground truth, only investigation outcomes, so promotion compares the
candidate and the current model on the most recent window of investigated days, which the
candidate never trained on (it trains only on days before that window, with labels known by
`now`).
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
from tsfraud_assets.lib.modeling.promote import holdout_metrics, should_promote
from tsfraud_assets.lib.modeling.train import train_model
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.warehouse import Warehouse

HOLDOUT_DAYS = 14


@dataclass(frozen=True)
class TrainingWindow:
    train_end: dt.date
    holdout_start: dt.date
    holdout_end: dt.date


@dataclass
class TrainingOutcome:
    version: str
    promoted: bool
    reason: str
    window: TrainingWindow
    candidate_metrics: dict[str, Any]
    current_version: str | None
    current_metrics: dict[str, Any] | None
    model_uri: str
    model_metadata: dict[str, Any] = field(default_factory=dict)

    def metadata(self) -> dict[str, RawMetadataValue]:
        return {
            "model_version": self.version,
            "promoted": self.promoted,
            "promotion_reason": self.reason,
            "train_end": self.window.train_end.isoformat(),
            "holdout_window": f"{self.window.holdout_start} .. {self.window.holdout_end}",
            "candidate_metrics": dg.MetadataValue.json(json_safe(self.candidate_metrics)),
            "current_version": self.current_version or "none",
            "current_metrics": dg.MetadataValue.json(json_safe(self.current_metrics or {})),
            "path": dg.MetadataValue.path(self.model_uri),
        }


def training_window(
    labels: pd.DataFrame, now: dt.datetime, holdout_days: int = HOLDOUT_DAYS
) -> TrainingWindow:
    """The last `holdout_days` of days whose investigations closed by `now` are held out
    (a quarter of the labelled span at most, so a young history still leaves days to train on)."""
    closed = pd.to_datetime(labels["closed_at"], utc=True)
    known = labels[closed <= pd.Timestamp(now).tz_convert("UTC")]
    if known.empty:
        raise ValueError("no closed investigation cases yet: nothing to train or judge a model on")
    days = pd.to_datetime(known["work_date"])
    first, last = days.min().date(), days.max().date()
    holdout_days = max(1, min(holdout_days, ((last - first).days + 1) // 4))
    holdout_start = last - dt.timedelta(days=holdout_days - 1)
    return TrainingWindow(
        train_end=holdout_start - dt.timedelta(days=1),
        holdout_start=holdout_start,
        holdout_end=last,
    )


def train_and_register_frames(
    features: pd.DataFrame, labels: pd.DataFrame, lake: Lake, now: dt.datetime
) -> TrainingOutcome:
    window = training_window(labels, now)
    candidate = train_model(features, labels, train_end=window.train_end, trained_at=now)
    holdout = (window.holdout_start, window.holdout_end)
    candidate_metrics = holdout_metrics(candidate, features, labels, holdout)
    current_version = model_store.current_version(lake)
    current_metrics = None
    if current_version is not None:
        current = model_store.load_model(lake, current_version)
        current_metrics = holdout_metrics(current, features, labels, holdout)
    promote, reason = should_promote(candidate_metrics, current_metrics)
    uri = model_store.save_model(lake, candidate)
    if promote:
        model_store.promote(lake, candidate.version, reason, now=now)
    return TrainingOutcome(
        version=candidate.version,
        promoted=promote,
        reason=reason,
        window=window,
        candidate_metrics=candidate_metrics,
        current_version=current_version,
        current_metrics=current_metrics,
        model_uri=uri,
        model_metadata=candidate.metadata,
    )


def train_and_register(warehouse: Warehouse, lake: Lake, now: dt.datetime) -> TrainingOutcome:
    features = warehouse.query(f"select * from {warehouse.relation('employee_day_features')}")
    labels = warehouse.query(f"select * from {warehouse.relation('investigation_labels')}")
    return train_and_register_frames(features, labels, lake, now)
