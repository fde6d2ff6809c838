"""The model's view of the `employee_day_features` mart (see docs/data-contracts.md).

The column list lives here, once, so training, scoring, reasons and evaluation can never drift
apart on which columns feed the model. Validation fails loudly and names the offending columns:
a silently missing or null feature would otherwise turn into a quietly wrong ranking that
investigators act on.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

KEY_COLUMNS: tuple[str, ...] = ("employee_id", "work_date")
"""Primary key of an employee-day."""

CATEGORICAL_COLUMNS: tuple[str, ...] = ("office", "practice", "grade", "country_code")
"""Employee attributes. Not model inputs (a suspicion score must not depend on who someone is);
used only to define peer groups for the peer-deviation anomaly signal."""

REVISION_COLUMNS: tuple[str, ...] = (
    "revision_count",
    "hours_raised_after_approval",
    "hours_added_after_approval",
    "project_changed_after_approval",
    "deleted_after_approval",
    "reapproved_by_other",
)
"""From the entry history (int_entry_revisions): what changed after approval. Zero on a lake
whose history saw no revision, e.g. one filled by a single extract."""

FEATURE_COLUMNS: tuple[str, ...] = (
    "total_hours",
    "entry_count",
    "contracted_daily_hours",
    "hours_over_contracted",
    "own_median_hours_28d",
    "hours_vs_own_median",
    "peer_mean_hours",
    "hours_vs_peer",
    "active_hours",
    "hours_minus_active",
    "no_activity_hours",
    "leave_hours",
    "holiday_hours",
    "weekend_hours",
    "unassigned_hours",
    "closed_project_hours",
    "post_termination_hours",
    "duplicate_lines",
    "max_submission_lag_days",
    "days_submitted_same_batch",
    "avg_approval_lag_hours",
    "self_approved_hours",
    "reciprocal_approval_hours",
    "round_hour_share",
    "hours_stddev_28d",
    "rejected_entries",
    "withdrawn_entries",
    "rule_flag_count",
    *REVISION_COLUMNS,
    # each person against their own habits, and schemes no label names (#13)
    "own_activity_ratio_28d",
    "hours_beyond_own_activity",
    "rushed_approval_hours",
    "cosubmitted_days_28d",
    "activity_noise_28d",
    # an approved line changed later, the change never approved (any single extract shows it)
    "changed_after_approval_hours",
    # claimed hours beyond the first-to-last activity span, and the person's usual gap
    "hours_beyond_presence",
    "usual_hours_beyond_presence_28d",
    # the padding shape as a habit: days over the contracted day with far less activity, of 28
    "padding_shape_days_28d",
)
"""Numeric model inputs, in contract order: every column except keys and categoricals.
`rule_flag_count` (the hand-written rules) is deliberately one of them."""

PEER_GROUP_COLUMNS: tuple[str, ...] = ("practice", "grade")
"""Peer group for the peer-deviation signal: people doing the same kind of work at the same
seniority have comparable hours, activity and submission habits across offices."""


class FeatureValidationError(ValueError):
    """The features frame does not honour the `employee_day_features` contract."""


def to_day(values: pd.Series | pd.Index | Iterable[object]) -> pd.Series:
    """Normalise dates (datetime.date, strings, datetime64, Arrow date32) to midnight
    `datetime64[ns]`, so comparisons with a `date` cut-off behave the same whatever the reader
    produced."""
    return pd.Series(pd.to_datetime(pd.Series(values), errors="raise")).dt.normalize()


def validate_features(
    features: pd.DataFrame,
    *,
    require_categoricals: bool = False,
) -> pd.DataFrame:
    """Check `features` against the contract and return a clean copy.

    The copy has `employee_id` as int64, `work_date` as normalised datetime64[ns], every
    FEATURE_COLUMNS entry as float64, and a fresh RangeIndex; extra columns are kept.
    Categorical columns are optional unless `require_categoricals` (the peer signal falls back to
    population norms without them).

    Raises FeatureValidationError naming missing columns, nulls, non-numeric values or
    duplicate keys, because each of those would silently corrupt the ranking.
    """
    if not isinstance(features, pd.DataFrame):
        raise FeatureValidationError(f"expected a pandas DataFrame, got {type(features).__name__}")
    required = list(KEY_COLUMNS) + list(FEATURE_COLUMNS)
    if require_categoricals:
        required += list(CATEGORICAL_COLUMNS)
    missing = [c for c in required if c not in features.columns]
    if missing:
        hint = ""
        if features.columns.size and set(missing) <= set(FEATURE_COLUMNS):
            # The mart is incremental: a warehouse built by an older tsfraud keeps its columns
            # until the table is rebuilt over all days (a window run must not drop old days).
            hint = (
                ". The warehouse's employee_day_features was built before these columns "
                "existed: rebuild it once over all days with `dbt build --full-refresh "
                "--select employee_day_features --project-dir dbt_project --profiles-dir "
                "dbt_project` (with the deployment's TSFRAUD_* settings), then run again"
            )
            if "hours_beyond_presence" in missing:
                hint += (
                    "; if dbt then reports that presence_minutes does not exist, no day has "
                    "been processed by this version's Spark job yet: `tsfraud run` one day first"
                )
        raise FeatureValidationError(
            "employee_day_features is missing required column(s): " + ", ".join(missing) + hint
        )

    out = features.copy()
    out.index = pd.RangeIndex(len(out))
    bad_numeric: list[str] = []
    for col in FEATURE_COLUMNS:
        try:
            out[col] = pd.to_numeric(out[col], errors="raise").astype("float64")
        except (TypeError, ValueError):
            bad_numeric.append(col)
    if bad_numeric:
        raise FeatureValidationError("non-numeric values in column(s): " + ", ".join(bad_numeric))
    null_cols = [c for c in list(KEY_COLUMNS) + list(FEATURE_COLUMNS) if out[c].isna().any()]
    if null_cols:
        raise FeatureValidationError(
            "null values in column(s) the contract declares non-null: " + ", ".join(null_cols)
        )
    inf_cols = [c for c in FEATURE_COLUMNS if not np.isfinite(out[c].to_numpy()).all()]
    if inf_cols:
        raise FeatureValidationError("infinite values in column(s): " + ", ".join(inf_cols))
    try:
        out["employee_id"] = out["employee_id"].astype("int64")
    except (TypeError, ValueError) as exc:
        raise FeatureValidationError(f"employee_id is not an integer column: {exc}") from exc
    try:
        out["work_date"] = to_day(out["work_date"]).to_numpy()
    except (TypeError, ValueError) as exc:
        raise FeatureValidationError(f"work_date is not a date column: {exc}") from exc
    dup = out.duplicated(list(KEY_COLUMNS))
    if dup.any():
        first = out.loc[dup, list(KEY_COLUMNS)].iloc[0]
        raise FeatureValidationError(
            f"{int(dup.sum())} duplicate (employee_id, work_date) key(s), e.g. "
            f"({first['employee_id']}, {first['work_date'].date()})"
        )
    return out


def feature_matrix(features: pd.DataFrame) -> np.ndarray:
    """FEATURE_COLUMNS of an already validated frame as a float64 matrix, in contract order."""
    return features.loc[:, list(FEATURE_COLUMNS)].to_numpy(dtype="float64")
