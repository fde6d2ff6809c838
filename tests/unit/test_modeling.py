"""Tests of tsfraud_assets.lib.modeling on hand-built and synthetic frames (no lake, no Dagster).

The synthetic generator plants frauds with a known signature (padding without matching
workstation activity, hours on leave, unassigned billing, duplicate lines) next to honest
look-alikes that trip the same hand-written rules (honest long days with matching activity,
honest late batches, client-site days without VPN). Rules alone cannot tell them apart; a model
that learned from investigation outcomes should.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from tsfraud_assets.lib.modeling import (
    CATEGORICAL_COLUMNS,
    FEATURE_COLUMNS,
    KEY_COLUMNS,
    SCORE_COLUMNS,
    FeatureValidationError,
    TrainedModel,
    baseline_isolation_forest_scores,
    baseline_rules_scores,
    evaluate,
    holdout_metrics,
    score_day,
    should_promote,
    suspect_count,
    train_model,
    training_data,
    validate_features,
)
from tsfraud_assets.lib.modeling.reasons import NO_SIGNAL_TEXT, SEPARATOR

START = date(2024, 1, 1)
TRAINED_AT = datetime(2024, 3, 1, 12, 0, 0)
FRAUD_TYPES = ("padding", "leave_claim", "unassigned_billing", "duplicate_lines")
LOOKALIKES = ("long_day", "late_but_honest", "client_site")
CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "data-contracts.md"


@pytest.fixture(autouse=True, scope="module")
def _one_openmp_thread() -> Iterator[None]:
    """Scoring repeatedly on small frames: OpenMP thread start-up would dominate (and thrash on
    a busy CI box). Results do not depend on the thread count."""
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


# ---------------------------------------------------------------------------------------------
# Synthetic data
# ---------------------------------------------------------------------------------------------


def rule_flag_count(f: pd.DataFrame) -> pd.Series:
    """The dbt hand-written rules (dbt_project/macros/fraud_rules.sql), on a features frame."""
    rules = [
        f["total_hours"] > f["contracted_daily_hours"] + 3,
        f["hours_minus_active"] > 3,
        f["leave_hours"] > 0,
        f["holiday_hours"] > 0,
        f["unassigned_hours"] > 0,
        f["closed_project_hours"] > 0,
        f["post_termination_hours"] > 0,
        f["duplicate_lines"] > 0,
        (f["max_submission_lag_days"] > 14) & (f["days_submitted_same_batch"] >= 5),
        (f["self_approved_hours"] > 0) | (f["reciprocal_approval_hours"] > 0),
    ]
    count = np.zeros(len(f))
    for fired in rules:
        count += fired.to_numpy(dtype="float64")
    return pd.Series(count, index=f.index)


def derive(f: pd.DataFrame) -> pd.DataFrame:
    """Recompute the derived columns the way the dbt model does."""
    f = f.copy()
    f["hours_over_contracted"] = f["total_hours"] - f["contracted_daily_hours"]
    f["hours_vs_own_median"] = f["total_hours"] - f["own_median_hours_28d"]
    f["hours_vs_peer"] = f["total_hours"] - f["peer_mean_hours"]
    f["hours_minus_active"] = f["total_hours"] - f["active_hours"]
    f["no_activity_hours"] = np.where(f["active_hours"] > 0, 0.0, f["total_hours"])
    f["rule_flag_count"] = rule_flag_count(f)
    return f


def _only_where(values: np.ndarray, mask: np.ndarray) -> pd.Series:
    """values where mask, else None (object dtype, like a nullable string column)."""
    return pd.Series([v if m else None for v, m in zip(values, mask, strict=True)], dtype="object")


def make_synthetic(
    n_employees: int = 300,
    n_days: int = 70,
    seed: int = 0,
    fraud_rate: float = 0.015,
    lookalike_rate: float = 0.03,
    investigate: float = 0.4,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(features, ground_truth, labels) with planted frauds and honest look-alikes.

    A random `investigate` share of frauds (confirmed) and look-alikes (cleared) carry a label,
    closed 3-18 days after the work date.
    """
    rng = np.random.default_rng(seed)
    emp = pd.DataFrame(
        {
            "employee_id": np.arange(1, n_employees + 1, dtype="int64"),
            "office": rng.choice(["London", "New York"], n_employees),
            "practice": rng.choice(["strategy", "technology", "operations"], n_employees),
            "grade": rng.choice(["analyst", "consultant", "manager"], n_employees),
            "base": rng.uniform(7.5, 8.5, n_employees),
        }
    )
    emp["country_code"] = np.where(emp["office"] == "London", "GB", "US")
    days = [START + timedelta(days=i) for i in range(n_days)]
    grid = emp.merge(pd.DataFrame({"work_date": days}), how="cross")
    n = len(grid)
    base = grid["base"].to_numpy()
    total = np.clip(np.round(rng.normal(base, 0.6) * 2) / 2, 4, 12)
    f = pd.DataFrame({c: np.zeros(n) for c in FEATURE_COLUMNS})
    f["total_hours"] = total
    f["entry_count"] = rng.integers(1, 5, n).astype(float)
    f["contracted_daily_hours"] = 8.0
    f["own_median_hours_28d"] = np.round(base * 2) / 2
    f["peer_mean_hours"] = np.round(8.0 + rng.normal(0, 0.1, n), 2)
    f["active_hours"] = np.round(np.clip(total + rng.normal(0.3, 0.4, n), 0.5, None), 2)
    f["max_submission_lag_days"] = rng.geometric(0.6, n) - 1.0
    f["days_submitted_same_batch"] = rng.integers(1, 6, n).astype(float)
    f["avg_approval_lag_hours"] = rng.uniform(2, 72, n)
    f["round_hour_share"] = rng.uniform(0.7, 1.0, n)
    f["hours_stddev_28d"] = rng.uniform(0.3, 0.8, n)

    u = rng.random(n)
    is_fraud = u < fraud_rate
    is_look = (u >= fraud_rate) & (u < fraud_rate + lookalike_rate)
    kind = np.full(n, "", dtype=object)
    kind[is_fraud] = rng.choice(FRAUD_TYPES, int(is_fraud.sum()))
    kind[is_look] = rng.choice(LOOKALIKES, int(is_look.sum()))
    extra = rng.choice([3.5, 4.0, 4.5], n)

    m = kind == "padding"  # more hours, activity unchanged
    f.loc[m, "total_hours"] += extra[m]
    m = kind == "leave_claim"  # a full day booked while on approved leave, nobody at the desk
    f.loc[m, "leave_hours"] = f.loc[m, "total_hours"]
    f.loc[m, "active_hours"] = 0.0
    m = kind == "unassigned_billing"
    f.loc[m, "unassigned_hours"] = np.minimum(f.loc[m, "total_hours"], extra[m])
    m = kind == "duplicate_lines"
    f.loc[m, "duplicate_lines"] = rng.integers(1, 4, n)[m].astype(float)
    f.loc[m, "total_hours"] += 2.0
    m = kind == "long_day"  # honest: long day, activity matches
    f.loc[m, "total_hours"] += extra[m]
    f.loc[m, "active_hours"] = f.loc[m, "total_hours"] + 0.2
    m = kind == "late_but_honest"
    f.loc[m, "max_submission_lag_days"] = rng.integers(15, 21, n)[m].astype(float)
    f.loc[m, "days_submitted_same_batch"] = 10.0
    m = kind == "client_site"  # honest: at the client, no VPN
    f.loc[m, "active_hours"] = 0.0
    f = derive(f)

    features = pd.concat(
        [grid[["employee_id", "work_date", *CATEGORICAL_COLUMNS]].reset_index(drop=True), f],
        axis=1,
    )
    truth = pd.DataFrame(
        {
            "employee_id": grid["employee_id"],
            "work_date": grid["work_date"],
            "is_fraud": is_fraud,
            "fraud_type": _only_where(kind, is_fraud),
            "lookalike": _only_where(kind, is_look),
        }
    )
    investigated = (is_fraud | is_look) & (rng.random(n) < investigate)
    opened = pd.to_datetime(grid["work_date"]) + pd.to_timedelta(rng.integers(1, 4, n), unit="D")
    closed = opened + pd.to_timedelta(rng.integers(2, 15, n), unit="D") + pd.Timedelta(hours=10)
    labels = (
        pd.DataFrame(
            {
                "employee_id": grid["employee_id"],
                "work_date": grid["work_date"],
                "outcome": np.where(is_fraud, "confirmed", "cleared"),
                "fraud_type": _only_where(kind, is_fraud),
                "opened_at": opened,
                "closed_at": closed,
            }
        )
        .loc[investigated]
        .reset_index(drop=True)
    )
    return features, truth, labels


