"""The simulated clock: days are proleptic ordinals, instants are UTC epoch seconds.

Integers keep the per-day generation in numpy. A database generated "through day L" shows every
event that happened up to the snapshot instant `snapshot_at(L)`: midnight UTC after L. Every
event of a work date D happens after `snapshot_at(D - 1)` (submissions start at local noon,
and no office is more than 12 hours ahead of UTC), so a later batch only ever adds events
newer than anything already written, which is what a sensor on max(updated_at) relies on.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

EPOCH_ORD = dt.date(1970, 1, 1).toordinal()
DAY_S = 86_400
HOUR_S = 3_600
NO_END = dt.date(9999, 12, 31).toordinal()
NO_TIME = -1  # "this event never happens" in int64 second arrays


def day_start(day: int | np.ndarray) -> np.ndarray | int:
    """UTC epoch second of 00:00 UTC on an ordinal day."""
    return (day - EPOCH_ORD) * DAY_S


def snapshot_at(last_day: int) -> int:
    return (last_day + 1 - EPOCH_ORD) * DAY_S


def weekday(day: int | np.ndarray) -> int | np.ndarray:
    """0 = Monday, as `date.weekday()`: ordinal 1 (0001-01-01) was a Monday."""
    return (day - 1) % 7


def to_date(day: int) -> dt.date:
    return dt.date.fromordinal(int(day))


def to_datetime(second: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(second))


def date_array(days: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int64) - EPOCH_ORD, type=pa.int32()).cast(pa.date32())


def nullable_date_array(days: np.ndarray, valid: np.ndarray) -> pa.Array:
    vals = np.where(valid, np.asarray(days, dtype=np.int64) - EPOCH_ORD, 0).astype(np.int32)
    return pa.array(vals, type=pa.int32(), mask=~np.asarray(valid, dtype=bool)).cast(pa.date32())


def ts_array(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    secs = np.asarray(seconds, dtype=np.int64)
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(secs, type=pa.int64(), mask=mask).cast(pa.timestamp("s"))


def next_weekday(day: int) -> int:
    while weekday(day) >= 5:
        day += 1
    return day


def add_workdays(day: int, n: int) -> int:
    """The n-th weekday after `day` (n = 0: `day` itself, moved off a weekend)."""
    day = next_weekday(day)
    while n > 0:
        day = next_weekday(day + 1)
        n -= 1
    return day
