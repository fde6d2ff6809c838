"""The warehouse the dbt models live in: every reader of modelled data goes through here.

Local: the dbt-duckdb database file, opened read-only and only for the length of one query, so
a reader never holds the lock a running `dbt build` needs for longer than a query.
AWS: Athena over the Glue schema dbt-athena builds, through Athena's asynchronous API (start,
poll, page through results), because a query there is a remote job that is billed per byte
scanned and may queue: the resource records what each query scanned and cost, and refuses to
run the same request twice when a call is retried.

Both take `?` placeholders with Python values, so callers write one SQL string for both.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import io
import json
import math
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from pydantic import Field, PrivateAttr

from tsfraud_assets.lib.formatting import parse_s3_uri

# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class WarehouseError(RuntimeError):
    """A query could not be answered; the message says which warehouse and why."""


class WarehouseNotFoundError(WarehouseError, FileNotFoundError):
    """The local warehouse file is missing: nothing has been built yet, or the path is wrong."""


class WarehouseBusyError(WarehouseError):
    """Another process (a `dbt build`) holds the DuckDB file's write lock."""


class AthenaQueryError(WarehouseError):
    """An Athena query ended without results; carries Athena's own account of why."""

    def __init__(
        self,
        message: str,
        *,
        query_id: str | None,
        state: str | None,
        reason: str | None = None,
        athena_error: Mapping[str, Any] | None = None,
        replayed: bool = False,
    ) -> None:
        super().__init__(message)
        self.query_id = query_id
        self.state = state
        self.reason = reason
        self.athena_error = dict(athena_error or {})
        # True when the token handed back a query an earlier call started and it had
        # already ended this way: not a verdict on this call, so worth a fresh attempt.
        self.replayed = replayed


class AthenaQueryFailed(AthenaQueryError):
    """Athena reported FAILED (bad SQL, missing table, permissions, an engine fault)."""


class AthenaQueryCancelled(AthenaQueryError):
    """Athena reported CANCELLED: an operator, or the workgroup's bytes-scanned cutoff."""


class AthenaQueryTimeout(AthenaQueryError):
    """The query did not finish in time; it has been stopped so it stops costing money."""


class AthenaScanLimitExceeded(AthenaQueryError):
    """The query scanned more than this resource allows (a lost partition filter, usually)."""


# --------------------------------------------------------------------------------------------
# Per-query statistics and their cost
# --------------------------------------------------------------------------------------------

#: Athena SQL pricing: USD 5 per TB scanned, each query rounded up to the megabyte with a
#: 10 MB minimum. Failed queries, DDL and reused results are free; cancelled ones pay for
#: what they scanned. (TB and MB are taken as binary units, as the console reports them.)
USD_PER_TB = 5.0
BYTES_PER_MB = 1024**2
BYTES_PER_TB = 1024**4
MIN_BILLED_MB = 10


def athena_cost_usd(
    bytes_scanned: int, *, state: str = "SUCCEEDED", statement_type: str | None = "DML"
) -> float:
    """What Athena bills for one query, so asset metadata shows spend per run without
    waiting for the bill."""
    if state == "FAILED" or statement_type == "DDL":
        return 0.0
    billed_mb = max(math.ceil(max(bytes_scanned, 0) / BYTES_PER_MB), MIN_BILLED_MB)
    return billed_mb * BYTES_PER_MB / BYTES_PER_TB * USD_PER_TB


