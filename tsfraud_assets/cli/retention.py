"""`tsfraud retention`: list, or with --apply delete, the lake partitions past retention.

A dry run by default, because deleting evidence is the one irreversible thing tsfraud does;
the cut-offs are the settings' TSFRAUD_RAW_RETENTION_DAYS / TSFRAUD_HISTORY_RETENTION_DAYS.
"""

from __future__ import annotations

import argparse
import datetime as dt

from tsfraud_assets.defs.history.retention import apply_retention, expired_partitions
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.settings import load_settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `retention` to the `tsfraud` command."""
    parser = subparsers.add_parser(
        "retention",
        help="list (or --apply: delete) raw and history partitions past retention",
        description="Work-date partitions of the raw extracts, their quarantine and the entry "
        "history older than TSFRAUD_RAW_RETENTION_DAYS / TSFRAUD_HISTORY_RETENTION_DAYS "
        "(default 2557 days, 7 years). Lists them; deletes them only with --apply.",
    )
    parser.add_argument("--apply", action="store_true", help="delete what is listed")
    parser.set_defaults(func=cmd_retention)


def cmd_retention(args: argparse.Namespace) -> int:
    settings = load_settings()
    lake = Lake(root=settings.lake_root)
    today = dt.datetime.now(dt.UTC).date()
    expired = expired_partitions(
        lake, today, settings.raw_retention_days, settings.history_retention_days
    )
    if not expired:
        print(
            f"nothing past retention (raw {settings.raw_retention_days} days, "
            f"history {settings.history_retention_days} days) in {lake.uri()}"
        )
        return 0
    for item in expired:
        print(f"{item.dataset}: {len(item.days)} work dates, {item.days[0]} to {item.days[-1]}")
    if not args.apply:
        print("dry run: nothing deleted (add --apply to delete these partitions)")
        return 0
    print(f"deleted {apply_retention(lake, expired)} partitions")
    return 0
