"""Plain-language reasons: the two or three signals that drove an employee-day's score.

An investigator opens a suspect timesheet and needs to know *what to check* — not a feature name
or a SHAP value. Each signal below is a red flag an investigator recognises ("8.0 h on approved
leave"), with the numbers from that day in the sentence.

How signals are chosen (deterministic, no sampling at explain time):

    strength = weight(signal) * -log10(share of training days at least this extreme)

* Rarity makes different kinds of signal comparable: "1 duplicate line" (seen on 0.3% of days)
  beats "1.7 h above the peer average" (seen on 10% of days), whatever their units. The share
  is the fraction of training days where the signal is present times the upper tail of its value
  among those days (a 200-point quantile grid), so both "any hours on leave" and "how many hours
  above own median" are handled alike. A red flag never seen in training is maximally rare.
* `weight` is the model's grouped permutation importance of the signal's features, squeezed into
  [WEIGHT_FLOOR, 1]: signals the trained model relies on win close calls, while a rare hard red
  flag (hours after termination) still surfaces even if no label ever showed it. (The
  importance is partly absorbed by `rule_flag_count`, which no single signal owns; hence a
  generous floor.)
* A signal is shown only if it is *present* (a fixed, readable threshold: an honest 11.5 h day
  with 11.4 h of workstation activity gets no activity complaint).
* Signals in one family say the same thing in different words (own median, peer average,
  contracted hours); only the strongest of a family is shown.
* Ties are broken by the fixed order of SIGNALS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tsfraud_assets.lib.modeling.prior import beyond_own_activity, padding_habit

WEIGHT_FLOOR = 0.5
"""Smallest weight a signal can get from model importance (see module docstring)."""

MAX_REASONS = 3
QUANTILE_POINTS = 200
"""Resolution of the stored value distribution of each signal (among days it is present)."""
NO_SIGNAL_TEXT = "no single red flag; ranked on the overall pattern of the day"
SEPARATOR = "; "

Columns = Mapping[str, np.ndarray]


def _h(x: float) -> str:
    return f"{x:.1f} h"


def _n(x: float) -> int:
    return round(x)


def _pct(x: float) -> str:
    return f"{100.0 * float(x):.0f}%"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@dataclass(frozen=True)
class Signal:
    """One investigator-facing red flag."""

    name: str
    family: str
    columns: tuple[str, ...]
    """Features that make up the signal (permuted together for its importance)."""
    value: Callable[[Columns], np.ndarray]
    present: Callable[[Columns], np.ndarray]
    text: Callable[[Columns, int], str]


def _activity_value(c: Columns) -> np.ndarray:
    return np.where(c["no_activity_hours"] > 0, c["no_activity_hours"], c["hours_minus_active"])


def _activity_present(c: Columns) -> np.ndarray:
    # An activity row with 0 active minutes is still "activity recorded": the gap text applies.
    gap = c["hours_minus_active"]
    recorded = c["no_activity_hours"] <= 0
    with_activity = recorded & (gap >= np.maximum(1.0, 0.2 * c["total_hours"]))
    without = ~recorded & (c["no_activity_hours"] >= 1.0)
    return np.asarray(with_activity | without)


def _activity_text(c: Columns, i: int) -> str:
    if c["no_activity_hours"][i] > 0:
        return f"{_h(c['no_activity_hours'][i])} claimed with no workstation activity recorded"
    return f"workstation active {_h(c['active_hours'][i])} for {_h(c['total_hours'][i])} claimed"


def _late_text(c: Columns, i: int) -> str:
    lag = _n(c["max_submission_lag_days"][i])
    batch = _n(c["days_submitted_same_batch"][i])
    text = f"entered {_plural(lag, 'day')} late"
    if batch > 1:
        text += f" in one batch of {batch} days"
    return text


def _edits_text(c: Columns, i: int) -> str:
    parts = []
    if c["rejected_entries"][i] >= 1:
        parts.append(f"{_n(c['rejected_entries'][i])} rejected")
    if c["withdrawn_entries"][i] >= 1:
        parts.append(f"{_n(c['withdrawn_entries'][i])} withdrawn")
    total = _n(c["rejected_entries"][i] + c["withdrawn_entries"][i])
    return " and ".join(parts) + (" entry" if total == 1 else " entries")


AFTER_APPROVAL_COLUMNS: tuple[str, ...] = (
    "hours_raised_after_approval",
    "hours_added_after_approval",
    "project_changed_after_approval",
    "deleted_after_approval",
    "reapproved_by_other",
    "revision_count",
)
"""The entry history's signals (int_entry_revisions), one investigator-facing reason."""


