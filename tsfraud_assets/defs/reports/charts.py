"""The report's charts as plotly figures, from the summaries in `reporting.data`.

Figures are built here and turned into HTML by `reporting.html`, which inlines plotly.js: the
report is opened from a lake folder or an e-mail attachment, often with no internet access.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from tsfraud_assets.defs.reports.data import DIMENSIONS, group_trend

FONT = "Inter, 'Segoe UI', -apple-system, BlinkMacSystemFont, Roboto, Helvetica, Arial, sans-serif"
INK = "#1f2937"
MUTED = "#6b7280"
ALERT = "#d9480f"
CALM = "#94a3b8"
ACCENT = "#2563eb"
PALETTE = [*qualitative.T10, *qualitative.Pastel]


def _style(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        font={"family": FONT, "size": 12, "color": INK},
        margin={"l": 56, "r": 24, "t": 48, "b": 40},
        hoverlabel={"font": {"family": FONT}},
        legend={"font": {"size": 11}},
    )
    return fig


def trend_figure(summary: pd.DataFrame, start: dt.date, end: dt.date) -> go.Figure:
    """Stacked daily bars of flagged days (top) and suspect hours (bottom) per group, with
    buttons to switch the breakdown between office, practice and country; the report's day is
    shaded so "today" stands out against the weeks before it."""
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        subplot_titles=("Flagged employee-days", "Hours booked on flagged days"),
    )
    visibility: dict[str, list[bool]] = {}
    traces_per_dimension: list[tuple[str, int]] = []
    for dim_index, dimension in enumerate(DIMENSIONS):
        trend = group_trend(summary, dimension, start, end)
        groups = sorted(trend[dimension].unique()) if len(trend) else []
        for i, group in enumerate(groups):
            rows = trend[trend[dimension] == group]
            color = PALETTE[i % len(PALETTE)]
            for row, metric, unit in ((1, "flagged_days", "days"), (2, "suspect_hours", "h")):
                fig.add_trace(
                    go.Bar(
                        x=[pd.Timestamp(d) for d in rows["work_date"]],
                        y=rows[metric],
                        name=str(group),
                        legendgroup=f"{dimension}:{group}",
                        showlegend=row == 1,
                        marker={"color": color, "line": {"width": 0}},
                        visible=dim_index == 0,
                        hovertemplate=f"%{{x|%a %d %b}}<br>{group}: %{{y:,.4~f}} {unit}"
                        "<extra></extra>",
                    ),
                    row=row,
                    col=1,
                )
        traces_per_dimension.append((dimension, 2 * len(groups)))
    total = sum(n for _, n in traces_per_dimension)
    offset = 0
    for dimension, n in traces_per_dimension:
        visibility[dimension] = [offset <= i < offset + n for i in range(total)]
        offset += n
    day = pd.Timestamp(end)
    fig.add_vrect(
        x0=day - pd.Timedelta(hours=12),
        x1=day + pd.Timedelta(hours=12),
        fillcolor="#fde68a",
        opacity=0.45,
        line_width=0,
        layer="below",
        row="all",
        col=1,
    )
    fig.add_annotation(
        x=day,
        y=1,
        yref="paper",
        text=f"▼ {day:%a %d %b}",
        showarrow=False,
        xanchor="right",
        yanchor="bottom",
        font={"size": 11, "color": MUTED},
    )
    fig.update_layout(
        barmode="stack",
        bargap=0.15,
        legend={"orientation": "v", "x": 1.01, "y": 1, "title": {"text": ""}},
        updatemenus=[
            {
                "type": "buttons",
                "direction": "right",
                "x": 0,
                "xanchor": "left",
                "y": 1.16,
                "yanchor": "bottom",
                "showactive": True,
                "bgcolor": "#f1f5f9",
                "bordercolor": "#cbd5e1",
                "font": {"size": 12},
                "buttons": [
                    {
                        "label": f"by {label.lower()}",
                        "method": "update",
                        "args": [{"visible": visibility[dimension]}],
                    }
                    for dimension, label in DIMENSIONS.items()
                ],
            }
        ],
    )
    fig.update_xaxes(
        range=[pd.Timestamp(start) - pd.Timedelta(hours=12), day + pd.Timedelta(hours=12)]
    )
    fig.update_yaxes(rangemode="tozero")
    _style(fig, height=560)
    fig.update_layout(margin={"t": 96})
    return fig


def _score_tick(exponent: int) -> str:
    return f"{10.0**exponent:g}" if exponent >= -4 else f"1e{exponent}"


def score_figure(
    histogram: pd.DataFrame, threshold: float | None, floored: bool = False
) -> go.Figure:
    """Every employee-day of the day on a log score axis, the suspects in the alert colour
    and the day's cut-off marked: how far the list stands out from everyone else."""
    centers = (histogram["log_lo"] + histogram["log_hi"]) / 2
    width = float((histogram["log_hi"] - histogram["log_lo"]).iloc[0]) if len(histogram) else 0.1
    ranges = [
        f"{10**lo:.2g} – {10**hi:.2g}"
        for lo, hi in zip(histogram["log_lo"], histogram["log_hi"], strict=True)
    ]
    fig = go.Figure()
    for column, name, color in (("other", "not flagged", CALM), ("flagged", "suspect", ALERT)):
        fig.add_trace(
            go.Bar(
                x=centers,
                y=histogram[column],
                width=width * 0.92,
                name=name,
                marker={"color": color, "line": {"width": 0}},
                customdata=ranges,
                hovertemplate="score %{customdata}<br>%{y} employee-days<extra>"
                + name
                + "</extra>",
            )
        )
    if len(histogram):
        lo = math.floor(float(histogram["log_lo"].min()))
        ticks = list(range(lo, 1))
    else:
        ticks = [-3, -2, -1, 0]
    labels = [_score_tick(t) for t in ticks]
    if floored:  # scores below the floor are counted in the first bin
        labels[0] = f"≤ {labels[0]}"
    fig.update_xaxes(
        title_text="fraud score (log scale)",
        tickvals=ticks,
        ticktext=labels,
        zeroline=False,
    )
    fig.update_yaxes(title_text="employee-days (log scale)", type="log", rangemode="tozero")
    if threshold is not None:
        x = math.log10(max(threshold, 1e-6))
        fig.add_vline(x=x, line={"color": ALERT, "dash": "dash", "width": 2})
        fig.add_annotation(
            x=x,
            y=1,
            yref="paper",
            text=f"suspect threshold {threshold:.3g}",
            showarrow=False,
            xanchor="right",
            yanchor="bottom",
            font={"color": ALERT, "size": 12},
        )
    fig.update_layout(
        barmode="stack",
        bargap=0,
        legend={"orientation": "h", "x": 0, "y": 1.12},
    )
    return _style(fig, height=360)


