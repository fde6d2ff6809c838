"""The terminal of `tsfraud run`/demo: a step's output (its subprocesses' too) goes to the log
file named on screen, the step lines stay on the terminal, and -v redirects nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tsfraud_assets.cli.console import Console


def test_a_steps_output_goes_to_the_log_file_and_the_line_to_the_terminal(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    console = Console.for_command(tmp_path, "run", verbose=False)
    assert console.log_path is not None and console.log_path.parent == tmp_path / "logs"
    with console.quiet("ingest"):
        print("python stdout")
        print("python stderr", file=sys.stderr)
        subprocess.run(["sh", "-c", "echo child stdout; echo child stderr >&2"], check=True)
        console.line("a line for people")
    console.line("done ingest")
    out, err = capfd.readouterr()
    assert "a line for people" in out and "done ingest" in out
    assert "child" not in out + err and "python std" not in out + err
    log = console.log_path.read_text()
    for text in ("python stdout", "python stderr", "child stdout", "child stderr", "ingest"):
        assert text in log


def test_an_error_in_a_step_restores_the_terminal(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    console = Console.for_command(tmp_path, "run", verbose=False)
    with pytest.raises(RuntimeError), console.quiet("spark"):
        raise RuntimeError("boom")
    print("visible again")
    assert "visible again" in capfd.readouterr().out


def test_verbose_redirects_nothing(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    console = Console.for_command(tmp_path, "demo", verbose=True)
    assert console.log_path is None
    with console.quiet("dbt"):
        print("shown")
    assert "shown" in capfd.readouterr().out
    assert not (tmp_path / "logs").exists()
