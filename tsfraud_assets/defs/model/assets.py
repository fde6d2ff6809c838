"""Model layer: the fraud model, trained on the features and past investigation outcomes."""

import datetime as dt
from collections.abc import Iterator

import dagster as dg

from tsfraud_assets.defs.model.training import train_and_register
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.warehouse import Warehouse

PROMOTION_CHECK = "promotion_beats_current_model"


@dg.asset(
    key="fraud_model",
    deps=["employee_day_features", "investigation_labels"],
    group_name="model",
    kinds={"scikitlearn"},
    check_specs=[
        dg.AssetCheckSpec(
            PROMOTION_CHECK,
            asset="fraud_model",
            description="The new model does at least as well as the promoted one on held-out "
            "investigated days (PR-AUC and precision at the alert budget); a worse model is "
            "kept in the lake but not promoted.",
        )
    ],
    description="A versioned scikit-learn fraud model in the lake; promoted only when it does "
    "at least as well as the current one on a held-out window of investigated days.",
)
def fraud_model(
    warehouse: Warehouse, lake: Lake
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    outcome = train_and_register(warehouse, lake, now=dt.datetime.now(dt.UTC))
    metadata = outcome.metadata()
    yield dg.MaterializeResult(metadata={**metadata, **warehouse.stats_metadata()})
    # WARN, not ERROR: scoring keeps using the promoted model, so nothing downstream must stop.
    yield dg.AssetCheckResult(
        check_name=PROMOTION_CHECK,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            k: metadata[k]
            for k in (
                "model_version",
                "scoring_mode",
                "reused_unchanged",
                "promotion_reason",
                "holdout_window",
                "candidate_metrics",
                "current_version",
                "current_metrics",
            )
        },
    )
