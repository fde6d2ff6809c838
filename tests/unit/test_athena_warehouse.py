"""AthenaWarehouse's whole query life cycle against a scripted Athena client.

moto's Athena does not run SQL, so the client here is a small fake that answers the way
Athena does: start → QUEUED/RUNNING/... per poll, results paged with a header row, NULLs as
Datums without VarCharValue, the same query id back for a token it has seen. Time is fake
too: the warehouse's sleep and clock are injected, so backoff and timeouts cost nothing.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from tsfraud_assets.resources.warehouse import (
    AthenaQueryCancelled,
    AthenaQueryFailed,
    AthenaQueryTimeout,
    AthenaScanLimitExceeded,
    AthenaWarehouse,
    athena_cost_usd,
    athena_literal,
    athena_warehouse_from_env,
    query_stats_metadata,
)

OUTPUT = "s3://tsfraud-test-results/athena-results/"
T0 = dt.datetime(2026, 6, 30, 7, 0, tzinfo=dt.UTC)

# --------------------------------------------------------------------------------------------
# The fake Athena
# --------------------------------------------------------------------------------------------

Row = Sequence[str | None]


def result_pages(
    columns: Sequence[tuple[str, str]], rows: Sequence[Row], page_size: int = 1000
) -> list[dict[str, Any]]:
    """GetQueryResults responses for a SELECT: the header is the first row of the first page,
    each page holds at most `page_size` rows, every value a string, NULL an empty Datum."""
    info = [
        {"Name": name, "Label": name, "Type": kind, "Nullable": "UNKNOWN"} for name, kind in columns
    ]
    all_rows = [[name for name, _ in columns], *rows]
    chunks = [all_rows[i : i + page_size] for i in range(0, len(all_rows), page_size)]
    pages = []
    for index, chunk in enumerate(chunks):
        page: dict[str, Any] = {
            "ResultSet": {
                "Rows": [
                    {"Data": [{} if v is None else {"VarCharValue": v} for v in row]}
                    for row in chunk
                ],
                "ResultSetMetadata": {"ColumnInfo": info},
            }
        }
        if index + 1 < len(chunks):
            page["NextToken"] = f"token-{index + 1}"
        pages.append(page)
    return pages


def athena_csv(columns: Sequence[tuple[str, str]], rows: Sequence[Row]) -> bytes:
    """The result file Athena writes: every value quoted, NULL an empty unquoted field."""

    def cell(value: str | None) -> str:
        return "" if value is None else '"' + value.replace('"', '""') + '"'

    lines = [",".join(cell(name) for name, _ in columns)]
    lines += [",".join(cell(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


@dataclass
class Script:
    """How one query behaves: the states successive polls see, then its results."""

    states: list[str]
    pages: list[dict[str, Any]] = field(default_factory=list)
    scanned: list[int] | None = None  # DataScannedInBytes per poll (last one repeats)
    reason: str | None = None
    error: dict[str, Any] | None = None
    reused: bool = False
    statement_type: str = "DML"
    submitted: dt.datetime | None = None
    csv: bytes | None = None


class FakeAthena:
    def __init__(self) -> None:
        self.pending: list[Script] = []
        self.requests: list[dict[str, Any]] = []
        self.by_token: dict[str, str] = {}
        self.queries: dict[str, Script] = {}
        self.polls: dict[str, int] = {}
        self.stopped: list[str] = []
        self.result_calls: list[dict[str, Any]] = []
        self.objects: dict[tuple[str, str], bytes] = {}
        self._ids = itertools.count(1)

    def script(self, script: Script) -> None:
        self.pending.append(script)

    # --- athena ---
    def start_query_execution(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        token = request["ClientRequestToken"]
        assert 32 <= len(token) <= 128
        if token not in self.by_token:  # Athena's idempotency: same token, same query
            query_id = f"q-{next(self._ids)}"
            self.by_token[token] = query_id
            self.queries[query_id] = self.pending.pop(0)
            self.polls[query_id] = 0
            key = (OUTPUT.removeprefix("s3://").split("/")[0], f"athena-results/{query_id}.csv")
            if self.queries[query_id].csv is not None:
                self.objects[key] = self.queries[query_id].csv  # type: ignore[assignment]
        return {"QueryExecutionId": self.by_token[token]}

    def get_query_execution(self, QueryExecutionId: str) -> dict[str, Any]:
        script = self.queries[QueryExecutionId]
        poll = self.polls[QueryExecutionId]
        self.polls[QueryExecutionId] += 1
        state = script.states[min(poll, len(script.states) - 1)]
        if QueryExecutionId in self.stopped:
            state = "CANCELLED"
        status: dict[str, Any] = {
            "State": state,
            "SubmissionDateTime": script.submitted or T0 + dt.timedelta(seconds=1),
        }
        if script.reason and state in ("FAILED", "CANCELLED"):
            status["StateChangeReason"] = script.reason
        if script.error and state == "FAILED":
            status["AthenaError"] = script.error
        scanned = script.scanned[min(poll, len(script.scanned) - 1)] if script.scanned else 0
        statistics: dict[str, Any] = {
            "DataScannedInBytes": scanned,
            "EngineExecutionTimeInMillis": 1200,
            "QueryQueueTimeInMillis": 300,
            "TotalExecutionTimeInMillis": 1600,
        }
        if state == "SUCCEEDED":
            statistics["ResultReuseInformation"] = {"ReusedPreviousResult": script.reused}
        return {
            "QueryExecution": {
                "QueryExecutionId": QueryExecutionId,
                "StatementType": script.statement_type,
                "WorkGroup": "tsfraud-analysts",
                "ResultConfiguration": {"OutputLocation": f"{OUTPUT}{QueryExecutionId}.csv"},
                "Status": status,
                "Statistics": statistics,
            }
        }

    def get_query_results(self, **kwargs: Any) -> dict[str, Any]:
        self.result_calls.append(kwargs)
        script = self.queries[kwargs["QueryExecutionId"]]
        token = kwargs.get("NextToken")
        index = 0 if token is None else int(token.removeprefix("token-"))
        return script.pages[index]

    def stop_query_execution(self, QueryExecutionId: str) -> dict[str, Any]:
        self.stopped.append(QueryExecutionId)
        return {}

    # --- s3, for the large-result path ---
    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def fake_warehouse(
    fake: FakeAthena, fake_time: FakeTime | None = None, **config: Any
) -> AthenaWarehouse:
    fake_time = fake_time or FakeTime()
    settings: dict[str, Any] = {
        "workgroup": "tsfraud-analysts",
        "schema_name": "tsfraud",
        "output_location": OUTPUT,
        "run_scope": "run-1",
        **config,
    }
    return AthenaWarehouse(**settings).use_clients(
        fake, fake, sleep=fake_time.sleep, clock=fake_time.clock, now=lambda: T0
    )


COLUMNS = [
    ("employee_id", "bigint"),
    ("work_date", "date"),
    ("fraud_score", "double"),
    ("rank", "integer"),
    ("is_suspect", "boolean"),
    ("total_hours", "decimal"),
    ("reasons", "varchar"),
    ("scored_at", "timestamp"),
]
ROWS: list[Row] = [
    ["7", "2026-06-29", "0.91", "1", "true", "12.50", "leave booked", "2026-06-30 06:00:00.125"],
    ["3", "2026-06-29", "1.5E-4", "2", "false", "8.00", "", "2026-06-30 06:00:00.000"],
    ["11", "2026-06-29", "0.5", "3", "true", "7.25", None, "2026-06-30 06:01:00.000"],
    ["12", "2026-06-29", "0.25", "4", "false", "0.00", "it's \"odd\", isn't it", None],
    ["40", "2026-06-29", "0.125", "5", "false", "9.75", "one,two\nthree", "2026-06-30 06:02:00.5"],
]


def expected_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "employee_id": np.array([7, 3, 11, 12, 40], dtype="int64"),
            "work_date": pd.to_datetime(["2026-06-29"] * 5).astype("datetime64[us]"),
            "fraud_score": [0.91, 1.5e-4, 0.5, 0.25, 0.125],
            "rank": np.array([1, 2, 3, 4, 5], dtype="int32"),
            "is_suspect": [True, False, True, False, False],
            "total_hours": [12.5, 8.0, 7.25, 0.0, 9.75],
            "reasons": pd.Series(
                ["leave booked", "", None, "it's \"odd\", isn't it", "one,two\nthree"],
                dtype=object,
            ),
            "scored_at": pd.Series(
                [
                    pd.Timestamp("2026-06-30 06:00:00.125"),
                    pd.Timestamp("2026-06-30 06:00:00"),
                    pd.Timestamp("2026-06-30 06:01:00"),
                    pd.NaT,
                    pd.Timestamp("2026-06-30 06:02:00.5"),
                ],
                dtype="datetime64[us]",
            ),
        }
    )


# --------------------------------------------------------------------------------------------
# Life cycle
# --------------------------------------------------------------------------------------------


def test_queued_running_succeeded_over_several_pages() -> None:
    fake, clock = FakeAthena(), FakeTime()
    fake.script(
        Script(
            states=["QUEUED", "QUEUED", "RUNNING", "RUNNING", "SUCCEEDED"],
            pages=result_pages(COLUMNS, ROWS, page_size=2),
            scanned=[0, 0, 1024, 2048, 3 * 1024**3],
        )
    )
    warehouse = fake_warehouse(fake, clock, large_results_from_s3=False, page_size=2)

    frame = warehouse.query(
        "select * from tsfraud.suspects where work_date = ?", [dt.date(2026, 6, 29)]
    )

    pd.testing.assert_frame_equal(frame, expected_frame())
    # three pages read, each after the first by its NextToken
    assert [call.get("NextToken") for call in fake.result_calls] == [None, "token-1", "token-2"]
    assert all(call["MaxResults"] == 2 for call in fake.result_calls)
    # four polls before SUCCEEDED: waits grow 0.5, 1, 2, 4
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0]
    request = fake.requests[0]
    assert request["WorkGroup"] == "tsfraud-analysts"
    assert request["QueryExecutionContext"] == {"Database": "tsfraud", "Catalog": "awsdatacatalog"}
    assert request["ResultConfiguration"] == {"OutputLocation": OUTPUT}
    assert request["ExecutionParameters"] == ["DATE '2026-06-29'"]
    assert "ResultReuseConfiguration" not in request


def test_backoff_is_capped_at_the_maximum_delay() -> None:
    fake, clock = FakeAthena(), FakeTime()
    fake.script(Script(states=["RUNNING"] * 7 + ["SUCCEEDED"], pages=result_pages(COLUMNS, [])))
    warehouse = fake_warehouse(fake, clock, poll_initial_seconds=1, poll_max_seconds=5)

    frame = warehouse.query("select 1")

    assert clock.sleeps == [1, 2, 4, 5, 5, 5, 5]
    assert frame.empty and list(frame.columns) == [name for name, _ in COLUMNS]


def test_failed_query_raises_with_athenas_reason() -> None:
    fake = FakeAthena()
    reason = "COLUMN_NOT_FOUND: line 1:8: Column 'fraud_scor' cannot be resolved"
    fake.script(
        Script(
            states=["RUNNING", "FAILED"],
            reason=reason,
            error={
                "ErrorCategory": 2,
                "ErrorType": 1006,
                "Retryable": False,
                "ErrorMessage": reason,
            },
            scanned=[0],
        )
    )
    warehouse = fake_warehouse(fake)

    with pytest.raises(AthenaQueryFailed) as caught:
        warehouse.query("select fraud_scor from suspects")

    message = str(caught.value)
    assert reason in message and "q-1" in message and "ErrorType=1006" in message
    assert caught.value.athena_error["ErrorCategory"] == 2
    assert len(fake.requests) == 1, "a user error is not retried"
    stats = warehouse.last_query_stats
    assert stats is not None and stats.state == "FAILED" and stats.estimated_cost_usd == 0


def test_timeout_stops_the_query_and_raises() -> None:
    fake, clock = FakeAthena(), FakeTime()
    fake.script(Script(states=["QUEUED", "RUNNING"], scanned=[0, 5 * 1024**2]))
    warehouse = fake_warehouse(fake, clock, timeout_seconds=10)

    with pytest.raises(AthenaQueryTimeout, match="still RUNNING after 10s"):
        warehouse.query("select * from employee_day_features")

    assert fake.stopped == ["q-1"]
    assert clock.now == pytest.approx(10)  # waited exactly up to the deadline, no further
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 2.5]
    stats = warehouse.last_query_stats
    assert stats is not None and stats.state == "CANCELLED"
    assert stats.bytes_scanned == 5 * 1024**2


def test_cancelled_query_reports_the_reason() -> None:
    fake = FakeAthena()
    reason = "Query cancelled: Bytes scanned limit was exceeded"
    fake.script(Script(states=["RUNNING", "CANCELLED"], reason=reason))

    with pytest.raises(AthenaQueryCancelled, match=reason):
        fake_warehouse(fake).query("select * from employee_day_features")
    assert len(fake.requests) == 1


def test_scan_limit_stops_a_runaway_query() -> None:
    fake = FakeAthena()
    fake.script(Script(states=["RUNNING"] * 5, scanned=[10, 2 * 1024**3]))
    warehouse = fake_warehouse(fake, max_bytes_scanned=1024**3)

    with pytest.raises(AthenaScanLimitExceeded, match="work_date partition"):
        warehouse.query("select * from employee_day_features")
    assert fake.stopped == ["q-1"]


def test_scan_limit_is_checked_after_success_too() -> None:
    fake = FakeAthena()
    fake.script(
        Script(states=["SUCCEEDED"], scanned=[2 * 1024**3], pages=result_pages(COLUMNS, ROWS))
    )
    warehouse = fake_warehouse(fake, max_bytes_scanned=1024**3)

    with pytest.raises(AthenaScanLimitExceeded, match="2,147,483,648 bytes"):
        warehouse.query("select * from employee_day_features")
    stats = warehouse.last_query_stats
    assert stats is not None and stats.bytes_scanned == 2 * 1024**3  # recorded all the same


# --------------------------------------------------------------------------------------------
# Idempotency and retries
# --------------------------------------------------------------------------------------------


def test_token_is_stable_for_the_same_query_and_differs_otherwise() -> None:
    warehouse = AthenaWarehouse(run_scope="run-1")
    token = warehouse.start_request("select ?", [dt.date(2026, 6, 1)])["ClientRequestToken"]

    again = AthenaWarehouse(run_scope="run-1").start_request("select ?", [dt.date(2026, 6, 1)])
    assert again["ClientRequestToken"] == token
    others = [
        warehouse.start_request("select ?", [dt.date(2026, 6, 2)]),
        warehouse.start_request("select ? ", [dt.date(2026, 6, 1)]),
        warehouse.start_request("select ?", [dt.date(2026, 6, 1)], max_age_minutes=60),
        warehouse.start_request("select ?", [dt.date(2026, 6, 1)], attempt=1),
        AthenaWarehouse(run_scope="run-2").start_request("select ?", [dt.date(2026, 6, 1)]),
    ]
    tokens = {token} | {o["ClientRequestToken"] for o in others}
    assert len(tokens) == 6
    assert 32 <= len(token) <= 128


def test_default_scope_is_the_dagster_run_or_one_per_instance() -> None:
    seen: list[str] = []

    @dg.asset
    def reads_the_warehouse(warehouse: AthenaWarehouse) -> None:
        seen.append(warehouse.scope)

    result = dg.materialize([reads_the_warehouse], resources={"warehouse": AthenaWarehouse()})
    assert seen == [result.run_id]
    pinned = AthenaWarehouse(run_scope="backfill-2026-06")
    pinned.setup_for_execution(SimpleNamespace(run_id="other"))  # type: ignore[arg-type]
    assert pinned.scope == "backfill-2026-06"
    first, second = AthenaWarehouse(), AthenaWarehouse()
    assert first.scope != second.scope and first.scope == first.scope


def test_a_repeated_call_gets_the_same_query_back_instead_of_running_it_again() -> None:
    fake = FakeAthena()
    fake.script(Script(states=["RUNNING", "SUCCEEDED"], pages=result_pages(COLUMNS, ROWS)))
    warehouse = fake_warehouse(fake)

    first = warehouse.query("select * from suspects where work_date = ?", [dt.date(2026, 6, 29)])
    second = warehouse.query("select * from suspects where work_date = ?", [dt.date(2026, 6, 29)])

    assert len(fake.requests) == 2 and len(fake.queries) == 1  # one query, started once
    pd.testing.assert_frame_equal(first, second)


def test_a_retryable_failure_is_retried_under_a_new_token() -> None:
    fake, clock = FakeAthena(), FakeTime()
    fake.script(
        Script(
            states=["FAILED"],
            reason="INTERNAL_ERROR_QUERY_ENGINE",
            error={"ErrorCategory": 1, "ErrorType": 401, "Retryable": True},
        )
    )
    fake.script(Script(states=["SUCCEEDED"], pages=result_pages(COLUMNS, ROWS)))
    warehouse = fake_warehouse(fake, clock)

    frame = warehouse.query("select * from suspects")

    assert len(frame) == len(ROWS)
    tokens = [r["ClientRequestToken"] for r in fake.requests]
    assert len(set(tokens)) == 2
    assert [s.attempt for s in warehouse.query_stats] == [0, 1]
    assert clock.sleeps == [1.0]  # one backoff before the second attempt


def test_a_replayed_old_failure_is_not_taken_for_this_calls_answer() -> None:
    """A step retried in the same Dagster run reuses the tokens: a query that failed in the
    earlier attempt comes back FAILED at once, and must be run again, not re-raised."""
    fake = FakeAthena()
    old = T0 - dt.timedelta(minutes=3)
    fake.script(Script(states=["CANCELLED"], reason="timed out", submitted=old))
    fake.script(Script(states=["SUCCEEDED"], pages=result_pages(COLUMNS, ROWS)))
    warehouse = fake_warehouse(fake)

    frame = warehouse.query("select * from suspects")

    assert len(frame) == len(ROWS) and len(fake.queries) == 2


# --------------------------------------------------------------------------------------------
# Result reuse, parameters, statistics
# --------------------------------------------------------------------------------------------


def test_result_reuse_is_requested_only_when_the_caller_allows_stale_results() -> None:
    fake = FakeAthena()
    fake.script(Script(states=["SUCCEEDED"], pages=result_pages(COLUMNS, ROWS), scanned=[10**9]))
    fake.script(
        Script(states=["SUCCEEDED"], pages=result_pages(COLUMNS, ROWS), scanned=[0], reused=True)
    )
    warehouse = fake_warehouse(fake)

    warehouse.query("select * from suspects")
    warehouse.query("select * from suspects", max_age_minutes=60)

    assert "ResultReuseConfiguration" not in fake.requests[0]
    assert fake.requests[1]["ResultReuseConfiguration"] == {
        "ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": 60}
    }
    fresh, reused = warehouse.query_stats
    assert not fresh.reused_result and fresh.estimated_cost_usd > 0
    assert reused.reused_result and reused.estimated_cost_usd == 0
    with pytest.raises(ValueError, match="10080"):
        warehouse.query("select 1", max_age_minutes=10081)


def test_parameters_are_spliced_in_as_athena_literals() -> None:
    assert athena_literal(dt.date(2026, 6, 29)) == "DATE '2026-06-29'"
    assert athena_literal(pd.Timestamp("2026-06-29")) == "TIMESTAMP '2026-06-29 00:00:00.000000'"
    assert (
        athena_literal(dt.datetime(2026, 6, 29, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))))
        == "TIMESTAMP '2026-06-29 06:30:00.000000 UTC'"
    )
    assert athena_literal(np.datetime64("2026-06-29T01:02:03")) == (
        "TIMESTAMP '2026-06-29 01:02:03.000000'"
    )
    assert athena_literal("O'Brien") == "'O''Brien'"
    assert athena_literal("") == "''"
    assert athena_literal(None) == "NULL"
    assert athena_literal(True) == "true" and athena_literal(np.bool_(False)) == "false"
    assert athena_literal(np.int64(42)) == "42"
    assert athena_literal(0.1) == "DOUBLE '0.1'"
    assert athena_literal(float("nan")) == "nan()"
    assert athena_literal(decimal.Decimal("12.50")) == "DECIMAL '12.50'"
    assert athena_literal(b"\x01\xff") == "X'01ff'"
    with pytest.raises(TypeError):
        athena_literal(object())

    fake = FakeAthena()
    fake.script(Script(states=["SUCCEEDED"], pages=result_pages(COLUMNS, [])))
    fake_warehouse(fake).query(
        "select * from t where work_date between ? and ? and office = ? and employee_id = ?",
        [dt.date(2026, 6, 1), dt.date(2026, 6, 29), "King's Cross", 7],
    )
    assert fake.requests[0]["ExecutionParameters"] == [
        "DATE '2026-06-01'",
        "DATE '2026-06-29'",
        "'King''s Cross'",
        "7",
    ]


def test_no_execution_parameters_are_sent_without_params() -> None:
    fake = FakeAthena()
    fake.script(Script(states=["SUCCEEDED"], pages=result_pages(COLUMNS, [])))
    fake_warehouse(fake, output_location=None).query("select 1")
    assert "ExecutionParameters" not in fake.requests[0]
    assert "ResultConfiguration" not in fake.requests[0]  # the workgroup's location applies


def test_bytes_and_cost_are_recorded_per_query_and_become_dagster_metadata() -> None:
    fake = FakeAthena()
    fake.script(Script(states=["SUCCEEDED"], pages=result_pages(COLUMNS, []), scanned=[1024]))
    fake.script(Script(states=["SUCCEEDED"], pages=result_pages(COLUMNS, []), scanned=[2**40]))
    warehouse = fake_warehouse(fake)

    warehouse.query("select 1")
    warehouse.query("select 2")

    small, big = warehouse.query_stats
    assert warehouse.last_query_stats == big
    assert (small.query_id, small.bytes_scanned) == ("q-1", 1024)
    assert small.estimated_cost_usd == pytest.approx(10 * 2**20 / 2**40 * 5)  # 10 MB minimum
    assert big.estimated_cost_usd == pytest.approx(5.0)
    assert (big.engine_ms, big.queued_ms, big.total_ms) == (1200, 300, 1600)
    assert big.output_location == f"{OUTPUT}q-2.csv"

    metadata = warehouse.stats_metadata()
    assert metadata["athena_query_ids"] == dg.MetadataValue.json(["q-1", "q-2"])
    assert metadata["athena_bytes_scanned"] == dg.MetadataValue.int(1024 + 2**40)
    cost = metadata["athena_estimated_cost_usd"].value
    assert isinstance(cost, float) and cost == pytest.approx(5.0 + 10 * 2**20 / 2**40 * 5)
    assert query_stats_metadata([]) == {}


def test_cost_rules() -> None:
    assert athena_cost_usd(0) == pytest.approx(athena_cost_usd(10 * 2**20))
    assert athena_cost_usd(10 * 2**20 + 1) == pytest.approx(11 * 2**20 / 2**40 * 5)
    assert athena_cost_usd(2**40, state="FAILED") == 0
    assert athena_cost_usd(2**40, statement_type="DDL") == 0
    assert athena_cost_usd(2**40, state="CANCELLED") == pytest.approx(5.0)


# --------------------------------------------------------------------------------------------
# Large results through the CSV file in S3
# --------------------------------------------------------------------------------------------


def test_a_result_of_several_pages_is_read_from_its_csv_in_s3() -> None:
    fake = FakeAthena()
    fake.script(
        Script(
            states=["SUCCEEDED"],
            pages=result_pages(COLUMNS, ROWS, page_size=2),
            csv=athena_csv(COLUMNS, ROWS),
        )
    )
    warehouse = fake_warehouse(fake, page_size=2)

    frame = warehouse.query("select * from suspects")

    pd.testing.assert_frame_equal(frame, expected_frame())
    assert len(fake.result_calls) == 1, "only the first page (for the column types) was paged"


def test_a_single_page_result_never_touches_s3() -> None:
    fake = FakeAthena()
    fake.script(Script(states=["SUCCEEDED"], pages=result_pages(COLUMNS, ROWS)))
    frame = fake_warehouse(fake).query("select * from suspects")
    pd.testing.assert_frame_equal(frame, expected_frame())
    assert fake.objects == {}


def test_nulls_and_other_types_convert_like_duckdb() -> None:
    columns = [
        ("n_bigint", "bigint"),
        ("n_int", "integer"),
        ("flag", "boolean"),
        ("small", "smallint"),
        ("real_value", "real"),
        ("stamp_tz", "timestamp with time zone"),
        ("tags", "array"),
        ("day", "date"),
    ]
    rows: list[Row] = [
        ["1", None, None, "3", "1.5", "2026-06-29 10:00:00.000 Europe/Paris", "[a, b]", None],
        [None, "2", "true", "4", "NaN", None, "[]", "2026-06-30"],
    ]
    fake = FakeAthena()
    fake.script(Script(states=["SUCCEEDED"], pages=result_pages(columns, rows)))

    frame = fake_warehouse(fake).query("select ...")

    assert frame.dtypes.astype(str).to_dict() == {
        "n_bigint": "Int64",
        "n_int": "Int32",
        "flag": "boolean",
        "small": "int16",
        "real_value": "float32",
        "stamp_tz": "datetime64[us, UTC]",
        "tags": "object",
        "day": "datetime64[us]",
    }
    assert frame["stamp_tz"][0] == pd.Timestamp("2026-06-29 08:00", tz="UTC")
    assert frame["n_bigint"].isna().tolist() == [False, True]
    assert np.isnan(frame["real_value"][1]) and frame["tags"][0] == "[a, b]"


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


def test_athena_warehouse_from_env() -> None:
    defaults = athena_warehouse_from_env({})
    assert (defaults.workgroup, defaults.schema_name) == ("primary", "tsfraud")
    assert defaults.output_location is None and defaults.region_name is None

    configured = athena_warehouse_from_env(
        {
            "TSFRAUD_ATHENA_WORKGROUP": "tsfraud-analysts",
            "TSFRAUD_ATHENA_SCHEMA": "tsfraud_prod",
            "TSFRAUD_ATHENA_OUTPUT": "s3://results-bucket/athena-results",
            "AWS_DEFAULT_REGION": "eu-west-1",
        }
    )
    assert configured.workgroup == "tsfraud-analysts"
    assert configured.relation("suspect_timesheets") == '"tsfraud_prod"."suspect_timesheets"'
    assert configured.output_location == "s3://results-bucket/athena-results/"
    assert configured.region_name == "eu-west-1"
    with pytest.raises(ValueError, match="s3://"):
        athena_warehouse_from_env({"TSFRAUD_ATHENA_OUTPUT": "/tmp/results"})
