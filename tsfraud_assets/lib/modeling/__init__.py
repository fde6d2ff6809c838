"""Fraud model: training, daily scoring, reasons, evaluation and promotion.

Plain Python on DataFrames and bytes; no Dagster and no lake IO (the assets do that).
"""

from tsfraud_assets.lib.modeling.evaluate import (
    baseline_isolation_forest_scores,
    baseline_rules_scores,
    compare,
    evaluate,
)
from tsfraud_assets.lib.modeling.features import (
    CATEGORICAL_COLUMNS,
    FEATURE_COLUMNS,
    KEY_COLUMNS,
    FeatureValidationError,
    validate_features,
)
from tsfraud_assets.lib.modeling.promote import holdout_metrics, should_promote
from tsfraud_assets.lib.modeling.score import SCORE_COLUMNS, score_day, suspect_count
from tsfraud_assets.lib.modeling.train import TrainedModel, TrainingData, train_model, training_data

__all__ = [
    "CATEGORICAL_COLUMNS",
    "FEATURE_COLUMNS",
    "KEY_COLUMNS",
    "SCORE_COLUMNS",
    "FeatureValidationError",
    "TrainedModel",
    "TrainingData",
    "baseline_isolation_forest_scores",
    "baseline_rules_scores",
    "compare",
    "evaluate",
    "holdout_metrics",
    "score_day",
    "should_promote",
    "suspect_count",
    "train_model",
    "training_data",
    "validate_features",
]
