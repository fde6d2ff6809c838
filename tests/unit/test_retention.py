"""Retention deletes whole work-date partitions past each dataset's cut-off, nothing else."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from tsfraud_assets.defs.history.retention import apply_retention, expired_partitions
from tsfraud_assets.lib.lake_layout import ENTRY_VERSIONS, raw_dataset
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.settings import load_settings

TODAY = dt.date(2033, 1, 10)


def test_partitions_past_retention_go_and_the_rest_stay(tmp_path: Path) -> None:
    lake = Lake(root=str(tmp_path / "lake"))
    data = pa.table({"entry_id": [1]})
    old, edge, recent = dt.date(2025, 1, 1), TODAY - dt.timedelta(days=100), TODAY
    for day in (old, edge, recent):
        lake.write_partition(raw_dataset("timesheet_entries"), day, data.schema, data.to_batches())
        lake.add_partition_file(ENTRY_VERSIONS, day, "v-1.parquet", data)
    # raw keeps 100 days (the edge day is exactly at the cut-off and stays); history 7 years
    expired = expired_partitions(lake, TODAY, raw_days=100, history_days=2557)
    assert {(e.dataset, tuple(e.days)) for e in expired} == {
        (raw_dataset("timesheet_entries"), (old,)),
        (ENTRY_VERSIONS, (old,)),
    }
    assert apply_retention(lake, expired) == 2
    assert lake.list_partitions(raw_dataset("timesheet_entries")) == [edge, recent]
    assert lake.list_partitions(ENTRY_VERSIONS) == [edge, recent]
    assert expired_partitions(lake, TODAY, raw_days=100, history_days=2557) == []


def test_retention_settings_default_to_seven_years_and_refuse_nonsense() -> None:
    settings = load_settings({})
    assert settings.raw_retention_days == settings.history_retention_days == 2557
    assert load_settings({"TSFRAUD_HISTORY_RETENTION_DAYS": "3650"}).history_retention_days == 3650
    with pytest.raises(ValueError, match="TSFRAUD_RAW_RETENTION_DAYS"):
        load_settings({"TSFRAUD_RAW_RETENTION_DAYS": "forever"})
    with pytest.raises(ValueError, match="TSFRAUD_SWEEP_DAYS"):
        load_settings({"TSFRAUD_SWEEP_DAYS": "0"})


def test_cli_lists_by_default_and_deletes_only_with_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tsfraud_assets.cli.main import main

    lake = Lake(root=str(tmp_path / "lake"))
    data = pa.table({"entry_id": [1]})
    lake.add_partition_file(ENTRY_VERSIONS, dt.date(2020, 1, 1), "v-1.parquet", data)
    monkeypatch.setenv("TSFRAUD_LAKE", str(tmp_path / "lake"))
    monkeypatch.setenv("TSFRAUD_HISTORY_RETENTION_DAYS", "30")
    assert main(["retention"]) == 0
    assert "1 work dates, 2020-01-01 to 2020-01-01" in capsys.readouterr().out
    assert lake.list_partitions(ENTRY_VERSIONS) == [dt.date(2020, 1, 1)]
    assert main(["retention", "--apply"]) == 0
    assert "deleted 1 partitions" in capsys.readouterr().out
    assert lake.list_partitions(ENTRY_VERSIONS) == []