@dataclass(frozen=True)
class QueryStats:
    query_id: str
    state: str
    workgroup: str
    statement_type: str | None
    bytes_scanned: int
    estimated_cost_usd: float
    reused_result: bool
    engine_ms: int | None
    queued_ms: int | None
    total_ms: int | None
    output_location: str | None
    attempt: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def query_stats_metadata(stats: Sequence[QueryStats]) -> dict[str, dg.MetadataValue]:
    """Dagster metadata for the queries an asset ran: spend shows up on the asset's page and
    the query ids lead straight to Athena's history. Empty when nothing was recorded (DuckDB)."""
    if not stats:
        return {}
    return {
        "warehouse_queries": dg.MetadataValue.int(len(stats)),
        "athena_query_ids": dg.MetadataValue.json([s.query_id for s in stats]),
        "athena_bytes_scanned": dg.MetadataValue.int(sum(s.bytes_scanned for s in stats)),
        "athena_estimated_cost_usd": dg.MetadataValue.float(
            round(sum(s.estimated_cost_usd for s in stats), 6)
        ),
        "athena_reused_results": dg.MetadataValue.int(sum(s.reused_result for s in stats)),
    }


# --------------------------------------------------------------------------------------------
# The resource interface
# --------------------------------------------------------------------------------------------


class Warehouse(dg.ConfigurableResource):
    """Read access to the dbt models. `query` takes `?` placeholders and Python values.

    `max_age_minutes` lets a caller accept a cached result up to that old, where the engine
    has such a cache (Athena); engines without one always answer fresh, which satisfies it.
    """

    #: How the report's cost section names the engine, and whether it bills per query.
    engine: ClassVar[str] = "warehouse"
    billed: ClassVar[bool] = False

    _stats: list[QueryStats] = PrivateAttr(default_factory=list)

    def query(
        self, sql: str, params: Sequence[Any] | None = None, *, max_age_minutes: int | None = None
    ) -> pd.DataFrame:
        raise NotImplementedError  # pragma: no cover - each deployment supplies a subclass

    def relation(self, name: str) -> str:
        raise NotImplementedError  # pragma: no cover

    @property
    def query_stats(self) -> list[QueryStats]:
        """Every query this resource instance ran (in a Dagster step: the step's queries)."""
        return list(self._stats)

    @property
    def last_query_stats(self) -> QueryStats | None:
        return self._stats[-1] if self._stats else None

    def stats_metadata(self) -> dict[str, dg.MetadataValue]:
        return query_stats_metadata(self._stats)


# --------------------------------------------------------------------------------------------
# DuckDB
# --------------------------------------------------------------------------------------------


class DuckDBWarehouse(Warehouse):
    engine: ClassVar[str] = "duckdb (local)"
    billed: ClassVar[bool] = False

    path: str = Field(description="dbt-duckdb database file")
    schema_name: str = Field(default="main", description="schema the dbt models are built in")
    lock_wait_seconds: float = Field(
        default=30.0,
        description="how long to keep retrying while a dbt build holds the file's write lock",
    )

    def relation(self, name: str) -> str:
        return f'"{self.schema_name}"."{name}"'

    def query(
        self, sql: str, params: Sequence[Any] | None = None, *, max_age_minutes: int | None = None
    ) -> pd.DataFrame:
        with self._connect() as con:
            return con.execute(sql, list(params or [])).df()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        # DuckDB would report a missing file as an opaque IO error in read-only mode; say
        # what to do instead.
        if self.path != ":memory:" and not Path(self.path).exists():
            raise WarehouseNotFoundError(
                f"DuckDB warehouse {self.path} does not exist: build the dbt models first "
                "(`tsfraud run` or `dbt build`), or point TSFRAUD_DUCKDB_PATH at the file"
            )
        deadline = time.monotonic() + self.lock_wait_seconds
        delay = 0.1
        while True:
            try:
                return duckdb.connect(self.path, read_only=True)
            except duckdb.IOException as exc:
                # A writer in another process (dbt) excludes readers; its runs are short, so
                # wait a little rather than fail a scoring step that merely overlapped it.
                if "lock" not in str(exc).lower():
                    raise
                if time.monotonic() + delay > deadline:
                    raise WarehouseBusyError(
                        f"DuckDB warehouse {self.path} is locked by another process (a running "
                        f"dbt build?) and stayed locked for {self.lock_wait_seconds:g}s: {exc}"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 2.0)


