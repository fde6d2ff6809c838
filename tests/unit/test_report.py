"""The investigators' report: summaries and HTML from hand-built frames, and the asset end to
end against a hand-built DuckDB warehouse and a temporary lake (no Spark, no dbt)."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tsfraud_assets.defs.model.model_store import CURRENT, MODEL_DIR
from tsfraud_assets.defs.partitions import daily_partitions
from tsfraud_assets.defs.reports.assets import (
    LATEST,
    REPORT_DIR,
    build_investigator_report,
    plotly_file,
    report_path,
)
from tsfraud_assets.defs.reports.cost import AssetCost, DayRunCost
from tsfraud_assets.defs.reports.data import (
    ModelInfo,
    ReportData,
    flag_rates,
    group_trend,
    key_figures,
    last_complete_week_start,
    score_histogram,
    signal_table,
    suspect_threshold,
)
from tsfraud_assets.defs.reports.html import render_report
from tsfraud_assets.defs.suspects.scoring import SCORES_DATASET
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.warehouse import DuckDBWarehouse
from tsfraud_assets.settings import DEFAULT_PARTITION_START

investigator_report = build_investigator_report(daily_partitions(DEFAULT_PARTITION_START))

DAY = dt.date(2026, 3, 11)  # a Wednesday
VERSION = "20260301T000000-abcdef12"
OFFICES = [("London", "GB"), ("Paris", "FR"), ("Chicago", "US")]
PRACTICES = ["finance", "technology"]


# --- hand-built inputs -------------------------------------------------------------------------


def suspects_frame(day: dt.date, n: int = 3) -> pd.DataFrame:
    rows = []
    for i in range(n):
        office, country = OFFICES[i % len(OFFICES)]
        rows.append(
            {
                "rank": i + 1,
                "employee_id": 100 + i,
                "employee_code": f"E{day:%m%d}{i:02d}",
                "office": office,
                "practice": PRACTICES[i % 2],
                "grade": "manager",
                "country_code": country,
                "total_hours": 10.0 + i,
                "fraud_score": 0.9 - 0.1 * i,
                "reasons": f"claimed {10 + i}.0 h against 8.0 h contracted per day; "
                "1 duplicate line",
                "model_version": VERSION,
            }
        )
    return pd.DataFrame(rows)


def scores_frame(suspects: pd.DataFrame, others: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    low = pd.DataFrame(
        {
            "employee_id": np.arange(1000, 1000 + others),
            "fraud_score": 10 ** rng.uniform(-5, -1.5, others),
            "is_suspect": False,
        }
    )
    high = pd.DataFrame(
        {
            "employee_id": suspects["employee_id"],
            "fraud_score": suspects["fraud_score"],
            "is_suspect": True,
        }
    )
    out = pd.concat([high, low], ignore_index=True)
    out["rank"] = out["fraud_score"].rank(ascending=False, method="first").astype("int32")
    out["reasons"] = np.where(out["is_suspect"], "claimed 10.0 h", "")
    out["model_version"] = VERSION
    return out.sort_values("rank").reset_index(drop=True)


def summary_frame(start: dt.date, end: dt.date) -> pd.DataFrame:
    rows = []
    day = start
    while day <= end:
        for (office, country), practice in zip(OFFICES, [*PRACTICES, PRACTICES[0]], strict=True):
            flagged = (day.toordinal() + len(office)) % 3
            rows.append(
                {
                    "work_date": day,
                    "office": office,
                    "practice": practice,
                    "country_code": country,
                    "employee_days": 20,
                    "flagged_days": flagged,
                    "suspect_hours": 9.5 * flagged,
                }
            )
        day += dt.timedelta(days=1)
    return pd.DataFrame(rows)


def weekly_frame(week_start: dt.date) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "week_start": [week_start, week_start],
            "practice": ["finance", "technology"],
            "employee_days": [100, 120],
            "flagged_days": [6, 2],
            "suspect_hours": [60.0, 20.0],
            "previous_flagged_days": [4, 3],
            "previous_suspect_hours": [40.0, 30.0],
            "flagged_days_change": [2, -1],
            "suspect_hours_change": [20.0, -10.0],
        }
    )


def signals_frame(day: dt.date) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "employee_days": [43],
            "suspect_days": [3],
            "long_day_days": [12],
            "long_day_suspect_days": [3],
            "duplicate_lines_days": [2],
            "duplicate_lines_suspect_days": [1],
            "leave_booked_days": [0],
            "leave_booked_suspect_days": [0],
            "work_date": [day],
        }
    )


# The columns of the scores contract (docs/data-contracts.md) the report can rely on; the
# scoring asset may store more, the report reads only what it needs.
SCORES_CONTRACT = pa.schema(
    [
        pa.field("employee_id", pa.int64()),
        pa.field("fraud_score", pa.float64()),
        pa.field("rank", pa.int32()),
        pa.field("is_suspect", pa.bool_()),
        pa.field("reasons", pa.string()),
        pa.field("model_version", pa.string()),
    ]
)

MODEL_METADATA: dict[str, Any] = {
    "version": VERSION,
    "trained_at": "2026-03-01T00:00:00+00:00",
    "mode": "supervised",
    "score_kind": "probability of a confirmed case",
    "training_window": {"start": "2026-01-01", "end": "2026-02-28"},
    "labels": {"confirmed": 40, "cleared": 55},
    "metrics": {"in_sample_pr_auc_labelled": 0.91234, "note": "in-sample, optimistic"},
    "signal_importance": {"over_contracted": 0.3, "duplicates": 0.1, "weekend": 0.0},
}
CURRENT_POINTER = {"version": VERSION, "promoted_at": "2026-03-01T00:05:00+00:00", "reason": "ok"}


def report_data(day: dt.date = DAY, **overrides: Any) -> ReportData:
    suspects = suspects_frame(day)
    fields: dict[str, Any] = {
        "day": day,
        "suspects": suspects,
        "scores": scores_frame(suspects),
        "daily_summary": summary_frame(day - dt.timedelta(days=55), day),
        "weekly_trend": weekly_frame(last_complete_week_start(day)),
        "signals": signals_frame(day),
        "models": [ModelInfo(VERSION, MODEL_METADATA, CURRENT_POINTER)],
    }
    fields.update(overrides)
    return ReportData(**fields)


# --- summaries -----------------------------------------------------------------------------------


def test_last_complete_week_is_the_week_before_unless_the_day_is_sunday() -> None:
    assert last_complete_week_start(dt.date(2026, 3, 11)) == dt.date(2026, 3, 2)  # Wednesday
    assert last_complete_week_start(dt.date(2026, 3, 9)) == dt.date(2026, 3, 2)  # Monday
    assert last_complete_week_start(dt.date(2026, 3, 15)) == dt.date(2026, 3, 9)  # Sunday


def test_score_histogram_counts_every_employee_day_and_separates_the_suspects() -> None:
    data = report_data()
    hist = score_histogram(data.scores)
    assert int(hist["other"].sum()) + int(hist["flagged"].sum()) == len(data.scores)
    assert int(hist["flagged"].sum()) == len(data.suspects)
    # bins are contiguous and every suspect falls at or above the day's threshold
    assert np.allclose(hist["log_lo"].iloc[1:].to_numpy(), hist["log_hi"].iloc[:-1].to_numpy())
    threshold = suspect_threshold(data.scores)
    assert threshold is not None and threshold == pytest.approx(0.7)
    flagged_bins = hist[hist["flagged"] > 0]
    assert (flagged_bins["log_hi"] > np.log10(threshold)).all()
    assert score_histogram(data.scores.iloc[0:0]).empty


def test_group_trend_fills_every_day_and_group_of_the_window() -> None:
    start, end = DAY - dt.timedelta(days=6), DAY
    summary = summary_frame(start, end)
    summary = summary[~((summary["office"] == "Paris") & (summary["work_date"] == DAY))]
    trend = group_trend(summary, "office", start, end)
    assert len(trend) == 7 * len(OFFICES)
    paris_today = trend[(trend["office"] == "Paris") & (trend["work_date"] == DAY)]
    assert paris_today[["flagged_days", "suspect_hours"]].iloc[0].tolist() == [0, 0.0]
    by_country = group_trend(summary, "country_code", start, end)
    assert (
        by_country.groupby("work_date")["flagged_days"]
        .sum()
        .equals(trend.groupby("work_date")["flagged_days"].sum())
    )


def test_flag_rates_rank_groups_by_share_of_flagged_days() -> None:
    summary = pd.DataFrame(
        {
            "office": ["A", "A", "B", "C"],
            "employee_days": [10, 10, 100, 5],
            "flagged_days": [1, 1, 5, 0],
            "suspect_hours": [8.0, 8.0, 40.0, 0.0],
        }
    )
    rates = flag_rates(summary, "office")
    assert rates["office"].tolist() == ["A", "B", "C"]
    assert rates["flag_rate"].tolist() == pytest.approx([0.1, 0.05, 0.0])


def test_signal_table_reads_every_rule_pair_of_the_dbt_summary() -> None:
    table = signal_table(signals_frame(DAY))
    assert table["rule"].tolist() == ["long_day", "duplicate_lines", "leave_booked"]
    assert table.loc[0, "suspect_share"] == pytest.approx(0.25)
    assert math.isnan(float(table["suspect_share"].iloc[2]))
    assert str(table["label"].iloc[0]).startswith("Long day")


def test_key_figures_summarise_the_day_against_the_weeks_before() -> None:
    figures = {f.label: f for f in key_figures(report_data())}
    assert figures["Suspects"].value == "3"
    assert figures["Employee-days scored"].value == "43"
    assert figures["Suspect hours"].value == "33.0 h"  # 10 + 11 + 12
    assert figures["Suspect threshold"].value == "0.700"
    assert "55" in figures["Suspects per day"].note  # the 55 earlier days of the window
    assert figures["Model trained"].value == "2026-03-01"
    assert "current" in figures["Model trained"].note


# --- HTML ----------------------------------------------------------------------------------------


def _script_sources(page: str) -> list[str]:
    return re.findall(r"<script[^>]*\bsrc\s*=\s*[\"']?([^\"' >]+)", page, flags=re.IGNORECASE)


def test_report_lists_the_suspects_in_rank_order_with_each_reason() -> None:
    data = report_data()
    page = render_report(data, generated_at=dt.datetime(2026, 3, 12, 6, 0, tzinfo=dt.UTC))
    codes = data.suspects["employee_code"].tolist()
    positions = [page.index(c) for c in codes]
    assert positions == sorted(positions)
    table = page[page.index('<table class="suspects">') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == len(codes) + 1  # header + one row per suspect
    assert table.count("<li>1 duplicate line</li>") == len(codes)
    assert "<li>claimed 12.0 h against 8.0 h contracted per day</li>" in table
    for column in ("Rank", "Employee", "Office", "Practice", "Grade", "Hours", "Score", "Reasons"):
        assert f">{column}</th>" in table
    assert "Wednesday 11 March 2026" in page
    assert "Generated 2026-03-12 06:00 UTC" in page


def test_report_is_self_contained_with_plotly_inlined_once() -> None:
    page = render_report(report_data(), engineers=True)
    assert _script_sources(page) == []  # no CDN, no file next to the page
    assert not re.search(r"<link[^>]+href\s*=\s*[\"']?https?:", page)
    assert len(page) > 1_000_000  # plotly.js itself is in the file
    bundles = page.count("window.PlotlyConfig")
    assert bundles == 1
    # one chart per section: trends, scores, signals, model importance
    assert page.count("Plotly.newPlot(") == 4
    assert "suspect threshold 0.7" in page
    assert "promoted · current" in page
    assert "Week of Mon 02 Mar by practice" in page
    assert "0.912" in page  # model metric from metadata.json


def test_the_investigators_page_is_lean_and_loads_the_shared_plotly() -> None:
    """What the asset writes: plotly.js by reference to the one copy beside the pages, and no
    engineers' sections (the model's metrics and the run's cost live in Dagster metadata)."""
    page = render_report(report_data(), plotly_src="../plotly-x.min.js")
    assert _script_sources(page) == ["../plotly-x.min.js"]
    from plotly.offline import get_plotlyjs

    assert get_plotlyjs()[-2000:] not in page  # the 3.5 MB bundle is not in the file
    assert len(page.encode()) < 300_000
    assert page.count("Plotly.newPlot(") == 3  # trends, scores, signals
    assert "<h2>Model</h2>" not in page and "Cost of this day" not in page
    assert "0.912" not in page  # a model metric: engineers' material
    assert f"Scored by model {VERSION}" in page


