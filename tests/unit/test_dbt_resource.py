"""The dbt resource learns dbt's version without starting a dbt process when it can.

dagster-dbt asks `dbt --version` (a Python start and dbt's imports, seconds on a busy machine)
once per run before the first dbt step; the project's dbt sits beside the interpreter, so the
installed dbt-core says the same for free. Another executable must still be asked."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest
from dbt.version import __version__ as dbt_core_version
from packaging import version

from tsfraud_assets.resources.dbt import TsfraudDbtCliResource, dbt_cli, dbt_project
from tsfraud_assets.settings import DBT_PROJECT_DIR


def _no_subprocess(*args: object, **kwargs: object) -> bytes:
    raise AssertionError(f"a process was started: {args}")


def test_the_installed_dbt_answers_without_a_process(monkeypatch: pytest.MonkeyPatch) -> None:
    resource = dbt_cli(dbt_project("local"))  # as the deployment builds it
    monkeypatch.setattr("dagster_dbt.core.resource.check_output", _no_subprocess)
    monkeypatch.setattr(subprocess, "check_output", _no_subprocess)
    assert resource._cli_version == version.parse(dbt_core_version)


def test_another_dbt_executable_is_still_asked(tmp_path: Path) -> None:
    fake = tmp_path / "dbt"
    fake.write_text("#!/bin/sh\necho 'dbt-fusion 2.0.3'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    resource = TsfraudDbtCliResource(project_dir=str(DBT_PROJECT_DIR), dbt_executable=str(fake))
    assert resource._cli_version == version.parse("2.0.3")