def signal_figure(table: pd.DataFrame) -> go.Figure:
    """Per hand-written rule: how often it fired and how often the model agreed. Two panels
    with their own scales, since a common rule fires hundreds of times for a handful of
    suspects."""
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        subplot_titles=("Employee-days the rule fired on", "…of which on the suspect list"),
    )
    labels = table["label"].tolist()
    fig.add_trace(
        go.Bar(
            y=labels,
            x=table["fired_days"],
            orientation="h",
            marker={"color": CALM},
            text=table["fired_days"],
            textposition="auto",
            name="fired",
            hovertemplate="%{y}: fired on %{x} employee-days<extra></extra>",
        ),
        row=1,
        col=1,
    )
    share_text = [
        f"{n} ({s:.0%})" if n and not math.isnan(s) else str(n)
        for n, s in zip(table["suspect_days"], table["suspect_share"], strict=True)
    ]
    fig.add_trace(
        go.Bar(
            y=labels,
            x=table["suspect_days"],
            orientation="h",
            marker={"color": ALERT},
            text=share_text,
            textposition="auto",
            name="suspect",
            hovertemplate="%{y}: %{x} suspects<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(showlegend=False)
    return _style(fig, height=max(260, 34 * len(labels) + 90))


def importance_figure(importance: Mapping[str, float]) -> go.Figure:
    """The model's permutation importance per signal family: which red flags it relies on."""
    items = sorted(((str(k), float(v)) for k, v in importance.items()), key=lambda kv: -kv[1])
    items = [kv for kv in items if kv[1] > 0][:10]
    fig = go.Figure(
        go.Bar(
            y=[k.replace("_", " ") for k, _ in items],
            x=[v for _, v in items],
            orientation="h",
            marker={"color": ACCENT},
            hovertemplate="%{y}: %{x:.3f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text="permutation importance")
    fig = _style(fig, height=max(220, 26 * len(items) + 80))
    fig.update_layout(margin={"t": 16})
    return fig
