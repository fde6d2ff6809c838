"""Row-level validation of source values against the contract: type, scale, range, enum.

A source that does not enforce its own DDL (SQLite stores any value in any column) can hand us
'abc' for hours, 7.125 for a NUMERIC(5,2) or '03/03/2026' for a date. Converting such a value
must not crash the ingest (one bad row would stop a whole firm's day) nor silently become NULL:
the conversion here is lenient per cell, and every cell it could not convert is reported as a
reason naming the column and the value, so the row is quarantined and can be traced back.

Reasons are "<kind>: <value>" (e.g. "hours is not a number: 'abc'"); counters group by the
kind, the part before ": ", so metadata stays small while the quarantine file keeps the value.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tsfraud_assets.lib import contract

INVALID_COLUMN = "_tsfraud_invalid"
"""Extra column a snapshot adds when some cell did not convert: the first reason per row."""
SOURCE_VALUES_COLUMN = "source_values"
"""Extra column: JSON of the cells that did not convert, as the source held them (text), so
a quarantined row keeps its original value and the reconciliation can still count its hours."""
MAX_VALUE_SHOWN = 60

# Ranges the DDL states in words; NUMERIC precision and scale come from the DDL itself.
RANGES: dict[tuple[str, str], tuple[Decimal, Decimal]] = {
    ("timesheet_entries", "hours"): (Decimal(0), Decimal(24)),
    ("workstation_activity", "active_minutes"): (Decimal(0), Decimal(24 * 60)),
    ("project_assignments", "allocation_pct"): (Decimal(0), Decimal(100)),
    ("employees", "contracted_hours_per_week"): (Decimal(0), Decimal(7 * 24)),
}


def shown(value: Any) -> str:
    """A source value as a reason shows it: quoted text, cut to a readable length."""
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) > MAX_VALUE_SHOWN:
        text = text[: MAX_VALUE_SHOWN - 1] + "…"
    return text


def reason_kind(reason: str) -> str:
    return reason.split(": ", 1)[0]


@cache
def enums() -> dict[tuple[str, str], frozenset[str]]:
    """Allowed values per (table, column), read from the DDL's `-- a | b | c` comments.

    The customer's DDL documents its enumerations only in comments; reading them from the one
    DDL file keeps the contract in one place (a leading NULL means "NULL allowed")."""
    found: dict[tuple[str, str], frozenset[str]] = {}
    current = None
    for line in contract.SCHEMA_SQL.read_text().splitlines():
        table = re.match(r"\s*CREATE TABLE\s+(\w+)", line, flags=re.I)
        if table:
            current = table.group(1).lower()
            continue
        col = re.match(r"\s*(\w+)\s+[A-Za-z]+.*--\s*(\w+(?:\s*\|\s*\w+)+)", line)
        if current and col:
            values = [v.strip() for v in col.group(2).split("|")]
            found[(current, col.group(1).lower())] = frozenset(v for v in values if v != "NULL")
    return found


def parse_date(value: Any) -> dt.date:
    """A DATE cell as the source returns it; text must be ISO (YYYY-MM-DD, optionally with a
    time of day), anything else is refused rather than guessed (03/03 is not unambiguous)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}([ T].*)?", value):
        if len(value) == 10:
            return dt.date.fromisoformat(value)
        return dt.datetime.fromisoformat(value).date()
    raise ValueError("not a date")


def parse_timestamp(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}([ T].*)?", value):
        return dt.datetime.fromisoformat(value).replace(tzinfo=None)
    raise ValueError("not a timestamp")


def _decimal(value: Any, typ: pa.Decimal128Type) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("not a number")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not number.is_finite():
        raise ValueError("not a number")
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > typ.scale:
        raise ValueError(f"has more than {typ.scale} decimal places")
    quantized = number.quantize(Decimal(1).scaleb(-typ.scale))
    if len(quantized.as_tuple().digits) > typ.precision:
        raise ValueError(f"does not fit NUMERIC({typ.precision},{typ.scale})")
    return quantized


def _integer(value: Any, typ: pa.DataType) -> int:
    if isinstance(value, bool):
        raise ValueError("not an integer")
    if isinstance(value, int):
        number = value
    elif (isinstance(value, float) and value.is_integer()) or (
        isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value)
    ):
        number = int(value)
    else:
        raise ValueError("not an integer")
    bits = typ.bit_width
    if not -(2 ** (bits - 1)) <= number < 2 ** (bits - 1):
        raise ValueError(f"does not fit a {bits}-bit integer")
    return number


def _convert_one(value: Any, typ: pa.DataType) -> Any:
    if pa.types.is_decimal(typ):
        return _decimal(value, typ)  # type: ignore[arg-type]
    if pa.types.is_integer(typ):
        return _integer(value, typ)
    if pa.types.is_date(typ):
        return parse_date(value)
    if pa.types.is_timestamp(typ):
        return parse_timestamp(value)
    if pa.types.is_string(typ):
        return value if isinstance(value, str) else str(value)
    return value


@dataclass
class ConvertedColumn:
    array: pa.Array
    problems: dict[int, str]  # row -> reason
    originals: dict[int, str]  # row -> the source value as text


