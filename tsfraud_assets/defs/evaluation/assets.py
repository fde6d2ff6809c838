"""Model-quality layer: the promoted model's daily lists measured against the simulator's truth.

Unpartitioned because the measure is over every scored day the model never trained on, not one
day. It only makes sense against a simulated source (a real firm has no ground truth), so it is
kept out of the daily runs and materialized on demand.
"""

import dagster as dg
from dagster._core.definitions.metadata import RawMetadataValue

from tsfraud_assets.defs.evaluation.measure import (
    IFOREST,
    MODEL,
    RULES,
    EvaluationError,
    check_targets,
    evaluate_promoted_model,
    json_safe,
    metrics_table,
    recall_by_type_table,
    targets_table,
)
from tsfraud_assets.lib.modeling.evaluate import budget_key
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.warehouse import Warehouse


def build_model_evaluation(ground_truth: str) -> dg.AssetsDefinition:
    """The evaluation against the ground truth at `ground_truth` (the settings' location)."""

    @dg.asset(
        key="model_evaluation",
        deps=["timesheet_scores", "employee_day_features"],
        group_name="model",
        kinds={"scikitlearn"},
        description="PR-AUC, ROC-AUC, precision and recall of the daily suspect lists at the alert "
        "budgets, and recall per fraud type, on the days after the promoted model's training "
        "window, against the simulator's ground truth; next to a rules-only and an "
        "IsolationForest baseline. Simulated sources only.",
    )
    def model_evaluation(warehouse: Warehouse, lake: Lake) -> dg.MaterializeResult:
        location = ground_truth
        try:
            result = evaluate_promoted_model(warehouse, lake, location)
        except EvaluationError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
        checks = check_targets(result)
        metadata: dict[str, RawMetadataValue] = {
            "model_version": str(result.context["model_version"]),
            "train_end": str(result.context["train_end"]),
            "evaluation_window": f"{result.first_day} .. {result.last_day}",
            "ground_truth": dg.MetadataValue.path(location),
            "employee_days": result.n_rows,
            "fraud_days": result.n_fraud,
            "metrics": dg.MetadataValue.md(metrics_table(result)),
            "recall_by_fraud_type": dg.MetadataValue.md(recall_by_type_table(result)),
            "targets": dg.MetadataValue.md(targets_table(checks)),
            "targets_met": all(c.passed for c in checks),
            "results": dg.MetadataValue.json(
                json_safe({"context": result.context, "budgets": result.budgets, **result.results})
            ),
        }
        # Plain numbers as well, so the Dagster UI plots them across materializations.
        for name in (MODEL, RULES, IFOREST):
            metrics = result.results[name]
            fixed = [b for b in result.budgets if b != result.fraud_rate_budget]
            keys = ["pr_auc", "roc_auc"] + [
                f"{m}_at_{budget_key(b)}" for b in fixed for m in ("precision", "recall")
            ]
            for key in keys:
                value = json_safe(metrics.get(key))
                if value is not None:
                    metadata[f"{name}/{key}"] = float(value)
        return dg.MaterializeResult(metadata=metadata)

    return model_evaluation
