"""The dbt project (one project, two targets: duckdb locally, athena in production)."""

from __future__ import annotations

import contextlib
import filecmp
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject
from packaging import version
from pydantic import Field

from tsfraud_assets.settings import DBT_PROJECT_DIR, Deployment

DBT_TARGETS: dict[Deployment, str] = {"local": "duckdb", "aws": "athena"}
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


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


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """`values` in the process environment for the duration of the block, then the previous
    state back: the dbt subprocess copies the environment when it starts."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


class TsfraudDbtCliResource(DbtCliResource):
    """dagster-dbt's resource, plus the variables the profile and sources read with `env_var()`
    (the lake root, the DuckDB file, the partition start), handed to each dbt process it starts.

    dagster-dbt builds the subprocess environment from `os.environ` and takes no `env` of its
    own; setting the variables around the start alone keeps the settings passed to
    `build_definitions` the only source of truth, with nothing left behind in the process.
    """

    subprocess_env: dict[str, str] = Field(
        default_factory=dict, description="Extra environment for every dbt invocation."
    )

    def cli(  # type: ignore[override]
        self, args: Any, *, env: Mapping[str, str] | None = None, **kwargs: Any
    ) -> DbtCliInvocation:
        """`dbt args`, with `env` (e.g. the run's window) on top of `subprocess_env`."""
        with _environment({**self.subprocess_env, **(env or {})}):
            return super().cli(args, **kwargs)

    @cached_property
    def _cli_version(self) -> version.Version:
        """The dbt version, read from the installed dbt-core when the executable is the one
        beside this interpreter (`_ensure_dbt_on_path`), instead of dagster-dbt's
        `dbt --version` subprocess: that starts and imports dbt once per run, before its first
        dbt step (3-9 s on the shared two-core machine, benchmarks/RESULTS-timeliness.md).
        Any other executable (a fusion binary, another install) is still asked."""
        found = shutil.which(self.dbt_executable)
        ours = Path(sys.executable).parent / "dbt"
        if found is not None and ours.exists() and Path(found).resolve() == ours.resolve():
            from dbt.version import __version__

            return version.parse(__version__)
        parent: cached_property[version.Version] = DbtCliResource._cli_version  # type: ignore[assignment]
        return parent.func(self)


def keep_partial_parse(invocation: DbtCliInvocation) -> bool:
    """Make the parse this invocation saved the one the next invocation starts from.

    dagster-dbt gives every invocation its own target folder and seeds it with the project's
    `target/partial_parse.msgpack`, which the manifest preparation wrote in whatever
    environment it ran in. dbt rejects a saved parse whose profile differs ("profile has
    changed": the DuckDB file's path is part of it), so without this every run re-parsed the
    whole project and the invocation's fresh parse was left in its own folder, unused.
    Copied atomically (runs may end together); returns whether anything was copied.
    """
    fresh = Path(invocation.target_path) / PARTIAL_PARSE_FILE
    kept = Path(invocation.project_dir) / os.environ.get("DBT_TARGET_PATH", "target")
    kept = kept / PARTIAL_PARSE_FILE
    if not fresh.exists() or (kept.exists() and filecmp.cmp(fresh, kept, shallow=False)):
        return False
    kept.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=kept.parent, prefix=".partial_parse.", suffix=".tmp")
    os.close(fd)
    try:
        shutil.copyfile(fresh, tmp)
        os.replace(tmp, kept)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return True


def dbt_cli(project: DbtProject, env: Mapping[str, str] | None = None) -> TsfraudDbtCliResource:
    return TsfraudDbtCliResource(
        project_dir=project,  # type: ignore[arg-type]  # its __init__ takes a DbtProject
        target=project.target,
        subprocess_env=dict(env or {}),
    )
