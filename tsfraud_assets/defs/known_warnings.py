"""The Dagster warnings this project triggers on purpose, silenced where they are triggered.

Each is a feature chosen knowingly and explained where it is used: single-run backfills
(partitions.py: one Spark session and one dbt invocation per range), partitioned asset checks
(one result per work date, check_results.py) and mapping resolved specs (the freshness
policies, freshness.py). Printed on every load of the code location, they bury what a data
engineer must read; anything else Dagster warns about still shows. Matched on category and
message, so a new warning of the same category is not hidden.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import dagster as dg

KNOWN = (
    (dg.BetaWarning, r"Parameter `backfill_policy` of function"),
    (dg.PreviewWarning, r"Specifying a partitions_def on an AssetCheckSpec"),
    (dg.PreviewWarning, r"Function `Definitions.map_resolved_asset_specs`"),
)


@contextlib.contextmanager
def known_warnings_silenced() -> Iterator[None]:
    with warnings.catch_warnings():
        for category, message in KNOWN:
            warnings.filterwarnings("ignore", message=message, category=category)
        yield
