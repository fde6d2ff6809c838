"""The investigators' report's inputs: loaded once per run, sliced per day, summarised.

Loading and summarising are separate so the summaries (and the rendering after them) can be
tested on hand-built frames with no warehouse or lake. A single-run backfill of many days
issues one query per report model for the whole range (Athena charges seconds per query, not
per row), and each day's report is then cut from those frames.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tsfraud_assets.defs.model import model_store
from tsfraud_assets.defs.reports.cost import DayRunCost
from tsfraud_assets.defs.suspects.scoring import SCORES_DATASET
from tsfraud_assets.lib import lake_layout
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.warehouse import Warehouse

TREND_DAYS = 56
"""How far back the trend charts look: eight weeks shows a pattern without burying today."""
DIMENSIONS: dict[str, str] = {"office": "Office", "practice": "Practice", "country_code": "Country"}
SUSPECT_COLUMNS = [
    "rank",
    "employee_id",
    "employee_code",
    "office",
    "practice",
    "grade",
    "country_code",
    "total_hours",
    "fraud_score",
    "reasons",
    "model_version",
]
SUMMARY_COLUMNS = [
    "work_date",
    "office",
    "practice",
    "country_code",
    "employee_days",
    "flagged_days",
    "suspect_hours",
]
WEEKLY_COLUMNS = [
    "week_start",
    "practice",
    "employee_days",
    "flagged_days",
    "suspect_hours",
    "previous_flagged_days",
    "previous_suspect_hours",
    "flagged_days_change",
    "suspect_hours_change",
]
RULE_SUFFIX = "_suspect_days"
"""daily_signal_summary has `<rule>_days` and `<rule>_suspect_days` for each dbt fraud rule."""
RULE_LABELS = {
    "long_day": "Long day (> contracted + 3 h)",
    "hours_exceed_activity": "Hours exceed workstation activity",
    "leave_booked": "Hours booked on leave",
    "holiday_booked": "Hours booked on a public holiday",
    "unassigned_booked": "Billable project without assignment",
    "closed_project_booked": "Hours on a closed project",
    "post_termination_booked": "Hours after termination",
    "duplicate_lines": "Duplicate lines",
    "bulk_backdated": "Bulk back-dated submission",
    "approval_conflict": "Self / reciprocal approval",
}
LOG_SCORE_FLOOR = 1e-6
"""Scores are heavily skewed towards 0; the histogram bins log10(score), floored here."""


@dataclass(frozen=True)
class ModelInfo:
    """The model version that scored the day, its stored metadata and the promotion pointer."""

    version: str
    metadata: dict[str, Any] = field(default_factory=dict)
    current: dict[str, Any] | None = None

    @property
    def is_current(self) -> bool:
        return self.current is not None and str(self.current.get("version")) == self.version


@dataclass(frozen=True)
class ReportData:
    """Everything one day's report shows, as plain frames."""

    day: dt.date
    suspects: pd.DataFrame
    """suspect_timesheets of the day (SUSPECT_COLUMNS), ordered by rank."""
    scores: pd.DataFrame
    """Every scored employee-day of the day: fraud_score, is_suspect, model_version."""
    daily_summary: pd.DataFrame
    """daily_suspect_summary rows (SUMMARY_COLUMNS) of the trend window ending on `day`."""
    weekly_trend: pd.DataFrame
    """weekly_suspect_trend rows (WEEKLY_COLUMNS) of the last complete week before `day`."""
    signals: pd.DataFrame
    """daily_signal_summary row of the day (zero or one row)."""
    models: list[ModelInfo]
    trend_days: int = TREND_DAYS
    cost: DayRunCost | None = None
    """What the runs that built this day cost (the "Cost of this day's run" section)."""

    @property
    def trend_start(self) -> dt.date:
        return self.day - dt.timedelta(days=self.trend_days - 1)


