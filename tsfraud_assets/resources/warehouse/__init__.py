"""The warehouse the dbt models live in: every reader of modelled data goes through here.

Local: the dbt-duckdb database file, opened read-only and only for the length of one query, so
a reader never holds the lock a running `dbt build` needs for longer than a query.
AWS: Athena over the Glue schema dbt-athena builds, through Athena's asynchronous API (start,
poll, page through results), because a query there is a remote job that is billed per byte
scanned and may queue: the resource records what each query scanned and cost, and refuses to
run the same request twice when a call is retried.

Both take `?` placeholders with Python values, so callers write one SQL string for both.
"""

from tsfraud_assets.resources.warehouse.athena import (
    AthenaWarehouse,
    athena_warehouse_from_env,
)
from tsfraud_assets.resources.warehouse.athena_sql import (
    athena_literal,
    csv_rows,
    result_frame,
    row_values,
)
from tsfraud_assets.resources.warehouse.base import (
    BYTES_PER_MB,
    BYTES_PER_TB,
    MIN_BILLED_MB,
    USD_PER_TB,
    AthenaQueryCancelled,
    AthenaQueryError,
    AthenaQueryFailed,
    AthenaQueryTimeout,
    AthenaScanLimitExceeded,
    QueryStats,
    Warehouse,
    WarehouseBusyError,
    WarehouseError,
    WarehouseNotFoundError,
    athena_cost_usd,
    query_stats_metadata,
)
from tsfraud_assets.resources.warehouse.duckdb import (
    DuckDBWarehouse,
)

__all__ = [
    "BYTES_PER_MB",
    "BYTES_PER_TB",
    "MIN_BILLED_MB",
    "USD_PER_TB",
    "AthenaQueryCancelled",
    "AthenaQueryError",
    "AthenaQueryFailed",
    "AthenaQueryTimeout",
    "AthenaScanLimitExceeded",
    "AthenaWarehouse",
    "DuckDBWarehouse",
    "QueryStats",
    "Warehouse",
    "WarehouseBusyError",
    "WarehouseError",
    "WarehouseNotFoundError",
    "athena_cost_usd",
    "athena_literal",
    "athena_warehouse_from_env",
    "csv_rows",
    "query_stats_metadata",
    "result_frame",
    "row_values",
]
