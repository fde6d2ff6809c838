"""Bulk loading into the system of record, SQLite or PostgreSQL.

Row-by-row ORM inserts would take many minutes for a million timesheet lines, so each backend
gets its fastest plain path: PostgreSQL receives CSV through COPY FROM STDIN (psycopg 3), and
SQLite gets one transaction of `executemany` with journaling and fsync off during the initial
load. Rows arrive as Arrow tables whose columns are named like the source DDL; the insert
column list is read from the created table, so a renamed or missing column fails loudly
instead of being silently dropped. SQLite stores dates as ISO text and timestamps as
'YYYY-MM-DD HH:MM:SS' (UTC), the forms SQLAlchemy and the extractors read back.
"""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa

from tsfraud_assets.lib import contract

# Creation order is the DDL's order (the contract's); drops go in reverse so foreign keys
# never dangle.
TABLES: tuple[str, ...] = tuple(contract.source_tables())
_COPY_CHUNK_ROWS = 200_000


def normalize_url(url: str) -> sa.URL:
    """Plain `postgresql://` URLs would pick psycopg2, which is not installed: use psycopg 3."""
    parsed = sa.engine.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def default_ground_truth_path(url: str) -> str:
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return f"{parsed.database}.ground_truth.parquet"
    return "data/ground_truth.parquet"


