"""Consecutive dbt invocations over different windows reuse dbt's saved parse.

The assets invoke dbt through `TsfraudDbtCliResource` (dagster-dbt: a fresh target folder per
invocation, seeded with the project's `target/partial_parse.msgpack`) and pass the run's window
in the environment. dbt re-parses the whole project when `--vars` change or when the saved
parse came from another profile (the DuckDB file is part of it), which had made every run pay
a full parse. Here the second invocation, with another window, must skip parsing altogether
(dbt's own debug event says so) and still compile the new window into the SQL.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from tsfraud_assets.defs.dbt.invocation import dbt_window_env
from tsfraud_assets.resources.dbt import dbt_cli, dbt_project, keep_partial_parse

FIRST = dt.date(2026, 3, 4)
SECOND = dt.date(2026, 3, 11)
MODEL = "employee_day_features"


def compile_with_window(resource: Any, day: dt.date) -> tuple[list[dict[str, Any]], Any]:
    """`dbt compile` of one windowed model, as the assets call dbt; dbt's structured events
    (debug level, where the parse decisions are logged) and the invocation."""
    invocation = resource.cli(
        ["compile", "--select", MODEL, "--debug"],
        env=dbt_window_env(day, day),
        raise_on_error=False,
    )
    events = [event.raw_event for event in invocation.stream_raw_events()]
    assert invocation.is_successful(), [e["info"]["msg"] for e in events][-20:]
    keep_partial_parse(invocation)  # what stream_with_adapter_responses does after each build
    return events, invocation


def names(events: list[dict[str, Any]]) -> list[str]:
    return [e["info"]["name"] for e in events]


def is_rejection(event: dict[str, Any]) -> bool:
    return bool(event["info"]["name"] == "UnableToPartialParse")


def compiled_sql(invocation: Any) -> str:
    (path,) = Path(invocation.target_path).rglob(f"compiled/**/{MODEL}.sql")
    return path.read_text()


def test_a_second_window_reuses_the_first_invocations_parse(tmp_path: Path) -> None:
    # A warehouse file of its own: the saved parse in the project came from another profile.
    resource = dbt_cli(
        dbt_project("local"),
        {
            "TSFRAUD_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
            "TSFRAUD_LAKE": str(tmp_path / "lake"),
        },
    )
    first_events, first = compile_with_window(resource, FIRST)
    # the situation every run was in before: the project's saved parse is another profile's
    rejected = [e["data"].get("reason") for e in first_events if is_rejection(e)]
    assert "PartialParsingSkipParsing" not in names(first_events)
    assert "profile has changed" in rejected, names(first_events)

    second_events, second = compile_with_window(resource, SECOND)
    assert "UnableToPartialParse" not in names(second_events)
    assert "PartialParsingSkipParsing" in names(second_events)
    # the window is still the run's own: read when dbt executes, not baked into the parse
    assert f"'{SECOND.isoformat()}'" in compiled_sql(second)
    assert f"'{FIRST.isoformat()}'" in compiled_sql(first)
    assert f"'{FIRST.isoformat()}'" not in compiled_sql(second)


def test_without_a_window_the_model_covers_all_days(tmp_path: Path) -> None:
    resource = dbt_cli(
        dbt_project("local"),
        {
            "TSFRAUD_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
            "TSFRAUD_LAKE": str(tmp_path / "lake"),
        },
    )
    invocation = resource.cli(["compile", "--select", MODEL], env=dbt_window_env())
    invocation.wait()
    sql = compiled_sql(invocation)
    assert "between cast(" not in sql  # the predicate rendered as `true`
