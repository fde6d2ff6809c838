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
    # CI, the CLI) we parse when it is missing or older than the project's sources, rather than
    # ship or keep a stale one.
    if os.environ.get("DAGSTER_IS_DEV_CLI"):
        project.prepare_if_dev()
    elif manifest_is_stale(Path(project.manifest_path), DBT_PROJECT_DIR):
        project.preparer.prepare(project)
    return project


def manifest_is_stale(manifest: Path, project_dir: Path) -> bool:
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    for path in project_dir.rglob("*"):
        rel = path.relative_to(project_dir).parts
        if rel and rel[0] in ("target", "logs", "dbt_packages"):
            continue
        if path.suffix in (".sql", ".yml", ".yaml", ".csv") and path.stat().st_mtime > built:
            return True
    return False


def dbt_cli(project: DbtProject) -> DbtCliResource:
    return DbtCliResource(project_dir=project, target=project.target)
