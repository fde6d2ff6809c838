"""The label-free prior: expert red-flag rules with severities, plus anomaly evidence.

Why a prior at all: a firm that installs tsfraud has no closed investigation cases for weeks, and
even later investigators confirm a few cases a month, mostly of the schemes the rules already
surface. A learner fed a handful of labels discards the red flags it has not seen confirmed (a
measured failure: zero weight on leave, closed-project and duplicate hours after 28 confirmed
cases). So the score starts from evidence that needs no labels, and labels only adjust it
(`blend`):

* **Red flags** (`RED_FLAGS`): each a documented, testable rule with a severity in evidence
  points. Severities are expert weights, not fitted: roughly "how many ordinary explanations are
  left". Hours after termination have none (4 points); hours on approved leave or on a project
  that was closed that day have very few (3); a public holiday, a project the person was never
  staffed on, or a line copied twice have some (an honest holiday shift, a staffing lag, a
  repeated meeting: 2.5). Approval and submission habits are weaker (1-2 points): partners
  approve their own time, people catch up after a trip.
* **Anomaly** (from `AnomalyDetector`): IsolationForest and peer-group deviation in robust z
  units, a fifth of a point per unit, and the day against the person's own 28-day baseline.
  They rank the days no rule describes (subtle padding) and break ties among flagged days.
* **The firm's own rules** (`rule_flag_count`): half a point each, and a tenth of a point per
  hour over the contracted day.

* **The person against their own habits, and schemes no label names** (#13): hours beyond the
  person's own usual activity ratio, approvals far faster than the approver's own habit, and
  repeated same-minute entries with one colleague (dbt `int_activity_baselines`,
  `int_rushed_approvals`, `int_cosubmissions`; see docs/detection.md).

* **Habits, not days** (sixth round): the padding shape (an hour over the contracted day with
  an activity gap) on 3+ / 7+ of the person's 28 days before (`padding_habit`,
  `strong_padding_habit`; dbt counts `padding_shape_days_28d`), which separates a padder from
  a bad logging day where one day's activity cannot. The four activity flags restate one fact
  and add at most `ACTIVITY_POINTS_CAP` together; a day filed alongside the same colleague
  that the workstation never saw (`filed_by_colleague_unseen`) is a second fact, outside the
  cap. All chosen on the tuned worlds (docs/detection.md, "Habits, not days").

The numbers were set a priori, then adjusted once (activity gap 1.5 -> 2, over-contract
0.5 -> 1, rule points, anomaly 0.25 -> 0.2) on the two worlds of `benchmarks/detection_grid.py`
marked `tuned`; the other worlds were not used to choose them. The own-activity and
rushed-approval severities were chosen the same way (variants measured on the tuned worlds
only); the coordination flag's was set a priori (no tuned world has the scheme).

Evidence points map to a risk through one fixed logistic curve (`PRIOR_INTERCEPT`,
`PRIOR_SLOPE`), the same for every firm, day and model version, so a risk of 0.6 means the same
thing on Monday and on Sunday. The curve was fitted (logistic regression of "is fraud" on the
points) on every employee-day of the two simulated worlds marked `tuned` in
`benchmarks/detection_grid.py`, where the truth is known: no evidence is about 0.02%, 6 points
0.24, 7 points 0.5, 8 points 0.78. With the own-habit, approver and coordination flags fraud
days gather more points, and a refit on the same worlds gave (-9.6, 1.17): 7 points 0.2, 9
points 0.72. It was not adopted: it lowers a single blatant flag's risk (a duplicate line:
3 points) below what 400 adversarial labels can push an ordinary day to, which the blatant
floor exists to prevent. So the curve overstates risk in the 6-9 point band on those worlds
(observed fraud share 27-49% at 7-9 points); ranking does not depend on it. On a real
firm it is a simulator-calibrated expert curve, not a measured probability; labels re-centre
the learner on it (see train.py).

The presence span (claimed hours beyond the first-to-last workstation activity, against the
person's usual gap: `hours_beyond_presence`) is *not* a red flag: as two flags (2 + 1 points)
it lowered the tuned worlds' PR-AUC (default 0.918 -> 0.892, no-cases 0.816 -> 0.776), because
honest work away from the machine shows the same shortfall as padding and the activity flags
already count it. It is a learner input and a reason (what an investigator checks first).

Blatant flags also set a *floor* (`blend`): whatever the labels say, a day with one keeps at
least its prior risk, and is at least a `medium` risk in words and always eligible for the list
(a single duplicated line is often honest, but always worth a look). Labels can raise such a
day, never erase it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

Columns = Mapping[str, np.ndarray]

PRIOR_INTERCEPT = -8.4
"""Log-odds of a day with no evidence at all (fitted, see the module docstring). It only sets
the level; ranking does not depend on it."""
PRIOR_SLOPE = 1.2
"""Log-odds per evidence point (fitted): 6 points -> 0.24 (medium), 7 -> 0.5 (high)."""
ANOMALY_POINTS_PER_Z = 0.2
"""A robust-z unit of anomaly is worth a fifth of a point: rules lead, a strong anomaly (z ~ 8)
weighs like a moderate red flag, a weak one only breaks ties."""
ANOMALY_Z_CAP = 8.0
"""One absurd value cannot outweigh a blatant red flag on its own."""
RULE_POINTS = 0.5
"""Each of the firm's hand-written rules that fired (`rule_flag_count`, dbt macro fraud_rules)
adds half a point: they are the firm's own controls, and two weaker rules agreeing (hours far
over contract *and* far over workstation activity: padding) should outrank one."""
HOURS_OVER_POINTS = 0.1
"""Per claimed hour over the contracted day (up to 8): among days with the same flags, more
money at stake first."""

HIGH_RISK = 0.5
MEDIUM_RISK = 0.2
"""Risk levels investigators see: high (more likely fraud than not), medium (worth a look when
the list has room), low (not listed). The default list floor is MEDIUM_RISK."""


@dataclass(frozen=True)
class RedFlag:
    """One expert rule: when it fires and how many evidence points it is worth."""

    name: str
    severity: float
    blatant: bool
    """Blatant flags set the risk floor: no number of labels can push the day below its prior."""
    fires: Callable[[Columns], np.ndarray]
    why: str


CLEAN_LOG_NOISE = 0.05
"""Day-to-day spread of a person's activity ratio that clean activity logs show (0.04 on the
tuned clean worlds). Above it, the logs themselves explain part of a shortfall."""
NOISE_ALLOWANCE = 4.0
"""How many units of excess log noise (as a share of the day) a shortfall must clear before
it counts against the person: chosen on the tuned noisy world (2 -> 3 -> 4 moved its PR-AUC
0.785 -> 0.817 -> 0.843; at 4 the flag is nearly silent there, as it should be when the logs
are too noisy to tell an hour of padding from a bad logging day)."""


def beyond_own_activity(c: Columns) -> np.ndarray:
    """Hours beyond the person's own usual activity, less what the firm's log noise explains."""
    allowance = (
        NOISE_ALLOWANCE
        * np.maximum(np.asarray(c["activity_noise_28d"]) - CLEAN_LOG_NOISE, 0.0)
        * np.asarray(c["total_hours"])
        / np.maximum(np.asarray(c["own_activity_ratio_28d"]), 0.05)
    )
    return np.asarray(c["hours_beyond_own_activity"] - allowance, dtype="float64")


PADDING_SHAPE_BEYOND_OWN = 1.5
"""Hours beyond the person's own usual activity a padding-shaped day needs (as the
beyond_own_activity flag, before the noise allowance): chosen on the tuned worlds among 0.5 /
1 / 1.5 / 2 h (docs/detection.md, "Habits, not days")."""


def padding_shape(c: Columns) -> np.ndarray:
    """What a padded day looks like: an hour or more over the contracted day, far more hours
    than the workstation saw (the activity-gap threshold), and 1.5 h+ beyond what the day's
    activity supports at the person's *own* usual ratio (so a client-site worker's ordinary
    long day, unseen by the firm's logs every time, is not the shape). dbt counts the same
    shape over the 28 days before (`padding_shape_days_28d`, int_padding_habits); keep the two
    equal."""
    return np.asarray(
        (c["contracted_daily_hours"] > 0)
        & (c["hours_over_contracted"] >= 1.0)
        & activity_gap(c)
        & (c["hours_beyond_own_activity"] >= PADDING_SHAPE_BEYOND_OWN),
        dtype=bool,
    )


def padding_habit(c: Columns, earlier_days: int) -> np.ndarray:
    """Today has the padding shape and so did `earlier_days`+ of the 28 days before."""
    return np.asarray(padding_shape(c) & (c["padding_shape_days_28d"] >= earlier_days), dtype=bool)


def activity_gap(c: Columns) -> np.ndarray:
    """Claimed minus active hours of at least 2 h and 30% of the claim."""
    return np.asarray(
        c["hours_minus_active"] >= np.maximum(2.0, 0.3 * c["total_hours"]), dtype=bool
    )


def _pos(col: str, at_least: float = 1e-9) -> Callable[[Columns], np.ndarray]:
    return lambda c: np.asarray(c[col] >= at_least, dtype=bool)


RED_FLAGS: tuple[RedFlag, ...] = (
    RedFlag(
        "post_termination",
        4.0,
        True,
        _pos("post_termination_hours"),
        "hours after the termination date: nobody is employed to work them",
    ),
    RedFlag(
        "leave",
        3.0,
        True,
        _pos("leave_hours"),
        "hours on approved leave: either the leave or the hours are false",
    ),
    RedFlag(
        "closed_project",
        3.0,
        True,
        _pos("closed_project_hours"),
        "hours on a project that was not open that day: nothing to bill",
    ),
    RedFlag(
        "holiday",
        2.5,
        True,
        _pos("holiday_hours"),
        "hours on a public holiday: rare honest shifts exist, so one step below leave",
    ),
    RedFlag(
        "unassigned",
        2.5,
        True,
        _pos("unassigned_hours"),
        "hours on a project the person is not staffed on: honest staffing lags exist",
    ),
    RedFlag(
        "duplicate",
        2.5,
        True,
        _pos("duplicate_lines", 1.0),
        "the same line twice in a day: honest repeats (two identical meetings) exist",
    ),
    RedFlag(
        "no_activity",
        2.0,
        False,
        _pos("no_activity_hours", 1.0),
        "hours claimed with no workstation activity at all (client-site laptops explain some)",
    ),
    RedFlag(
        "reciprocal_approval",
        2.0,
        False,
        _pos("reciprocal_approval_hours"),
        "approved by a colleague whose time this person approves: collusion is possible",
    ),
    RedFlag(
        "activity_gap",
        2.0,
        False,
        activity_gap,
        "far more hours claimed than the workstation was active",
    ),
    RedFlag(
        "late_batch",
        1.5,
        False,
        lambda c: np.asarray(
            (c["max_submission_lag_days"] >= 7) & (c["days_submitted_same_batch"] >= 5),
            dtype=bool,
        ),
        "a week or more late, many days in one batch: back-filled from memory (or invention)",
    ),
    RedFlag(
        "self_approved",
        1.0,
        False,
        _pos("self_approved_hours"),
        "approved own time: normal for partners, a control gap for everyone else",
    ),
    RedFlag(
        "over_own_baseline",
        1.0,
        False,
        lambda c: np.asarray(
            (c["own_median_hours_28d"] > 0)
            & (c["hours_vs_own_median"] >= np.maximum(2.0, 2.0 * c["hours_stddev_28d"])),
            dtype=bool,
        ),
        "well above the person's own 28-day normal (2 h and 2 standard deviations)",
    ),
    RedFlag(
        "over_contract",
        1.0,
        False,
        lambda c: np.asarray(
            (c["contracted_daily_hours"] > 0) & (c["hours_over_contracted"] >= 3.0), dtype=bool
        ),
        "3 h or more over the contracted day",
    ),
    RedFlag(
        "weekend",
        0.5,
        False,
        _pos("weekend_hours"),
        "weekend hours: common before deadlines, weak on its own",
    ),
    # Changed after approval (entry history, docs/audit-trail.md). None is blatant: honest
    # corrections after approval are routine (a forgotten meeting, a wrong charge code), so
    # labels may lower them. They weigh with the day's other evidence: a raise that the
    # workstation did not see also fires activity_gap, one over the usual day over_own_baseline.
    # Weights set a priori; the 1-hour cut of raised_after_approval was chosen after
    # benchmarks/revisions.py (docs/audit-trail.md, "Measured: do they help?").
    RedFlag(
        "raised_after_approval",
        2.0,
        False,
        _pos("hours_added_after_approval", 1.0),
        "an hour or more added after the approver signed the day off: the approver never saw "
        "the claim as it stands. Quarter-hour fixes after approval are routine and do not fire; "
        "honest forgotten hours exist, hence not blatant",
    ),
    RedFlag(
        "project_after_approval",
        1.5,
        False,
        _pos("project_changed_after_approval", 1.0),
        "charged to another project after approval: the classic mischarging move, but honest "
        "re-coding of a wrong charge code is common",
    ),
    RedFlag(
        "reapproved_by_other",
        1.5,
        False,
        _pos("reapproved_by_other", 1.0),
        "re-approved by someone other than the first approver: approver shopping, or a "
        "delegate while the manager is away",
    ),
    RedFlag(
        "changed_after_approval",
        2.0,
        False,
        _pos("changed_after_approval_hours"),
        "an approved line changed more than an hour after its approval and the change never "
        "approved: the approver signed off something else. Seen in any single extract (the "
        "row's own timestamps); an administrator's fix explains some, hence not blatant",
    ),
    RedFlag(
        "deleted_after_approval",
        0.5,
        False,
        _pos("deleted_after_approval", 1.0),
        "an approved line deleted: usually removes hours (a duplicate cleaned up), so weak; "
        "worth a look beside other changes",
    ),
    # --- each person against their own habits, and schemes no label names (#13) ----------
    RedFlag(
        "beyond_own_activity",
        1.5,
        False,
        lambda c: np.asarray(beyond_own_activity(c) >= 1.5, dtype=bool),
        "1.5 h or more that the workstation activity does not account for at the person's own "
        "usual activity ratio: padding is invisible to firm-wide thresholds for people whose "
        "screens are often idle, and visible against their own habit",
    ),
    RedFlag(
        "far_beyond_own_activity",
        1.5,
        False,
        lambda c: np.asarray(beyond_own_activity(c) >= 2.5, dtype=bool),
        "2.5 h or more beyond the person's own usual activity (adds to the 1.5 h flag): client-"
        "site days on a client laptop explain some, hence not blatant",
    ),
    RedFlag(
        "padding_habit",
        1.5,
        False,
        lambda c: padding_habit(c, 3),
        "today has the padding shape (an hour or more over the contracted day, far fewer hours "
        "of workstation activity than claimed and than the person's own habit) and so did 3+ "
        "of the 28 days before: one such day is a long "
        "day at a client, the same shape week after week is a habit, and padders pad on about "
        "half their days. Counting days works where one day's activity is too noisy to read",
    ),
    RedFlag(
        "strong_padding_habit",
        1.5,
        False,
        lambda c: padding_habit(c, 7),
        "the padding shape on 7+ of the 28 days before as well (adds to padding_habit): about a "
        "third of the person's working days, which honest long days and client sites rarely "
        "reach",
    ),
    RedFlag(
        "rushed_approval",
        2.5,
        False,
        _pos("rushed_approval_hours"),
        "approved by someone else within the hour, far faster than that approver's own habit "
        "for other people: rubber-stamping a colleague (an urgent approval explains some)",
    ),
    RedFlag(
        "coordinated_submission",
        1.0,
        False,
        lambda c: np.asarray(c["cosubmitted_days_28d"] >= 5, dtype=bool),
        "entered within a minute of the same colleague, on the same channel, on 5+ days in 4 "
        "weeks: buddy timesheeting looks like this, so does an assistant entering a team's time",
    ),
    RedFlag(
        "filed_by_colleague_unseen",
        2.0,
        False,
        lambda c: np.asarray((c["cosubmitted_days_28d"] >= 5) & activity_gap(c), dtype=bool),
        "entered alongside the same colleague as usual, and the workstation did not see the "
        "hours: the buddy-timesheeting shape (a colleague files a day the person did not work). "
        "An assistant entering a team's time leaves the activity to match. Outside the activity "
        "cap: who filed the day is a second fact",
    ),
)
RED_FLAG_NAMES: tuple[str, ...] = tuple(f.name for f in RED_FLAGS)
PRIOR_COLUMNS: tuple[str, ...] = (
    "post_termination_hours",
    "leave_hours",
    "closed_project_hours",
    "holiday_hours",
    "unassigned_hours",
    "duplicate_lines",
    "no_activity_hours",
    "reciprocal_approval_hours",
    "hours_minus_active",
    "total_hours",
    "max_submission_lag_days",
    "days_submitted_same_batch",
    "self_approved_hours",
    "own_median_hours_28d",
    "hours_vs_own_median",
    "hours_stddev_28d",
    "contracted_daily_hours",
    "hours_over_contracted",
    "weekend_hours",
    "rule_flag_count",
    "hours_added_after_approval",
    "project_changed_after_approval",
    "reapproved_by_other",
    "deleted_after_approval",
    "hours_beyond_own_activity",
    "own_activity_ratio_28d",
    "activity_noise_28d",
    "rushed_approval_hours",
    "cosubmitted_days_28d",
    "changed_after_approval_hours",
    "padding_shape_days_28d",
)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -35.0, 35.0))), dtype="float64")


def logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype="float64"), 1e-12, 1 - 1e-12)
    return np.asarray(np.log(q / (1 - q)), dtype="float64")


def red_flag_matrix(cols: Columns) -> np.ndarray:
    """(n_rows, len(RED_FLAGS)) booleans: which expert rules fire on each day."""
    n = len(next(iter(cols.values()))) if cols else 0
    out = np.zeros((n, len(RED_FLAGS)), dtype=bool)
    for j, flag in enumerate(RED_FLAGS):
        out[:, j] = flag.fires(cols)
    return out


# --- the firm's own base rates -----------------------------------------------------------
# A red flag is evidence in proportion to how rarely it fires on honest days. The severities
# above were set on the reference (simulated) firm; on a firm where consultants routinely work
# 12 h days at client sites on client laptops, "far more hours than the workstation saw" fires
# on a fifth of ordinary days and says far less there. A flag's log-likelihood ratio falls by
# log(k) when its honest firing rate is k times the reference's, so its points fall by
# log(k) / PRIOR_SLOPE. Fraud is rare, so the firing rate over all of a firm's days is close to
# its honest rate; FRAUD_SHARE is subtracted first so that a firm with *more fraud* of one kind
# is not mistaken for a noisier one (a flag is damped only when it fires on more days than
# fraud could explain). Blatant flags are never damped (their floor is a promise), and a flag
# that fires *less* often than in the reference keeps its severity (rare is not proof).

REFERENCE_HONEST_RATE: dict[str, float] = {
    "no_activity": 0.0040,
    "reciprocal_approval": 0.0005,
    "activity_gap": 0.0693,
    "late_batch": 0.0153,
    "self_approved": 0.0119,
    "over_own_baseline": 0.0478,
    "over_contract": 0.0500,
    "weekend": 0.0116,
    "raised_after_approval": 0.0005,
    "project_after_approval": 0.0005,
    "reapproved_by_other": 0.0005,
    "deleted_after_approval": 0.0005,
    "changed_after_approval": 0.0005,
    "beyond_own_activity": 0.0365,
    "far_beyond_own_activity": 0.0072,
    "padding_habit": 0.0005,
    "strong_padding_habit": 0.0005,
    "rushed_approval": 0.0005,
    "coordinated_submission": 0.0005,
    "filed_by_colleague_unseen": 0.0005,
}
"""Share of honest employee-days on which each non-blatant flag fires in the reference firm
(the tuned `default` and `no-cases` worlds of benchmarks/detection_grid.py, all 90 days, from
the ground truth; `detection_grid.py --reference-rates` prints them). Flags that fired on
fewer than 0.05% of honest days there are set to 0.05%: below that the estimate is noise."""
REFERENCE_RULES_PER_DAY = 0.085
"""Mean count of the firm's own rules that are *not* a blatant flag's twin (long day, hours
over activity, bulk back-dating, approval conflict: `soft_rule_count`) over honest
employee-days in the same reference worlds. The rules that restate a blatant flag (hours on
leave, a duplicate line, ...) are never damped, like the flag."""
FRAUD_SHARE = 0.02
"""Share of a firm's days that fraud alone may explain before a flag counts as noisy here."""
CALIBRATION_PSEUDO_DAYS = 2000
"""A small or young firm's rates are shrunk towards the reference, as if this many reference
days had been seen too: twelve days of sixty people say little about base rates."""