def test_every_office_is_in_the_flag_rate_table() -> None:
    summary = summary_frame(DAY - dt.timedelta(days=55), DAY)
    offices = set(summary["office"])
    many = pd.concat(
        [summary.assign(office=f"Office {i:02d}") for i in range(12)], ignore_index=True
    )
    page = render_report(report_data(daily_summary=many))
    table = page[page.index("<h3>By office</h3>") :]
    table = table[: table.index("</table>")]
    assert all(f"<td>Office {i:02d}</td>" in table for i in range(12)), offices


def test_report_escapes_text_from_the_data() -> None:
    suspects = suspects_frame(DAY)
    suspects.loc[0, "reasons"] = "<script>alert(1)</script>; booked & approved"
    suspects.loc[0, "employee_code"] = "E<b>1"
    page = render_report(report_data(suspects=suspects, scores=scores_frame(suspects)))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "E&lt;b&gt;1" in page
    assert "<li>booked &amp; approved</li>" in page


def test_a_day_without_scores_says_so_and_still_shows_the_trends() -> None:
    empty_scores = scores_frame(suspects_frame(DAY)).iloc[0:0]
    data = report_data(
        suspects=suspects_frame(DAY).iloc[0:0],
        scores=empty_scores,
        signals=signals_frame(DAY).iloc[0:0],
        models=[],
    )
    page = render_report(data)
    assert "No employee-day was scored for this date" in page
    assert page.count("Plotly.newPlot(") == 1  # the trend chart only
    assert "window.PlotlyConfig" in page  # so the one chart still has plotly.js
    assert _script_sources(page) == []


