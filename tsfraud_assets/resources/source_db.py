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
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from pydantic import Field

from tsfraud_assets.lib import contract
from tsfraud_assets.lib.validate import convert_rows, parse_date


class SourceContractError(RuntimeError):
    """The source database lacks a table or column tsfraud's contract needs."""


class SourceUnavailableError(RuntimeError):
    """The source database cannot be reached (a mistyped SQLite path, a server that is down)."""


class Snapshot(Protocol):
    """One consistent, read-only view of the source database."""

    def stream_table(
        self, table: str, where: str | None = None, order_by: str | None = None
    ) -> Generator[pa.RecordBatch, None, None]:
        """The contract's columns of `table`, as batches of the contract's Arrow schema."""
        ...

    def scalar_rows(self, sql: str) -> list[tuple[Any, ...]]: ...

    def int_column(self, sql: str) -> pa.Array:
        """The integers of a one-column query as Arrow int64 (non-integers left out): ids by
        the million without a Python object each where the driver speaks Arrow."""
        ...

    def date_filter(self, column: str, first: dt.date, last: dt.date) -> str:
        """WHERE clause: rows whose `column` is a valid date in [first, last]."""
        ...

    def undated_filter(self, column: str) -> str:
        """WHERE clause: rows whose `column` holds no valid date (they belong to no day)."""
        ...


def _literal(value: dt.date | dt.datetime) -> str:
    """Render a typed date/datetime as a plain quoted ISO literal (never a user string).

    Typed literals (DATE '...') are not portable: SQLite has none and stores dates as ISO text,
    which compares correctly against this form; PostgreSQL coerces it to the column's type."""
    if isinstance(value, dt.datetime):
        return f"'{value.isoformat(sep=' ')}'"
    return f"'{value.isoformat()}'"


def typed_date_filter(column: str, first: dt.date, last: dt.date) -> str:
    """A database that enforces DATE needs nothing more than the range (index-friendly)."""
    return f"{column} BETWEEN {_literal(first)} AND {_literal(last)}"


def sqlite_dated(column: str) -> str:
    """SQLite keeps any value in a DATE column. A row is dated when its text starts with the
    date SQLite's own calendar reads from it ('2026-03-03' or '2026-03-03 00:00:00'); '2026-3-3',
    '20260303', '03/03/2026', '2026-02-30' or a Julian number are not, so they are quarantined
    as undated instead of being matched by no day's text comparison and vanishing."""
    return f"(date({column}, '+0 days') = substr({column}, 1, 10))"


def sqlite_date_filter(column: str, first: dt.date, last: dt.date) -> str:
    # The text range keeps the index usable; a dated row's text starts with its day, so
    # [first, last + 1 day) holds exactly the dated rows of [first, last].
    after = last + dt.timedelta(days=1)
    return (
        f"{column} >= {_literal(first)} AND {column} < {_literal(after)} AND {sqlite_dated(column)}"
    )


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
        engine = _engine(read_only_url(self.url))
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
            # A changed row whose work_date is no date belongs to no day: every ingest re-reads
            # those into the undated quarantine (ingest/raw.py), so the feed leaves them out.
            dates = sorted(_dates(r[0] for r in snap.scalar_rows(dates_sql)))
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


def unreachable(url: str, exc: BaseException) -> SourceUnavailableError:
    """The driver's reason, first line only, with the URL shown without its password."""
    password = sa.engine.make_url(url).password
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if password:
        reason = reason.replace(str(password), "***")
    return SourceUnavailableError(f"cannot reach the source database {_redacted(url)}: {reason}")


