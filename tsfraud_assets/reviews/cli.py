"""`tsfraud review` (the web app) and `tsfraud dispose` (a verdict from the terminal)."""

from __future__ import annotations

import argparse

from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.warehouse import Warehouse, WarehouseError
from tsfraud_assets.settings import load_settings


def _resources() -> tuple[Warehouse, Lake]:
    # The same warehouse the assets and `tsfraud query` read, and the deployment's lake.
    from tsfraud_assets.cli.query import warehouse_for

    settings = load_settings()
    return warehouse_for(settings), Lake(root=settings.lake_root)


def cmd_review(args: argparse.Namespace) -> int:
    from tsfraud_assets.reviews.app import serve

    warehouse, lake = _resources()
    serve(warehouse, lake, host=args.host, port=args.port)
    return 0


def cmd_dispose(args: argparse.Namespace) -> int:
    from tsfraud_assets.reviews.dispositions import VerdictError, record_verdict

    warehouse, lake = _resources()
    try:
        recorded = record_verdict(
            warehouse,
            lake,
            employee_code=args.employee_code,
            work_date=args.work_date,
            verdict=args.verdict,
            reason=args.reason,
            reviewer=args.by,
            note=args.note,
            channel="cli",
        )
    except (VerdictError, WarehouseError) as exc:
        print(f"not recorded: {exc}")
        return 2
    if recorded.created:
        row = recorded.row
        print(
            f"recorded {row['verdict']} ({row['reason']}) for {row['employee_code']} on "
            f"{row['work_date']} by {row['reviewer']}; list version: model {row['model_version']}, "
            f"scored {row['scored_at']:%Y-%m-%d %H:%M:%S} UTC"
        )
    else:
        print(f"already recorded, nothing written (the same verdict exists: {recorded.path})")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from tsfraud_assets.reviews.dispositions import CLEAR_REASONS, FRAUD_TYPES, INFO_REASONS

    review = subparsers.add_parser(
        "review",
        help="the investigators' review web app (the day's list, people, verdicts)",
        description="Serves the review pages from the deployment's warehouse; verdicts are "
        "appended to the lake (reviews/suspect_dispositions/). Bound to 127.0.0.1 unless told.",
    )
    review.add_argument("--host", default="127.0.0.1")
    review.add_argument("--port", type=int, default=8765)
    review.set_defaults(func=cmd_review)

    dispose = subparsers.add_parser(
        "dispose",
        help="record a verdict on a listed suspect: confirmed | cleared | needs_info",
        description="Appends one verdict keyed to the current list version of that day. "
        f"--reason for confirmed: {', '.join(FRAUD_TYPES)}; for cleared: "
        f"{', '.join(CLEAR_REASONS)}; for needs_info: {', '.join(INFO_REASONS)}. "
        "Running the same command twice records it once.",
    )
    dispose.add_argument("employee_code", help="e.g. E000761")
    dispose.add_argument("work_date", help="YYYY-MM-DD")
    dispose.add_argument("verdict", choices=["confirmed", "cleared", "needs_info"])
    dispose.add_argument("--reason", required=True, help="fraud type or reason code")
    dispose.add_argument("--by", required=True, help="the reviewer's name")
    dispose.add_argument("--note", default="")
    dispose.set_defaults(func=cmd_dispose)
