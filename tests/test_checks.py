"""The reconcile check, run by Dagster beside the ingest: ERROR severity, declared blocking.

(Its failure on a tampered partition is asserted on the plain function in test_ingest.py:
Dagster 1.13 cannot run a partitioned check without its asset in one in-process run.)
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from tests.source_fixtures import DAY, entry, fill_minimal, insert, sqlite_source
from tsfraud_assets.assets.raw import raw_daily_tables
from tsfraud_assets.checks import raw_entries_reconcile
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase


def test_check_runs_with_the_ingest_and_counts_quarantine(tmp_path: Path) -> None:
    with sqlite_source(tmp_path) as url:
        engine = sa.create_engine(url)
        fill_minimal(engine)
        insert(engine, "timesheet_entries", [entry(200, hours=30.0)])
        lake = Lake(root=str(tmp_path / "lake"))
        result = dg.materialize(
            [raw_daily_tables, raw_entries_reconcile],
            resources={"source": SourceDatabase(url=url), "lake": lake},
            partition_key=DAY.isoformat(),
        )
        assert result.success
        (evaluation,) = result.get_asset_check_evaluations()
        assert evaluation.passed
        assert evaluation.metadata["source_rows"].value == 3
        assert evaluation.metadata["lake_rows"].value == 2
        assert evaluation.metadata["quarantined_rows"].value == 1
        materialization = next(
            m
            for m in result.asset_materializations_for_node("raw_daily_tables")
            if m.asset_key == dg.AssetKey("raw_timesheet_entries")
        )
        assert materialization.metadata["quarantined_rows"].value == 1
        assert all(spec.blocking for spec in raw_entries_reconcile.check_specs)
