"""The `tsfraud` command: simulate a firm, run the pipeline for a range, run the whole demo."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence

from tsfraud_assets.settings import Settings, load_settings


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {text!r}") from exc


def cmd_run(args: argparse.Namespace) -> int:
    import dagster as dg

    from tsfraud_assets.cli.console import Console
    from tsfraud_assets.cli.progress import step_printer
    from tsfraud_assets.cli.run import ensure_dagster_home, run_range_handing_off

    settings = load_settings()
    outside = range_outside_partitions(settings, args.start, args.end)
    if outside:
        print(f"tsfraud run: {outside}", file=sys.stderr)
        return 2
    ensure_dagster_home(settings)
    from tsfraud_assets.definitions import build_definitions

    console = Console.for_command(settings.data_dir, "run", args.verbose)
    print(f"running every layer for {args.start} .. {args.end} through Dagster")
    if console.log_path:
        print(f"  detail (Dagster, dbt, Spark): {console.log_path}   (-v shows it here)")
    defs = build_definitions(settings)
    with dg.DagsterInstance.get() as instance:
        _results, sensor_line = run_range_handing_off(
            defs,
            settings,
            args.start,
            args.end,
            instance,
            log_level="INFO" if args.verbose else "WARNING",
            on_step_done=step_printer(console.line),
            console=console,
        )
        model = instance.get_latest_materialization_event(dg.AssetKey("fraud_model"))
    print(sensor_line)
    if model is not None and model.asset_materialization is not None:
        meta = {k: v.value for k, v in model.asset_materialization.metadata.items()}
        print(
            f"model {meta.get('model_version')}: {meta.get('scoring_mode')}; "
            f"{meta.get('promotion_reason')}"
        )
    print(f"scores: {settings.lake_root}/scores/timesheet_scores/work_date=YYYY-MM-DD/")
    return 0


def range_outside_partitions(settings: Settings, start: dt.date, end: dt.date) -> str | None:
    """Why [start, end] is not a range of the daily partitions, or None if it is."""
    first = dt.date.fromisoformat(settings.partition_start)
    last = dt.date.fromisoformat(settings.partition_end) if settings.partition_end else None
    if start >= first and (last is None or end <= last):
        return None
    span = f"{first} .. {last}" if last else f"from {first}"
    return (
        f"{start} .. {end} is outside the daily partitions ({span}); they are set by "
        "TSFRAUD_PARTITION_START / TSFRAUD_PARTITION_END (or the data folder's tsfraud.env)"
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from tsfraud_assets.cli.demo import run_demo

    return run_demo(
        employees=args.employees,
        start=args.start,
        days=args.days,
        seed=args.seed,
        verbose=args.verbose,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tsfraud", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    from tsfraud_assets.cli.query import register as register_query
    from tsfraud_assets.cli.retention import register as register_retention
    from tsfraud_assets.cli.sweep import register as register_sweep
    from tsfraud_assets.reviews.cli import register as register_review
    from tsfraud_simulator.cli import register as register_simulate

    register_simulate(sub)
    register_query(sub)
    register_review(sub)
    register_sweep(sub)
    register_retention(sub)

    run = sub.add_parser(
        "run",
        help="materialize every layer for a range of work dates (single-run backfills)",
        description="Runs against TSFRAUD_SOURCE_URL and TSFRAUD_LAKE; the runs are "
        "recorded in the Dagster instance at DAGSTER_HOME (default data/dagster_home).",
    )
    run.add_argument("--start", type=_date, required=True)
    run.add_argument("--end", type=_date, required=True, help="inclusive")
    run.add_argument("-v", "--verbose", action="store_true", help="Dagster's step logs too")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser(
        "demo", help="simulate a firm, run every layer, and score the list against ground truth"
    )
    demo.add_argument("--employees", type=int, default=1000)
    demo.add_argument("--start", type=_date, default=dt.date(2026, 3, 2))
    demo.add_argument("--days", type=int, default=120)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("-v", "--verbose", action="store_true", help="Dagster's step logs too")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    start, end = getattr(args, "start", None), getattr(args, "end", None)
    if start is not None and end is not None and end < start:
        # before anything starts: a reversed range is a typing slip, not an empty run
        parser.error(f"{args.command}: --end {end} is before --start {start}")
    result = args.func(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
