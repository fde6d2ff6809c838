"""The window the dbt assets hand to dbt through the environment (invocation.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from tsfraud_assets.defs.dbt.invocation import WINDOW_ENV, dbt_window_env


def test_a_window_is_two_iso_dates() -> None:
    env = dbt_window_env(dt.date(2026, 3, 2), dt.date(2026, 3, 6))
    assert env == {"TSFRAUD_DBT_MIN_DATE": "2026-03-02", "TSFRAUD_DBT_MAX_DATE": "2026-03-06"}


def test_no_window_still_sets_both_so_an_inherited_value_cannot_narrow_the_run() -> None:
    assert dbt_window_env() == dict.fromkeys(WINDOW_ENV, "")


@pytest.mark.parametrize(
    "bounds",
    [
        (dt.date(2026, 3, 2), None),
        (None, dt.date(2026, 3, 2)),
        (dt.date(2026, 3, 3), dt.date(2026, 3, 2)),
    ],
)
def test_half_or_inverted_windows_are_refused(
    bounds: tuple[dt.date | None, dt.date | None],
) -> None:
    with pytest.raises(ValueError):
        dbt_window_env(*bounds)
