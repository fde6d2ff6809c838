"""The investigators' daily report: warehouse and lake frames → summaries → one HTML page.

Kept apart from the Dagster asset so the page can be built and tested from hand-made frames;
the asset (`assets/report.py`) only loads, calls `render_report` and writes the file.
"""

from tsfraud_assets.defs.reports.data import (
    ReportData,
    ReportInputs,
    load_report_inputs,
    report_data_for,
    top_suspects_markdown,
)
from tsfraud_assets.defs.reports.html import render_report

__all__ = [
    "ReportData",
    "ReportInputs",
    "load_report_inputs",
    "render_report",
    "report_data_for",
    "top_suspects_markdown",
]