def test_a_superseded_model_is_marked_as_such() -> None:
    newer = {**CURRENT_POINTER, "version": "20260310T000000-99999999"}
    data = report_data(models=[ModelInfo(VERSION, MODEL_METADATA, newer)])
    lean = render_report(data)
    assert "(superseded: current is 20260310T000000-99999999)" in lean
    page = render_report(data, engineers=True)
    assert "superseded" in page
    assert "current is 20260310T000000-99999999" in page
    missing = render_report(
        report_data(models=[ModelInfo(VERSION, {}, CURRENT_POINTER)]), engineers=True
    )
    assert "No metadata.json for this version" in missing


def test_report_shows_the_cost_of_the_days_run() -> None:
    mib = 1024**2
    cost = DayRunCost(
        day=DAY,
        rows=(
            AssetCost("timesheet_scores", "athena", 2, 120 * mib, 0.000572, 1),
            AssetCost("suspect_timesheets", "athena", 1, 300 * mib, 0.00143, 3),
            AssetCost("processed_timesheet_entries", "spark (EMR)", None, None, None, 1),
        ),
        billed=True,
    )
    assert "Cost of this day" not in render_report(report_data(cost=cost))  # engineers' only
    page = render_report(report_data(cost=cost), engineers=True)
    section = page[page.index("<h2>Cost of this day's run</h2>") :]
    section = section[: section.index("</section>")]
    rows = re.findall(r"<tr>(.*?)</tr>", section)
    assert len(rows) == 1 + 3  # header + one per asset; the total row has its own class
    assert "<span class='code'>suspect_timesheets</span>" in rows[2]
    assert all(cell in rows[2] for cell in ("300.0 MiB", "$0.00143", "3 days"))
    assert "not recorded" in rows[3] and "spark (EMR)" in rows[3]
    total = section[section.index("<tr class='total'>") :]
    assert "420.0 MiB" in total and "<strong>$0.002002</strong>" in total
    assert "No cost recorded for processed_timesheet_entries" in section
    assert "USD 5 per TB" in section
    assert "Cost of this day" not in render_report(report_data(), engineers=True)  # no cost