# --------------------------------------------------------------------------------------------
# Athena: parameters
# --------------------------------------------------------------------------------------------


def athena_literal(value: Any) -> str:
    """A Python value as the Trino literal Athena splices in for a `?`.

    ExecutionParameters are not bound values: each string is inserted into the SQL text as
    is, so a date must arrive as `DATE '2024-03-04'` (a bare '2024-03-04' is a varchar and
    comparing it with a date column fails) and a string must be quoted and escaped here.
    """
    if value is None or value is pd.NaT:
        return "NULL"
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return "nan()"
        if math.isinf(number):
            return "infinity()" if number > 0 else "-infinity()"
        return f"DOUBLE '{number!r}'"
    if isinstance(value, decimal.Decimal):
        return f"DECIMAL '{value}'"
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value).to_pydatetime()
    if isinstance(value, dt.datetime):  # before date: a datetime is a date too
        if value.tzinfo is not None:
            utc = value.astimezone(dt.UTC).replace(tzinfo=None)
            return f"TIMESTAMP '{utc.isoformat(sep=' ', timespec='microseconds')} UTC'"
        return f"TIMESTAMP '{value.isoformat(sep=' ', timespec='microseconds')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, bytes):
        return f"X'{value.hex()}'"
    raise TypeError(f"no Athena literal for {type(value).__name__}: {value!r}")


# --------------------------------------------------------------------------------------------
# Athena: results
# --------------------------------------------------------------------------------------------

#: Athena integer type -> (numpy dtype, nullable pandas dtype), as DuckDB's `.df()` picks them.
_INT_DTYPES: dict[str, tuple[np.dtype[Any], pd.api.extensions.ExtensionDtype]] = {
    "tinyint": (np.dtype("int8"), pd.Int8Dtype()),
    "smallint": (np.dtype("int16"), pd.Int16Dtype()),
    "integer": (np.dtype("int32"), pd.Int32Dtype()),
    "int": (np.dtype("int32"), pd.Int32Dtype()),
    "bigint": (np.dtype("int64"), pd.Int64Dtype()),
}
_FLOAT_DTYPES = {"double": "float64", "real": "float32", "float": "float32", "decimal": "float64"}


def _column_series(values: Sequence[str | None], athena_type: str) -> pd.Series:
    """One result column from Athena's strings, typed like DuckDB's `.df()` would type it.

    Both warehouses feed the same pandas code, so the dtypes match DuckDB's: integers are
    numpy ints unless a NULL forces the nullable Int dtype, booleans likewise, DECIMAL becomes
    float64, dates and timestamps datetime64[us]; anything else (arrays, maps, json) stays a
    string.
    """
    kind = athena_type.lower().split("(")[0].strip()
    texts: list[Any] = list(values)
    if kind in _INT_DTYPES:
        plain, nullable = _INT_DTYPES[kind]
        ints = pd.Series([None if v is None else int(v) for v in texts], dtype=nullable)
        return ints if ints.isna().any() else ints.astype(plain)
    if kind in _FLOAT_DTYPES:
        floats = [np.nan if v is None else float(v) for v in texts]
        return pd.Series(floats, dtype=_FLOAT_DTYPES[kind])
    if kind == "boolean":
        flags = pd.Series([None if v is None else v.lower() == "true" for v in texts])
        flags = flags.astype("boolean")
        return flags if flags.isna().any() else flags.astype(bool)
    if kind == "date":
        dates = pd.to_datetime(pd.Series(texts, dtype=object), format="%Y-%m-%d")
        return dates.astype("datetime64[us]")
    if kind == "timestamp with time zone":
        return pd.Series([_zoned_timestamp(v) for v in texts], dtype="datetime64[us, UTC]")
    if kind == "timestamp":
        stamps = pd.to_datetime(pd.Series(texts, dtype=object), format="ISO8601")
        return stamps.astype("datetime64[us]")
    return pd.Series(texts, dtype=object)