def _after_approval_value(c: Columns) -> np.ndarray:
    # Hours added weigh as they are; each other kind of change as one hour's worth.
    return np.asarray(
        c["hours_added_after_approval"]
        + c["project_changed_after_approval"]
        + c["deleted_after_approval"]
        + c["reapproved_by_other"],
        dtype="float64",
    )


def _after_approval_present(c: Columns) -> np.ndarray:
    return np.asarray(
        (c["hours_raised_after_approval"] >= 1)
        | (c["project_changed_after_approval"] >= 1)
        | (c["deleted_after_approval"] >= 1)
        | (c["reapproved_by_other"] >= 1)
    )


def _after_approval_text(c: Columns, i: int) -> str:
    """e.g. "hours raised from 6.0 h to 9.0 h after approval, re-approved by a different
    approver". "From ... to" is the day's total before and after, said only when the raises
    were the day's only edits (else other edits moved the total too, and it says "by")."""
    parts = []
    raised = _n(c["hours_raised_after_approval"][i])
    added = float(c["hours_added_after_approval"][i])
    total = float(c["total_hours"][i])
    if raised >= 1:
        if _n(c["revision_count"][i]) == raised and total - added >= 0:
            parts.append(f"hours raised from {_h(total - added)} to {_h(total)} after approval")
        else:
            where = "on 1 entry" if raised == 1 else f"on {raised} entries"
            parts.append(f"hours raised by {_h(added)} {where} after approval")
    moved = _n(c["project_changed_after_approval"][i])
    if moved >= 1:
        parts.append(
            "charged to another project after approval"
            if moved == 1
            else f"{moved} entries charged to another project after approval"
        )
    deleted = _n(c["deleted_after_approval"][i])
    if deleted >= 1:
        parts.append(
            "1 approved entry deleted" if deleted == 1 else f"{deleted} approved entries deleted"
        )
    other = _n(c["reapproved_by_other"][i])
    if other >= 1:
        parts.append(
            "re-approved by a different approver"
            if other == 1
            else f"re-approved {other} times by a different approver"
        )
    return ", ".join(parts)


def beyond_own_presence(c: Columns) -> np.ndarray:
    """Claimed hours beyond the day's presence span, less the person's usual such gap."""
    return np.asarray(
        np.asarray(c["hours_beyond_presence"]) - np.asarray(c["usual_hours_beyond_presence_28d"]),
        dtype="float64",
    )


def _hours_signal(name: str, column: str, text: Callable[[float], str], *, family: str) -> Signal:
    """A signal that is simply 'some hours of a kind that should be zero'."""
    return Signal(
        name=name,
        family=family,
        columns=(column,),
        value=lambda c: c[column],
        present=lambda c: c[column] > 0,
        text=lambda c, i: text(float(c[column][i])),
    )


