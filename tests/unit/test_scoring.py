"""Re-scoring a day after late edits: the stored list says which rows changed, and a re-run
that changes nothing leaves the stored partition untouched.

A real (label-free, fallback-mode) model trained on a small synthetic frame scores a tiny local
lake; fallback mode needs no labels and trains in well under a second.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from threadpoolctl import threadpool_limits

from tsfraud_assets.defs.model import model_store
from tsfraud_assets.defs.suspects.scoring import SCORES_DATASET, SCORES_SCHEMA, score_frames
from tsfraud_assets.lib.modeling import FEATURE_COLUMNS, TrainedModel, train_model
from tsfraud_assets.resources.lake import Lake

D1 = dt.date(2026, 4, 6)
D2 = dt.date(2026, 4, 7)
FIRST = dt.datetime(2026, 4, 8, 6, 0, tzinfo=dt.UTC)
SECOND = dt.datetime(2026, 4, 9, 6, 30, tzinfo=dt.UTC)
BUDGET = 0.05  # two suspects a day among 40 employee-days
OLD_SCHEMA = pa.schema([SCORES_SCHEMA.field(n) for n in SCORES_SCHEMA.names[:6]])


@pytest.fixture(autouse=True, scope="module")
def _one_openmp_thread() -> Iterator[None]:
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


def features_frame(days: list[dt.date], n_employees: int = 40, seed: int = 3) -> pd.DataFrame:
    """Plausible honest employee-days: 7.5-8.5 h booked, matching workstation activity."""
    rng = np.random.default_rng(seed)
    rows = []
    for day in days:
        for emp in range(1, n_employees + 1):
            hours = float(np.round(rng.normal(8.0, 0.4) * 2) / 2)
            row: dict[str, object] = dict.fromkeys(FEATURE_COLUMNS, 0.0)
            row.update(
                employee_id=emp,
                work_date=day,
                office="London",
                practice=["strategy", "technology"][emp % 2],
                grade="consultant",
                country_code="GB",
                total_hours=hours,
                entry_count=float(rng.integers(1, 4)),
                contracted_daily_hours=8.0,
                hours_over_contracted=hours - 8.0,
                own_median_hours_28d=8.0,
                hours_vs_own_median=hours - 8.0,
                peer_mean_hours=8.0,
                hours_vs_peer=hours - 8.0,
                active_hours=hours + 0.3,
                hours_minus_active=-0.3,
                max_submission_lag_days=float(rng.integers(0, 3)),
                days_submitted_same_batch=float(rng.integers(1, 4)),
                avg_approval_lag_hours=float(rng.uniform(2, 48)),
                round_hour_share=float(rng.uniform(0, 1)),
                hours_stddev_28d=0.4,
            )
            rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    history = features_frame([D1 - dt.timedelta(days=i) for i in range(1, 6)], seed=1)
    no_labels = pd.DataFrame(columns=["employee_id", "work_date", "outcome", "closed_at"])
    model = train_model(history, no_labels, train_end=D1 - dt.timedelta(days=1), trained_at=FIRST)
    assert model.mode == "prior-only"
    return model.to_bytes()


@pytest.fixture
def lake(tmp_path: Path, model_bytes: bytes) -> Lake:
    lake = Lake(root=str(tmp_path / "lake"))
    model = TrainedModel.from_bytes(model_bytes)
    model_store.save_model(lake, model)
    model_store.promote(lake, model.version, "test", now=FIRST)
    return lake


def stored(lake: Lake, day: dt.date) -> pd.DataFrame:
    table = lake.read_partition(SCORES_DATASET, day)
    assert table is not None
    assert table.schema == SCORES_SCHEMA
    return table.to_pandas().set_index("employee_id")


def partition_bytes(lake: Lake, day: dt.date) -> bytes:
    return lake.read_bytes(f"{SCORES_DATASET}/work_date={day.isoformat()}/data.parquet")


def test_a_first_scoring_has_no_previous_scores(lake: Lake) -> None:
    summary = score_frames(features_frame([D1, D2]), lake, [D1, D2], BUDGET, now=FIRST)
    day = stored(lake, D1)
    # Honest days only: the budget is a ceiling, not a quota, so nobody is listed.
    assert len(day) == 40 and day["is_suspect"].sum() == 0
    assert (day["risk_level"] == "low").all() and (day["fraud_score"] < 0.2).all()
    assert (day["scoring_mode"] == "prior-only").all()
    assert day["previous_score"].isna().all()
    assert not day["score_changed"].any()
    # an aware time is stored as naive UTC
    assert (day["scored_at"] == pd.Timestamp("2026-04-08 06:00:00")).all()
    assert (summary.changed_rows, summary.new_rows, summary.removed_rows) == (0, 0, 0)
    assert summary.unchanged_days == []


def test_rescoring_unchanged_input_is_idempotent(lake: Lake) -> None:
    features = features_frame([D1, D2])
    score_frames(features, lake, [D1, D2], BUDGET, now=FIRST)
    before = {d: partition_bytes(lake, d) for d in (D1, D2)}
    summary = score_frames(
        features.sample(frac=1, random_state=0), lake, [D1, D2], BUDGET, now=SECOND
    )
    assert {d: partition_bytes(lake, d) for d in (D1, D2)} == before
    assert summary.unchanged_days == [D1, D2]
    assert summary.rows == 80 and summary.changed_rows == 0
    for d in (D1, D2):
        day = stored(lake, d)
        assert not day["score_changed"].any()
        assert (day["scored_at"] == pd.Timestamp("2026-04-08 06:00:00")).all()


def test_rescoring_late_edits_marks_exactly_the_changed_rows(lake: Lake) -> None:
    features = features_frame([D1, D2])
    # Two days with a blatant red flag (hours on a project they are not staffed on) fill D1's list.
    listed = (features["work_date"] == D1) & features["employee_id"].isin([2, 3])
    features.loc[listed, ["unassigned_hours", "rule_flag_count"]] = [2.0, 1.0]
    score_frames(features, lake, [D1, D2], BUDGET, now=FIRST)
    first = stored(lake, D1)
    d2_before = partition_bytes(lake, D2)
    low = first.sort_values("rank").index[-5:].tolist()  # well off the list
    padded, weekend, removed = low[0], low[1], low[2]

    late = features.copy()
    on_d1 = late["work_date"] == D1
    # Hours claimed while on approved leave: three rules fire, the day jumps onto the list.
    row = on_d1 & (late["employee_id"] == padded)
    late.loc[row, ["leave_hours", "rule_flag_count", "no_activity_hours"]] = [8.0, 3.0, 8.0]
    # Weekend hours added late: a peer-deviation signal, the score moves.
    late.loc[on_d1 & (late["employee_id"] == weekend), "weekend_hours"] = 4.0
    late = late.loc[~(on_d1 & (late["employee_id"] == removed))]
    newcomer = late.loc[on_d1 & (late["employee_id"] == 1)].assign(employee_id=41)
    late = pd.concat([late, newcomer], ignore_index=True)

    summary = score_frames(late, lake, [D1, D2], BUDGET, now=SECOND)
    second = stored(lake, D1)
    assert partition_bytes(lake, D2) == d2_before  # D2 had no late edit: untouched
    assert summary.unchanged_days == [D2]

    assert removed not in second.index and 41 in second.index
    assert pd.isna(second.loc[41, "previous_score"]) and not second.loc[41, "score_changed"]
    common = second.index.intersection(first.index)
    assert (second.loc[common, "previous_score"] == first.loc[common, "fraud_score"]).all()
    flipped = {e for e in common if second.loc[e, "is_suspect"] != first.loc[e, "is_suspect"]}
    assert second.loc[padded, "is_suspect"] and second.loc[padded, "rank"] == 1
    assert flipped - {padded, weekend}, "a displaced suspect must be flagged as changed too"
    expected = {padded, weekend} | flipped
    assert set(second.index[second["score_changed"]]) == expected
    assert (summary.changed_rows, summary.new_rows, summary.removed_rows) == (len(expected), 1, 1)
    assert (second["scored_at"] == pd.Timestamp("2026-04-09 06:30:00")).all()
    assert "previous_score" in summary.changed_markdown

    # The flags of that change survive a later re-run that changes nothing.
    score_frames(late, lake, [D1], BUDGET, now=SECOND + dt.timedelta(days=1))
    again = stored(lake, D1)
    assert set(again.index[again["score_changed"]]) == expected
    assert (again["scored_at"] == pd.Timestamp("2026-04-09 06:30:00")).all()


def test_a_partition_of_the_old_layout_is_rewritten_with_the_new_columns(lake: Lake) -> None:
    features = features_frame([D1])
    score_frames(features, lake, [D1], BUDGET, now=FIRST)
    old = pa.Table.from_pandas(
        stored(lake, D1).reset_index()[OLD_SCHEMA.names], schema=OLD_SCHEMA, preserve_index=False
    )
    lake.write_partition(SCORES_DATASET, D1, OLD_SCHEMA, old.to_batches())

    summary = score_frames(features, lake, [D1], BUDGET, now=SECOND)
    day = stored(lake, D1)
    assert summary.unchanged_days == []
    assert not day["score_changed"].any()
    assert (day["previous_score"] == day["fraud_score"]).all()


def test_a_day_whose_entries_all_went_away_loses_its_list(lake: Lake) -> None:
    features = features_frame([D1, D2])
    score_frames(features, lake, [D1, D2], BUDGET, now=FIRST)
    summary = score_frames(
        features.loc[features["work_date"] == D2], lake, [D1, D2], BUDGET, now=SECOND
    )
    assert lake.read_partition(SCORES_DATASET, D1) is None
    assert summary.removed_rows == 40 and summary.unchanged_days == [D2]
