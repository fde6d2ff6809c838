"""The firm's timesheet database (read-only), embedded SQLite or any SQLAlchemy OLTP.

Both implementations sit behind one resource, chosen by the URL's dialect:
- PostgreSQL (production reference): ADBC's libpq driver streams Arrow record batches straight
  out of the server's binary COPY protocol, so memory stays flat and no Python object is built
  per row. NUMERIC columns travel as scaled integers (`hours * 100` as BIGINT) and become
  Arrow decimals again on arrival: exact, and it saves the driver's NUMERIC-to-text decoding,
  which was half the extract's time (see benchmarks/ingest).
- Anything else SQLAlchemy speaks (SQLite by default): a server-side cursor fetched in bounded
  batches and converted to Arrow against the contract's schema.

Every extract runs inside one read-only transaction with snapshot isolation, so the rows of a
day and the reference ids they are validated against come from the same instant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Protocol

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from pydantic import Field

from tsfraud_assets.lib import contract


class SourceContractError(RuntimeError):
    """The source database lacks a table or column tsfraud's contract needs."""


class Snapshot(Protocol):
    """One consistent, read-only view of the source database."""

    def stream_table(
        self, table: str, where: str | None = None, order_by: str | None = None
    ) -> Iterator[pa.RecordBatch]:
        """The contract's columns of `table`, as batches of the contract's Arrow schema."""
        ...

    def scalar_rows(self, sql: str) -> list[tuple[Any, ...]]: ...


def _literal(value: dt.date | dt.datetime) -> str:
    """Render a typed date/datetime as a plain quoted ISO literal (never a user string).

    Typed literals (DATE '...') are not portable: SQLite has none and stores dates as ISO text,
    which compares correctly against this form; PostgreSQL coerces it to the column's type."""
    if isinstance(value, dt.datetime):
        return f"'{value.isoformat(sep=' ')}'"
    return f"'{value.isoformat()}'"


def select_sql(
    table: str,
    where: str | None = None,
    order_by: str | None = None,
    scaled_decimals: bool = False,
) -> str:
    """SELECT of the contract's columns; with `scaled_decimals`, a NUMERIC(p, s) column is
    selected as the BIGINT `col * 10^s` (exact: the column holds no more than s decimals)."""
    columns = []
    for field in contract.table(table).arrow_schema():
        if scaled_decimals and pa.types.is_decimal(field.type):
            scale = field.type.scale  # type: ignore[attr-defined]
            columns.append(f"CAST({field.name} * {10**scale} AS BIGINT) AS {field.name}")
        else:
            columns.append(field.name)
    return (
        f"SELECT {', '.join(columns)} FROM {table}"
        + (f" WHERE {where}" if where else "")
        + (f" ORDER BY {order_by}" if order_by else "")
    )


class SourceDatabase(dg.ConfigurableResource):
    """Read-only access to the timesheet system of record.

    `url` is a SQLAlchemy URL (`TSFRAUD_SOURCE_URL`); the pipeline never writes to it.
    """

    url: str = Field(description="SQLAlchemy URL of the timesheet database")
    batch_rows: int = Field(default=65_536, description="rows per streamed Arrow batch")
    parallel_ranges: int = Field(
        default=2,
        description="parallel connections a multi-day extract is split over (Sqoop's "
        "split-by); each day stays within one connection's snapshot",
    )

    @property
    def dialect(self) -> str:
        return sa.engine.make_url(self.url).get_backend_name()

    # --- snapshots -------------------------------------------------------------------------
    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        if self.dialect == "postgresql":
            with _AdbcPostgresSnapshot.open(self.url, self.batch_rows) as snap:
                yield snap
        else:
            with _SqlAlchemySnapshot.open(self.url, self.batch_rows) as snap:
                yield snap

    # --- contract ---------------------------------------------------------------------------
    def check_contract(self, tables: Sequence[str] | None = None) -> None:
        """Fail with a message naming every missing table or column the pipeline reads."""
        engine = _engine(self.url)
        try:
            inspector = sa.inspect(engine)
            present = set(inspector.get_table_names())
            problems: list[str] = []
            for name in tables or list(contract.source_tables()):
                if name not in present:
                    problems.append(f"table {name!r} is missing")
                    continue
                cols = {c["name"].lower() for c in inspector.get_columns(name)}
                missing = [c for c in contract.table(name).column_names if c not in cols]
                if missing:
                    problems.append(f"table {name!r} lacks column(s) {', '.join(missing)}")
        finally:
            engine.dispose()
        if problems:
            raise SourceContractError(
                "the source database does not meet tsfraud's contract "
                f"({_redacted(self.url)}): " + "; ".join(problems)
            )

    # --- change tracking (used by the batch sensor) ----------------------------------------
    def changes_since(
        self, since: dt.datetime | None
    ) -> tuple[dt.datetime | None, list[dt.date], list[str]]:
        """Return (new high-water mark, work dates whose entries changed, reference tables
        that changed) for rows with updated_at > since (everything when since is None)."""
        where = f"updated_at > {_literal(since)}" if since else None
        with self.snapshot() as snap:
            dates_sql = "SELECT DISTINCT work_date FROM timesheet_entries" + (
                f" WHERE {where}" if where else ""
            )
            dates = sorted({_as_date(r[0]) for r in snap.scalar_rows(dates_sql)})
            marks: list[dt.datetime] = []
            changed_tables: list[str] = []
            for name in ("timesheet_entries", *contract.REFERENCE_TABLES):
                if name in contract.TABLES_WITHOUT_UPDATED_AT:
                    continue
                (mark,) = snap.scalar_rows(f"SELECT MAX(updated_at) FROM {name}")[0]
                if mark is None:
                    continue
                mark = _as_datetime(mark)
                marks.append(mark)
                if name != "timesheet_entries" and (since is None or mark > since):
                    changed_tables.append(name)
        return (max(marks) if marks else since), dates, changed_tables


