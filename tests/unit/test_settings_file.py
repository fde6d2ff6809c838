"""`<data dir>/tsfraud.env`: settings the demo derived from its data (the partition range),
read under the environment by every later command, the UI and the daemon."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tsfraud_assets.defs.partitions import daily_partitions
from tsfraud_assets.settings import load_settings, read_settings_file, write_settings_file


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("TSFRAUD_PARTITION_START", "TSFRAUD_PARTITION_END", "TSFRAUD_ALERT_BUDGET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TSFRAUD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TSFRAUD_SETTINGS_FILE")  # the suite's conftest turns the file off
    return tmp_path


def test_the_file_sets_what_the_environment_does_not(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_settings_file(
        data_dir,
        {"TSFRAUD_PARTITION_START": "2026-03-02", "TSFRAUD_PARTITION_END": "2026-06-29"},
        reason="a test",
    )
    write_settings_file(data_dir, {"TSFRAUD_ALERT_BUDGET": "0.02"}, reason="a test")  # merged
    settings = load_settings()
    assert (settings.partition_start, settings.partition_end) == ("2026-03-02", "2026-06-29")
    assert settings.alert_budget == 0.02
    monkeypatch.setenv("TSFRAUD_PARTITION_START", "2026-04-01")
    assert load_settings().partition_start == "2026-04-01"  # the environment wins
    # an explicit mapping is taken alone: tests and side-by-side deployments stay hermetic
    assert load_settings({"TSFRAUD_DATA_DIR": str(data_dir)}).partition_end is None


def test_a_bad_line_or_an_end_before_the_start_is_an_error(data_dir: Path) -> None:
    path = data_dir / "tsfraud.env"
    path.write_text("# comment\n\nTSFRAUD_PARTITION_START=2026-03-02\nPATH=/bin\n")
    with pytest.raises(ValueError, match=r"tsfraud\.env:4"):
        read_settings_file(path)
    path.write_text("TSFRAUD_PARTITION_START=2026-03-02\nTSFRAUD_PARTITION_END=2026-03-01\n")
    with pytest.raises(ValueError, match="before TSFRAUD_PARTITION_START"):
        load_settings()


def test_partitions_end_on_the_last_day_inclusive() -> None:
    partitions = daily_partitions("2026-03-02", "2026-06-29")
    keys = partitions.get_partition_keys()
    assert (keys[0], keys[-1], len(keys)) == ("2026-03-02", "2026-06-29", 120)
    open_ended = daily_partitions("2026-03-02")
    last = open_ended.get_last_partition_key()
    assert last is not None and dt.date.fromisoformat(last) >= dt.date(2026, 6, 29)


def test_the_suite_reads_no_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """conftest.py turns the file off, so `make demo` before `make test` changes nothing."""
    monkeypatch.setenv("TSFRAUD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TSFRAUD_PARTITION_START", raising=False)
    write_settings_file(tmp_path, {"TSFRAUD_PARTITION_START": "2026-03-02"}, reason="a test")
    assert load_settings().partition_start != "2026-03-02"