def _redacted(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


def _dates(values: Iterable[Any]) -> set[dt.date]:
    days = set()
    for value in values:
        try:
            days.add(parse_date(value))
        except ValueError:
            continue
    return days


def _as_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return dt.datetime.fromisoformat(str(value))


# --- generic SQLAlchemy path ---------------------------------------------------------------
class _SqlAlchemySnapshot:
    def __init__(self, conn: sa.Connection, batch_rows: int) -> None:
        self._conn = conn
        self._batch_rows = batch_rows
        self._sqlite = conn.dialect.name == "sqlite"

    @classmethod
    @contextmanager
    def open(cls, url: str, batch_rows: int) -> Iterator[_SqlAlchemySnapshot]:
        engine = _engine(read_only_url(url))
        try:
            try:
                connection = engine.connect()
            except sa.exc.OperationalError as exc:
                raise unreachable(url, exc.orig or exc) from None
            with connection as conn:
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

    def int_column(self, sql: str) -> pa.Array:
        values = (r[0] for r in self._conn.exec_driver_sql(sql))
        return pa.array([v for v in values if isinstance(v, int)], pa.int64())

    def date_filter(self, column: str, first: dt.date, last: dt.date) -> str:
        if self._sqlite:
            return sqlite_date_filter(column, first, last)
        return typed_date_filter(column, first, last)

    def undated_filter(self, column: str) -> str:
        if self._sqlite:
            return f"({column} IS NULL OR NOT coalesce({sqlite_dated(column)}, 0))"
        return f"{column} IS NULL"

    def stream_table(
        self, table: str, where: str | None = None, order_by: str | None = None
    ) -> Generator[pa.RecordBatch, None, None]:
        schema = contract.table(table).arrow_schema()
        sql = select_sql(table, where, order_by)
        result = self._conn.execution_options(stream_results=True).exec_driver_sql(sql)
        while rows := result.fetchmany(self._batch_rows):
            # Lenient per cell: SQLite keeps any value in any column, and one 'abc' in hours
            # must quarantine its row, not crash the day (validate.py names column and value).
            yield convert_rows(rows, schema)


def read_only_url(url: str) -> str:
    """The URL to connect with: a SQLite file is opened read-only, so the pipeline can never
    write to the system of record, and a mistyped path fails instead of creating a new file."""
    sa_url = sa.engine.make_url(url)
    if sa_url.get_backend_name() == "sqlite" and sa_url.database not in (None, "", ":memory:"):
        path = Path(str(sa_url.database))
        if not path.is_file():
            raise SourceUnavailableError(f"no such database: {path}")
        # sqlite3 reads the URI form; a path with '?', '#' or '%' must be percent-encoded.
        sa_url = sa_url.set(
            database=f"file:{quote(str(path.resolve()))}?mode=ro", query={"uri": "true"}
        )
    return sa_url.render_as_string(hide_password=False)


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
        try:
            conn = adbc.connect(libpq.render_as_string(hide_password=False))
        except adbc.Error as exc:
            raise unreachable(url, exc) from None
        try:
            with conn.cursor() as cur:
                # ADBC opens a transaction implicitly (autocommit off); make it one snapshot.
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                # A range scan has nothing for JIT to win; compiling it costs ~0.1 s a query.
                cur.execute("SET LOCAL jit = off")
            yield cls(conn, batch_rows)
        finally:
            # After the server went away mid-extract the rollback fails too; that second
            # error must not hide the first, which says what happened.
            with suppress(adbc.Error):
                conn.rollback()
            with suppress(adbc.Error):
                conn.close()

    def date_filter(self, column: str, first: dt.date, last: dt.date) -> str:
        return typed_date_filter(column, first, last)

    def undated_filter(self, column: str) -> str:
        return f"{column} IS NULL"

    def scalar_rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self._conn.cursor() as cur:
            cur.execute(sql)
            return [tuple(r) for r in cur.fetchall()]

    def int_column(self, sql: str) -> pa.Array:
        with self._conn.cursor() as cur:
            cur.execute(sql)
            column = cur.fetch_arrow_table().column(0)
        return pc.cast(column, pa.int64()).combine_chunks().drop_null()

    def stream_table(
        self, table: str, where: str | None = None, order_by: str | None = None
    ) -> Generator[pa.RecordBatch, None, None]:
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