# --- the asset against a hand-built warehouse and lake ---------------------------------------


def _create(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> None:
    con.register("frame", frame)
    con.execute(f"create table {name} as select * from frame")
    con.unregister("frame")


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Any]:
    """Four days of report models in DuckDB, their scores and a promoted model in the lake."""
    days = [DAY + dt.timedelta(days=i) for i in range(-2, 2)]
    lake = Lake(root=str(tmp_path / "lake"))
    suspects = []
    for i, day in enumerate(days):
        day_suspects = suspects_frame(day, n=2 + i)
        scores = scores_frame(day_suspects, seed=i)
        table = pa.Table.from_pandas(
            scores[SCORES_CONTRACT.names], schema=SCORES_CONTRACT, preserve_index=False
        )
        lake.write_partition(SCORES_DATASET, day, SCORES_CONTRACT, table.to_batches())
        suspects.append(day_suspects.assign(work_date=day))
    lake.write_json(f"{MODEL_DIR}/{VERSION}/metadata.json", MODEL_METADATA)
    lake.write_json(CURRENT, CURRENT_POINTER)
    path = str(tmp_path / "warehouse.duckdb")
    weeks = [last_complete_week_start(d) for d in days]
    with duckdb.connect(path) as con:
        _create(con, "suspect_timesheets", pd.concat(suspects, ignore_index=True))
        _create(con, "daily_suspect_summary", summary_frame(days[0] - dt.timedelta(60), days[-1]))
        _create(
            con,
            "weekly_suspect_trend",
            pd.concat([weekly_frame(w) for w in sorted(set(weeks))], ignore_index=True),
        )
        _create(con, "daily_signal_summary", pd.concat([signals_frame(d) for d in days]))
    return {"lake": lake, "warehouse": DuckDBWarehouse(path=path), "days": days}


