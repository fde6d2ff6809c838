"""The entry history's signals in the model: the prior's red flags and the reasons' words.

A day whose approved hours were raised afterwards must rank above an ordinary day, and above
an honest long day with the same hours, and its reason must say what changed in plain words.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from tests.unit.test_modeling import START, frame, honest_row, make_synthetic
from tsfraud_assets.lib.modeling import TrainedModel, train_model
from tsfraud_assets.lib.modeling.prior import PRIOR_COLUMNS, RED_FLAGS, evidence_points
from tsfraud_assets.lib.modeling.score import score_day

REVISED = dict(
    total_hours=11.0,
    active_hours=8.3,
    revision_count=1.0,
    hours_raised_after_approval=1.0,
    hours_added_after_approval=3.0,
)


@pytest.fixture(scope="module")
def prior_model() -> TrainedModel:
    """The label-free model a young firm runs on (no investigation closed yet)."""
    features, _, labels = make_synthetic(n_employees=80, n_days=40, seed=1)
    return train_model(features, labels.iloc[0:0], train_end=START + timedelta(days=29), seed=3)


def _points(rows: pd.DataFrame) -> np.ndarray:
    cols = {c: rows[c].to_numpy(dtype="float64") for c in PRIOR_COLUMNS}
    zeros = np.zeros(len(rows))
    return evidence_points(cols, zeros, zeros)[0]


def test_revision_red_flags_exist_and_none_is_blatant() -> None:
    flags = {f.name: f for f in RED_FLAGS}
    assert flags["raised_after_approval"].severity == 2.0
    assert flags["project_after_approval"].severity == 1.5
    assert flags["reapproved_by_other"].severity == 1.5
    assert flags["deleted_after_approval"].severity == 0.5
    assert not any(
        flags[n].blatant
        for n in (
            "raised_after_approval",
            "project_after_approval",
            "reapproved_by_other",
            "deleted_after_approval",
        )
    )


def test_each_change_after_approval_adds_evidence() -> None:
    days = frame(
        [
            honest_row(1),
            honest_row(2, hours_raised_after_approval=1.0, hours_added_after_approval=1.0),
            honest_row(3, project_changed_after_approval=1.0),
            honest_row(4, reapproved_by_other=1.0),
            honest_row(5, deleted_after_approval=1.0),
            honest_row(6, revision_count=3.0),  # edits before approval: no red flag
            # a quarter of an hour added after approval: a routine fix, no red flag
            honest_row(7, hours_raised_after_approval=1.0, hours_added_after_approval=0.25),
        ]
    )
    plain, raised, project, other, deleted, edited, tweaked = _points(days)
    assert raised == pytest.approx(plain + 2.0)
    assert tweaked == pytest.approx(plain)
    assert project == pytest.approx(plain + 1.5)
    assert other == pytest.approx(plain + 1.5)
    assert deleted == pytest.approx(plain + 0.5)
    assert edited == pytest.approx(plain)


def test_prior_ranks_hours_raised_after_approval_above_ordinary_and_long_days(
    prior_model: TrainedModel,
) -> None:
    day = frame(
        [
            honest_row(1),
            honest_row(2, total_hours=11.0, active_hours=11.3),  # an honest long day
            honest_row(3, **REVISED),
            honest_row(4, **REVISED, reapproved_by_other=1.0),
        ]
    )
    assert prior_model.scoring_mode.startswith("prior-only")
    scores = score_day(prior_model, day, alert_budget=0.5).set_index("employee_id")
    rank = scores["rank"].to_dict()
    assert rank[4] == 1 and rank[3] == 2
    assert rank[3] < rank[2] and rank[3] < rank[1]
    risk = scores["fraud_score"].to_dict()
    assert risk[3] > risk[2] and risk[3] > risk[1]


def test_reason_names_the_change_in_plain_words(prior_model: TrainedModel) -> None:
    days = frame(
        [
            honest_row(1, **REVISED),
            honest_row(
                2,
                total_hours=9.0,
                active_hours=8.9,
                revision_count=3.0,  # another edit that day: the total moved for more reasons
                hours_raised_after_approval=2.0,
                hours_added_after_approval=2.5,
                reapproved_by_other=1.0,
            ),
            honest_row(3, revision_count=1.0, project_changed_after_approval=1.0),
            honest_row(4, revision_count=2.0, deleted_after_approval=2.0),
        ]
    )
    raised, mixed, project, deleted = prior_model.explain(days)
    assert "hours raised from 8.0 h to 11.0 h after approval" in raised
    assert (
        "hours raised by 2.5 h on 2 entries after approval, re-approved by a different approver"
        in mixed
    )
    assert "charged to another project after approval" in project
    assert "2 approved entries deleted" in deleted
