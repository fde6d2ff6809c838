"""One day's investigators' report as an HTML page that needs no internet.

No request leaves the page, because investigators open the file from the lake, a shared drive
or an e-mail, often on a locked-down machine without internet access. CSS is inline; plotly.js
(3.5 MB) is either one shared copy beside the pages (`plotly_src`, what the report asset
writes: a day's page is then ~100 KB instead of ~5 MB) or inlined once (no `plotly_src`: a
single file that can be mailed on its own).

The page is for investigators: the model's internals and the run's cost are engineers'
material, recorded as Dagster metadata (fraud_model, investigator_report) and shown here only
with `engineers=True`.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from tsfraud_assets.defs.reports import charts
from tsfraud_assets.defs.reports.cost import DayRunCost, format_bytes, format_usd
from tsfraud_assets.defs.reports.data import (
    DIMENSIONS,
    LOG_SCORE_FLOOR,
    KeyFigure,
    ModelInfo,
    ReportData,
    flag_rates,
    key_figures,
    score_histogram,
    signal_table,
    suspect_threshold,
)

REASON_SEPARATOR = "; "
PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
}

CSS = """
:root {
  --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f6f7f9; --card: #ffffff;
  --accent: #2563eb; --alert: #d9480f; --alert-soft: #fff1e6; --ok: #15803d;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.5 Inter, "Segoe UI", -apple-system, BlinkMacSystemFont, Roboto, Helvetica,
    Arial, sans-serif;
}
.wrap { max-width: 1280px; margin: 0 auto; padding: 0 28px; }
header.banner {
  background: linear-gradient(120deg, #0f172a 0%, #1e3a8a 100%); color: #fff;
  padding: 28px 0 64px;
}
.eyebrow { text-transform: uppercase; letter-spacing: .12em; font-size: 11px; opacity: .7; }
h1 { margin: 6px 0 2px; font-size: 30px; font-weight: 700; letter-spacing: -.01em; }
.day { font-size: 18px; opacity: .92; }
.generated { margin-top: 10px; font-size: 12px; opacity: .65; }
.figures {
  display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 14px;
  margin-top: -40px;
}
.figure {
  background: var(--card); border-radius: 12px; padding: 16px 18px;
  box-shadow: 0 1px 2px rgba(15,23,42,.06), 0 4px 16px rgba(15,23,42,.06);
}
.figure .label { color: var(--muted); font-size: 12px; text-transform: uppercase;
  letter-spacing: .06em; }
.figure .value { font-size: 26px; font-weight: 700; margin-top: 2px;
  font-variant-numeric: tabular-nums; }
.figure .note { color: var(--muted); font-size: 12px; }
.figure.alert .value { color: var(--alert); }
section.card {
  background: var(--card); border-radius: 12px; margin: 22px 0; padding: 22px 24px;
  box-shadow: 0 1px 2px rgba(15,23,42,.06);
}
h2 { margin: 0 0 4px; font-size: 19px; }
h3 { margin: 18px 0 8px; font-size: 14px; color: var(--muted); text-transform: uppercase;
  letter-spacing: .05em; }
p.lead { margin: 0 0 16px; color: var(--muted); }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th { text-align: left; font-size: 11px; text-transform: uppercase; letter-spacing: .06em;
  color: var(--muted); border-bottom: 2px solid var(--line); padding: 8px 10px; }
td { border-bottom: 1px solid var(--line); padding: 10px; vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; }
table.suspects tbody tr:hover { background: #f8fafc; }
.rank { display: inline-block; min-width: 28px; padding: 2px 8px; border-radius: 999px;
  background: var(--alert-soft); color: var(--alert); font-weight: 700; text-align: center; }
.code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-weight: 600; }
.sub { color: var(--muted); font-size: 12px; }
.score { display: flex; align-items: center; gap: 8px; justify-content: flex-end; }
.bar { width: 70px; height: 6px; border-radius: 3px; background: #f1f5f9; overflow: hidden; }
.bar > span { display: block; height: 100%; background: var(--alert); }
ul.reasons { margin: 0; padding: 0; list-style: none; }
ul.reasons li { margin: 0 0 4px; padding-left: 14px; position: relative; }
ul.reasons li::before { content: ""; position: absolute; left: 0; top: 8px; width: 6px;
  height: 6px; border-radius: 50%; background: var(--alert); }
.grid3 { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 18px; }
.mini td, .mini th { padding: 6px 8px; }
.rate { display: flex; align-items: center; gap: 8px; justify-content: flex-end; }
.rate .bar > span { background: var(--accent); }
.up { color: var(--alert); } .down { color: var(--ok); } .flat { color: var(--muted); }
.empty { padding: 18px; border-radius: 10px; background: #f8fafc; color: var(--muted);
  border: 1px dashed #cbd5e1; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 6px 18px; margin: 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; }
.pill { display: inline-block; padding: 1px 10px; border-radius: 999px; font-size: 12px;
  font-weight: 600; }
.pill.ok { background: #dcfce7; color: var(--ok); }
.pill.warn { background: var(--alert-soft); color: var(--alert); }
.two { display: grid; grid-template-columns: minmax(300px, 1fr) minmax(300px, 1fr); gap: 24px; }
footer { color: var(--muted); font-size: 12px; padding: 8px 0 40px; }
ul.notes { margin: 12px 0 0; padding-left: 18px; color: var(--muted); font-size: 12px; }
tr.total td { border-top: 2px solid var(--line); }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _num(value: Any, fmt: str = ",.1f") -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    return "—" if math.isnan(number) else format(number, fmt)


class _Charts:
    """Renders figures in page order; plotly.js goes with the first one only: inline, or as
    a `<script src>` to the shared copy when `plotly_src` is given."""

    def __init__(self, plotly_src: str | None = None) -> None:
        self.count = 0
        self.plotly_src = plotly_src

    def __call__(self, fig: go.Figure) -> str:
        self.count += 1
        return str(
            fig.to_html(
                full_html=False,
                include_plotlyjs=(self.plotly_src or True) if self.count == 1 else False,
                include_mathjax=False,
                config=PLOTLY_CONFIG,
                default_width="100%",
            )
        )


def render_report(
    data: ReportData,
    generated_at: dt.datetime | None = None,
    *,
    plotly_src: str | None = None,
    engineers: bool = False,
) -> str:
    """The whole page for one work date (see the module docstring for the two options)."""
    generated = (generated_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M %Z").strip()
    chart = _Charts(plotly_src)
    body = [
        _header(data, generated),
        '<main class="wrap">',
        _figures(key_figures(data)),
        _suspects_section(data),
        _trend_section(data, chart),
        _scores_section(data, chart),
        _signals_section(data, chart),
        _model_section(data.models, chart) if engineers else _model_line(data.models),
        _cost_section(data.cost) if engineers else "",
        _footer(data),
        "</main>",
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Investigators' report · {data.day.isoformat()}</title>"
        f"<style>{CSS}</style></head><body>" + "\n".join(body) + "</body></html>\n"
    )


def _header(data: ReportData, generated: str) -> str:
    return (
        '<header class="banner"><div class="wrap">'
        '<div class="eyebrow">tsfraud · timesheet fraud detection</div>'
        "<h1>Investigators' report</h1>"
        f'<div class="day">Work date {_e(data.day.strftime("%A %d %B %Y"))}</div>'
        f'<div class="generated">Generated {_e(generated)} · suspect list, trends over the '
        f"{data.trend_days // 7} weeks to this day, score distribution and rule signals"
        "</div></div></header>"
    )


def _figures(figures: Iterable[KeyFigure]) -> str:
    cards = []
    for f in figures:
        alert = " alert" if f.label == "Suspects" and f.value not in ("0", "—") else ""
        cards.append(
            f'<div class="figure{alert}"><div class="label">{_e(f.label)}</div>'
            f'<div class="value">{_e(f.value)}</div><div class="note">{_e(f.note)}</div></div>'
        )
    return f'<div class="figures">{"".join(cards)}</div>'


def _suspects_section(data: ReportData) -> str:
    suspects = data.suspects
    head = "<h2>Suspect list</h2>"
    if suspects.empty:
        message = (
            "No employee-day was scored for this date: no timesheet entries, or scoring has "
            "not run yet."
            if data.scores.empty
            else "The model flagged no employee-day on this date."
        )
        return f'<section class="card">{head}<div class="empty">{_e(message)}</div></section>'
    top = float(suspects["fraud_score"].max()) or 1.0
    rows = []
    for _, r in suspects.iterrows():
        reasons = [p for p in str(r["reasons"] or "").split(REASON_SEPARATOR) if p.strip()]
        score = float(r["fraud_score"])
        rows.append(
            "<tr>"
            f'<td><span class="rank">{int(r["rank"])}</span></td>'
            f'<td><span class="code">{_e(r["employee_code"])}</span></td>'
            f'<td>{_e(r["office"])}<div class="sub">{_e(r["country_code"])}</div></td>'
            f"<td>{_e(r['practice'])}</td>"
            f"<td>{_e(r['grade'])}</td>"
            f'<td class="num">{_num(r["total_hours"])} h</td>'
            f'<td class="num"><div class="score"><div class="bar"><span style="width:'
            f'{max(4.0, 100 * score / top):.0f}%"></span></div>{score:.3f}</div></td>'
            f'<td><ul class="reasons">{"".join(f"<li>{_e(p)}</li>" for p in reasons)}</ul></td>'
            "</tr>"
        )
    lead = (
        f"The {len(suspects)} employee-day{'s' if len(suspects) != 1 else ''} the model ranked "
        "highest, with the red flags that drove each score. Rank 1 is the most suspect."
    )
    return (
        f'<section class="card">{head}<p class="lead">{_e(lead)}</p>'
        '<table class="suspects"><thead><tr><th>Rank</th><th>Employee</th><th>Office</th>'
        '<th>Practice</th><th>Grade</th><th class="num">Hours</th><th class="num">Score</th>'
        f"<th>Reasons</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _rate_table(summary: pd.DataFrame, dimension: str, label: str) -> str:
    # Every group, not a top few: a short table read as "the other offices had no flags".
    rates = flag_rates(summary, dimension)
    if rates.empty:
        return ""
    shares = rates["flag_rate"].fillna(0.0).astype(float)
    top = float(shares.max()) or 1.0
    rows = "".join(
        f"<tr><td>{_e(r[dimension])}</td><td class='num'>{int(r['flagged_days'])}</td>"
        f"<td class='num'>{int(r['employee_days']):,}</td>"
        f"<td class='num'><div class='rate'><div class='bar'><span style='width:"
        f"{100 * share / top:.0f}%'></span></div>{_num(100 * r['flag_rate'], '.2f')}%</div>"
        "</td></tr>"
        for (_, r), share in zip(rates.iterrows(), shares, strict=True)
    )
    return (
        f"<div><h3>By {_e(label.lower())}</h3><table class='mini'><thead><tr>"
        f"<th>{_e(label)}</th><th class='num'>Flagged</th><th class='num'>Days</th>"
        f"<th class='num'>Flag rate</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _change(value: Any, fmt: str) -> str:
    number = float(value or 0)
    if number > 0:
        return f"<span class='up'>▲ {format(number, fmt)}</span>"
    if number < 0:
        return f"<span class='down'>▼ {format(-number, fmt)}</span>"
    return "<span class='flat'>=</span>"


def _weekly_table(weekly: pd.DataFrame) -> str:
    if weekly.empty:
        return ""
    week = weekly["week_start"].iloc[0]
    rows = "".join(
        f"<tr><td>{_e(r['practice'])}</td>"
        f"<td class='num'>{int(r['flagged_days'])}</td>"
        f"<td class='num'>{_change(r['flagged_days_change'], 'g')}</td>"
        f"<td class='num'>{_num(r['suspect_hours'])} h</td>"
        f"<td class='num'>{_change(r['suspect_hours_change'], ',.1f')}</td></tr>"
        for _, r in weekly.sort_values("flagged_days", ascending=False).iterrows()
    )
    return (
        f"<h3>Week of {_e(pd.Timestamp(week).strftime('%a %d %b'))} by practice, against the "
        "week before</h3><table class='mini'><thead><tr><th>Practice</th>"
        "<th class='num'>Flagged days</th><th class='num'>Change</th>"
        "<th class='num'>Suspect hours</th><th class='num'>Change</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _trend_section(data: ReportData, chart: _Charts) -> str:
    head = f"<h2>Trends over the last {data.trend_days // 7} weeks</h2>"
    if data.daily_summary.empty:
        return (
            f'<section class="card">{head}<div class="empty">No daily summaries in the '
            "window yet.</div></section>"
        )
    lead = (
        "Flagged employee-days and the hours booked on them, per day (this day shaded). The "
        "alert budget keeps the daily total roughly level, so watch how it is split."
    )
    fig = charts.trend_figure(data.daily_summary, data.trend_start, data.day)
    tables = "".join(
        _rate_table(data.daily_summary, dim, label) for dim, label in DIMENSIONS.items()
    )
    return (
        f'<section class="card">{head}<p class="lead">{_e(lead)}</p>{chart(fig)}'
        f'<h2 style="margin-top:18px">Where the flags fall</h2><p class="lead">Flagged share of '
        "employee-days over the same weeks, highest first.</p>"
        f'<div class="grid3">{tables}</div>{_weekly_table(data.weekly_trend)}</section>'
    )


def _scores_section(data: ReportData, chart: _Charts) -> str:
    head = "<h2>Score distribution</h2>"
    if data.scores.empty:
        return ""
    threshold = suspect_threshold(data.scores)
    lead = (
        f"All {len(data.scores):,} employee-days scored on this date. The suspect list is the "
        "top of the day (the alert budget); the dashed line is the lowest score that made it."
    )
    floored = bool((data.scores["fraud_score"] <= LOG_SCORE_FLOOR).any())
    fig = charts.score_figure(score_histogram(data.scores), threshold, floored=floored)
    return f'<section class="card">{head}<p class="lead">{_e(lead)}</p>{chart(fig)}</section>'


def _signals_section(data: ReportData, chart: _Charts) -> str:
    table = signal_table(data.signals)
    if table.empty:
        return ""
    lead = (
        "The hand-written rules, for comparison: how often each fired on this date and how "
        "many of those days the model put on the list. A rule that fires often with few "
        "suspects is one the model has learned to discount."
    )
    fig = charts.signal_figure(table)
    return (
        f'<section class="card"><h2>Signal summary</h2><p class="lead">{_e(lead)}</p>'
        f"{chart(fig)}</section>"
    )


def _metrics_rows(metrics: Mapping[str, Any]) -> str:
    if not metrics:
        return "<dt>none recorded</dt><dd></dd>"
    rows = []
    for key, value in metrics.items():
        shown = _num(value, ".3f") if isinstance(value, int | float) else _e(value)
        rows.append(f"<dt>{_e(key.replace('_', ' '))}</dt><dd>{shown}</dd>")
    return "".join(rows)


def _damped_line(name: str, d: Mapping[str, Any]) -> str:
    """One red flag the model weighs less in this firm, and why (prior.FirmCalibration)."""
    if name == "rule_flag_count":
        return (
            f"each of the firm's own rules (long day, hours over activity, back-dated batch, "
            f"approval conflict): {d['points']:g} of {d['points_as_written']:g} points (they "
            f"fire {d['fires_per_day']:.2f} times a day here, {d['reference_per_honest_day']:.2f} "
            "on an honest day in the reference firm)"
        )
    return (
        f"{name.replace('_', ' ')}: {d['points']:g} of {d['points_as_written']:g} points (fires "
        f"on {d['fires_on_share_of_days']:.1%} of this firm's days, "
        f"{d['reference_honest_share']:.1%} of honest days in the reference firm)"
    )


def _model_block(model: ModelInfo, chart: _Charts) -> str:
    meta = model.metadata
    if model.is_current:
        status = "<span class='pill ok'>promoted · current</span>"
    elif model.current is not None:
        status = (
            "<span class='pill warn'>superseded</span> "
            f"<span class='sub'>current is {_e(model.current.get('version'))}</span>"
        )
    else:
        status = "<span class='pill warn'>no promoted model recorded</span>"
    if not meta:
        return (
            f"<h3>{_e(model.version)}</h3><p>{status}</p><div class='empty'>No metadata.json "
            "for this version in the lake.</div>"
        )
    window = meta.get("training_window", {})
    labels = meta.get("labels", {})
    facts = {
        "Version": f"<span class='code'>{_e(model.version)}</span> {status}",
        "Trained at": _e(meta.get("trained_at", "—")),
        "Kind": _e(meta.get("score_kind") or meta.get("mode", "—")),
        "Training window": _e(f"{window.get('start', '?')} → {window.get('end', '?')}"),
        "Labels": _e(
            f"{labels.get('confirmed', '?')} confirmed, {labels.get('cleared', '?')} cleared"
        ),
    }
    if model.is_current and model.current:
        facts["Promoted"] = _e(
            f"{model.current.get('promoted_at', '?')}: {model.current.get('reason', '')}"
        )
    if meta.get("fallback_reason"):
        facts["Fallback"] = _e(meta["fallback_reason"])
    damped = (meta.get("firm_calibration") or {}).get("damped") or {}
    if damped:
        facts["Weighed less here"] = "<br>".join(_e(_damped_line(n, d)) for n, d in damped.items())
    fact_rows = "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in facts.items())
    importance = meta.get("signal_importance") or {}
    importance_html = (
        f"<div><h3>What the model relies on</h3>{chart(charts.importance_figure(importance))}</div>"
        if any(float(v) > 0 for v in importance.values())
        else "<div></div>"
    )
    return (
        f"<div class='two'><div><dl class='kv'>{fact_rows}</dl>"
        f"<h3>Metrics</h3><dl class='kv'>{_metrics_rows(meta.get('metrics', {}))}</dl></div>"
        f"{importance_html}</div>"
    )


def _model_section(models: list[ModelInfo], chart: _Charts) -> str:
    head = "<h2>Model</h2>"
    if not models:
        return ""
    lead = (
        "The model version that scored this date, as recorded in the lake "
        "(models/fraud_model/&lt;version&gt;/metadata.json)."
    )
    if len(models) > 1:
        lead += " More than one version scored this date; most rows first."
    blocks = "".join(_model_block(m, chart) for m in models)
    return f'<section class="card">{head}<p class="lead">{lead}</p>{blocks}</section>'


def _model_line(models: list[ModelInfo]) -> str:
    """Which model scored the day, in one line: enough to tell a list from a superseded one."""
    if not models:
        return ""
    parts = []
    for m in models:
        trained = str(m.metadata.get("trained_at", ""))[:10] if m.metadata else ""
        text = f"model {_e(m.version)}" + (f", trained {_e(trained)}" if trained else "")
        if not m.is_current and m.current is not None:
            text += f" (superseded: current is {_e(m.current.get('version'))})"
        parts.append(text)
    return (
        '<p class="lead">Scored by ' + "; ".join(parts) + ". The model's figures are on the "
        "fraud_model asset in Dagster.</p>"
    )


def _cost_section(cost: DayRunCost | None) -> str:
    if cost is None:
        return ""
    head = "<h2>Cost of this day's run</h2>"
    scanned = format_bytes(cost.total_bytes)
    lead = (
        f"Estimated cost of the runs that built this work date: {format_usd(cost.total_usd)}"
        + (f", {scanned} scanned" if cost.total_bytes is not None else "")
        + ". Each row is what an asset recorded on its latest materialization of this date."
    )
    rows = []
    for r in cost.rows:
        days = f"{r.run_days} day{'s' if r.run_days != 1 else ''}"
        rows.append(
            f"<tr><td><span class='code'>{_e(r.asset)}</span></td><td>{_e(r.engine)}</td>"
            f"<td class='num'>{'—' if r.queries is None else f'{r.queries:,}'}</td>"
            f"<td class='num'>{_e(format_bytes(r.bytes_scanned))}</td>"
            f"<td class='num'>{_e(format_usd(r.cost_usd))}</td>"
            f"<td class='num'>{_e(days)}</td></tr>"
        )
    queries = "—" if cost.total_queries is None else f"{cost.total_queries:,}"
    rows.append(
        "<tr class='total'><td><strong>Total</strong></td><td></td>"
        f"<td class='num'>{queries}</td><td class='num'>{_e(scanned)}</td>"
        f"<td class='num'><strong>{_e(format_usd(cost.total_usd))}</strong></td><td></td></tr>"
    )
    notes = "".join(f"<li>{_e(n)}</li>" for n in cost.notes())
    return (
        f'<section class="card cost">{head}<p class="lead">{_e(lead)}</p>'
        "<table class='mini'><thead><tr><th>Asset</th><th>Engine</th>"
        "<th class='num'>Queries</th><th class='num'>Bytes scanned</th>"
        "<th class='num'>Est. USD</th><th class='num'>Run covered</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table><ul class='notes'>{notes}</ul></section>"
    )


def _footer(data: ReportData) -> str:
    return (
        "<footer>Sources: warehouse models suspect_timesheets, daily_suspect_summary, "
        "weekly_suspect_trend, daily_signal_summary; lake scores/timesheet_scores/work_date="
        f"{_e(data.day.isoformat())} and models/fraud_model. Scores rank employee-days for "
        "review; they are not findings.</footer>"
    )
