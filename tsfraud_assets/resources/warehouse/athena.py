"""The production side: Athena's asynchronous API (start, poll, page), idempotent retries,
scan limits and the cost of each query."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import dagster as dg
import pandas as pd
from pydantic import Field, PrivateAttr

from tsfraud_assets.lib.formatting import parse_s3_uri
from tsfraud_assets.resources.warehouse.athena_sql import (
    athena_literal,
    csv_rows,
    result_frame,
    row_values,
)
from tsfraud_assets.resources.warehouse.base import (
    AthenaQueryCancelled,
    AthenaQueryError,
    AthenaQueryFailed,
    AthenaQueryTimeout,
    AthenaScanLimitExceeded,
    QueryStats,
    Warehouse,
    athena_cost_usd,
)

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
        rows = [row_values(row) for row in page["ResultSet"].get("Rows", [])]
        # For a SELECT the first row of the first page repeats the column names.
        has_header = execution.get("StatementType", "DML") == "DML"
        if has_header and rows:
            rows = rows[1:]
        token = page.get("NextToken")
        location = execution.get("ResultConfiguration", {}).get("OutputLocation")
        if token and self.large_results_from_s3 and has_header and location:
            bucket, key = parse_s3_uri(location)
            body = self.s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
            return result_frame(column_info, csv_rows(body, len(column_info)))
        while token:
            page = self.athena_client.get_query_results(
                QueryExecutionId=query_id, MaxResults=self.page_size, NextToken=token
            )
            rows.extend(row_values(row) for row in page["ResultSet"].get("Rows", []))
            token = page.get("NextToken")
        return result_frame(column_info, rows)


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