class SourceDB:
    """One connection and one transaction over the target database."""

    def __init__(self, url: str, bulk_load: bool = False) -> None:
        parsed = normalize_url(url)
        self.backend = parsed.get_backend_name()
        self.conn: Any
        if self.backend == "sqlite":
            if parsed.database in (None, "", ":memory:"):
                raise ValueError("an in-memory SQLite database would vanish: give a file path")
            path = Path(str(parsed.database))
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(path, isolation_level=None)
            if bulk_load:
                self.conn.execute("PRAGMA journal_mode=OFF")
                self.conn.execute("PRAGMA synchronous=OFF")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("BEGIN")
        elif self.backend == "postgresql":
            kwargs: dict[str, Any] = {
                "host": parsed.host or "127.0.0.1",
                "port": parsed.port or 5432,
                "user": parsed.username or "postgres",
                "dbname": parsed.database or "postgres",
            }
            if parsed.password:
                kwargs["password"] = parsed.password
            kwargs.update({k: v for k, v in parsed.query.items() if isinstance(v, str)})
            self.conn = psycopg.connect(**kwargs)
        else:
            raise ValueError(
                f"unsupported database {parsed.drivername!r}: use sqlite or postgresql"
            )
        self._columns: dict[str, list[str]] = {}

    # --- transaction ------------------------------------------------------------------------
    def commit(self) -> None:
        if self.backend == "sqlite":
            self.conn.execute("COMMIT")
        else:
            self.conn.commit()

    def close(self) -> None:
        try:
            if self.backend == "sqlite" and self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        finally:
            self.conn.close()

    def __enter__(self) -> SourceDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- queries ----------------------------------------------------------------------------
    def execute(self, sql: str) -> None:
        if self.backend == "sqlite":
            self.conn.execute(sql)
        else:
            with self.conn.cursor() as cur:
                cur.execute(sql)

    def scalar(self, sql: str) -> Any:
        if self.backend == "sqlite":
            row = self.conn.execute(sql).fetchone()
        else:
            with self.conn.cursor() as cur:
                cur.execute(sql)
                row = cur.fetchone()
        return None if row is None else row[0]

    def existing_tables(self) -> set[str]:
        if self.backend == "sqlite":
            rows = self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            names = {r[0] for r in rows}
        else:
            with self.conn.cursor() as cur:
                cur.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema()"
                )
                names = {r[0] for r in cur.fetchall()}
        return names & set(TABLES)

    def columns(self, table: str) -> list[str]:
        if table not in self._columns:
            if self.backend == "sqlite":
                cur = self.conn.execute(f"SELECT * FROM {table} LIMIT 0")
                self._columns[table] = [d[0] for d in cur.description]
            else:
                with self.conn.cursor() as cur:
                    cur.execute(f"SELECT * FROM {table} LIMIT 0")
                    self._columns[table] = [d.name for d in cur.description or []]
        return self._columns[table]

    def counts(self) -> dict[str, int]:
        return {t: int(self.scalar(f"SELECT COUNT(*) FROM {t}")) for t in TABLES}

    # --- schema -----------------------------------------------------------------------------
    def create_schema(self, replace: bool) -> None:
        existing = self.existing_tables()
        if existing and not replace:
            raise FileExistsError(
                f"the target database already has source tables ({', '.join(sorted(existing))});"
                " pass replace=True (--replace) to drop and recreate them, or append to it"
            )
        for table in reversed(TABLES):
            if table in existing:
                self.execute(f"DROP TABLE {table}")
        for statement in contract.ddl_statements():
            self.execute(statement)
        self._columns.clear()

    # --- writing ----------------------------------------------------------------------------
    def _ordered(self, table: str, data: pa.Table) -> pa.Table:
        cols = self.columns(table)
        missing = [c for c in cols if c not in data.column_names]
        extra = [c for c in data.column_names if c not in cols]
        if missing or extra:
            raise ValueError(
                f"{table}: rows do not match the schema (missing {missing}, extra {extra})"
            )
        return data.select(cols)

    def insert(self, table: str, data: pa.Table) -> int:
        if data.num_rows == 0:
            return 0
        data = self._ordered(table, data)
        if self.backend == "sqlite":
            marks = ", ".join("?" * data.num_columns)
            sql = f"INSERT INTO {table} ({', '.join(data.column_names)}) VALUES ({marks})"
            self.conn.executemany(sql, _python_rows(data))
        else:
            self._copy(table, data)
        return data.num_rows

    def update(self, table: str, data: pa.Table) -> int:
        """Overwrite whole rows by primary key (the first column)."""
        if data.num_rows == 0:
            return 0
        data = self._ordered(table, data)
        key, rest = data.column_names[0], data.column_names[1:]
        if self.backend == "sqlite":
            sets = ", ".join(f"{c} = ?" for c in rest)
            sql = f"UPDATE {table} SET {sets} WHERE {key} = ?"
            self.conn.executemany(sql, _python_rows(data.select([*rest, key])))
        else:
            tmp = f"_sim_update_{table}"
            self.execute(f"CREATE TEMP TABLE {tmp} (LIKE {table}) ON COMMIT DROP")
            self._copy(tmp, data)
            sets = ", ".join(f"{c} = u.{c}" for c in rest)
            self.execute(f"UPDATE {table} t SET {sets} FROM {tmp} u WHERE t.{key} = u.{key}")
            self.execute(f"DROP TABLE {tmp}")
        return data.num_rows

    def delete(self, table: str, keys: pa.Array) -> int:
        """Delete rows by primary key (the table's first column): the source's hard delete,
        which leaves no updated_at behind."""
        if len(keys) == 0:
            return 0
        key = self.columns(table)[0]
        values = [(k,) for k in keys.to_pylist()]
        if self.backend == "sqlite":
            self.conn.executemany(f"DELETE FROM {table} WHERE {key} = ?", values)
        else:
            with self.conn.cursor() as cur:
                cur.executemany(f"DELETE FROM {table} WHERE {key} = %s", values)
        return len(values)

    def _copy(self, table: str, data: pa.Table) -> None:
        cols = ", ".join(data.column_names)
        options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
        with (
            self.conn.cursor() as cur,
            cur.copy(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)") as copy,
        ):
            for start in range(0, data.num_rows, _COPY_CHUNK_ROWS):
                buf = io.BytesIO()
                pacsv.write_csv(data.slice(start, _COPY_CHUNK_ROWS), buf, options)
                copy.write(buf.getvalue())

    def analyze(self) -> None:
        self.execute("ANALYZE")


def _python_rows(data: pa.Table) -> list[tuple[Any, ...]]:
    columns = []
    for col in data.columns:
        if pa.types.is_date(col.type) or pa.types.is_timestamp(col.type):
            col = pc.cast(col, pa.string())
        columns.append(col.to_pylist())
    return list(zip(*columns, strict=True))