SIGNALS: tuple[Signal, ...] = (
    _hours_signal(
        "post_termination",
        "post_termination_hours",
        lambda h: f"{_h(h)} after the employee's termination date",
        family="post_termination",
    ),
    _hours_signal("leave", "leave_hours", lambda h: f"{_h(h)} on approved leave", family="leave"),
    Signal(
        name="activity",
        family="activity",
        columns=("active_hours", "hours_minus_active", "no_activity_hours"),
        value=_activity_value,
        present=_activity_present,
        text=_activity_text,
    ),
    Signal(
        name="own_median",
        family="hours",
        columns=("hours_vs_own_median", "own_median_hours_28d", "hours_stddev_28d"),
        value=lambda c: c["hours_vs_own_median"],
        present=lambda c: (c["own_median_hours_28d"] > 0) & (c["hours_vs_own_median"] >= 1.0),
        text=lambda c, i: (
            f"claimed {_h(c['total_hours'][i])}, {_h(c['hours_vs_own_median'][i])} above own "
            f"28-day median ({_h(c['own_median_hours_28d'][i])})"
        ),
    ),
    Signal(
        name="peer",
        family="hours",
        columns=("hours_vs_peer", "peer_mean_hours"),
        value=lambda c: c["hours_vs_peer"],
        present=lambda c: (c["peer_mean_hours"] > 0) & (c["hours_vs_peer"] >= 1.5),
        text=lambda c, i: (
            f"claimed {_h(c['total_hours'][i])}, {_h(c['hours_vs_peer'][i])} above the "
            f"peer-group average ({_h(c['peer_mean_hours'][i])})"
        ),
    ),
    Signal(
        name="over_contracted",
        family="hours",
        columns=("hours_over_contracted", "contracted_daily_hours"),
        value=lambda c: c["hours_over_contracted"],
        present=lambda c: (c["contracted_daily_hours"] > 0) & (c["hours_over_contracted"] >= 2.0),
        text=lambda c, i: (
            f"claimed {_h(c['total_hours'][i])} against {_h(c['contracted_daily_hours'][i])} "
            "contracted per day"
        ),
    ),
    _hours_signal(
        "unassigned",
        "unassigned_hours",
        lambda h: f"{_h(h)} on a project the employee is not assigned to",
        family="unassigned",
    ),
    _hours_signal(
        "closed_project",
        "closed_project_hours",
        lambda h: f"{_h(h)} on a project that was not open that day",
        family="closed_project",
    ),
    Signal(
        name="self_approved",
        family="approval",
        columns=("self_approved_hours",),
        value=lambda c: c["self_approved_hours"],
        present=lambda c: c["self_approved_hours"] > 0,
        text=lambda c, i: f"approved own time ({_h(c['self_approved_hours'][i])})",
    ),
    _hours_signal(
        "reciprocal_approval",
        "reciprocal_approval_hours",
        lambda h: f"{_h(h)} approved by a colleague whose time this employee approves",
        family="approval",
    ),
    Signal(
        name="duplicates",
        family="duplicates",
        columns=("duplicate_lines",),
        value=lambda c: c["duplicate_lines"],
        present=lambda c: c["duplicate_lines"] >= 1,
        text=lambda c, i: _plural(_n(c["duplicate_lines"][i]), "duplicate line"),
    ),
    Signal(
        name="late_batch",
        family="late_batch",
        columns=("max_submission_lag_days", "days_submitted_same_batch"),
        value=lambda c: c["max_submission_lag_days"],
        present=lambda c: c["max_submission_lag_days"] >= 7,
        text=_late_text,
    ),
    _hours_signal(
        "holiday", "holiday_hours", lambda h: f"{_h(h)} on a public holiday", family="calendar"
    ),
    _hours_signal("weekend", "weekend_hours", lambda h: f"{_h(h)} on a weekend", family="calendar"),
    Signal(
        name="own_activity",
        family="activity",
        columns=(
            "hours_beyond_own_activity",
            "own_activity_ratio_28d",
            "active_hours",
            "activity_noise_28d",
        ),
        value=lambda c: c["hours_beyond_own_activity"],
        # what the red flag counts: less what noisy activity logs explain
        present=lambda c: beyond_own_activity(c) >= 1.5,
        text=lambda c, i: (
            f"claimed {_h(c['total_hours'][i])} with {_h(c['active_hours'][i])} of workstation "
            f"activity: at this person's usual activity ({_pct(c['own_activity_ratio_28d'][i])} "
            f"of claimed hours) {_h(c['hours_beyond_own_activity'][i])} are unaccounted for"
        ),
    ),
    Signal(
        name="presence",
        family="activity",
        columns=("hours_beyond_presence", "usual_hours_beyond_presence_28d", "total_hours"),
        value=lambda c: c["hours_beyond_presence"] - c["usual_hours_beyond_presence_28d"],
        present=lambda c: beyond_own_presence(c) >= 1.5,
        text=lambda c, i: (
            f"{_h(c['hours_beyond_presence'][i])} claimed beyond the time from first to last "
            "workstation activity that day"
            + (
                f" (usually {_h(c['usual_hours_beyond_presence_28d'][i])} for this person)"
                if c["usual_hours_beyond_presence_28d"][i] >= 0.25
                else ""
            )
        ),
    ),
    Signal(
        name="padding_habit",
        # the same fact as the activity reasons (hours the workstation did not see), told as
        # a habit: one of them per list entry, so the other slots go to other facts
        family="activity",
        columns=(
            "padding_shape_days_28d",
            "hours_over_contracted",
            "contracted_daily_hours",
            "hours_minus_active",
            "active_hours",
            "total_hours",
        ),
        value=lambda c: c["padding_shape_days_28d"],
        # what the padding_habit red flag counts
        present=lambda c: padding_habit(c, 3),
        text=lambda c, i: (
            f"claimed {_h(c['total_hours'][i])} against {_h(c['contracted_daily_hours'][i])} "
            f"contracted with {_h(c['active_hours'][i])} of workstation activity, as on "
            f"{_n(c['padding_shape_days_28d'][i])} of the 28 days before"
        ),
    ),
    Signal(
        name="rushed_approval",
        family="approval",
        columns=("rushed_approval_hours",),
        value=lambda c: c["rushed_approval_hours"],
        present=lambda c: c["rushed_approval_hours"] > 0,
        text=lambda c, i: (
            f"{_h(c['rushed_approval_hours'][i])} approved within the hour by a colleague who "
            "usually takes far longer for others"
        ),
    ),
    Signal(
        name="coordinated_submission",
        family="coordination",
        columns=("cosubmitted_days_28d",),
        value=lambda c: c["cosubmitted_days_28d"],
        present=lambda c: c["cosubmitted_days_28d"] >= 5,
        text=lambda c, i: (
            "entered within a minute of the same colleague's time, on the same channel, on "
            f"{_n(c['cosubmitted_days_28d'][i])} days in 4 weeks"
        ),
    ),
    Signal(
        name="edits",
        family="edits",
        columns=("rejected_entries", "withdrawn_entries"),
        value=lambda c: c["rejected_entries"] + c["withdrawn_entries"],
        present=lambda c: (c["rejected_entries"] + c["withdrawn_entries"]) >= 1,
        text=_edits_text,
    ),
    _hours_signal(
        "unapproved_change",
        "changed_after_approval_hours",
        lambda h: (
            f"{_h(h)} on approved lines changed after their approval, the change never approved"
        ),
        family="after_approval",
    ),
    Signal(
        name="after_approval",
        family="after_approval",
        columns=AFTER_APPROVAL_COLUMNS,
        value=_after_approval_value,
        present=_after_approval_present,
        text=_after_approval_text,
    ),
)
SIGNAL_NAMES: tuple[str, ...] = tuple(s.name for s in SIGNALS)


