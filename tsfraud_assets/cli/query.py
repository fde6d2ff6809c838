"""`tsfraud query`: run an investigator's named query against the deployment's warehouse.

For people without a BI tool: the same questions the named queries answer in Athena's console,
from a terminal, read one page at a time or written to CSV/Parquet for a spreadsheet.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from tsfraud_assets.cli.query_display import (
    default_dates,
    fit_for_terminal,
    resolve_employee_code,
    rounded,
    scored_span,
    with_client_names,
)
from tsfraud_assets.queries.catalog import (
    MAX_VALUE_SHOWN,
    NamedQuery,
    get_query,
    load_queries,
    register_named_queries,
    run_named_query,
    shown_value,
)
from tsfraud_assets.resources.warehouse import (
    AthenaWarehouse,
    DuckDBWarehouse,
    Warehouse,
    WarehouseError,
    athena_warehouse_from_env,
)
from tsfraud_assets.settings import Settings, load_settings

OUT_FORMATS = (".csv", ".parquet")


def warehouse_for(settings: Settings) -> Warehouse:
    """The warehouse the deployment's assets read, so the CLI answers from the same data."""
    if settings.deployment == "aws":
        return athena_warehouse_from_env(settings.athena_env)
    return DuckDBWarehouse(path=settings.duckdb_path, lake_root=settings.lake_root)


