"""Issue #14, case 10: `tsfraud query` refuses what it cannot answer truthfully.

An integer outside the parameter's SQL type used to return "0 rows" with exit 0 (DuckDB widened
it and matched nothing); a repeated -p silently kept the last value; a 100k-character value was
echoed back in full in the error."""

from __future__ import annotations

import pytest

from tsfraud_assets.cli.query import main
from tsfraud_assets.queries.catalog import get_query

DATES = ["-p", "start_date=2026-06-01", "-p", "end_date=2026-06-03"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("99999999999999999999", "out of range for bigint"),
        ("-9223372036854775809", "out of range for bigint"),
        ("abc", "not a whole number: 'abc'"),
    ],
)
def test_an_integer_the_warehouse_cannot_hold_is_an_error(
    value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["query", "employee_history", "-p", f"employee_id={value}", *DATES]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_the_largest_bigint_is_accepted() -> None:
    named = get_query("employee_history")
    values = {"employee_id": str(2**63 - 1), "start_date": "2026-06-01", "end_date": "2026-06-03"}
    assert 2**63 - 1 in named.bind(values)


def test_a_parameter_given_twice_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["query", "employee_history", "-p", "employee_id=3", "-p", "employee_id=4", *DATES]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "parameter employee_id is given twice ('3' and '4')" in err


@pytest.mark.parametrize("param", ["employee_id", "start_date"])
def test_a_huge_value_is_not_echoed_in_full(param: str, capsys: pytest.CaptureFixture[str]) -> None:
    huge = "9" * 100_000 if param == "employee_id" else "x" * 100_000
    values = {"employee_id": "3", "start_date": "2026-06-01", "end_date": "2026-06-03"}
    values[param] = huge
    argv = ["query", "employee_history"] + [
        a for k, v in values.items() for a in ("-p", f"{k}={v}")
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "100,000 characters" in err and len(err) < 400, err[:400]
