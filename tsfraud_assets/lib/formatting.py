"""Turning results into what JSON metadata, Markdown tables and people can read, once."""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import numpy as np


def json_safe(obj: Any) -> Any:
    """Plain JSON values: NaN and infinities -> None, numpy scalars and Decimals -> Python
    numbers, dates -> ISO text, anything else unknown -> its text. Dagster's JSON metadata and
    the model's metadata.json refuse the rest."""
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real | Decimal):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, dt.date | dt.datetime):
        return obj.isoformat()
    return str(obj)


def fmt3(x: float) -> str:
    """A figure to three decimals, `n/a` when there is none."""
    return "n/a" if math.isnan(x) else f"{x:.3f}"


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key or prefix without slashes at either end) of an `s3://` URI."""
    if not uri.startswith("s3://"):
        raise ValueError(f"expected an s3://bucket/prefix URI, got {uri!r}")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {uri!r}")
    return bucket, key.strip("/")