def _param(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected key=value, got {shown_value(text)}")
    return key.strip(), value.strip()


def _params(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """`-p` pairs as a mapping; a name given twice is a mistake, not "the last one wins"."""
    values: dict[str, str] = {}
    for key, value in pairs:
        if key in values:
            raise ValueError(
                f"parameter {key} is given twice ({shown_value(values[key])} and "
                f"{shown_value(value)}): give it once"
            )
        values[key] = value
    return values


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `query` to the `tsfraud` command."""
    names = ", ".join(sorted(load_queries()))
    query = subparsers.add_parser(
        "query",
        help="run a named investigator query (todays_suspects, employee_history, ...)",
        description=f"Run a named query on the deployment's warehouse. Queries: {names}. "
        "Parameters are key=value; dates are YYYY-MM-DD.",
    )
    query.add_argument("name", nargs="?", help="the named query (see --list)")
    query.add_argument(
        "--param",
        "-p",
        dest="params",
        action="append",
        type=_param,
        default=[],
        metavar="KEY=VALUE",
        help="a query parameter; repeat for several",
    )
    query.add_argument("--page-size", type=_positive, default=50, help="rows per page")
    query.add_argument("--page", type=_positive, default=1, help="which page to print")
    query.add_argument(
        "--out", type=Path, help="write every row to FILE.csv or FILE.parquet instead"
    )
    query.add_argument(
        "--max-age-minutes",
        type=int,
        default=None,
        help="Athena: accept a cached result up to this old (saves a scan)",
    )
    query.add_argument("--list", action="store_true", help="list the named queries and exit")
    query.add_argument(
        "--register-athena",
        action="store_true",
        help="save the named queries in the Athena workgroup (TSFRAUD_ATHENA_WORKGROUP) so "
        "they show up in the console's saved queries; safe to repeat",
    )
    query.set_defaults(func=cmd_query)


def cmd_query(args: argparse.Namespace) -> int:
    if args.list:
        print(_listing(load_queries().values()))
        return 0
    if args.register_athena:
        return _register_athena()
    if not args.name:
        return _fail("name a query, or use --list to see them")
    if args.out is not None and args.out.suffix.lower() not in OUT_FORMATS:
        return _fail(f"--out must end in {' or '.join(OUT_FORMATS)}, got {args.out}")
    try:
        named = get_query(args.name)
        values = _params(args.params)
        warehouse = warehouse_for(load_settings())
        # An employee code (E000761) is looked up first; everything else is checked before
        # connecting anywhere.
        values = resolve_employee_code(warehouse, values)
        named.bind(values)
        frame = run_named_query(warehouse, named, values, max_age_minutes=args.max_age_minutes)
        frame = with_client_names(warehouse, frame)
        dates = default_dates(named, values, dt.date.today())
        if dates:
            span = scored_span(warehouse) if frame.empty else None
            print(
                f"dates: {dates}" + (f"; scored days run {span[0]} to {span[1]}" if span else ""),
                file=sys.stderr,
            )
    except KeyError as exc:
        return _fail(str(exc.args[0]))
    except (ValueError, WarehouseError) as exc:
        return _fail(str(exc))
    if isinstance(warehouse, AthenaWarehouse):
        for stats in warehouse.query_stats:
            print(
                f"athena query {stats.query_id}: {stats.bytes_scanned / 2**20:,.1f} MiB scanned, "
                f"~${stats.estimated_cost_usd:.4f}" + (" (reused)" if stats.reused_result else ""),
                file=sys.stderr,
            )
    if args.out is not None:
        _write(frame, args.out)
        print(f"{named.name}: wrote {len(frame)} rows to {args.out}")
        return 0
    return _print_page(named, values, frame, args.page, args.page_size)


def _register_athena() -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    athena = athena_warehouse_from_env(load_settings().athena_env)
    try:
        done = register_named_queries(
            athena.athena_client,
            workgroup=athena.workgroup,
            database=athena.schema_name,
            relation=athena.relation,
        )
    except (BotoCoreError, ClientError) as exc:
        return _fail(f"registering named queries in workgroup {athena.workgroup}: {exc}")
    for registration in done:
        print(f"{registration.action:9} {registration.name} ({registration.named_query_id})")
    return 0


def _fail(message: str) -> int:
    print(f"tsfraud query: error: {message}", file=sys.stderr)
    return 2


def _write(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


def _print_page(
    named: NamedQuery, values: dict[str, str], frame: pd.DataFrame, page: int, page_size: int
) -> int:
    shown = ", ".join(f"{k}={_cut(v)}" for k, v in values.items()) or "defaults"
    pages = max(1, math.ceil(len(frame) / page_size))
    if page > pages:
        return _fail(f"page {page} does not exist: {len(frame)} rows make {pages} page(s)")
    print(f"{named.name} ({shown}): {len(frame)} rows")
    if frame.empty:
        print("no rows")
        return 0
    first = (page - 1) * page_size
    part = _for_display(rounded(frame.iloc[first : first + page_size]))
    same, part = fit_for_terminal(part)
    if same:
        print(textwrap.fill(f"on every row: {same}", 120, subsequent_indent="  "))
    # pandas hands the table to tabulate; missingval shows SQL NULLs as "-".
    print(part.to_markdown(index=False, tablefmt="simple", missingval="-"))
    footer = f"page {page} of {pages} (rows {first + 1}-{first + len(part)} of {len(frame)})"
    if page < pages:
        footer += f"; next: --page {page + 1}"
    print(footer)
    return 0


def _cut(value: str) -> str:
    return value if len(value) <= MAX_VALUE_SHOWN else shown_value(value)


def _for_display(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates without their midnight, NULLs as None, so the table reads like the question."""
    shown = pd.DataFrame(index=frame.index)
    for position, column in enumerate(frame.columns):
        series = frame.iloc[:, position]
        if pd.api.types.is_datetime64_any_dtype(series):
            stamps = series.dropna()
            if (stamps == stamps.dt.normalize()).all():
                series = series.dt.strftime("%Y-%m-%d")
        missing = series.isna()
        cells = [None if gap else value for value, gap in zip(series, missing, strict=True)]
        shown.insert(position, column, pd.Series(cells, index=frame.index, dtype=object))
    return shown


def _listing(queries: Iterable[NamedQuery]) -> str:
    rows = [
        {"query": q.name, "parameters": q.signature(), "answers": textwrap.fill(q.description, 70)}
        for q in sorted(queries, key=lambda q: q.name)
    ]
    return pd.DataFrame(rows).to_markdown(index=False, tablefmt="simple")


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m tsfraud_assets.cli.query ...`, and the tests' entry point."""
    parser = argparse.ArgumentParser(prog="tsfraud")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
