"""The `simulate` subcommand: create a simulated source database, or append a batch to one.

The top-level `tsfraud` command owns the parser and calls `register`; the subcommand sets
`func` on the namespace, which returns the process exit code. `python -m
tsfraud_simulator.cli simulate ...` runs it alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tsfraud_simulator.fraud import DEFAULT_FRAUD_RATE
from tsfraud_simulator.knobs import INTENSITIES, SELECTIONS, WorldKnobs

if TYPE_CHECKING:
    from tsfraud_simulator.api import SimulationSummary

_CREATE_ONLY = (
    "employees",
    "start",
    "days",
    "seed",
    "fraud_rate",
    "investigation_rate",
    "confirm_rate",
    "selection",
    "intensity",
    "fraud_mix",
    "never_confirmed",
    "activity_noise",
    "lookalike_rate",
    "field_share",
    "offdesk_rate",
)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {text!r}") from exc


def register(subparsers: Any) -> None:
    """Add `simulate` to an argparse subparsers object."""
    parser = subparsers.add_parser(
        "simulate",
        help="create a simulated timesheet source database (or append a batch to one)",
        description="Fill the customer's source schema with a simulated consulting firm, "
        "fraud included, and write the ground truth to a separate Parquet file. With "
        "--append-through, grow an existing simulated database instead (late edits included).",
    )
    parser.add_argument(
        "--url", required=True, help="SQLAlchemy URL (sqlite:///... or postgresql+psycopg://...)"
    )
    parser.add_argument("--employees", type=int, help="headcount at the start")
    parser.add_argument("--start", type=_date, help="first work date, YYYY-MM-DD")
    parser.add_argument("--days", type=int, help="number of calendar days to simulate")
    parser.add_argument("--seed", type=int, help="random seed (default 7)")
    parser.add_argument(
        "--fraud-rate",
        type=float,
        help=f"target share of fraudulent employee-days (default {DEFAULT_FRAUD_RATE})",
    )
    parser.add_argument(
        "--ground-truth",
        help="ground-truth Parquet path (default <sqlite file>.ground_truth.parquet, "
        "else data/ground_truth.parquet); its .json sidecar keeps the state for appends",
    )
    parser.add_argument("--replace", action="store_true", help="drop existing source tables first")
    parser.add_argument(
        "--append-through",
        type=_date,
        metavar="YYYY-MM-DD",
        help="append the days after the database's last work date up to this date",
    )
    knobs = parser.add_argument_group(
        "world knobs", "what real firms vary (default: the generous default world)"
    )
    knobs.add_argument(
        "--investigation-rate", type=float, help="multiplier on the chance a day is investigated"
    )
    knobs.add_argument("--confirm-rate", type=float, help="share of investigated frauds confirmed")
    knobs.add_argument(
        "--selection", choices=SELECTIONS, help="how investigations are chosen (default rules)"
    )
    knobs.add_argument("--intensity", choices=INTENSITIES, help="fraud intensity")
    knobs.add_argument(
        "--fraud-mix",
        metavar="TYPE=W,...",
        help="relative weights of fraud types beyond one perpetrator each, e.g. padding=3",
    )
    knobs.add_argument(
        "--never-confirmed", metavar="TYPE,...", help="fraud types whose cases always end cleared"
    )
    knobs.add_argument(
        "--activity-noise", type=float, help="log-scale noise on logged workstation activity"
    )
    knobs.add_argument(
        "--lookalike-rate", type=float, help="multiplier on honest look-alike behaviour"
    )
    knobs.add_argument(
        "--offdesk-rate",
        type=float,
        help="multiplier on honest work away from the workstation (1 = 8%% of worked days)",
    )
    knobs.add_argument(
        "--field-share",
        type=float,
        help="share of employees at client sites whose work the firm's activity logs barely see",
    )
    parser.set_defaults(func=run, _simulate_parser=parser)


def knobs_from_args(args: argparse.Namespace) -> WorldKnobs | None:
    """The WorldKnobs the flags ask for; None when no knob flag was given (default world)."""
    given: dict[str, Any] = {
        k: getattr(args, k)
        for k in (
            "investigation_rate",
            "confirm_rate",
            "selection",
            "intensity",
            "activity_noise",
            "lookalike_rate",
            "field_share",
            "offdesk_rate",
        )
        if getattr(args, k, None) is not None
    }
    if getattr(args, "fraud_mix", None):
        mix = {}
        for part in args.fraud_mix.split(","):
            name, _, weight = part.partition("=")
            mix[name.strip()] = float(weight)
        given["fraud_mix"] = mix
    if getattr(args, "never_confirmed", None):
        given["never_confirmed"] = tuple(t.strip() for t in args.never_confirmed.split(","))
    return WorldKnobs(**given) if given else None


def run(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args._simulate_parser
    if args.append_through is not None:
        given = [f"--{o.replace('_', '-')}" for o in _CREATE_ONLY if getattr(args, o) is not None]
        if given or args.replace:
            parser.error(
                "--append-through continues an existing simulation; it takes only --url and "
                f"--ground-truth (got {', '.join(given + ['--replace'] * args.replace)})"
            )
    try:
        summary = _execute(args, parser)
    except (FileExistsError, FileNotFoundError, ValueError, TypeError) as exc:
        print(f"tsfraud simulate: error: {exc}", file=sys.stderr)
        return 2
    print(summary.describe())
    return 0


def _execute(args: argparse.Namespace, parser: argparse.ArgumentParser) -> SimulationSummary:
    from tsfraud_simulator.api import append_through, simulate

    if args.append_through is not None:
        return append_through(args.url, args.append_through, ground_truth_path=args.ground_truth)
    missing = [f"--{o}" for o in ("employees", "start", "days") if getattr(args, o) is None]
    if missing:
        parser.error(f"creating a database needs {', '.join(missing)}")
    return simulate(
        args.url,
        employees=args.employees,
        start=args.start,
        days=args.days,
        seed=7 if args.seed is None else args.seed,
        fraud_rate=DEFAULT_FRAUD_RATE if args.fraud_rate is None else args.fraud_rate,
        ground_truth_path=args.ground_truth,
        replace=args.replace,
        knobs=knobs_from_args(args),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tsfraud-simulate")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