def honest_row(employee_id: int = 1, work_date: date = START, **overrides: float) -> dict[str, Any]:
    """One plain 8 h day with matching activity; `overrides` change raw inputs, derived columns
    (differences, no-activity hours, rule count) are recomputed."""
    row: dict[str, Any] = {c: 0.0 for c in FEATURE_COLUMNS}
    row.update(
        employee_id=employee_id,
        work_date=work_date,
        office="London",
        practice="strategy",
        grade="consultant",
        country_code="GB",
        total_hours=8.0,
        entry_count=2.0,
        contracted_daily_hours=8.0,
        own_median_hours_28d=8.0,
        peer_mean_hours=8.0,
        active_hours=8.3,
        max_submission_lag_days=1.0,
        days_submitted_same_batch=1.0,
        avg_approval_lag_hours=24.0,
        round_hour_share=1.0,
        hours_stddev_28d=0.5,
    )
    row.update(overrides)
    return row


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return derive(pd.DataFrame(rows))


# ---------------------------------------------------------------------------------------------
# Shared fixtures: one dataset, one trained model (train once, ~3 s)
# ---------------------------------------------------------------------------------------------

TRAIN_END = START + timedelta(days=49)
HOLDOUT = (START + timedelta(days=50), START + timedelta(days=69))


