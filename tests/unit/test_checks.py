"""The reconcile check, run by Dagster beside the ingest: ERROR severity, declared blocking.

Dagster 1.13 cannot run a partitioned check without its asset in one in-process run, so the
tampered partition is produced by a lake that loses a row on the way in; the check then runs
on what the lake really holds, exactly as it does after a file was altered.
"""

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import dagster as dg
import pyarrow as pa
import sqlalchemy as sa

from tests.source_fixtures import DAY, entry, fill_minimal, insert, sqlite_source
from tsfraud_assets.defs.partitions import daily_partitions as daily_partitions_from
from tsfraud_assets.defs.partitions import single_run
from tsfraud_assets.defs.raw.assets import build_raw_daily_tables
from tsfraud_assets.defs.raw.checks import build_raw_entries_reconcile
from tsfraud_assets.defs.raw.ingest import raw_dataset
from tsfraud_assets.resources.lake import Lake, WriteStats
from tsfraud_assets.resources.source_db import SourceDatabase
from tsfraud_assets.settings import DEFAULT_PARTITION_START

daily_partitions = daily_partitions_from(DEFAULT_PARTITION_START)
raw_daily_tables = build_raw_daily_tables(daily_partitions)
raw_entries_reconcile = build_raw_entries_reconcile(daily_partitions)


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


class _RowLosingLake(Lake):
    """A lake whose raw entries partition silently loses its first row: a tampered file."""

    def write_partition(
        self, dataset: str, day: dt.date, schema: pa.Schema, batches: Iterable[pa.RecordBatch]
    ) -> WriteStats:
        if dataset == raw_dataset("timesheet_entries"):
            table = pa.Table.from_batches(list(batches), schema)
            batches = table.slice(1).to_batches()
        return super().write_partition(dataset, day, schema, batches)


def test_check_fails_on_a_tampered_partition_and_blocks_downstream(tmp_path: Path) -> None:
    downstream_ran: list[str] = []

    @dg.asset(
        deps=["raw_timesheet_entries"], partitions_def=daily_partitions, backfill_policy=single_run
    )
    def processed_stand_in(context: dg.AssetExecutionContext) -> None:
        downstream_ran.append(context.partition_key)

    with sqlite_source(tmp_path) as url:
        fill_minimal(sa.create_engine(url))
        result = dg.materialize(
            [raw_daily_tables, raw_entries_reconcile, processed_stand_in],
            resources={
                "source": SourceDatabase(url=url),
                "lake": _RowLosingLake(root=str(tmp_path / "lake")),
            },
            partition_key=DAY.isoformat(),
            raise_on_error=False,
        )
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.partition == DAY.isoformat()
    assert evaluation.metadata["source_rows"].value == 2
    assert evaluation.metadata["lake_rows"].value == 1
    assert evaluation.description is not None and "MISMATCH" in evaluation.description
    # Blocking: the run fails and nothing downstream of the bad partition is built.
    assert not result.success
    assert downstream_ran == []
    assert not result.asset_materializations_for_node("processed_stand_in")


def test_a_range_run_records_one_result_per_day_and_none_skipped(tmp_path: Path) -> None:
    """A single-run backfill over three days: three per-day results (that day's figures) and
    no partition-less result, so the Partitions tab reads 3 passed, not 3 skipped."""
    days = [DAY + dt.timedelta(days=i) for i in range(3)]
    instance = dg.DagsterInstance.ephemeral()
    with sqlite_source(tmp_path) as url:
        engine = sa.create_engine(url)
        fill_minimal(engine)
        insert(
            engine,
            "timesheet_entries",
            [entry(300, work_date=days[2]), entry(301, work_date=days[2], employee_id=2)],
        )
        result = dg.materialize(
            [raw_daily_tables, raw_entries_reconcile],
            resources={"source": SourceDatabase(url=url), "lake": Lake(root=str(tmp_path / "l"))},
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": days[0].isoformat(),
                "dagster/asset_partition_range_end": days[-1].isoformat(),
            },
        )
    assert result.success
    by_day = {e.partition: e for e in result.get_asset_check_evaluations()}
    assert set(by_day) == {d.isoformat() for d in days}
    assert all(e.passed for e in by_day.values())
    assert by_day[days[0].isoformat()].metadata["source_rows"].value == 2  # fill_minimal's two
    assert by_day[days[1].isoformat()].metadata["source_rows"].value == 0
    assert by_day[days[2].isoformat()].metadata["source_rows"].value == 2
    key = dg.AssetCheckKey(dg.AssetKey("raw_timesheet_entries"), "reconciles_with_source")
    records = instance.event_log_storage.get_asset_check_execution_history(key, limit=50)
    assert sorted((r.partition, r.status.value) for r in records) == [
        (d.isoformat(), "SUCCEEDED") for d in days
    ]
    # each day's result targets that day's materialization: the UI counts it as current
    for record in records:
        target = record.event.asset_check_evaluation.target_materialization_data
        (latest,) = instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=dg.AssetKey("raw_timesheet_entries"), asset_partitions=[record.partition]
            ),
            limit=1,
        ).records
        assert target is not None and target.storage_id == latest.storage_id
        assert target.run_id == result.run_id