@dataclass(frozen=True)
class SignalNorm:
    """How a signal is distributed over the training days."""

    share_present: float
    """Fraction of training days where the signal is present (floored at 1 / (n + 1))."""
    quantiles: np.ndarray
    """QUANTILE_POINTS quantiles of the signal's value among the days it is present (sorted)."""

    def tail_share(self, values: np.ndarray) -> np.ndarray:
        """Estimated share of training days with the signal present and a value >= `values`."""
        if self.quantiles.size == 0:
            return np.full(len(values), self.share_present)
        below = np.searchsorted(self.quantiles, values, side="left") / self.quantiles.size
        within = np.clip(1.0 - below, 0.5 / self.quantiles.size, 1.0)
        return np.asarray(self.share_present * within, dtype="float64")


ReasonNorms = dict[str, SignalNorm]
"""signal name -> its training distribution."""


def _columns(features: pd.DataFrame) -> dict[str, np.ndarray]:
    """The columns every signal's value/present/text functions may read, as float arrays."""
    needed = {"total_hours", "active_hours", "hours_minus_active", "no_activity_hours"}
    for s in SIGNALS:
        needed.update(s.columns)
    return {c: features[c].to_numpy(dtype="float64") for c in sorted(needed)}


def fit_reason_norms(features: pd.DataFrame) -> ReasonNorms:
    """Distribution of every signal over the (validated) training days."""
    cols = _columns(features)
    n = len(features)
    probs = (np.arange(QUANTILE_POINTS) + 0.5) / QUANTILE_POINTS
    norms: ReasonNorms = {}
    for s in SIGNALS:
        present = np.asarray(s.present(cols), dtype=bool)
        values = s.value(cols)[present]
        quantiles = np.quantile(values, probs) if values.size else np.zeros(0)
        norms[s.name] = SignalNorm(
            share_present=max(float(present.sum()) / max(n, 1), 1.0 / (n + 1)),
            quantiles=np.asarray(quantiles, dtype="float64"),
        )
    return norms


