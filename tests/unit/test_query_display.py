"""`tsfraud query` around the named queries: codes, client names, defaulted dates, rounding."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tsfraud_assets.cli.query_display import (
    default_dates,
    resolve_employee_code,
    rounded,
    with_client_names,
)
from tsfraud_assets.queries.catalog import get_query
from tsfraud_assets.resources.warehouse import DuckDBWarehouse


@pytest.fixture
def warehouse(tmp_path: Path) -> DuckDBWarehouse:
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "create table stg_employees as select * from (values (761, 'E000761'), "
            "(5, 'E000005')) as t(employee_id, employee_code)"
        )
        con.execute(
            "create table stg_clients as select * from (values (10, 'Atlas Agency'), "
            "(11, 'Keystone Insurance')) as t(client_id, client_name)"
        )
    return DuckDBWarehouse(path=str(path))


def test_an_employee_code_becomes_the_id(warehouse: DuckDBWarehouse) -> None:
    assert resolve_employee_code(warehouse, {"employee_id": "e000761"}) == {"employee_id": "761"}
    assert resolve_employee_code(warehouse, {"employee_id": "761"}) == {"employee_id": "761"}
    with pytest.raises(ValueError, match="no employee with code E999999"):
        resolve_employee_code(warehouse, {"employee_id": "E999999"})


def test_clients_are_named_beside_their_id(warehouse: DuckDBWarehouse) -> None:
    frame = pd.DataFrame({"client_id": [11, None, 10], "suspect_hours": [1.0, 2.0, 3.0]})
    named = with_client_names(warehouse, frame)
    assert list(named.columns) == ["client_id", "client_name", "suspect_hours"]
    assert list(named["client_name"]) == ["Keystone Insurance", None, "Atlas Agency"]


def test_the_defaulted_dates_are_spelled_out() -> None:
    named = get_query("hours_at_risk_by_client")
    today = dt.date(2026, 11, 30)
    assert default_dates(named, {}, today) == (
        "start_date 2026-10-31 (default today-30), end_date 2026-11-30 (default today)"
    )
    assert default_dates(named, {"start_date": "2026-06-01"}, today) == (
        "end_date 2026-11-30 (default today)"
    )


def test_numbers_are_rounded_for_reading() -> None:
    frame = pd.DataFrame({"fraud_score": [0.1234567], "active_hours": [8.3456], "rank": [3]})
    shown = rounded(frame)
    assert shown.iloc[0].to_dict() == {"fraud_score": 0.123, "active_hours": 8.35, "rank": 3}


def test_a_page_fits_the_terminal() -> None:
    from tsfraud_assets.cli.query_display import fit_for_terminal

    frame = pd.DataFrame(
        {
            "work_date": ["2026-06-24", "2026-06-23"],
            "office": ["New York", "New York"],
            "investigation_outcome": [None, None],
            "reasons": ["workstation active 8.3 h for 14.0 h claimed; claimed 14.0 h", "x"],
        }
    )
    same, shown = fit_for_terminal(frame)
    assert same == "office: New York; investigation_outcome: -"
    assert list(shown.columns) == ["work\ndate", "reasons"]
    assert all(len(line) <= 28 for line in shown["reasons"].iloc[0].splitlines())
    one, single = fit_for_terminal(frame.head(1))  # one row: nothing to hoist
    assert one == "" and "investigation\noutcome" in single.columns
