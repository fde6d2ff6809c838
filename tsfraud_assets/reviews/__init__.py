"""The investigators' review: their verdicts as data, the list's history, the review app."""

from __future__ import annotations

from tsfraud_assets.resources.lake import Lake


def ensure_review_datasets(lake: Lake) -> None:
    """Seed the append-only datasets with a zero-row file each, so the dbt views over them
    read files from the start (DuckDB fails on a glob matching nothing, and the stand-in for
    a missing dataset would hide the first rows until the next build)."""
    from tsfraud_assets.defs.suspects.scoring import SCORES_SCHEMA
    from tsfraud_assets.reviews import dispositions, history

    dispositions.ensure_dataset(lake)
    history.ensure_dataset(lake, SCORES_SCHEMA)
