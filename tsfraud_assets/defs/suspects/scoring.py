"""Score every employee-day of a range with the promoted model and store the daily lists.

Late edits are re-ingested and their days re-scored, so a day's list can change after
investigators first saw it. Each stored row therefore says whether this scoring changed it
(`previous_score`, `score_changed`) and when the list was written (`scored_at`). A re-run that
would change nothing in a day's list leaves the stored partition exactly as it was: re-runs stay
idempotent, and the flags of the last real change survive until investigators have seen them
instead of being wiped by the next unrelated backfill over the same days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from tsfraud_assets.defs.model import model_store
from tsfraud_assets.lib import lake_layout
from tsfraud_assets.lib.modeling.score import SCORE_COLUMNS, score_day
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.warehouse import Warehouse
from tsfraud_assets.reviews.history import archive_list_version

SCORES_DATASET = lake_layout.SCORES
SCORES_SCHEMA = pa.schema(
    [
        pa.field("employee_id", pa.int64()),
        pa.field("fraud_score", pa.float64()),
        pa.field("rank", pa.int32()),
        pa.field("is_suspect", pa.bool_()),
        pa.field("reasons", pa.string()),
        pa.field("model_version", pa.string()),
        pa.field("previous_score", pa.float64()),
        pa.field("score_changed", pa.bool_()),
        # Naive UTC, like every timestamp in the lake, so no reader applies a session time zone.
        pa.field("scored_at", pa.timestamp("us")),
        # Added with the calibrated risk: the level in words and what scored the day.
        pa.field("risk_level", pa.string()),
        pa.field("scoring_mode", pa.string()),
    ]
)
LIST_COLUMNS: tuple[str, ...] = tuple(c for c in SCORE_COLUMNS if c != "work_date")
"""What investigators act on; a re-scoring that leaves these as they were changes nothing."""
SCORE_TOLERANCE = 1e-9
"""Smaller score differences are float noise (another BLAS, another row order), not news."""


@dataclass
class ScoringSummary:
    days: list[dt.date]
    rows: int
    suspects: int
    model_version: str
    top_markdown: str
    changed_rows: int = 0
    """Rows of this run whose score or suspect status differs from the list they replaced."""
    new_rows: int = 0
    """Employee-days absent from a list that existed before (late entries for a scored day)."""
    removed_rows: int = 0
    """Employee-days of a replaced list that are gone (all their entries deleted)."""
    unchanged_days: list[dt.date] = field(default_factory=list)
    """Days whose stored list was already what this run computed, and was left untouched."""
    changed_markdown: str = "no changed scores"


def with_previous(current: pd.DataFrame, previous: pa.Table | None) -> pd.DataFrame:
    """One day's new list plus `previous_score` and `score_changed` against the list it replaces.

    `score_changed` is true only where a previous row exists and its score moved by more than
    SCORE_TOLERANCE or its suspect status flipped: a rank shift alone is not news (another row
    moved), and a brand-new employee-day is recognisable by its null `previous_score`.
    """
    out = current.reset_index(drop=True).copy()
    if previous is None or previous.num_rows == 0:
        out["previous_score"] = np.nan
        out["score_changed"] = False
        return out
    prev = (
        previous.select(["employee_id", "fraud_score", "is_suspect"])
        .to_pandas()
        .rename(columns={"fraud_score": "previous_score", "is_suspect": "previous_suspect"})
    )
    merged = out[["employee_id"]].merge(prev, how="left", on="employee_id", validate="one_to_one")
    had = merged["previous_score"].notna().to_numpy()
    prev_score = merged["previous_score"].to_numpy(dtype="float64")
    moved = np.abs(out["fraud_score"].to_numpy(dtype="float64") - prev_score) > SCORE_TOLERANCE
    prev_suspect = merged["previous_suspect"].astype("boolean").fillna(False)
    flipped = out["is_suspect"].to_numpy(dtype=bool) != prev_suspect.to_numpy(dtype=bool)
    out["previous_score"] = prev_score
    out["score_changed"] = had & (moved | flipped)
    return out


def _same_list(current: pd.DataFrame, previous: pa.Table) -> bool:
    """Whether writing `current` would change nothing investigators see in `previous`."""
    if previous.schema != SCORES_SCHEMA or previous.num_rows != len(current):
        return False  # an older layout is rewritten, so every partition gains the new columns
    if bool(current["score_changed"].any()) or bool(current["previous_score"].isna().any()):
        return False
    prev = previous.select(list(LIST_COLUMNS)).to_pandas().sort_values("employee_id")
    cur = current.loc[:, list(LIST_COLUMNS)].sort_values("employee_id")
    return all(
        np.array_equal(cur[c].to_numpy(), prev[c].to_numpy())
        for c in LIST_COLUMNS
        if c != "fraud_score"
    )


def score_frames(
    features: pd.DataFrame,
    lake: Lake,
    days: list[dt.date],
    alert_budget: float,
    *,
    now: dt.datetime | None = None,
) -> ScoringSummary:
    """Score `features` and replace the lists of `days` (a day without rows loses its list).

    `now` is the `scored_at` of the written rows (default: the current UTC time).
    """
    model = model_store.load_model(lake)
    scored_at = pd.Timestamp(now or dt.datetime.now(dt.UTC))
    if scored_at.tzinfo is not None:
        scored_at = scored_at.tz_convert("UTC").tz_localize(None)
    scored_at = scored_at.floor("us")
    scored = (
        score_day(model, features, alert_budget=alert_budget)
        if not features.empty
        else pd.DataFrame(columns=[*LIST_COLUMNS, "work_date"])
    )
    scored["work_date"] = pd.to_datetime(scored["work_date"]).dt.date
    summary = ScoringSummary(days, 0, 0, model.version, "no suspects")
    changed: list[pd.DataFrame] = []
    for day in days:
        previous = lake.read_partition(SCORES_DATASET, day)
        part = scored[scored["work_date"] == day].sort_values("rank")
        if part.empty:
            lake.delete_partition(SCORES_DATASET, day)  # a day with no entries has no list
            summary.removed_rows += previous.num_rows if previous is not None else 0
            continue
        part = with_previous(part, previous)
        summary.rows += len(part)
        summary.suspects += int(part["is_suspect"].sum())
        if previous is not None and _same_list(part, previous):
            summary.unchanged_days.append(day)
            continue
        if previous is not None:
            summary.changed_rows += int(part["score_changed"].sum())
            summary.new_rows += int(part["previous_score"].isna().sum())
            summary.removed_rows += len(
                set(previous.column("employee_id").to_pylist()) - set(part["employee_id"])
            )
            changed.append(part.loc[part["score_changed"]])
        part["scored_at"] = scored_at
        table = pa.Table.from_pandas(
            part[SCORES_SCHEMA.names], schema=SCORES_SCHEMA, preserve_index=False
        )
        if previous is not None:
            archive_list_version(lake, day, previous)  # the list it replaces stays readable
        lake.write_partition(SCORES_DATASET, day, SCORES_SCHEMA, table.to_batches())
    top = scored[scored["is_suspect"]].sort_values(["fraud_score"], ascending=False).head(10)
    if not top.empty:
        columns = ["work_date", "employee_id", "fraud_score", "reasons"]
        summary.top_markdown = top[columns].to_markdown(index=False)
    moved = pd.concat(changed) if changed else pd.DataFrame()
    if not moved.empty:
        moved = moved.assign(delta=(moved["fraud_score"] - moved["previous_score"]).abs())
        columns = ["work_date", "employee_id", "previous_score", "fraud_score", "is_suspect"]
        summary.changed_markdown = (
            moved.sort_values("delta", ascending=False).head(10)[columns].to_markdown(index=False)
        )
    return summary


def score_and_store(
    warehouse: Warehouse, lake: Lake, days: list[dt.date], alert_budget: float
) -> ScoringSummary:
    features = warehouse.query(
        f"select * from {warehouse.relation('employee_day_features')} "
        "where work_date between ? and ?",
        [days[0], days[-1]],
    )
    return score_frames(features, lake, days, alert_budget)
