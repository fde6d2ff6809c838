"""`tsfraud sweep`: does the lake hold what the source holds, for the last N work dates?

The same comparison the nightly `completeness_sweep` schedule makes (defs/automation/sweep.py),
printed as a table for a person at a terminal: one line per table and day that differs, with
why, and the `tsfraud run` commands that re-ingest exactly those days. Exit status 1 when
something differs, so a cron job or CI can act on it.
"""

from __future__ import annotations

import argparse
import datetime as dt

import sqlalchemy as sa

from tsfraud_assets.defs.automation.sensors import contiguous_ranges
from tsfraud_assets.defs.automation.sweep import DayComparison, drifted_days, sweep, sweep_days
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase
from tsfraud_assets.settings import load_settings


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {text!r}") from exc


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `sweep` to the `tsfraud` command."""
    parser = subparsers.add_parser(
        "sweep",
        help="compare source and lake fingerprints of the last N work dates",
        description="Row count, sum of hours (active minutes), latest change stamp and a "
        "checksum of the row keys, per work date, for timesheet_entries and "
        "workstation_activity: source (one read-only query per table) against lake (raw + "
        "quarantine). Exit status 1 when a day differs.",
    )
    parser.add_argument(
        "--days", type=_positive, default=None, help="work dates to check (TSFRAUD_SWEEP_DAYS)"
    )
    parser.add_argument(
        "--end", type=_date, default=None, help="last work date (default: yesterday, UTC)"
    )
    parser.set_defaults(func=cmd_sweep)


def render(comparisons: list[DayComparison], days: list[dt.date]) -> list[str]:
    """The report's lines: a table of the differing (table, day)s, then a summary."""
    differing = [c for c in comparisons if c.differs]
    lines: list[str] = []
    if differing:
        header = f"{'work date':<10}  {'table':<20}  {'source rows':>11}  {'lake rows':>9}  why"
        lines += [header, "-" * len(header)]
        for c in sorted(differing, key=lambda c: (c.day, c.table)):
            lines.append(
                f"{c.day.isoformat():<10}  {c.table:<20}  {c.source.rows:>11,}  "
                f"{c.lake.rows:>9,}  {'; '.join(c.reasons)}"
            )
        lines.append("")
    bad = drifted_days(comparisons)
    tables = len({c.table for c in comparisons})
    if not bad:
        lines.append(
            f"clean: {len(days)} work dates x {tables} tables, the lake matches the source"
        )
        return lines
    lines.append(
        f"{len(differing)} of {len(comparisons)} table-days differ, on {len(bad)} work "
        f"date(s); re-ingest them with:"
    )
    for start, end in contiguous_ranges(bad):
        lines.append(f"  tsfraud run --start {start} --end {end}")
    return lines


def cmd_sweep(args: argparse.Namespace) -> int:
    settings = load_settings()
    end = args.end or dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    days = sweep_days(
        end, args.days or settings.sweep_days, dt.date.fromisoformat(settings.partition_start)
    )
    if not days:
        print(f"nothing to check: {end} is before the first partition {settings.partition_start}")
        return 0
    source = SourceDatabase(url=settings.source_url)
    lake = Lake(root=settings.lake_root)
    shown = sa.engine.make_url(settings.source_url).render_as_string(hide_password=True)
    print(
        f"sweep {days[0]} to {days[-1]} ({len(days)} work dates): source {shown}, lake {lake.uri()}"
    )
    comparisons = sweep(source, lake, days)
    for line in render(comparisons, days):
        print(line)
    return 1 if drifted_days(comparisons) else 0
