"""Athena's wire formats: Python values as SQL literals, and result pages and CSV files back as
the frames DuckDB would give."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

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


def result_frame(
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


def row_values(row: Mapping[str, Any]) -> list[str | None]:
    # A NULL comes back as a Datum without VarCharValue; an empty string has one.
    return [datum.get("VarCharValue") for datum in row["Data"]]


def csv_rows(data: bytes, width: int) -> list[list[str | None]]:
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
