"""The source system's contract, read from our copy of the customer's DDL.

The DDL file is the single source of truth: the simulator executes it, the extractors derive
their Arrow schemas from it, and a test keeps it identical to the customer's copy in
`shared/source-system/schema.sql`. Nothing here hand-lists columns a second time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyarrow as pa

SCHEMA_SQL = Path(__file__).with_name("source_schema.sql")

# Tables tsfraud reads per work date; everything else is a small reference table read whole.
DAILY_TABLES: dict[str, str] = {
    "timesheet_entries": "work_date",
    "workstation_activity": "activity_date",
}
REFERENCE_TABLES: tuple[str, ...] = (
    "employees",
    "clients",
    "projects",
    "project_assignments",
    "leave_records",
    "public_holidays",
    "investigation_cases",
)
# Every reference table and the daily tables carry a change marker except these.
TABLES_WITHOUT_UPDATED_AT: frozenset[str] = frozenset(
    {"clients", "public_holidays", "workstation_activity"}
)


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str  # normalised, e.g. "BIGINT", "NUMERIC(5,2)", "VARCHAR(16)"
    nullable: bool

    @property
    def arrow_type(self) -> pa.DataType:
        return arrow_type_for(self.sql_type)


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    def arrow_schema(self, exclude: tuple[str, ...] = ()) -> pa.Schema:
        """Nullable everywhere: NOT NULL is checked by validation, so a bad row is quarantined
        with a reason instead of failing the whole cast."""
        return pa.schema(
            [pa.field(c.name, c.arrow_type) for c in self.columns if c.name not in exclude]
        )


_TYPE_RE = re.compile(r"^(?P<base>[A-Z]+)(?:\((?P<args>[0-9, ]+)\))?$")


def arrow_type_for(sql_type: str) -> pa.DataType:
    """Map the DDL's portable types to exact Arrow types (decimals stay decimals)."""
    m = _TYPE_RE.match(sql_type)
    if not m:
        raise ValueError(f"unsupported SQL type {sql_type!r}")
    base, args = m.group("base"), m.group("args")
    if base == "BIGINT":
        return pa.int64()
    if base == "INTEGER":
        return pa.int32()
    if base == "NUMERIC":
        precision, scale = (int(x) for x in (args or "38,10").split(","))
        return pa.decimal128(precision, scale)
    if base in ("VARCHAR", "CHAR", "TEXT"):
        return pa.string()
    if base == "DATE":
        return pa.date32()
    if base == "TIMESTAMP":
        return pa.timestamp("us")
    raise ValueError(f"unsupported SQL type {sql_type!r}")


def parse_ddl(sql: str) -> dict[str, Table]:
    """Parse the CREATE TABLE statements of the portable DDL (columns, types, NOT NULL)."""
    sql = re.sub(r"--[^\n]*", "", sql)
    tables: dict[str, Table] = {}
    for m in re.finditer(r"CREATE TABLE\s+(\w+)\s*\((.*?)\);", sql, flags=re.S | re.I):
        name, body = m.group(1).lower(), m.group(2)
        columns: list[Column] = []
        for raw in _split_top_level(body):
            line = " ".join(raw.split())
            if not line or line.upper().startswith(("PRIMARY KEY", "UNIQUE", "FOREIGN KEY")):
                continue
            col = re.match(r"(\w+)\s+([A-Za-z]+(?:\s*\([0-9, ]+\))?)(.*)$", line)
            if not col:
                raise ValueError(f"cannot parse column definition {line!r} in {name}")
            rest = col.group(3).upper()
            sql_type = re.sub(r"\s+", "", col.group(2).upper())
            nullable = "NOT NULL" not in rest and "PRIMARY KEY" not in rest
            columns.append(Column(col.group(1).lower(), sql_type, nullable))
        tables[name] = Table(name, tuple(columns))
    return tables


def _split_top_level(body: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in body:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


@cache
def source_tables() -> dict[str, Table]:
    return parse_ddl(SCHEMA_SQL.read_text())


def table(name: str) -> Table:
    return source_tables()[name]


def ddl_statements() -> list[str]:
    """The DDL as separate statements (comments removed: they contain semicolons)."""
    sql = re.sub(r"--[^\n]*", "", SCHEMA_SQL.read_text())
    return [s.strip() for s in sql.split(";") if s.strip()]