@dataclass(frozen=True)
class ReportInputs:
    """The warehouse frames of a whole run's range (plus the trend look-back)."""

    first_day: dt.date
    last_day: dt.date
    suspects: pd.DataFrame
    daily_summary: pd.DataFrame
    weekly_trend: pd.DataFrame
    signals: pd.DataFrame
    trend_days: int = TREND_DAYS


def last_complete_week_start(day: dt.date) -> dt.date:
    """Monday of the newest week that ended on or before `day`.

    weekly_suspect_trend is rebuilt whole on every run, so the week that contains `day` may
    hold later days when an old day is re-rendered; a complete week is the same whenever the
    report is rendered.
    """
    monday = day - dt.timedelta(days=day.weekday())
    return monday if day.weekday() == 6 else monday - dt.timedelta(days=7)


def _as_date(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.date


def _frame(df: pd.DataFrame, columns: list[str], date_columns: tuple[str, ...]) -> pd.DataFrame:
    df = df.reindex(columns=columns) if columns else df.copy()
    for col in date_columns:
        if col in df.columns:
            df[col] = _as_date(df[col]) if len(df) else pd.Series([], dtype=object)
    return df


def load_report_inputs(
    warehouse: Warehouse, first_day: dt.date, last_day: dt.date, trend_days: int = TREND_DAYS
) -> ReportInputs:
    """One query per report model for [first_day - trend look-back, last_day]."""
    trend_from = first_day - dt.timedelta(days=trend_days - 1)
    weeks_from = last_complete_week_start(first_day)
    weeks_to = last_complete_week_start(last_day)
    rel = warehouse.relation
    suspects = warehouse.query(
        f"select {', '.join(SUSPECT_COLUMNS)}, work_date from {rel('suspect_timesheets')} "
        "where work_date between ? and ? order by work_date, rank",
        [first_day, last_day],
    )
    summary = warehouse.query(
        f"select {', '.join(SUMMARY_COLUMNS)} from {rel('daily_suspect_summary')} "
        "where work_date between ? and ?",
        [trend_from, last_day],
    )
    weekly = warehouse.query(
        f"select {', '.join(WEEKLY_COLUMNS)} from {rel('weekly_suspect_trend')} "
        "where week_start between ? and ?",
        [weeks_from, weeks_to],
    )
    signals = warehouse.query(
        f"select * from {rel('daily_signal_summary')} where work_date between ? and ?",
        [first_day, last_day],
    )
    return ReportInputs(
        first_day=first_day,
        last_day=last_day,
        suspects=_frame(suspects, [*SUSPECT_COLUMNS, "work_date"], ("work_date",)),
        daily_summary=_frame(summary, SUMMARY_COLUMNS, ("work_date",)),
        weekly_trend=_frame(weekly, WEEKLY_COLUMNS, ("week_start",)),
        signals=_frame(signals, [], ("work_date",)),
        trend_days=trend_days,
    )


def load_scores(lake: Lake, day: dt.date) -> pd.DataFrame:
    """The day's full score list (suspect or not) from the scores contract in the lake: the
    warehouse keeps only the suspects, and the histogram needs everyone."""
    table = lake.read_partition(SCORES_DATASET, day)
    if table is None:
        return pd.DataFrame(
            {
                "fraud_score": pd.Series([], dtype=float),
                "is_suspect": pd.Series([], dtype=bool),
                "model_version": pd.Series([], dtype=object),
            }
        )
    return table.select(["fraud_score", "is_suspect", "model_version"]).to_pandas()


def load_models(lake: Lake, versions: list[str]) -> list[ModelInfo]:
    """Metadata of each model version that scored the day; a missing file gives an empty
    entry rather than no report, since the list itself is still worth reading."""
    current = lake.read_json(model_store.CURRENT) if lake.exists(model_store.CURRENT) else None
    infos = []
    for version in versions:
        path = lake_layout.model_metadata(version)
        metadata = lake.read_json(path) if lake.exists(path) else {}
        infos.append(ModelInfo(version=version, metadata=metadata, current=current))
    return infos


def report_data_for(
    inputs: ReportInputs, day: dt.date, lake: Lake, cost: DayRunCost | None = None
) -> ReportData:
    """Cut one day's report out of the run's frames, adding its scores, models and cost."""
    weeks = last_complete_week_start(day)
    start = day - dt.timedelta(days=inputs.trend_days - 1)
    scores = load_scores(lake, day)
    suspects = inputs.suspects[inputs.suspects["work_date"] == day]
    versions = _versions(scores, suspects)
    summary = inputs.daily_summary
    signals = inputs.signals
    return ReportData(
        day=day,
        suspects=suspects.drop(columns="work_date").sort_values("rank").reset_index(drop=True),
        scores=scores,
        daily_summary=summary[(summary["work_date"] >= start) & (summary["work_date"] <= day)],
        weekly_trend=inputs.weekly_trend[inputs.weekly_trend["week_start"] == weeks],
        signals=signals[signals["work_date"] == day] if len(signals) else signals,
        models=load_models(lake, versions),
        trend_days=inputs.trend_days,
        cost=cost,
    )


def _versions(scores: pd.DataFrame, suspects: pd.DataFrame) -> list[str]:
    """Model versions in the day's scores, most rows first (normally exactly one)."""
    source = scores if len(scores) else suspects
    counts = Counter(str(v) for v in source["model_version"].dropna())
    return [v for v, _ in counts.most_common()]


# --- summaries (pure) -------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyFigure:
    label: str
    value: str
    note: str = ""


def suspect_threshold(scores: pd.DataFrame) -> float | None:
    """Lowest score that made the list: the alert budget's cut for the day."""
    flagged = scores.loc[scores["is_suspect"].astype(bool), "fraud_score"]
    return float(flagged.min()) if len(flagged) else None


def key_figures(data: ReportData) -> list[KeyFigure]:
    """The numbers an investigator wants before reading the list."""
    scored = len(data.scores)
    suspects = len(data.suspects)
    hours = float(data.suspects["total_hours"].fillna(0).sum()) if suspects else 0.0
    threshold = suspect_threshold(data.scores)
    earlier = data.daily_summary[data.daily_summary["work_date"] < data.day]
    per_day = earlier.groupby("work_date")["flagged_days"].sum()
    share = f"{suspects / scored:.1%} of employee-days" if scored else "nothing scored"
    figures = [
        KeyFigure("Employee-days scored", f"{scored:,}", data.day.strftime("%A")),
        KeyFigure("Suspects", f"{suspects:,}", share),
        KeyFigure("Suspect hours", f"{hours:,.1f} h", "booked on suspect days"),
        KeyFigure(
            "Suspect threshold",
            f"{threshold:.3f}" if threshold is not None else "—",
            f"top score {data.scores['fraud_score'].max():.3f}" if scored else "",
        ),
    ]
    if len(per_day):
        mean = float(per_day.mean())
        figures.append(
            KeyFigure(
                "Suspects per day",
                f"{mean:.1f}",
                f"mean of the previous {len(per_day)} scored days",
            )
        )
    if data.models:
        model = data.models[0]
        trained = str(model.metadata.get("trained_at", ""))[:10]
        status = "current" if model.is_current else "no longer promoted"
        figures.append(
            KeyFigure(
                "Model trained",
                trained or "unknown",
                f"{model.version} · {status}",
            )
        )
    return figures


def group_trend(
    summary: pd.DataFrame, dimension: str, start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Flagged days and suspect hours per day and group; every day of the window present
    (0 when nothing was flagged or nothing scored) so bars line up across groups."""
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    if summary.empty:
        return pd.DataFrame(columns=["work_date", dimension, "flagged_days", "suspect_hours"])
    grouped = (
        summary.groupby(["work_date", dimension], as_index=False)[["flagged_days", "suspect_hours"]]
        .sum()
        .astype({"flagged_days": int, "suspect_hours": float})
    )
    groups = sorted(grouped[dimension].dropna().unique())
    full = pd.MultiIndex.from_product([days, groups], names=["work_date", dimension])
    return (
        grouped.set_index(["work_date", dimension])
        .reindex(full, fill_value=0)
        .reset_index()
        .astype({"flagged_days": int, "suspect_hours": float})
    )


def flag_rates(summary: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """Per group over the window: employee-days, flagged days and their ratio, most flagged
    first. The alert budget fixes the day's total, so the split between groups is the news."""
    if summary.empty:
        return pd.DataFrame(
            columns=[dimension, "employee_days", "flagged_days", "flag_rate", "suspect_hours"]
        )
    out = summary.groupby(dimension, as_index=False)[
        ["employee_days", "flagged_days", "suspect_hours"]
    ].sum()
    out["flag_rate"] = out["flagged_days"] / out["employee_days"].where(out["employee_days"] > 0)
    return out.sort_values(["flag_rate", "flagged_days"], ascending=False).reset_index(drop=True)


def signal_table(signals: pd.DataFrame) -> pd.DataFrame:
    """One row per hand-written rule: on how many employee-days it fired, how many of those
    the model flagged, and that share, most firing first."""
    columns = ["rule", "label", "fired_days", "suspect_days", "suspect_share"]
    if signals.empty:
        return pd.DataFrame(columns=columns)
    row = signals.iloc[0]
    rows = []
    for col in signals.columns:
        if not col.endswith(RULE_SUFFIX):
            continue
        rule = col.removesuffix(RULE_SUFFIX)
        fired = int(row.get(f"{rule}_days", 0) or 0)
        flagged = int(row[col] or 0)
        rows.append(
            {
                "rule": rule,
                "label": RULE_LABELS.get(rule, rule.replace("_", " ").capitalize()),
                "fired_days": fired,
                "suspect_days": flagged,
                "suspect_share": flagged / fired if fired else math.nan,
            }
        )
    return (
        pd.DataFrame(rows, columns=columns)
        .sort_values(["fired_days", "suspect_days"], ascending=False)
        .reset_index(drop=True)
    )


def score_histogram(scores: pd.DataFrame, bins_per_decade: int = 6) -> pd.DataFrame:
    """Counts of flagged and other employee-days per log10(score) bin.

    Most days score near 0 and the suspects sit in a thin upper tail: on a linear axis the
    whole day is one bar. Bins are whole fractions of a decade so their edges read as round
    scores.
    """
    columns = ["log_lo", "log_hi", "other", "flagged"]
    if scores.empty:
        return pd.DataFrame(columns=columns)
    logs = np.log10(scores["fraud_score"].astype(float).clip(lower=LOG_SCORE_FLOOR, upper=1.0))
    lo = math.floor(float(logs.min()) * bins_per_decade) / bins_per_decade
    hi = max(
        math.ceil(float(logs.max()) * bins_per_decade) / bins_per_decade, lo + 1 / bins_per_decade
    )
    edges = np.linspace(lo, hi, round((hi - lo) * bins_per_decade) + 1)
    flagged = scores["is_suspect"].astype(bool).to_numpy()
    other_counts, _ = np.histogram(logs[~flagged], bins=edges)
    flagged_counts, _ = np.histogram(logs[flagged], bins=edges)
    return pd.DataFrame(
        {
            "log_lo": edges[:-1],
            "log_hi": edges[1:],
            "other": other_counts,
            "flagged": flagged_counts,
        }
    )


def top_suspects_markdown(suspects: pd.DataFrame, limit: int = 10) -> str:
    """The top of the list for Dagster's asset page, where a table reads better than JSON."""
    if suspects.empty:
        return "no suspects"
    top = suspects.head(limit)
    lines = [
        "| rank | employee | office | practice | hours | score | reasons |",
        "|---:|---|---|---|---:|---:|---|",
    ]
    for _, r in top.iterrows():
        reasons = str(r["reasons"] or "").replace("|", "/")
        lines.append(
            f"| {int(r['rank'])} | {r['employee_code']} | {r['office']} | {r['practice']} | "
            f"{float(r['total_hours'] or 0):.1f} | {float(r['fraud_score']):.3f} | {reasons} |"
        )
    return "\n".join(lines)