def _zoned_timestamp(text: str | None) -> pd.Timestamp | None:
    # Athena renders `timestamp with time zone` as "2024-03-04 10:00:00.000 Europe/Paris".
    if text is None:
        return None
    stamp, _, zone = text.rpartition(" ")
    return pd.Timestamp(stamp).tz_localize(zone).tz_convert("UTC")


def _frame(
    column_info: Sequence[Mapping[str, Any]], rows: Sequence[Sequence[str | None]]
) -> pd.DataFrame:
    names = [str(c.get("Label") or c["Name"]) for c in column_info]
    columns = {
        i: _column_series([row[i] for row in rows], str(c["Type"]))
        for i, c in enumerate(column_info)
    }
    frame = pd.DataFrame(columns) if columns else pd.DataFrame(index=range(len(rows)))
    frame.columns = pd.Index(names)  # may repeat a name, as SQL allows
    return frame


def _row_values(row: Mapping[str, Any]) -> list[str | None]:
    # A NULL comes back as a Datum without VarCharValue; an empty string has one.
    return [datum.get("VarCharValue") for datum in row["Data"]]


def _csv_rows(data: bytes, width: int) -> list[list[str | None]]:
    """The rows of an Athena result CSV, NULL kept apart from the empty string.

    Athena quotes every non-NULL value and writes NULL as an empty unquoted field; pyarrow
    can tell the two apart (Python's csv module before 3.12 cannot).
    """
    table = pa_csv.read_csv(
        io.BytesIO(data),
        read_options=pa_csv.ReadOptions(skip_rows=1, column_names=[f"c{i}" for i in range(width)]),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types={f"c{i}": pa.string() for i in range(width)},
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            null_values=[""],
        ),
    )
    columns = [table.column(i).to_pylist() for i in range(width)]
    return [list(row) for row in zip(*columns, strict=True)] if columns else []


# --------------------------------------------------------------------------------------------
# Athena: the resource
# --------------------------------------------------------------------------------------------

_TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class _TimeSource:
    """How the resource waits and tells time; tests swap in a fake so polling costs nothing."""

    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    now: Callable[[], dt.datetime] = _utc_now


#: How far Athena's clock may trail ours before a "new" query's submission time is read as
#: belonging to an earlier call with the same token.
_REPLAY_SKEW = dt.timedelta(seconds=5)