@dataclass(frozen=True)
class FirmCalibration:
    """Severities as this firm's base rates warrant (see REFERENCE_HONEST_RATE above).

    `fit` measures, on the training days, how often each non-blatant flag fires and how many
    of the firm's own rules fire per day; `severity` and `rule_points` are what the prior then
    uses. Stored in the model, so scores stay comparable across days until the next refit, and
    listed in the model's metadata so a reviewer can see why a flag weighs less here."""

    days: int
    rates: dict[str, float]
    rules_per_day: float
    severity: dict[str, float]
    rule_points: float

    @classmethod
    def reference(cls) -> FirmCalibration:
        """No damping: the severities as written (what a model without calibration used)."""
        return cls(
            days=0,
            rates=dict(REFERENCE_HONEST_RATE),
            rules_per_day=REFERENCE_RULES_PER_DAY,
            severity={f.name: f.severity for f in RED_FLAGS},
            rule_points=RULE_POINTS,
        )

    @classmethod
    def fit(cls, cols: Columns) -> FirmCalibration:
        fired = red_flag_matrix(cols)
        n = int(fired.shape[0])
        m = CALIBRATION_PSEUDO_DAYS
        rates: dict[str, float] = {}
        severity: dict[str, float] = {}
        for j, flag in enumerate(RED_FLAGS):
            if flag.blatant:
                severity[flag.name] = flag.severity
                continue
            ref = REFERENCE_HONEST_RATE[flag.name]
            rate = (float(fired[:, j].sum()) + ref * m) / (n + m)
            rates[flag.name] = rate
            severity[flag.name] = _damped(flag.severity, rate, ref)
        per_day = (float(soft_rule_count(cols, fired).sum()) + REFERENCE_RULES_PER_DAY * m) / (
            n + m
        )
        return cls(
            days=n,
            rates=rates,
            rules_per_day=per_day,
            severity=severity,
            rule_points=_damped(RULE_POINTS, per_day, REFERENCE_RULES_PER_DAY),
        )

    def damped(self) -> dict[str, dict[str, float]]:
        """Flags that weigh less in this firm: rate here, reference rate, points used."""
        out = {
            f.name: {
                "fires_on_share_of_days": round(self.rates[f.name], 4),
                "reference_honest_share": REFERENCE_HONEST_RATE[f.name],
                "points": round(self.severity[f.name], 2),
                "points_as_written": f.severity,
            }
            for f in RED_FLAGS
            if not f.blatant and self.severity[f.name] < f.severity - 1e-9
        }
        if self.rule_points < RULE_POINTS - 1e-9:
            out["rule_flag_count"] = {
                "fires_per_day": round(self.rules_per_day, 4),
                "reference_per_honest_day": REFERENCE_RULES_PER_DAY,
                "points": round(self.rule_points, 2),
                "points_as_written": RULE_POINTS,
            }
        return out

    def to_json(self) -> dict[str, object]:
        return {
            "days": self.days,
            "rates": {k: round(v, 5) for k, v in self.rates.items()},
            "rules_per_day": round(self.rules_per_day, 4),
            "damped": self.damped(),
        }