def _redacted(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _as_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return dt.datetime.fromisoformat(str(value))


# --- generic SQLAlchemy path ---------------------------------------------------------------
class _SqlAlchemySnapshot:
    def __init__(self, conn: sa.Connection, batch_rows: int) -> None:
        self._conn = conn
        self._batch_rows = batch_rows

    @classmethod
    @contextmanager
    def open(cls, url: str, batch_rows: int) -> Iterator[_SqlAlchemySnapshot]:
        sa_url = sa.engine.make_url(url)
        if sa_url.get_backend_name() == "sqlite" and sa_url.database not in (None, "", ":memory:"):
            # Open the file read-only: the pipeline must never write to the system of record.
            sa_url = sa_url.set(database=f"file:{sa_url.database}?mode=ro", query={"uri": "true"})
        engine = _engine(sa_url.render_as_string(hide_password=False))
        try:
            with engine.connect() as conn:
                if engine.dialect.name == "sqlite":
                    # BEGIN takes the read lock at the first SELECT and keeps it: one snapshot.
                    conn.exec_driver_sql("BEGIN")
                elif engine.dialect.name in ("postgresql", "mysql", "mariadb"):
                    conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                yield cls(conn, batch_rows)
                conn.rollback()
        finally:
            engine.dispose()

    def scalar_rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._conn.exec_driver_sql(sql).fetchall()]

    def stream_table(
        self, table: str, where: str | None = None, order_by: str | None = None
    ) -> Iterator[pa.RecordBatch]:
        schema = contract.table(table).arrow_schema()
        sql = select_sql(table, where, order_by)
        result = self._conn.execution_options(stream_results=True).exec_driver_sql(sql)
        while rows := result.fetchmany(self._batch_rows):
            columns = list(zip(*rows, strict=True))
            yield pa.RecordBatch.from_arrays(
                [_to_arrow(col, f.type) for col, f in zip(columns, schema, strict=True)],
                schema=schema,
            )


def _to_arrow(values: Sequence[Any], typ: pa.DataType) -> pa.Array:
    """Convert DB-API values to the contract type; SQLite hands back dates as text and
    NUMERIC as float, so decimals go through their text form to stay exact."""
    if pa.types.is_decimal(typ):
        return pa.array([None if v is None else Decimal(str(v)) for v in values], type=typ)
    if pa.types.is_date(typ):
        return pa.array([None if v is None else _as_date(v) for v in values], type=typ)
    if pa.types.is_timestamp(typ):
        return pa.array([None if v is None else _as_datetime(v) for v in values], type=typ)
    if pa.types.is_string(typ):
        return pa.array([None if v is None else str(v) for v in values], type=typ)
    return pa.array(values, type=typ)


# --- PostgreSQL via ADBC -------------------------------------------------------------------
class _AdbcPostgresSnapshot:
    def __init__(self, conn: Any, batch_rows: int) -> None:
        self._conn = conn
        self._batch_rows = batch_rows

    @classmethod
    @contextmanager
    def open(cls, url: str, batch_rows: int) -> Iterator[_AdbcPostgresSnapshot]:
        import adbc_driver_postgresql.dbapi as adbc

        libpq = sa.engine.make_url(url).set(drivername="postgresql")
        conn = adbc.connect(libpq.render_as_string(hide_password=False))
        try:
            with conn.cursor() as cur:
                # ADBC opens a transaction implicitly (autocommit off); make it one snapshot.
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                # A range scan has nothing for JIT to win; compiling it costs ~0.1 s a query.
                cur.execute("SET LOCAL jit = off")
            yield cls(conn, batch_rows)
        finally:
            conn.rollback()
            conn.close()

    def scalar_rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self._conn.cursor() as cur:
            cur.execute(sql)
            return [tuple(r) for r in cur.fetchall()]

    def stream_table(
        self, table: str, where: str | None = None, order_by: str | None = None
    ) -> Iterator[pa.RecordBatch]:
        schema = contract.table(table).arrow_schema()
        sql = select_sql(table, where, order_by, scaled_decimals=True)
        cur = self._conn.cursor()
        cur.adbc_statement.set_options(
            **{"adbc.postgresql.batch_size_hint_bytes": str(self._batch_rows * 128)}
        )
        try:
            cur.execute(sql)
            reader = cur.fetch_record_batch()
            for batch in reader:
                yield _cast_batch(batch, schema)
        finally:
            cur.close()


def decimal_from_scaled(values: pa.Array, typ: pa.Decimal128Type) -> pa.Array:
    """Scaled integers (`hours * 100`) back to the decimals they encode, exactly.

    The cast to a scale-0 decimal keeps the integer; viewing those same 128-bit values with
    the column's scale divides them by 10^s without arithmetic or rounding."""
    if not pa.types.is_integer(values.type):
        raise TypeError(f"expected scaled integers, got {values.type}")
    return pc.cast(values, pa.decimal128(38, 0)).view(typ)


def _cast_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """ADBC may widen integers or zone timestamps, and decimals arrive as scaled integers
    (see `select_sql`): cast to the contract's types."""
    arrays = []
    for field in schema:
        col = batch.column(batch.schema.get_field_index(field.name))
        if not col.type.equals(field.type):
            if pa.types.is_decimal(field.type):
                col = decimal_from_scaled(col, field.type)
            elif pa.types.is_timestamp(col.type) and col.type.tz is not None:
                col = pc.cast(col, pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us"))
            col = col.cast(field.type)
        arrays.append(col)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