class AthenaWarehouse(Warehouse):
    """The dbt models in the Glue schema, queried through Athena's asynchronous API.

    Every start carries an idempotency token derived from the SQL, the parameters and a scope
    (the Dagster run), so within one run an identical query runs once and later calls get its
    result back. That is the point for retries; a caller that changes the data mid-run and
    must re-read it has to vary the SQL or the scope.
    """

    engine: ClassVar[str] = "athena"
    billed: ClassVar[bool] = True

    workgroup: str = Field(default="primary", description="Athena workgroup")
    schema_name: str = Field(default="tsfraud", description="Glue database dbt-athena builds in")
    catalog: str = Field(default="awsdatacatalog", description="Athena data catalog")
    output_location: str | None = Field(
        default=None,
        description="s3://.../athena-results/; None uses the workgroup's result location",
    )
    region_name: str | None = Field(default=None, description="None: boto3's default region")
    run_scope: str | None = Field(
        default=None,
        description="scope of the idempotency tokens; None: the Dagster run id, or one per "
        "resource instance outside Dagster",
    )
    poll_initial_seconds: float = Field(default=0.5, gt=0)
    poll_max_seconds: float = Field(default=10.0, gt=0)
    poll_backoff: float = Field(default=2.0, ge=1.0)
    timeout_seconds: float = Field(default=900.0, gt=0)
    max_bytes_scanned: int | None = Field(
        default=None,
        description="stop and fail a query past this many bytes (the workgroup's "
        "BytesScannedCutoffPerQuery is the hard limit; this one is ours)",
    )
    max_attempts: int = Field(
        default=3, ge=1, description="attempts for failures Athena marks retryable"
    )
    page_size: int = Field(default=1000, ge=1, le=1000, description="rows per GetQueryResults")
    large_results_from_s3: bool = Field(
        default=True,
        description="read a result of more than one page from its CSV in S3 instead of paging",
    )

    _athena: Any = PrivateAttr(default=None)
    _s3: Any = PrivateAttr(default=None)
    _time: _TimeSource = PrivateAttr(default_factory=_TimeSource)
    _scope: str | None = PrivateAttr(default=None)

    # --- wiring ---------------------------------------------------------------------------
    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # One scope per Dagster run: a step retried within the run gets the queries that
        # already succeeded back instead of paying for them again.
        if self.run_scope is None and context.run_id:
            self._scope = context.run_id

    def use_clients(
        self,
        athena: Any,
        s3: Any = None,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        now: Callable[[], dt.datetime] | None = None,
    ) -> AthenaWarehouse:
        """Hand in clients (a stubbed or recorded client in tests, a session's elsewhere) and
        the time functions, so the life cycle runs without AWS and without real waiting."""
        self._athena, self._s3 = athena, s3
        default = _TimeSource()
        self._time = _TimeSource(
            sleep=sleep or default.sleep, clock=clock or default.clock, now=now or default.now
        )
        return self

    @property
    def athena_client(self) -> Any:
        if self._athena is None:
            import boto3

            self._athena = boto3.client("athena", region_name=self.region_name)
        return self._athena

    @property
    def s3_client(self) -> Any:
        if self._s3 is None:
            import boto3

            self._s3 = boto3.client("s3", region_name=self.region_name)
        return self._s3

    @property
    def scope(self) -> str:
        if self._scope is None:
            self._scope = self.run_scope or uuid.uuid4().hex
        return self._scope

    def relation(self, name: str) -> str:
        return f'"{self.schema_name}"."{name}"'

    # --- the query life cycle -------------------------------------------------------------
    def query(
        self, sql: str, params: Sequence[Any] | None = None, *, max_age_minutes: int | None = None
    ) -> pd.DataFrame:
        execution = self.execute(sql, params, max_age_minutes=max_age_minutes)
        return self.fetch(execution)

    def start_request(
        self,
        sql: str,
        params: Sequence[Any] | None = None,
        *,
        max_age_minutes: int | None = None,
        attempt: int = 0,
    ) -> dict[str, Any]:
        """The StartQueryExecution request, token included: a pure function of the SQL,
        the parameters, the reuse setting, the scope and the attempt."""
        request: dict[str, Any] = {
            "QueryString": sql,
            "WorkGroup": self.workgroup,
            "QueryExecutionContext": {"Database": self.schema_name, "Catalog": self.catalog},
        }
        if self.output_location:
            request["ResultConfiguration"] = {"OutputLocation": self.output_location}
        if params:
            request["ExecutionParameters"] = [athena_literal(p) for p in params]
        if max_age_minutes is not None:
            if not 0 <= max_age_minutes <= 10080:
                raise ValueError("max_age_minutes must be within 0..10080 (Athena's limit)")
            request["ResultReuseConfiguration"] = {
                "ResultReuseByAgeConfiguration": {
                    "Enabled": True,
                    "MaxAgeInMinutes": max_age_minutes,
                }
            }
        identity = json.dumps([self.scope, attempt, request], sort_keys=True, default=str)
        request["ClientRequestToken"] = hashlib.sha256(identity.encode()).hexdigest()
        return request

    def execute(
        self, sql: str, params: Sequence[Any] | None = None, *, max_age_minutes: int | None = None
    ) -> dict[str, Any]:
        """Run the query to SUCCEEDED and return its QueryExecution; raise otherwise.

        The token makes a start idempotent: botocore's retries, or a re-executed step in the
        same scope, get the existing query back. A failure Athena marks retryable, or a
        failed query replayed from an earlier call, moves on to the next attempt's token,
        since the same token would only hand the same failure back.
        """
        attempt = 0
        while True:
            request = self.start_request(
                sql, params, max_age_minutes=max_age_minutes, attempt=attempt
            )
            called_at = self._time.now()
            query_id = self.athena_client.start_query_execution(**request)["QueryExecutionId"]
            try:
                return self._wait(query_id, attempt, called_at)
            except (AthenaQueryFailed, AthenaQueryCancelled) as exc:
                retryable = bool(exc.athena_error.get("Retryable")) or exc.replayed
                if not retryable or attempt + 1 >= self.max_attempts:
                    raise
                attempt += 1
                if not exc.replayed:
                    self._time.sleep(self.poll_initial_seconds * self.poll_backoff**attempt)

    def _wait(self, query_id: str, attempt: int, called_at: dt.datetime) -> dict[str, Any]:
        delay = self.poll_initial_seconds
        deadline = self._time.clock() + self.timeout_seconds
        while True:
            execution = self.athena_client.get_query_execution(QueryExecutionId=query_id)[
                "QueryExecution"
            ]
            state = execution["Status"]["State"]
            if state in _TERMINAL:
                break
            scanned = int(execution.get("Statistics", {}).get("DataScannedInBytes") or 0)
            if self.max_bytes_scanned is not None and scanned > self.max_bytes_scanned:
                self._stop(query_id)
                self._record(execution, attempt, state="CANCELLED")
                raise self._scan_limit_error(query_id, scanned)
            remaining = deadline - self._time.clock()
            if remaining <= 0:
                self._stop(query_id)
                self._record(execution, attempt, state="CANCELLED")
                raise AthenaQueryTimeout(
                    f"Athena query {query_id} in workgroup {self.workgroup} was still {state} "
                    f"after {self.timeout_seconds:g}s; it has been stopped",
                    query_id=query_id,
                    state=state,
                )
            self._time.sleep(min(delay, remaining))
            delay = min(delay * self.poll_backoff, self.poll_max_seconds)

        stats = self._record(execution, attempt)
        if state != "SUCCEEDED":
            raise self._state_error(execution, called_at)
        if self.max_bytes_scanned is not None and stats.bytes_scanned > self.max_bytes_scanned:
            raise self._scan_limit_error(query_id, stats.bytes_scanned)
        return execution

    def _stop(self, query_id: str) -> None:
        self.athena_client.stop_query_execution(QueryExecutionId=query_id)

    def _scan_limit_error(self, query_id: str, scanned: int) -> AthenaScanLimitExceeded:
        return AthenaScanLimitExceeded(
            f"Athena query {query_id} scanned {scanned:,} bytes, over this warehouse's limit "
            f"of {self.max_bytes_scanned:,} (does it filter on the work_date partition?)",
            query_id=query_id,
            state="CANCELLED",
        )

    def _state_error(
        self, execution: Mapping[str, Any], called_at: dt.datetime
    ) -> AthenaQueryError:
        status = execution["Status"]
        state = status["State"]
        reason = status.get("StateChangeReason")
        error = status.get("AthenaError") or {}
        details = ", ".join(
            f"{key}={error[key]}"
            for key in ("ErrorCategory", "ErrorType", "Retryable")
            if key in error
        )
        message = f"Athena query {execution['QueryExecutionId']} {state}"
        message += f" in workgroup {self.workgroup}: {reason or 'no reason given'}"
        if error.get("ErrorMessage") and error["ErrorMessage"] != reason:
            message += f" ({error['ErrorMessage']})"
        if details:
            message += f" [{details}]"
        submitted = status.get("SubmissionDateTime")
        replayed = isinstance(submitted, dt.datetime) and (
            _as_utc(submitted) < called_at - _REPLAY_SKEW
        )
        if replayed:
            message += " (replayed from an earlier call with the same idempotency token)"
        cls = AthenaQueryFailed if state == "FAILED" else AthenaQueryCancelled
        return cls(
            message,
            query_id=execution["QueryExecutionId"],
            state=state,
            reason=reason,
            athena_error=error,
            replayed=replayed,
        )

    def _record(
        self, execution: Mapping[str, Any], attempt: int, state: str | None = None
    ) -> QueryStats:
        statistics = execution.get("Statistics", {})
        state = state or execution["Status"]["State"]
        reused = bool(statistics.get("ResultReuseInformation", {}).get("ReusedPreviousResult"))
        scanned = int(statistics.get("DataScannedInBytes") or 0)
        statement_type = execution.get("StatementType")
        stats = QueryStats(
            query_id=execution["QueryExecutionId"],
            state=state,
            workgroup=execution.get("WorkGroup", self.workgroup),
            statement_type=statement_type,
            bytes_scanned=scanned,
            estimated_cost_usd=0.0
            if reused
            else athena_cost_usd(scanned, state=state, statement_type=statement_type),
            reused_result=reused,
            engine_ms=statistics.get("EngineExecutionTimeInMillis"),
            queued_ms=statistics.get("QueryQueueTimeInMillis"),
            total_ms=statistics.get("TotalExecutionTimeInMillis"),
            output_location=execution.get("ResultConfiguration", {}).get("OutputLocation"),
            attempt=attempt,
        )
        self._stats.append(stats)
        return stats

    def fetch(self, execution: Mapping[str, Any]) -> pd.DataFrame:
        """The result of a SUCCEEDED query as a DataFrame.

        GetQueryResults returns at most 1000 rows a call; a bigger result is one GET of the
        CSV Athena already wrote to S3, when `large_results_from_s3` allows it.
        """
        query_id = execution["QueryExecutionId"]
        page = self.athena_client.get_query_results(
            QueryExecutionId=query_id, MaxResults=self.page_size
        )
        column_info = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
        rows = [_row_values(row) for row in page["ResultSet"].get("Rows", [])]
        # For a SELECT the first row of the first page repeats the column names.
        has_header = execution.get("StatementType", "DML") == "DML"
        if has_header and rows:
            rows = rows[1:]
        token = page.get("NextToken")
        location = execution.get("ResultConfiguration", {}).get("OutputLocation")
        if token and self.large_results_from_s3 and has_header and location:
            bucket, key = parse_s3_uri(location)
            body = self.s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
            return _frame(column_info, _csv_rows(body, len(column_info)))
        while token:
            page = self.athena_client.get_query_results(
                QueryExecutionId=query_id, MaxResults=self.page_size, NextToken=token
            )
            rows.extend(_row_values(row) for row in page["ResultSet"].get("Rows", []))
            token = page.get("NextToken")
        return _frame(column_info, rows)


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def athena_warehouse_from_env(env: Mapping[str, str]) -> AthenaWarehouse:
    """The production warehouse from the same variables the dbt `athena` target reads, so
    the Python readers and dbt agree on the workgroup and schema (`Settings.athena_env`)."""
    output = env.get("TSFRAUD_ATHENA_OUTPUT") or None
    if output is not None and not output.startswith("s3://"):
        raise ValueError(f"TSFRAUD_ATHENA_OUTPUT must be an s3:// prefix, got {output!r}")
    if output is not None and not output.endswith("/"):
        output += "/"
    return AthenaWarehouse(
        workgroup=env.get("TSFRAUD_ATHENA_WORKGROUP") or "primary",
        schema_name=env.get("TSFRAUD_ATHENA_SCHEMA") or "tsfraud",
        output_location=output,
        region_name=env.get("AWS_DEFAULT_REGION") or None,
    )