def signal_weights_from_importance(importance: Mapping[str, float]) -> dict[str, float]:
    """Map raw importances (any non-negative scale) into [WEIGHT_FLOOR, 1]; all-equal (1.0) when
    nothing is informative, e.g. for the label-free fallback model."""
    raw = {name: max(0.0, float(importance.get(name, 0.0))) for name in SIGNAL_NAMES}
    top = max(raw.values(), default=0.0)
    if not np.isfinite(top) or top <= 0:
        return {name: 1.0 for name in SIGNAL_NAMES}
    return {name: WEIGHT_FLOOR + (1.0 - WEIGHT_FLOOR) * v / top for name, v in raw.items()}


def signal_strengths(
    features: pd.DataFrame, norms: Mapping[str, SignalNorm], weights: Mapping[str, float]
) -> np.ndarray:
    """(n_rows, n_signals) strengths; 0 where a signal is absent, present on every training day,
    or beaten by a stronger signal of the same family."""
    cols = _columns(features)
    n = len(features)
    strength = np.zeros((n, len(SIGNALS)), dtype="float64")
    for j, s in enumerate(SIGNALS):
        present = np.asarray(s.present(cols), dtype=bool)
        surprise = -np.log10(norms[s.name].tail_share(s.value(cols)))
        strength[:, j] = np.where(present, weights.get(s.name, 1.0) * surprise, 0.0)
    strength = np.where(strength > 0, strength, 0.0)
    families: dict[str, list[int]] = {}
    for j, s in enumerate(SIGNALS):
        families.setdefault(s.family, []).append(j)
    for members in families.values():
        if len(members) < 2:
            continue
        block = strength[:, members]
        keep = np.argmax(block, axis=1)  # first (= earlier in SIGNALS) wins ties
        mask = np.zeros_like(block, dtype=bool)
        mask[np.arange(n), keep] = True
        strength[:, members] = np.where(mask, block, 0.0)
    return strength


def explain(
    features: pd.DataFrame,
    norms: Mapping[str, SignalNorm],
    weights: Mapping[str, float],
    *,
    max_reasons: int = MAX_REASONS,
) -> list[str]:
    """One reasons string per row of a validated features frame, in row order."""
    n = len(features)
    if n == 0:
        return []
    strength = signal_strengths(features, norms, weights)
    cols = _columns(features)
    # Stable sort on -strength keeps SIGNALS order for ties: deterministic.
    order = np.argsort(-strength, axis=1, kind="stable")[:, :max_reasons]
    top = np.take_along_axis(strength, order, axis=1)
    out: list[str] = []
    for i in range(n):
        parts = [SIGNALS[j].text(cols, i) for j, v in zip(order[i], top[i], strict=True) if v > 0]
        out.append(SEPARATOR.join(parts) if parts else NO_SIGNAL_TEXT)
    return out