@pytest.fixture(scope="module")
def synthetic() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return make_synthetic()


@pytest.fixture(scope="module")
def model(synthetic: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]) -> TrainedModel:
    features, _, labels = synthetic
    return train_model(features, labels, train_end=TRAIN_END, seed=0, trained_at=TRAINED_AT)


@pytest.fixture(scope="module")
def small() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Smaller dataset for the tests that train several models."""
    return make_synthetic(n_employees=80, n_days=40, seed=1, fraud_rate=0.03)


SMALL_END = START + timedelta(days=29)


def _train_small(features: pd.DataFrame, labels: pd.DataFrame) -> TrainedModel:
    return train_model(features, labels, train_end=SMALL_END, seed=3, trained_at=TRAINED_AT)


@pytest.fixture(scope="module")
def small_known(small: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    """The labels of `small` that were closed by the end of SMALL_END."""
    labels = small[2]
    return labels[pd.to_datetime(labels["closed_at"]) < pd.Timestamp(SMALL_END + timedelta(1))]


@pytest.fixture(scope="module")
def small_model(
    small: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], small_known: pd.DataFrame
) -> TrainedModel:
    return _train_small(small[0], small_known)


# ---------------------------------------------------------------------------------------------
# Features contract
# ---------------------------------------------------------------------------------------------


def test_feature_columns_are_the_contracts_numeric_columns() -> None:
    text = CONTRACT.read_text()
    section = text.split("`employee_day_features` (marts)")[1].split("`investigation_labels`")[0]
    listed = section.split("Columns the model and the reports read")[1]
    columns = re.findall(r"[a-z_0-9]+", listed.split(":", 1)[1].split("`.")[0])
    expected = [c for c in columns if c not in KEY_COLUMNS + CATEGORICAL_COLUMNS]
    assert list(FEATURE_COLUMNS) == expected


def test_validate_features_names_missing_and_null_columns() -> None:
    good = frame([honest_row()])
    with pytest.raises(FeatureValidationError, match="leave_hours, rule_flag_count") as err:
        validate_features(good.drop(columns=["leave_hours", "rule_flag_count"]))
    # a warehouse built before a feature existed: the message says how to rebuild it
    assert "--full-refresh --select employee_day_features" in str(err.value)
    assert "presence_minutes" not in str(err.value)
    with pytest.raises(FeatureValidationError) as err:
        validate_features(good.drop(columns=["hours_beyond_presence"]))
    # a lake whose days were all processed before the presence span existed: Spark first
    assert "`tsfraud run` one day first" in str(err.value)
    with pytest.raises(FeatureValidationError, match="employee_id") as err:
        validate_features(good.drop(columns=["employee_id"]))
    assert "full-refresh" not in str(err.value)  # a broken mart, not an old one
    nulls = good.copy()
    nulls.loc[0, "active_hours"] = np.nan
    with pytest.raises(FeatureValidationError, match="active_hours"):
        validate_features(nulls)
    with pytest.raises(FeatureValidationError, match="duplicate"):
        validate_features(pd.concat([good, good]))
    out = validate_features(good)
    assert out["work_date"].dtype == "datetime64[ns]"
    assert out["leave_hours"].dtype == "float64"


# ---------------------------------------------------------------------------------------------
# Leakage
# ---------------------------------------------------------------------------------------------


def test_future_labels_and_rows_cannot_influence_the_model(
    small: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
    small_known: pd.DataFrame,
    small_model: TrainedModel,
) -> None:
    features, _, labels = small  # labels include cases closed after SMALL_END
    base = small_model  # trained on small_known only
    assert base.mode == "blended"

    # Poison 1: the answer to every training day, but known only after train_end
    # (closed at midnight that starts the next day: the first instant that is too late).
    train_days = features[pd.to_datetime(features["work_date"]) <= pd.Timestamp(SMALL_END)]
    poison = pd.DataFrame(
        {
            "employee_id": train_days["employee_id"],
            "work_date": train_days["work_date"],
            "outcome": np.where(train_days["rule_flag_count"] > 0, "cleared", "confirmed"),
            "fraud_type": None,
            "opened_at": pd.Timestamp(SMALL_END),
            "closed_at": pd.Timestamp(SMALL_END + timedelta(days=1)),
        }
    )
    # Poison 2: days after train_end with absurd values, and their labels closed in time.
    future = features[pd.to_datetime(features["work_date"]) > pd.Timestamp(SMALL_END)].copy()
    future["total_hours"] = 23.0
    future["leave_hours"] = 23.0
    future_labels = future[["employee_id", "work_date"]].assign(
        outcome="confirmed",
        fraud_type="x",
        opened_at=pd.Timestamp(START),
        closed_at=pd.Timestamp(START),
    )
    past = features[pd.to_datetime(features["work_date"]) <= pd.Timestamp(SMALL_END)]
    poisoned = train_model(  # shuffled input order: must not matter either
        pd.concat([past, future], ignore_index=True).sample(frac=1.0, random_state=7),
        pd.concat([labels, poison, future_labels], ignore_index=True),
        train_end=SMALL_END,
        seed=3,
        trained_at=TRAINED_AT,
    )

    assert poisoned.metadata["data_fingerprint"] == base.metadata["data_fingerprint"]
    assert poisoned.version == base.version
    probe = features[pd.to_datetime(features["work_date"]) > pd.Timestamp(SMALL_END)]
    np.testing.assert_array_equal(poisoned.predict_scores(probe), base.predict_scores(probe))
    window = poisoned.metadata["training_window"]
    assert window["end"] == SMALL_END.isoformat()
    assert window["last_feature_date"] <= SMALL_END.isoformat()
    assert poisoned.metadata["labels"]["excluded_closed_after_train_end"] >= len(poison)


def test_label_closed_on_train_end_is_used_and_late_submitted_rows_are_not(
    small: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], small_known: pd.DataFrame
) -> None:
    features = small[0]
    base = training_data(features, small_known, train_end=SMALL_END)
    assert base.fingerprint == _train_small(features, small_known).metadata["data_fingerprint"]
    unlabelled = base.frame[(base.y == -1) & (base.frame["work_date"] < pd.Timestamp(SMALL_END))]
    emp, day = unlabelled.iloc[0]["employee_id"], unlabelled.iloc[0]["work_date"]
    cases = [
        (pd.Timestamp(SMALL_END) + pd.Timedelta(hours=23, minutes=59), 1),  # closed that day
        (pd.Timestamp(SMALL_END) + pd.Timedelta(days=1), 0),  # first instant too late
        ("2024-01-30T23:30:00+00:00", 1),  # tz-aware UTC strings are read as UTC
        (None, 0),  # still open
    ]
    for closed_at, expected_extra in cases:
        case = pd.DataFrame(
            [
                {
                    "employee_id": emp,
                    "work_date": day.date(),
                    "outcome": "confirmed",
                    "fraud_type": "padding",
                    "opened_at": day,
                    "closed_at": closed_at,
                }
            ]
        )
        as_text = {"closed_at": object}  # mixed naive / aware / missing, as a reader may give
        labels = pd.concat([small_known.astype(as_text), case.astype(as_text)], ignore_index=True)
        data = training_data(features, labels, train_end=SMALL_END)
        assert data.label_counts["confirmed"] == base.label_counts["confirmed"] + expected_extra
        assert (data.fingerprint != base.fingerprint) is bool(expected_extra), closed_at

    # A day submitted after train_end (work_date + lag > train_end) was not known yet.
    late = features.copy()
    late_mask = pd.to_datetime(late["work_date"]) == pd.Timestamp(SMALL_END)
    late.loc[late_mask, "max_submission_lag_days"] = 2.0
    newly_late = int((late_mask & (features["max_submission_lag_days"] < 1)).sum())
    assert newly_late > 30
    rows = training_data(late, small_known, train_end=SMALL_END).row_counts
    assert rows["submitted_after_train_end"] == base.row_counts["submitted_after_train_end"] + (
        newly_late
    )
    assert rows["used"] == base.row_counts["used"] - newly_late


# ---------------------------------------------------------------------------------------------
# Training behaviour
# ---------------------------------------------------------------------------------------------


def test_model_beats_rules_on_held_out_planted_frauds(
    synthetic: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], model: TrainedModel
) -> None:
    features, truth, _ = synthetic
    held_out = features[pd.to_datetime(features["work_date"]) >= pd.Timestamp(HOLDOUT[0])]
    assert model.mode == "blended"
    ours = evaluate(score_day(model, held_out, with_reasons=False), truth)
    rules = evaluate(baseline_rules_scores(held_out), truth)
    naive = evaluate(baseline_isolation_forest_scores(held_out, seed=0), truth)
    assert ours["n_days"] == 20 and ours["n_fraud"] > 50
    assert ours["pr_auc"] > 0.8
    assert ours["pr_auc"] > rules["pr_auc"] + 0.1
    assert ours["pr_auc"] > naive["pr_auc"]
    assert ours["precision_at_0.01"] > rules["precision_at_0.01"]
    # Look-alikes (honest long days, late batches) should rarely make the list.
    assert ours["lookalike_flag_rate"]["0.01"] < rules["lookalike_flag_rate"]["0.01"]


def test_version_and_metadata(small_model: TrainedModel) -> None:
    # Determinism under shuffled input is covered by the poisoned-training test above.
    a = small_model
    assert re.fullmatch(r"20240301T120000-[0-9a-f]{8}", a.version)
    assert a.version.endswith(a.metadata["data_fingerprint"][:8])
    json.dumps(a.metadata, allow_nan=False)  # plain JSON as it is, for the model store
    meta = json.loads(a.metadata_json())
    assert meta["feature_columns"] == list(FEATURE_COLUMNS)
    assert meta["labels"]["confirmed"] > 0 and meta["labels"]["cleared"] > 0
    assert set(meta["training_window"]) >= {"start", "end"}
    assert meta["data_fingerprint"] == a.metadata["data_fingerprint"]


@pytest.mark.parametrize("outcomes", [["confirmed"] * 30, ["cleared"] * 30, []])
def test_one_class_or_no_labels_fall_back_to_rules_and_anomaly(
    small: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], outcomes: list[str]
) -> None:
    features, _, _ = small
    rows = features.head(len(outcomes))
    labels = pd.DataFrame(
        {
            "employee_id": rows["employee_id"],
            "work_date": rows["work_date"],
            "outcome": pd.Series(outcomes, index=rows.index, dtype="object"),
            "fraud_type": None,
            "opened_at": pd.Timestamp(START),
            "closed_at": pd.Timestamp(START),
        }
    )
    fallback = _train_small(features, labels)
    assert fallback.mode == "prior-only"
    assert fallback.classifier is None
    assert "red-flag prior + anomaly" in fallback.metadata["fallback_reason"]
    scores = fallback.predict_scores(features)
    assert ((scores >= 0) & (scores <= 1)).all()
    day = frame([honest_row(1), honest_row(2, leave_hours=8.0, active_hours=0.0)])
    clean, leave = fallback.predict_scores(day)
    assert leave > clean


# ---------------------------------------------------------------------------------------------
# Reasons
# ---------------------------------------------------------------------------------------------


def test_reasons_on_hand_built_days(model: TrainedModel) -> None:
    days = frame(
        [
            honest_row(1),
            honest_row(2, total_hours=8.0, leave_hours=8.0, active_hours=0.0),
            honest_row(3, total_hours=11.5, own_median_hours_28d=7.5, active_hours=7.6),
            honest_row(4, total_hours=11.5, own_median_hours_28d=7.5, active_hours=11.6),
            honest_row(5, max_submission_lag_days=14.0, days_submitted_same_batch=10.0),
            honest_row(6, self_approved_hours=8.0),
            honest_row(7, total_hours=10.0, duplicate_lines=3.0, unassigned_hours=4.0),
            honest_row(
                8, total_hours=9.5, peer_mean_hours=7.8, active_hours=9.6, duplicate_lines=1
            ),
            honest_row(9, total_hours=10.5, own_median_hours_28d=7.5, post_termination_hours=10.5),
        ]
    )
    clean, leave, padded, long_honest, late, self_approved, dup, rare, never = model.explain(days)
    assert clean == NO_SIGNAL_TEXT
    assert "8.0 h on approved leave" in leave
    assert "8.0 h claimed with no workstation activity recorded" in leave
    assert "claimed 11.5 h, 4.0 h above own 28-day median (7.5 h)" in padded
    assert "workstation active 7.6 h for 11.5 h claimed" in padded
    assert "workstation active" not in long_honest
    assert "4.0 h above own 28-day median" in long_honest  # the long day itself is still true
    assert "entered 14 days late in one batch of 10 days" in late
    assert "approved own time (8.0 h)" in self_approved
    assert "3 duplicate lines" in dup
    assert "4.0 h on a project the employee is not assigned to" in dup
    # Chosen by contribution: a rare red flag leads a mild, common deviation...
    assert rare.startswith("1 duplicate line; ")
    assert "1.7 h above the peer-group average (7.8 h)" in rare
    # ...and one never seen in training leads everything.
    assert never.startswith("10.5 h after the employee's termination date")
    for text in (leave, padded, dup):
        assert 1 <= len(text.split(SEPARATOR)) <= 3
    assert model.explain(days) == model.explain(days)  # deterministic


def test_the_presence_reason_says_how_far_the_claim_exceeds_time_at_the_machine(
    model: TrainedModel,
) -> None:
    """Claimed beyond the first-to-last activity span: said in hours, against the person's own
    usual gap; a client-site worker whose gap is their habit gets no such reason."""
    away, habit = model.explain(
        frame(
            [
                honest_row(1, total_hours=10.0, active_hours=9.9, hours_beyond_presence=3.0),
                honest_row(
                    2,
                    total_hours=8.0,
                    active_hours=8.3,
                    hours_beyond_presence=3.0,
                    usual_hours_beyond_presence_28d=3.0,
                ),
            ]
        )
    )
    assert "3.0 h claimed beyond the time from first to last workstation activity" in away
    assert "first to last workstation" not in habit


# ---------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------


def test_suspect_count_rule() -> None:
    assert suspect_count(300, 0.01) == 3  # 0.01 * 300 = 3.0000000000000004 in floats
    assert suspect_count(301, 0.01) == 4
    assert suspect_count(50, 0.01) == 1  # min_suspects
    assert suspect_count(50, 0.01, min_suspects=5) == 5
    assert suspect_count(3, 0.01, min_suspects=5) == 3  # never more than the day has
    assert suspect_count(0, 0.01) == 0


def test_score_day_ranks_and_suspects(
    synthetic: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], model: TrainedModel
) -> None:
    features, _, _ = synthetic
    day_a = pd.Timestamp(HOLDOUT[0])
    day_b = pd.Timestamp(HOLDOUT[0] + timedelta(days=1))
    two_days = features[pd.to_datetime(features["work_date"]).isin([day_a, day_b])]
    scores = score_day(model, two_days, alert_budget=0.01)
    assert list(scores.columns) == list(SCORE_COLUMNS)
    assert len(scores) == len(two_days) == 600
    assert scores["fraud_score"].between(0, 1).all()
    assert (scores["model_version"] == model.version).all()
    assert (scores["reasons"].str.len() > 0).all()
    for _, day in scores.groupby("work_date"):
        assert sorted(day["rank"]) == list(range(1, len(day) + 1))
        by_rank = day.sort_values("rank")
        assert by_rank["fraud_score"].is_monotonic_decreasing
        # The budget is a ceiling: the top 3 at most, and only those of medium risk or more.
        listed = by_rank["is_suspect"].to_numpy()
        expected = (by_rank["rank"] <= suspect_count(len(day), 0.01)) & (
            by_rank["fraud_score"] >= 0.2
        )
        assert (listed == expected.to_numpy()).all()
        assert 0 < listed.sum() <= 3
        assert set(by_rank.loc[listed, "risk_level"]) <= {"high", "medium"}
    assert scores["rank"].dtype == "int32" and scores["is_suspect"].dtype == bool

    wide = score_day(model, two_days, alert_budget=0.05, min_suspects=1)
    assert int(wide["is_suspect"].sum()) <= 2 * 15
    as_quota = score_day(model, two_days, alert_budget=0.05, min_suspects=1, min_risk=0.0)
    assert int(as_quota["is_suspect"].sum()) == 2 * 15


def test_strong_signals_outrank_clean_days_and_ties_break_by_employee(
    model: TrainedModel,
) -> None:
    day = frame(
        [
            honest_row(9),
            honest_row(5),  # identical to 9: tie, lower employee_id first
            honest_row(7, total_hours=12.0, own_median_hours_28d=8.0, active_hours=7.9),
            honest_row(8, leave_hours=8.0, active_hours=0.0),
        ]
    )
    scores = score_day(model, day, alert_budget=0.25).set_index("employee_id")
    rank: dict[Any, int] = scores["rank"].to_dict()
    score: dict[Any, float] = scores["fraud_score"].to_dict()
    assert rank[7] <= 2 and rank[8] <= 2
    assert score[5] == score[9]
    assert (rank[5], rank[9]) == (3, 4)
    assert scores["is_suspect"].sum() == 1
    assert scores["reasons"].to_dict()[5] == NO_SIGNAL_TEXT


def test_score_day_on_empty_frame(model: TrainedModel) -> None:
    empty = frame([honest_row()]).iloc[0:0]
    out = score_day(model, empty)
    assert list(out.columns) == list(SCORE_COLUMNS) and len(out) == 0


def test_round_trip_gives_identical_scores(
    synthetic: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], model: TrainedModel
) -> None:
    features, _, _ = synthetic
    sample = features.iloc[:2000]
    restored = TrainedModel.from_bytes(model.to_bytes())
    assert restored.version == model.version
    assert restored.metadata == model.metadata
    np.testing.assert_array_equal(restored.predict_scores(sample), model.predict_scores(sample))
    pd.testing.assert_frame_equal(score_day(restored, sample), score_day(model, sample))
    with pytest.raises(TypeError):
        TrainedModel.from_bytes(__import__("pickle").dumps({"not": "a model"}))


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


def _tiny_case() -> tuple[pd.DataFrame, pd.DataFrame]:
    a, b = date(2024, 5, 1), date(2024, 5, 2)
    scores = pd.DataFrame(
        {
            "employee_id": [1, 2, 3, 4, 1, 2, 3, 4],
            "work_date": [a, a, a, a, b, b, b, b],
            "fraud_score": [0.9, 0.8, 0.7, 0.1, 0.2, 0.95, 0.3, 0.3],
        }
    )
    truth = pd.DataFrame(
        {
            "employee_id": [1, 2, 3, 4, 1, 2, 3, 4],
            "work_date": [a, a, a, a, b, b, b, b],
            "is_fraud": [True, False, True, False, False, True, False, False],
            "fraud_type": ["padding", None, "leave_claim", None, None, "padding", None, None],
            "lookalike": [None, "long_day", None, None, None, None, "client_site", None],
        }
    )
    return scores, truth


def test_evaluate_against_hand_computed_numbers() -> None:
    scores, truth = _tiny_case()
    m = evaluate(scores, truth, budgets=(0.25, 0.5))
    # Pooled order: .95 F, .9 F, .8 h, .7 F, .3 h, .3 h, .2 h, .1 h
    # AP = 1/3*1 + 1/3*1 + 1/3*(3/4) = 0.91667; ROC = (5 + 5 + 4) / 15
    assert m["pr_auc"] == pytest.approx(2 / 3 + 0.25)
    assert m["roc_auc"] == pytest.approx(14 / 15)
    assert (m["n_rows"], m["n_days"], m["n_fraud"]) == (8, 2, 3)
    # Budget 0.25 -> 1 per day: (a, 1) fraud, (b, 2) fraud.
    assert m["precision_at_0.25"] == 1.0
    assert m["recall_at_0.25"] == pytest.approx(2 / 3)
    assert m["recall_by_fraud_type"]["0.25"] == {"leave_claim": 0.0, "padding": 1.0}
    # Budget 0.5 -> 2 per day: a: 1, 2; b: 2, then 3 beats 4 on the 0.3 tie (lower id).
    assert m["flagged_at_0.5"] == 4 and m["true_positives_at_0.5"] == 2
    assert m["precision_at_0.5"] == 0.5
    assert m["lookalike_flag_rate"]["0.5"] == 1.0  # both look-alikes listed
    assert m["lookalike_flag_rate"]["0.25"] == 0.0
    assert m["fraud_count_by_type"] == {"leave_claim": 1, "padding": 2}


def test_evaluate_perfect_ranking_and_unscored_frauds() -> None:
    scores, truth = _tiny_case()
    perfect = scores.assign(fraud_score=truth["is_fraud"].astype(float) * 0.5 + 0.25)
    m = evaluate(perfect, truth, budgets=(0.5,))
    assert m["pr_auc"] == 1.0 and m["roc_auc"] == 1.0
    assert m["recall_at_0.5"] == 1.0
    # A fraud day nobody scored is a miss, not a silent drop.
    missing = evaluate(perfect[perfect["employee_id"] != 3], truth, budgets=(0.5,))
    assert missing["n_truth_unscored"] == 2
    assert missing["recall_at_0.5"] == pytest.approx(2 / 3)
    assert missing["recall_by_fraud_type"]["0.5"]["leave_claim"] == 0.0


def test_baselines() -> None:
    day = frame(
        [
            honest_row(1, total_hours=9.0),
            honest_row(2, leave_hours=8.0, active_hours=0.0),  # 2 rules
            honest_row(3, total_hours=12.0, active_hours=12.0),  # 1 rule, 12 h
            honest_row(4, duplicate_lines=1.0),  # 1 rule, 8 h
        ]
    )
    rules = baseline_rules_scores(day).set_index("employee_id")["fraud_score"]
    assert rules.sort_values(ascending=False).index.tolist() == [2, 3, 4, 1]
    assert rules.between(0, 1).all()
    a = baseline_isolation_forest_scores(day, seed=1)
    b = baseline_isolation_forest_scores(day, seed=1)
    pd.testing.assert_frame_equal(a, b)
    assert a["fraud_score"].between(0, 1).all()


def test_the_isolation_forest_baseline_does_not_depend_on_row_order(
    synthetic: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    """A warehouse query without ORDER BY returns rows in any order; the baseline a benchmark
    prints must not change with it (the forest subsamples rows by position)."""
    features = synthetic[0].head(3000)
    shuffled = features.sample(frac=1.0, random_state=3)
    key = ["employee_id", "work_date"]
    a = baseline_isolation_forest_scores(features, seed=0).sort_values(key).reset_index(drop=True)
    b = baseline_isolation_forest_scores(shuffled, seed=0).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


# ---------------------------------------------------------------------------------------------
# Promotion
# ---------------------------------------------------------------------------------------------

WINDOW = ["2024-02-20", "2024-03-10"]


def _m(pr_auc: float, precision: float) -> dict[str, Any]:
    return {"pr_auc": pr_auc, "precision_at_budget": precision, "window": WINDOW}


@pytest.mark.parametrize(
    ("candidate", "current", "expected", "phrase"),
    [
        (_m(0.8, 0.5), None, True, "no current model"),
        (_m(0.8, 0.5), _m(0.7, 0.4), True, "better"),
        (_m(0.7, 0.4), _m(0.7, 0.4), True, "equal"),
        (_m(0.6, 0.5), _m(0.7, 0.4), False, "PR-AUC 0.600 vs 0.700 (worse)"),
        (_m(0.8, 0.3), _m(0.7, 0.4), False, "precision at budget 0.300 vs 0.400 (worse)"),
        (_m(math.nan, 0.5), _m(0.7, 0.4), False, "unknown"),
        (_m(0.8, 0.5), {**_m(0.7, 0.4), "window": ["2024-01-01", "2024-01-14"]}, False, "windows"),
    ],
)
def test_should_promote(
    candidate: dict[str, Any], current: dict[str, Any] | None, expected: bool, phrase: str
) -> None:
    decision, reason = should_promote(candidate, current)
    assert decision is expected
    assert phrase in reason
    assert reason.startswith("promoted" if expected else "not promoted") or current is None


def test_holdout_metrics_drive_promotion(
    synthetic: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], model: TrainedModel
) -> None:
    features, _, labels = synthetic
    m = holdout_metrics(model, features, labels, HOLDOUT, alert_budget=0.01)
    assert m["window"] == [HOLDOUT[0].isoformat(), HOLDOUT[1].isoformat()]
    assert m["n_days"] == 20 and m["n_rows"] == 20 * 300
    assert 0 < m["n_suspects"] <= 20 * 3  # the budget is a ceiling, not a quota
    assert m["n_confirmed"] > 0 and m["n_cleared"] > 0
    assert 0.8 < m["pr_auc"] <= 1.0
    assert 0.0 < m["precision_at_budget"] <= 1.0
    # A rules-and-anomaly model (no labels) should not replace the trained one.
    fallback = train_model(
        features, labels.iloc[0:0], train_end=TRAIN_END, seed=0, trained_at=TRAINED_AT
    )
    weaker = holdout_metrics(fallback, features, labels, HOLDOUT, alert_budget=0.01)
    assert should_promote(weaker, m)[0] is False
    assert should_promote(m, weaker)[0] is True
