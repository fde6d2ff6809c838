"""The CLI refuses wrong input before it starts any work, with a message and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tsfraud_assets.cli.main import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["run", "--start", "2026-06-10", "--end", "2026-06-01"],
            "run: --end 2026-06-01 is before --start 2026-06-10",
        ),
        (["run", "--start", "2026-13-01", "--end", "2026-06-01"], "not an ISO date"),
        (["sweep", "--days", "-3"], "must be 1 or more"),
    ],
)
def test_wrong_input_is_refused_before_any_work(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    assert message in err
    assert "running every layer" not in out  # nothing was started


def test_a_range_outside_the_partitions_is_refused_naming_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TSFRAUD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TSFRAUD_PARTITION_START", "2026-03-02")
    monkeypatch.setenv("TSFRAUD_PARTITION_END", "2026-06-29")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    for start, end in [("2020-01-01", "2020-01-02"), ("2026-06-20", "2026-07-05")]:
        assert main(["run", "--start", start, "--end", end]) == 2
        out, err = capsys.readouterr()
        assert f"{start} .. {end} is outside the daily partitions (2026-03-02 .. 2026-06-29)" in err
        assert "running every layer" not in out
    assert not (tmp_path / "dagster_home").exists()  # refused before any set-up
