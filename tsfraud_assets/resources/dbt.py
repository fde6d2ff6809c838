"""The dbt project (one project, two targets: duckdb locally, athena in production)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from tsfraud_assets.settings import DBT_PROJECT_DIR, Deployment

DBT_TARGETS: dict[Deployment, str] = {"local": "duckdb", "aws": "athena"}


def _ensure_dbt_on_path() -> None:
    """dbt is a dependency of this package, so it sits beside the running interpreter; put that
    folder on PATH for dagster-dbt, which looks the executable up by name (also in its manifest
    preparer), so `.venv/bin/tsfraud` works without an activated virtualenv."""
    if shutil.which("dbt") is None:
        os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])


def dbt_project(deployment: Deployment) -> DbtProject:
    _ensure_dbt_on_path()
    project = DbtProject(
        project_dir=DBT_PROJECT_DIR,
        profiles_dir=DBT_PROJECT_DIR,
        target=DBT_TARGETS[deployment],
    )
    # The manifest is a build artefact: `dagster dev` refreshes it, and everywhere else (tests,
    # CI, the CLI) we parse once when it is missing rather than ship a stale one.
    if os.environ.get("DAGSTER_IS_DEV_CLI"):
        project.prepare_if_dev()
    elif not Path(project.manifest_path).exists():
        project.preparer.prepare(project)
    return project


def dbt_cli(project: DbtProject) -> DbtCliResource:
    return DbtCliResource(project_dir=project, target=project.target)
