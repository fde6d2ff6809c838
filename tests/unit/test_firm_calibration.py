"""The prior's severities follow the firm's own base rates (prior.FirmCalibration).

A firm where consultants work at client sites on client laptops shows "far more hours than the
workstation saw" on a large share of honest days; there that flag is weak evidence, and the
same points as in a firm where it is rare would fill the list with ordinary field days.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from tests.unit.test_modeling import START, frame, honest_row
from tsfraud_assets.lib.modeling import train_model
from tsfraud_assets.lib.modeling.prior import (
    FRAUD_SHARE,
    PRIOR_COLUMNS,
    RED_FLAGS,
    REFERENCE_HONEST_RATE,
    FirmCalibration,
)

NO_LABELS = pd.DataFrame(columns=["employee_id", "work_date", "outcome", "closed_at"])
WRITTEN = {f.name: f.severity for f in RED_FLAGS}
FIELD_DAY = {"total_hours": 9.0, "active_hours": 5.0}
"""A client-site day: 4 h the firm's workstation logs did not see (activity_gap fires)."""


def _cols(rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    f = frame(rows)
    return {c: f[c].to_numpy(dtype="float64") for c in PRIOR_COLUMNS}


def _firm(n_days: int, share: float, **flagged: float) -> list[dict[str, Any]]:
    """n_days plain days, the first `share` of them with `flagged` overrides."""
    k = round(n_days * share)
    return [
        honest_row(i % 500 + 1, START + dt.timedelta(days=i // 500), **(flagged if i < k else {}))
        for i in range(n_days)
    ]


def test_a_firm_without_noisy_flags_keeps_the_severities_as_written() -> None:
    cal = FirmCalibration.fit(_cols(_firm(5000, 0.0)))
    assert cal.severity == WRITTEN
    assert cal.damped() == {}


def test_a_flag_on_a_fifth_of_ordinary_days_weighs_less_and_is_named() -> None:
    cal = FirmCalibration.fit(_cols(_firm(6000, 0.2, **FIELD_DAY)))
    assert 0.0 <= cal.severity["activity_gap"] < WRITTEN["activity_gap"] - 0.5
    assert cal.rates["activity_gap"] == pytest.approx(
        (1200 + REFERENCE_HONEST_RATE["activity_gap"] * 2000) / 8000
    )
    damped = cal.damped()
    assert damped["activity_gap"]["points_as_written"] == WRITTEN["activity_gap"]
    assert damped["activity_gap"]["points"] == round(cal.severity["activity_gap"], 2)
    # the 4 h gap also trips the firm's own hours_exceed_activity rule on those days
    assert cal.rule_points < 0.5
    # the flags that did not fire more often keep their points
    assert cal.severity["late_batch"] == WRITTEN["late_batch"]


def test_blatant_flags_are_never_damped_however_common() -> None:
    cal = FirmCalibration.fit(_cols(_firm(4000, 0.3, duplicate_lines=1.0, leave_hours=8.0)))
    for name in ("duplicate", "leave"):
        assert cal.severity[name] == WRITTEN[name]


def test_a_flag_that_fraud_alone_could_explain_is_not_mistaken_for_noise() -> None:
    """A firm with more padders than the reference shows more activity gaps; up to FRAUD_SHARE
    of all days above the reference rate, the flag keeps its points."""
    share = REFERENCE_HONEST_RATE["activity_gap"] + FRAUD_SHARE * 0.9
    cal = FirmCalibration.fit(_cols(_firm(20000, share, **FIELD_DAY)))
    assert cal.severity["activity_gap"] == WRITTEN["activity_gap"]


def test_a_young_firm_is_shrunk_towards_the_reference() -> None:
    """Sixty days in which half show a gap say less than six thousand such days."""
    young = FirmCalibration.fit(_cols(_firm(60, 0.5, **FIELD_DAY)))
    old = FirmCalibration.fit(_cols(_firm(6000, 0.5, **FIELD_DAY)))
    assert old.severity["activity_gap"] < young.severity["activity_gap"] <= WRITTEN["activity_gap"]


def test_a_trained_model_scores_common_field_days_lower_and_blatant_days_the_same() -> None:
    """Same data, calibrated or not: a field day falls, a duplicated line does not move, and
    the model's metadata says which flag weighs less here and why."""
    rows = _firm(5000, 0.25, **FIELD_DAY)
    day = START + dt.timedelta(days=12)
    probe = frame(
        [
            honest_row(9001, day, **FIELD_DAY),
            honest_row(9002, day, duplicate_lines=1.0, entry_count=3.0),
        ]
    )
    features = frame(rows)
    with threadpool_limits(limits=1, user_api="openmp"):
        calibrated = train_model(features, NO_LABELS, train_end=day, calibrate=True)
        as_written = train_model(features, NO_LABELS, train_end=day, calibrate=False)
    field_cal, dup_cal = calibrated.predict_scores(probe)
    field_raw, dup_raw = as_written.predict_scores(probe)
    assert field_cal < field_raw
    assert dup_cal == pytest.approx(dup_raw)
    assert dup_cal > field_cal
    meta = calibrated.metadata["firm_calibration"]
    assert "activity_gap" in meta["damped"]
    assert as_written.metadata["firm_calibration"] is None


def test_a_model_pickled_before_calibration_existed_scores_with_the_written_severities() -> None:
    rows = _firm(600, 0.25, **FIELD_DAY)
    features = frame(rows)
    day = START + dt.timedelta(days=1)
    with threadpool_limits(limits=1, user_api="openmp"):
        model = train_model(features, NO_LABELS, train_end=day, calibrate=False)
        calibrated = train_model(features, NO_LABELS, train_end=day)
    old = model.__dict__.copy()
    del old["calibration"]  # what an older pickle holds
    restored = type(model).__new__(type(model))
    restored.__dict__.update(old)
    assert np.allclose(restored.predict_scores(features), model.predict_scores(features))
    assert not np.allclose(calibrated.predict_scores(features), model.predict_scores(features))


def test_the_engineers_report_says_which_flags_weigh_less_in_this_firm() -> None:
    from tests.unit.test_report import CURRENT_POINTER, VERSION, report_data
    from tsfraud_assets.defs.reports.data import ModelInfo
    from tsfraud_assets.defs.reports.html import render_report

    features = frame(_firm(5000, 0.25, **FIELD_DAY))
    with threadpool_limits(limits=1, user_api="openmp"):
        model = train_model(features, NO_LABELS, train_end=START + dt.timedelta(days=9))
    meta = json.loads(model.metadata_json())
    page = render_report(
        report_data(models=[ModelInfo(VERSION, meta, CURRENT_POINTER)]), engineers=True
    )
    damped = meta["firm_calibration"]["damped"]["activity_gap"]
    assert "Weighed less here" in page
    assert (
        f"activity gap: {damped['points']:g} of 2 points (fires on "
        f"{damped['fires_on_share_of_days']:.1%} of this firm&#x27;s days" in page
    )
    rules = meta["firm_calibration"]["damped"]["rule_flag_count"]
    assert (
        f"each of the firm&#x27;s own rules (long day, hours over activity, back-dated batch, "
        f"approval conflict): {rules['points']:g} of 0.5 points" in page
    )