def soft_rule_count(cols: Columns, fired: np.ndarray) -> np.ndarray:
    """How many of the firm's own rules fired that do not restate a blatant red flag: the
    rule count less the blatant flags (each has one twin rule: leave_booked, duplicate_lines,
    ...; dbt macro fraud_rules)."""
    blatant_cols = np.array([f.blatant for f in RED_FLAGS], dtype=bool)
    rules = np.clip(np.asarray(cols["rule_flag_count"], dtype="float64"), 0.0, None)
    return np.asarray(np.clip(rules - fired[:, blatant_cols].sum(axis=1), 0.0, None))


def _damped(severity: float, rate: float, reference: float) -> float:
    honest_here = max(rate - FRAUD_SHARE, 0.0)
    if honest_here <= reference:
        return severity
    return max(0.0, severity - float(np.log(honest_here / reference)) / PRIOR_SLOPE)


ACTIVITY_FLAGS: tuple[str, ...] = (
    "no_activity",
    "activity_gap",
    "beyond_own_activity",
    "far_beyond_own_activity",
)
"""Four readings of one fact: the workstation did not see the hours claimed."""
ACTIVITY_POINTS_CAP = 3.0
"""What the activity flags may add together: the strongest one and half of another. Summed
in full they gave an honest client-site day on the client's laptop (no activity, a gap, and
beyond the person's own ratio twice: 7 points) more than a closed-project line; they are not
independent evidence. Set on the tuned worlds (cap 2.5 / 3 / 3.5 / 4.5 / none gave
no-cases PR-AUC 0.879 / 0.878 / 0.875 / 0.866 / 0.861, default 0.944 / 0.942 / 0.941 / 0.938
/ 0.936); 3 kept the no-cases world's precision at 1%."""


