"""What `tsfraud query` does around a named query so its answer reads like the question.

Investigators know people by employee code (E000761) and clients by name; the named queries
take numeric ids and return client ids. This resolves a code to the id before the query runs,
adds the client's name beside a `client_id` column, says which dates a defaulted range used
(a default of "the last 90 days" on data that ends in June answers nothing, and should say
why), and rounds numbers to what a person reads.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from typing import Any

import pandas as pd

from tsfraud_assets.queries.catalog import NamedQuery
from tsfraud_assets.resources.warehouse import Warehouse

EMPLOYEE_CODE = re.compile(r"^[A-Za-z]{1,8}\d{1,12}$")
SCORE_DECIMALS = 3
OTHER_DECIMALS = 2


def resolve_employee_code(warehouse: Warehouse, values: dict[str, str]) -> dict[str, str]:
    """`employee_id=E000761` becomes the numeric id; a number is left alone."""
    text = str(values.get("employee_id", "")).strip()
    if not text or text.isdigit() or not EMPLOYEE_CODE.match(text):
        return values
    found = warehouse.query(
        f"select employee_id from {warehouse.relation('stg_employees')} where employee_code = ?",
        [text.upper()],
    )
    if found.empty:
        raise ValueError(f"no employee with code {text.upper()}")
    return {**values, "employee_id": str(int(found["employee_id"].iloc[0]))}


def default_dates(named: NamedQuery, values: dict[str, str], today: dt.date) -> str:
    """'start_date 2026-09-01 (default today-90), ...' for the date parameters left out."""
    parts = []
    for param in named.params:
        if param.type == "date" and param.name not in values and param.default is not None:
            parts.append(f"{param.name} {param.default_value(today)} (default {param.default})")
    return ", ".join(parts)


def scored_span(warehouse: Warehouse) -> tuple[dt.date, dt.date] | None:
    span = warehouse.query(
        f"select min(work_date) as lo, max(work_date) as hi "
        f"from {warehouse.relation('stg_timesheet_scores')}"
    )
    if span.empty or pd.isna(span["lo"].iloc[0]):
        return None
    return pd.Timestamp(span["lo"].iloc[0]).date(), pd.Timestamp(span["hi"].iloc[0]).date()


def with_client_names(warehouse: Warehouse, frame: pd.DataFrame) -> pd.DataFrame:
    """`client_name` inserted after `client_id` (internal work has no client: left empty)."""
    if "client_id" not in frame.columns or "client_name" in frame.columns or frame.empty:
        return frame
    names = warehouse.query(
        f"select client_id, client_name from {warehouse.relation('stg_clients')}"
    )
    lookup: dict[Any, Any] = {
        int(i): n for i, n in zip(names["client_id"], names["client_name"], strict=True)
    }
    out = frame.copy()
    position = list(out.columns).index("client_id") + 1
    out.insert(
        position,
        "client_name",
        [None if pd.isna(i) else lookup.get(int(i)) for i in out["client_id"]],
    )
    return out


def rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """Scores to 3 decimals (they are small and ranked), other numbers to 2."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            places = SCORE_DECIMALS if "score" in str(column) else OTHER_DECIMALS
            out[column] = out[column].round(places)
    return out


TERMINAL_WIDTH = 120
TEXT_WIDTH = 28


def fit_for_terminal(frame: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """Make a page of rows fit about TERMINAL_WIDTH columns: a column holding one value on
    every row (the employee's office in their own history) is said once above the table, the
    numeric id goes where the employee code is shown, long text is wrapped, and long column
    names break at their underscores."""
    hoisted: list[str] = []
    out = frame.copy()
    if {"employee_id", "employee_code"} <= set(out.columns):
        out = out.drop(columns="employee_id")  # people go by their code; --out keeps both
    if len(out) > 1:
        for column in list(out.columns):
            values = out[column].tolist()
            if all(v == values[0] or (v is None and values[0] is None) for v in values):
                shown = "-" if values[0] is None else values[0]
                hoisted.append(f"{column}: {shown}")
                out = out.drop(columns=column)
    for column in out.columns:
        out[column] = [
            textwrap.fill(v, TEXT_WIDTH) if isinstance(v, str) and len(v) > TEXT_WIDTH else v
            for v in out[column]
        ]
    out.columns = pd.Index([c.replace("_", "\n") if len(str(c)) > 7 else c for c in out.columns])
    return "; ".join(hoisted), out
