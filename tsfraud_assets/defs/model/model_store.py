"""Versioned fraud-model artefacts in the lake, and which version is promoted.

`models/fraud_model/<version>/model.joblib` + `metadata.json` are written once and never
changed; `models/fraud_model/current.json` names the promoted version. A candidate that loses
the promotion check is kept (for audit and comparison) but `current.json` keeps pointing at
the better model.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tsfraud_assets.lib import lake_layout
from tsfraud_assets.lib.modeling.train import TrainedModel
from tsfraud_assets.resources.lake import Lake

MODEL_DIR = lake_layout.MODELS
CURRENT = lake_layout.CURRENT_MODEL


def save_model(lake: Lake, model: TrainedModel) -> str:
    lake.write_bytes(f"{MODEL_DIR}/{model.version}/model.joblib", model.to_bytes())
    lake.write_json(lake_layout.model_metadata(model.version), model.metadata)
    return lake.uri(MODEL_DIR, model.version)


def current_version(lake: Lake) -> str | None:
    if not lake.exists(CURRENT):
        return None
    return str(lake.read_json(CURRENT)["version"])


def load_model(lake: Lake, version: str | None = None) -> TrainedModel:
    version = version or current_version(lake)
    if version is None:
        raise LookupError(
            f"no promoted fraud model under {lake.uri(MODEL_DIR)}: materialize fraud_model first"
        )
    return TrainedModel.from_bytes(lake.read_bytes(f"{MODEL_DIR}/{version}/model.joblib"))


def promote(lake: Lake, version: str, reason: str, now: dt.datetime | None = None) -> None:
    payload: dict[str, Any] = {
        "version": version,
        "promoted_at": (now or dt.datetime.now(dt.UTC)).isoformat(),
        "reason": reason,
    }
    lake.write_json(CURRENT, payload)
