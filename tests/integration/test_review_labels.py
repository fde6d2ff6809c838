"""Verdicts reach the model: dbt's investigation_labels takes investigators' verdicts.

Runs the real dbt models (`suspect_dispositions` and `investigation_labels` with their data
tests) on DuckDB over a hand-built lake holding source cases and verdict files written in
the store's own format.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.integration.test_dbt_models import run_dbt
from tests.lake_fixtures import RAW_INVESTIGATION_CASE_SCHEMA, write_snapshot
from tsfraud_assets.reviews.dispositions import DISPOSITIONS_DATASET, SCHEMA

DAY = dt.date(2026, 5, 6)


def at(hour: int, day: int = 10) -> dt.datetime:
    return dt.datetime(2026, 5, day, hour)


def case(case_id: int, employee_id: int, outcome: str, closed: dt.datetime) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "employee_id": employee_id,
        "work_date": DAY,
        "opened_at": closed - dt.timedelta(days=2),
        "closed_at": closed,
        "outcome": outcome,
        "fraud_type": "padding" if outcome == "confirmed" else None,
        "updated_at": closed,
    }


def verdict(key: str, employee_id: int, verdict: str, reason: str, decided: dt.datetime) -> dict:
    return {
        "disposition_id": key,
        "employee_id": employee_id,
        "employee_code": f"E{employee_id:06d}",
        "work_date": DAY,
        "model_version": "v1",
        "scored_at": dt.datetime(2026, 5, 7, 6),
        "fraud_score": 0.8,
        "verdict": verdict,
        "reason": reason,
        "reviewer": "Ann",
        "note": "",
        "decided_at": decided,
        "channel": "web",
    }


def write_verdict(folder: Path, row: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = row["decided_at"].strftime("%Y%m%dT%H%M%S%f")
    pq.write_table(
        pa.Table.from_pylist([row], schema=SCHEMA),
        folder / f"{stamp}-{row['disposition_id']}.parquet",
    )


def test_confirmed_and_cleared_verdicts_become_labels_beside_the_cases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = tmp_path / "lake"
    cases = [
        case(1, 1, "cleared", at(9)),  # employee 1: a reviewer later confirms it
        case(2, 4, "confirmed", at(15)),  # employee 4: the case closes after the review
    ]
    write_snapshot(cases, lake / "raw" / "investigation_cases", RAW_INVESTIGATION_CASE_SCHEMA)
    folder = lake / DISPOSITIONS_DATASET
    for row in [
        verdict("a1", 1, "confirmed", "duplicate", at(12)),
        verdict("b1", 2, "needs_info", "ask_manager", at(12)),  # decides nothing
        verdict("c1", 3, "confirmed", "padding", at(10)),
        verdict("c2", 3, "cleared", "legitimate_overtime", at(11)),  # changed mind: cleared
        verdict("d1", 4, "cleared", "model_error", at(13)),
    ]:
        write_verdict(folder, row)
    db = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("TSFRAUD_LAKE", str(lake))
    monkeypatch.setenv("TSFRAUD_DUCKDB_PATH", str(db))
    run_dbt(["build", "--select", "+investigation_labels"], tmp_path / "target", tmp_path / "logs")

    with duckdb.connect(str(db), read_only=True) as con:
        labels = {
            r[0]: r[1:]
            for r in con.execute(
                "select employee_id, outcome, fraud_type, closed_at, label_source "
                "from investigation_labels order by employee_id"
            ).fetchall()
        }
    assert labels == {
        1: ("confirmed", "duplicate", at(12), "review"),
        3: ("cleared", None, at(11), "review"),
        4: ("confirmed", "padding", at(15), "case"),
    }

    # The verdicts' view reads the lake's files: a new verdict shows with no dbt run.
    write_verdict(folder, verdict("e1", 5, "cleared", "model_error", at(16)))
    with duckdb.connect(str(db), read_only=True) as con:
        (count,) = con.execute("select count(*) from suspect_dispositions").fetchone()  # type: ignore[misc]
    assert count == 6
