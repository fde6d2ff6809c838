"""How the assets invoke dbt: the window's environment, and what dbt's adapter reported for each
model (Athena: bytes scanned) put on that model's materialization."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any

import dagster as dg

from tsfraud_assets.resources.dbt import keep_partial_parse
from tsfraud_assets.resources.warehouse import athena_cost_usd

WINDOW_ENV = ("TSFRAUD_DBT_MIN_DATE", "TSFRAUD_DBT_MAX_DATE")
"""What dbt_project/macros/work_date_window.sql reads."""


def dbt_window_env(min_date: date | None = None, max_date: date | None = None) -> dict[str, str]:
    """The environment of a dbt run over ``[min_date, max_date]`` (all data when both None).

    Environment rather than ``--vars``: dbt re-parses the whole project whenever its vars
    change, i.e. on every run with another window (seconds per invocation, the parse being most
    of a small run's dbt time); the macro reads these only while executing, so the saved parse
    stays valid. Both are always set (empty: no window), so a value left in the caller's
    environment never narrows a run that covers everything.
    """
    if (min_date is None) != (max_date is None):
        raise ValueError("give both min_date and max_date, or neither")
    if min_date is None or max_date is None:
        return dict.fromkeys(WINDOW_ENV, "")
    if min_date > max_date:
        raise ValueError(f"min_date {min_date} is after max_date {max_date}")
    return dict(zip(WINDOW_ENV, (min_date.isoformat(), max_date.isoformat()), strict=True))


# --------------------------------------------------------------------------------------------
# What dbt's adapter reported for each model (Athena: bytes scanned), on its materialization
# --------------------------------------------------------------------------------------------


def adapter_response_metadata(response: Mapping[str, Any] | None) -> dict[str, Any]:
    """A model's adapter response (run_results.json) as the metadata the warehouse resource
    records for its own Athena queries, so the report sums both alike.

    dbt-athena reports `data_scanned_in_bytes` of the model's build statement (dbt tests and
    its housekeeping queries are not in it); other adapters report no bytes: nothing then.
    A statement that scanned nothing (a view's DDL) is free.
    """
    scanned = (response or {}).get("data_scanned_in_bytes")
    if scanned is None:
        return {}
    scanned = int(scanned)
    statement = "DML" if scanned > 0 else "DDL"
    return {
        "warehouse_queries": 1,
        "athena_bytes_scanned": scanned,
        "athena_estimated_cost_usd": round(athena_cost_usd(scanned, statement_type=statement), 6),
    }


def with_adapter_responses(
    events: Iterable[Any], run_results: Mapping[str, Any] | None
) -> Iterator[Any]:
    """The dbt invocation's Dagster events, each model's materialization carrying what the
    adapter reported for it in `run_results` (matched on the event's `unique_id`)."""
    responses = {
        result["unique_id"]: result.get("adapter_response") or {}
        for result in (run_results or {}).get("results", [])
    }
    for event in events:
        if isinstance(event, dg.Output | dg.AssetMaterialization):
            unique_id = event.metadata.get("unique_id")
            unique_id = getattr(unique_id, "value", unique_id)
            extra = adapter_response_metadata(responses.get(str(unique_id)))
            if extra:
                event = event.with_metadata({**event.metadata, **extra})
        yield event


def stream_with_adapter_responses(invocation: Any) -> Iterator[Any]:
    """`invocation.stream()` with each model's adapter response on its materialization.

    dagster-dbt leaves the adapter response out of the metadata, and dbt prints it only in a
    debug-level event; it is complete in run_results.json once dbt ends. So the events are
    held until then: they reach Dagster at the end of the dbt invocation instead of one by
    one, and all of them still do when dbt fails, before its error.
    """
    events: list[Any] = []
    try:
        events.extend(invocation.stream())
    except Exception:
        with contextlib.suppress(OSError):  # dbt's own error is the one to report
            keep_partial_parse(invocation)
        yield from with_adapter_responses(events, _run_results(invocation))
        raise
    keep_partial_parse(invocation)  # the next invocation starts from this one's parse
    yield from with_adapter_responses(events, _run_results(invocation))


def _run_results(invocation: Any) -> dict[str, Any] | None:
    try:
        results: dict[str, Any] = invocation.get_artifact("run_results.json")
    except FileNotFoundError:  # dbt stopped before writing it
        return None
    return results
