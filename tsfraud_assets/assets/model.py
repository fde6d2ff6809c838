"""Model layer: the fraud model, trained on the features and past investigation outcomes."""

import datetime as dt

import dagster as dg

from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.warehouse import Warehouse
from tsfraud_assets.training import train_and_register


@dg.asset(
    key="fraud_model",
    deps=["employee_day_features", "investigation_labels"],
    group_name="model",
    kinds={"scikitlearn"},
    description="A versioned scikit-learn fraud model in the lake; promoted only when it does "
    "at least as well as the current one on a held-out window of investigated days.",
)
def fraud_model(warehouse: Warehouse, lake: Lake) -> dg.MaterializeResult:
    outcome = train_and_register(warehouse, lake, now=dt.datetime.now(dt.UTC))
    return dg.MaterializeResult(metadata=outcome.metadata())