def _materialize(world: dict[str, Any], **kwargs: Any) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [investigator_report],
        resources={"lake": world["lake"], "warehouse": world["warehouse"]},
        instance=dg.DagsterInstance.ephemeral(),
        **kwargs,
    )


def test_asset_writes_the_days_report_and_the_latest_view(world: dict[str, Any]) -> None:
    lake: Lake = world["lake"]
    day = world["days"][2]
    result = _materialize(world, partition_key=day.isoformat())
    assert result.success
    page = lake.read_bytes(report_path(day)).decode()
    plotly = plotly_file()
    # The same page; latest.html sits one folder up, beside the shared plotly.js.
    assert lake.read_bytes(LATEST).decode() == page.replace(f"../{plotly}", plotly)
    assert _script_sources(page) == [f"../{plotly}"]
    assert lake.read_bytes(f"{REPORT_DIR}/{plotly}").startswith(b"/**")
    assert len(page.encode()) < 300_000
    # only this day's suspects: the warehouse query is filtered on the partition's work date
    for other in world["days"]:
        code = f"E{other:%m%d}00"
        assert (code in page) == (other == day)
    assert page.count('<span class="rank">') == 4  # day index 2 has 2 + 2 suspects
    (mat,) = result.asset_materializations_for_node("investigator_report")
    meta = mat.metadata
    assert mat.partition == day.isoformat()
    assert meta["suspects"].value == 4
    assert meta["employee_days"].value == 44
    assert meta["model_version"].value == VERSION
    assert f"E{day:%m%d}00" in str(meta["top_suspects"].value)
    assert meta["path"].value == lake.uri(report_path(day))
    assert meta["path_url"].value == "file://" + lake.uri(report_path(day))
    assert meta["latest"].value == lake.uri(LATEST)
    # Local: DuckDB bills nothing; the page says so rather than inventing a figure.
    assert meta["day_run_cost_usd"].value == 0.0
    assert "investigator_report | duckdb (local) | — | — | $0.00 | 1 d" in str(
        meta["day_run_cost"].value
    )
    assert "<h2>Cost of this day's run</h2>" not in page  # metadata, not the page


def test_an_older_day_does_not_replace_the_latest_view(world: dict[str, Any]) -> None:
    lake: Lake = world["lake"]
    newest, older = world["days"][3], world["days"][0]
    _materialize(world, partition_key=newest.isoformat())
    result = _materialize(world, partition_key=older.isoformat())
    assert lake.exists(report_path(older))
    latest = lake.read_bytes(LATEST).decode()
    assert f"E{newest:%m%d}00" in latest and f"E{older:%m%d}00" not in latest
    (mat,) = result.asset_materializations_for_node("investigator_report")
    assert "latest" not in mat.metadata


def test_a_range_renders_every_day_in_one_run(world: dict[str, Any]) -> None:
    lake: Lake = world["lake"]
    days = world["days"]
    result = _materialize(
        world,
        tags={
            "dagster/asset_partition_range_start": days[0].isoformat(),
            "dagster/asset_partition_range_end": days[-1].isoformat(),
        },
    )
    assert result.success
    mats = result.asset_materializations_for_node("investigator_report")
    assert sorted(str(m.partition) for m in mats) == [d.isoformat() for d in days]
    for i, day in enumerate(days):
        page = lake.read_bytes(report_path(day)).decode()
        assert page.count('<span class="rank">') == 2 + i
    assert f"E{days[-1]:%m%d}00" in lake.read_bytes(LATEST).decode()
    assert "per_day" in mats[0].metadata
    assert mats[0].metadata["path"].value == lake.uri(REPORT_DIR)


def test_a_day_nobody_worked_still_gets_a_page(world: dict[str, Any]) -> None:
    lake: Lake = world["lake"]
    sunday = DAY + dt.timedelta(days=4)
    result = _materialize(world, partition_key=sunday.isoformat())
    assert result.success
    page = lake.read_bytes(report_path(sunday)).decode()
    assert "No employee-day was scored for this date" in page
