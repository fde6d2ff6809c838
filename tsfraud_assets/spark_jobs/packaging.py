"""The code a cluster needs to run the Spark job, built from the installed packages.

`spark-submit` on EMR gets two files: the job script (its primary resource) and one zip for
`--py-files` that holds the `tsfraud_assets` package (the job imports `processing.*` from it)
and `dagster_pipes` (the job reports its metrics through Pipes). Shipping `dagster_pipes` in
the zip rather than installing it with a bootstrap action keeps the cluster free of any
package index access and guarantees that the Pipes protocol version on the cluster is the one
the orchestrator speaks; it is pure standard-library Python, so it imports from a zip.

The zip is byte-for-byte reproducible (sorted entries, fixed timestamps and permissions) and
named after a hash of its inputs, so a deployment that did not change the code finds its
objects already in S3 and uploads nothing, while two code versions never overwrite each other's
objects under runs that are still using them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "tsfraud_assets"
PACKAGES: tuple[str, ...] = (PACKAGE, "dagster_pipes")
JOB_MODULE_PATH = ("spark_jobs", "process_timesheets.py")
# Zip's epoch: file times are not content and must not change the bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_SKIPPED_DIRS = frozenset({"__pycache__"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
HASH_CHARS = 16


@dataclass(frozen=True)
class Artifact:
    """One file to ship: its content-addressed name and its bytes."""

    name: str
    data: bytes
    digest: str


def package_dir(package: str) -> Path:
    """The folder a package is imported from (works for editable installs too)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{package!r} is not an importable package here")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def _package_files(package: str) -> Iterator[tuple[str, Path]]:
    """(name inside the zip, file on disk), sorted; caches and hidden files left out."""
    root = package_dir(package)
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or path.suffix in _SKIPPED_SUFFIXES:
            continue
        if any(part in _SKIPPED_DIRS or part.startswith(".") for part in relative.parts):
            continue
        yield "/".join((package, *relative.parts)), path


def content_hash(chunks: Sequence[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        # Length-prefixed, so that moving bytes from one file to the next changes the hash.
        digest.update(len(chunk).to_bytes(8, "big"))
        digest.update(chunk)
    return digest.hexdigest()[:HASH_CHARS]


def build_package_zip(packages: Sequence[str] = PACKAGES) -> Artifact:
    """The `--py-files` zip of `packages`, named `tsfraud_assets-<hash>.zip`.

    The hash covers the entry names and file contents rather than the zip bytes, so it does not
    depend on the zlib version of the machine that builds it.
    """
    files = [entry for package in packages for entry in _package_files(package)]
    buffer = io.BytesIO()
    hashed: list[bytes] = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for arcname, path in files:
            data = path.read_bytes()
            hashed += [arcname.encode(), data]
            info = zipfile.ZipInfo(arcname, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data, compresslevel=9)
    digest = content_hash(hashed)
    return Artifact(name=f"{PACKAGE}-{digest}.zip", data=buffer.getvalue(), digest=digest)


def job_script() -> Artifact:
    """The job file as `spark-submit` runs it, named `process_timesheets-<hash>.py`."""
    path = package_dir(PACKAGE).joinpath(*JOB_MODULE_PATH)
    data = path.read_bytes()
    digest = content_hash([data])
    return Artifact(name=f"{path.stem}-{digest}{path.suffix}", data=data, digest=digest)