def evidence_points(
    cols: Columns,
    iforest_z: np.ndarray,
    peer_deviation: np.ndarray,
    calibration: FirmCalibration | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(points, blatant): evidence points per day and whether a blatant red flag fired.

    `calibration` (the firm's base rates, `FirmCalibration.fit`) lowers flags that fire on
    many ordinary days in this firm; None uses the severities as written."""
    cal = calibration or FirmCalibration.reference()
    fired = red_flag_matrix(cols)
    severity = np.array([cal.severity[f.name] for f in RED_FLAGS], dtype="float64")
    blatant_cols = np.array([f.blatant for f in RED_FLAGS], dtype=bool)
    anomaly = np.clip(iforest_z, 0.0, ANOMALY_Z_CAP) + np.clip(peer_deviation, 0.0, ANOMALY_Z_CAP)
    rules = np.clip(np.asarray(cols["rule_flag_count"], dtype="float64"), 0.0, None)
    soft = soft_rule_count(cols, fired)
    activity = np.array([f.name in ACTIVITY_FLAGS for f in RED_FLAGS], dtype=bool)
    flag_points = fired[:, ~activity].astype("float64") @ severity[~activity] + np.minimum(
        fired[:, activity].astype("float64") @ severity[activity], ACTIVITY_POINTS_CAP
    )
    points = (
        flag_points
        + ANOMALY_POINTS_PER_Z * anomaly
        + RULE_POINTS * (rules - soft)
        + cal.rule_points * soft
        + HOURS_OVER_POINTS * np.clip(cols["hours_over_contracted"], 0.0, 8.0)
    )
    return np.asarray(points, dtype="float64"), np.asarray(fired[:, blatant_cols].any(axis=1))


def prior_logit(points: np.ndarray) -> np.ndarray:
    return np.asarray(PRIOR_INTERCEPT + PRIOR_SLOPE * points, dtype="float64")


def prior_risk(points: np.ndarray) -> np.ndarray:
    """Risk in (0, 1) from evidence points, on the fixed expert curve."""
    return _sigmoid(prior_logit(points))


PRIOR_VERSION = 6
"""Bump when a rule's firing condition changes (conditions are code, not hashable numbers)."""

SHRINKAGE_CONFIRMED = 40
"""Confirmed cases at which labels and prior weigh the same: weight = n / (n + 40). With 10
confirmed cases the labels move the log-odds a fifth of the way, with 400 about 90%."""


def label_weight(n_confirmed: int) -> float:
    """How far the supervised log-odds may move the prior's, by how many confirmed cases back
    them (empirical-Bayes style shrinkage; 0 without labels)."""
    n = max(0, int(n_confirmed))
    return n / (n + SHRINKAGE_CONFIRMED)


def blend(
    prior_lo: np.ndarray, supervised_lo: np.ndarray | None, weight: float, blatant: np.ndarray
) -> np.ndarray:
    """Final risk: the prior's log-odds moved `weight` of the way towards the supervised ones,
    floored at the prior's own risk on days with a blatant red flag.

    Why this shape and not a learner with the prior as an input alone: a gradient-boosted model
    trained on a few dozen confirmed cases can (and did) learn red flags away, and monotone
    constraints only forbid *reversing* a flag, not ignoring it. Shrinkage bounds how much a
    handful of labels can move anything; the floor makes "8 h on approved leave" stay at least
    as risky as the rule says however many labels arrive, while labels remain free to raise
    days the rules miss (padding) and to lower weak-evidence days investigators keep clearing.
    """
    if supervised_lo is None or weight <= 0:
        lo = prior_lo
    else:
        lo = (1.0 - weight) * prior_lo + weight * supervised_lo
    lo = np.where(blatant, np.maximum(lo, prior_lo), lo)
    return _sigmoid(np.asarray(lo, dtype="float64"))


def risk_level(risk: np.ndarray, blatant: np.ndarray | None = None) -> np.ndarray:
    """'high' / 'medium' / 'low' per risk value; a blatant red flag is at least 'medium'."""
    r = np.asarray(risk, dtype="float64")
    medium = r >= MEDIUM_RISK
    if blatant is not None:
        medium |= np.asarray(blatant, dtype=bool)
    return np.where(r >= HIGH_RISK, "high", np.where(medium, "medium", "low"))


def prior_fingerprint() -> str:
    """Hash of every number that shapes the prior: a change re-trains instead of reusing."""
    spec = {
        "version": PRIOR_VERSION,
        "intercept": PRIOR_INTERCEPT,
        "slope": PRIOR_SLOPE,
        "anomaly_per_z": ANOMALY_POINTS_PER_Z,
        "anomaly_cap": ANOMALY_Z_CAP,
        "rule_points": RULE_POINTS,
        "hours_over_points": HOURS_OVER_POINTS,
        "clean_log_noise": CLEAN_LOG_NOISE,
        "noise_allowance": NOISE_ALLOWANCE,
        "shrinkage": SHRINKAGE_CONFIRMED,
        "reference_rates": REFERENCE_HONEST_RATE,
        "reference_rules_per_day": REFERENCE_RULES_PER_DAY,
        "fraud_share": FRAUD_SHARE,
        "calibration_pseudo_days": CALIBRATION_PSEUDO_DAYS,
        "flags": [(f.name, f.severity, f.blatant) for f in RED_FLAGS],
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
