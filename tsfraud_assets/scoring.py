"""Score every employee-day of a range with the promoted model and store the daily lists."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from tsfraud_assets import model_store
from tsfraud_assets.modeling.score import score_day
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.warehouse import Warehouse

SCORES_DATASET = "scores/timesheet_scores"
SCORES_SCHEMA = pa.schema(
    [
        pa.field("employee_id", pa.int64()),
        pa.field("fraud_score", pa.float64()),
        pa.field("rank", pa.int32()),
        pa.field("is_suspect", pa.bool_()),
        pa.field("reasons", pa.string()),
        pa.field("model_version", pa.string()),
    ]
)


@dataclass
class ScoringSummary:
    days: list[dt.date]
    rows: int
    suspects: int
    model_version: str
    top_markdown: str


def score_frames(
    features: pd.DataFrame, lake: Lake, days: list[dt.date], alert_budget: float
) -> ScoringSummary:
    model = model_store.load_model(lake)
    scored = (
        score_day(model, features, alert_budget=alert_budget)
        if not features.empty
        else pd.DataFrame(columns=[*SCORES_SCHEMA.names, "work_date"])
    )
    scored["work_date"] = pd.to_datetime(scored["work_date"]).dt.date
    rows = suspects = 0
    for day in days:
        part = scored[scored["work_date"] == day].sort_values("rank")
        if part.empty:
            lake.delete_partition(SCORES_DATASET, day)  # a day with no entries has no list
            continue
        table = pa.Table.from_pandas(
            part[SCORES_SCHEMA.names], schema=SCORES_SCHEMA, preserve_index=False
        )
        lake.write_partition(SCORES_DATASET, day, SCORES_SCHEMA, table.to_batches())
        rows += len(part)
        suspects += int(part["is_suspect"].sum())
    top = scored[scored["is_suspect"]].sort_values(["fraud_score"], ascending=False).head(10)
    top_md = (
        top[["work_date", "employee_id", "fraud_score", "reasons"]].to_markdown(index=False)
        if not top.empty
        else "no suspects"
    )
    return ScoringSummary(days, rows, suspects, model.version, top_md)


def score_and_store(
    warehouse: Warehouse, lake: Lake, days: list[dt.date], alert_budget: float
) -> ScoringSummary:
    features = warehouse.query(
        f"select * from {warehouse.relation('employee_day_features')} "
        "where work_date between ? and ?",
        [days[0], days[-1]],
    )
    return score_frames(features, lake, days, alert_budget)
