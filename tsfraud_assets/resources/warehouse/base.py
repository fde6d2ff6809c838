"""What every warehouse promises its readers: the interface, its errors, and what a query cost."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import dagster as dg
import pandas as pd
from pydantic import PrivateAttr

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