def _fast(values: Sequence[Any], typ: pa.DataType) -> pa.Array | None:
    """The whole column at once when every cell is well-formed (the usual case), else None.

    Arrow's own casts are strict (a string cast to date32 accepts YYYY-MM-DD only, a decimal
    refuses to lose digits), so a column that passes needs no per-cell look; one odd cell sends
    the column to the lenient path. Twice as fast as checking every cell in Python."""
    try:
        if pa.types.is_decimal(typ):
            if any(isinstance(v, bool) for v in values):
                return None
            return pa.array([None if v is None else Decimal(str(v)) for v in values], type=typ)
        if pa.types.is_date(typ) or pa.types.is_timestamp(typ):
            if all(v is None or isinstance(v, str) for v in values):
                return pc.cast(pa.array(values, pa.string()), typ)
            if all(v is None or isinstance(v, dt.date) for v in values):
                return pa.array(values, type=typ)
            return None  # Arrow would read a number as days since 1970: look at each cell
        if pa.types.is_integer(typ) and any(isinstance(v, bool) for v in values):
            return None
        return pa.array(values, type=typ)
    except (pa.ArrowException, ArithmeticError, TypeError, ValueError, OverflowError):
        return None


def convert_column(values: Sequence[Any], field: pa.Field) -> ConvertedColumn:
    """DB-API values to the contract type, cell by cell; a cell that does not convert becomes
    NULL and is reported (the row will be quarantined, never loaded with the NULL)."""
    fast = _fast(values, field.type)
    if fast is not None:
        return ConvertedColumn(fast, {}, {})
    converted: list[Any] = []
    problems: dict[int, str] = {}
    originals: dict[int, str] = {}
    for i, value in enumerate(values):
        if value is None:
            converted.append(None)
            continue
        try:
            converted.append(_convert_one(value, field.type))
        except (ValueError, OverflowError, TypeError) as exc:
            converted.append(None)
            problems[i] = f"{field.name} {exc}: {shown(value)}"
            originals[i] = str(value)
    return ConvertedColumn(pa.array(converted, type=field.type), problems, originals)


def convert_rows(rows: Sequence[Sequence[Any]], schema: pa.Schema) -> pa.RecordBatch:
    """Rows to a batch of `schema`; when a cell did not convert, two extra columns say which
    (INVALID_COLUMN: the first reason per row; SOURCE_VALUES_COLUMN: the original cells)."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    arrays = []
    reasons: dict[int, str] = {}
    originals: dict[int, dict[str, str]] = {}
    for values, f in zip(columns, schema, strict=True):
        col = convert_column(values, f)
        arrays.append(col.array)
        for row, reason in col.problems.items():
            reasons.setdefault(row, reason)
            originals.setdefault(row, {})[f.name] = col.originals[row]
    batch = pa.RecordBatch.from_arrays(arrays, schema=schema)
    if reasons:
        n = batch.num_rows
        batch = batch.append_column(
            INVALID_COLUMN, pa.array([reasons.get(i) for i in range(n)], pa.string())
        ).append_column(
            SOURCE_VALUES_COLUMN,
            pa.array(
                [json.dumps(originals[i]) if i in originals else None for i in range(n)],
                pa.string(),
            ),
        )
    return batch


def contract_reasons(table: str, batch: pa.RecordBatch) -> pa.Array:
    """One reason per row from the contract alone (conversion, NOT NULL, VARCHAR length,
    ranges, enums); null where the row is fine. The first broken rule is named."""
    n = batch.num_rows
    reason: pa.Array = pa.nulls(n, pa.string())
    if INVALID_COLUMN in batch.schema.names:
        reason = batch.column(INVALID_COLUMN)

    def flag(mask: pa.Array, text: pa.Array | pa.Scalar) -> None:
        nonlocal reason
        mask = pc.fill_null(mask, False)
        if not pc.any(mask).as_py():  # the usual case: nothing to mark, nothing to build
            return
        reason = pc.if_else(pc.and_(mask, pc.is_null(reason)), text, reason)

    def with_value(prefix: str, values: pa.Array) -> pa.Array:
        text = pc.utf8_slice_codeunits(pc.cast(values, pa.string()), 0, MAX_VALUE_SHOWN)
        return pc.binary_join_element_wise(pa.scalar(prefix), text, "")

    spec = contract.table(table)
    for col in spec.columns:
        if col.name not in batch.schema.names:
            continue
        values = batch.column(col.name)
        if not col.nullable and values.null_count:
            flag(pc.is_null(values), pa.scalar(f"null {col.name}"))
        length = re.fullmatch(r"(?:VAR)?CHAR\((\d+)\)", col.sql_type)
        if length and pa.types.is_string(values.type):
            limit = int(length.group(1))
            flag(
                pc.greater(pc.utf8_length(values), limit),
                pa.scalar(f"{col.name} longer than {limit} characters"),
            )
        bounds = RANGES.get((table, col.name))
        if bounds is not None:
            low, high = (pa.scalar(b).cast(values.type) for b in bounds)
            flag(pc.less(values, low), with_value(f"{col.name} below {bounds[0]}: ", values))
            flag(pc.greater(values, high), with_value(f"{col.name} above {bounds[1]}: ", values))
        allowed = enums().get((table, col.name))
        if allowed is not None:
            flag(
                pc.invert(pc.is_in(values, value_set=pa.array(sorted(allowed)))),
                with_value(f"{col.name} not one of {' | '.join(sorted(allowed))}: ", values),
            )
    return reason
