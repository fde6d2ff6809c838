"""What a cluster side needs before the job runs: the range's raw input size (which sizes an
EMR cluster) and the job code shipped once per content hash: to S3 for EMR, to a local folder
for a standalone cluster's client-mode driver (`standalone.py`), the same two files either way."""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from tsfraud_assets.lib.formatting import parse_s3_uri
from tsfraud_assets.lib.lake_layout import RAW
from tsfraud_assets.lib.processing.schemas import (
    PARTITION_COLUMN,
    RAW_DAILY_SCHEMAS,
    RAW_REFERENCE_SCHEMAS,
)
from tsfraud_assets.spark_jobs.packaging import Artifact, build_package_zip, job_script

GIB = 1024**3

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


# --- sizing --------------------------------------------------------------------------------


def capacity_for_input_bytes(
    nbytes: int, *, bytes_per_instance: int = GIB, ceiling: int = 20
) -> tuple[int, int]:
    """Managed-scaling limits (core + task instances) for a run that reads `nbytes` of raw
    Parquet.

    Maximum: one instance per `bytes_per_instance` of compressed input. zstd Parquet of
    timesheet rows grows several times in memory, and 1 GiB per 4 vCPU / 16 GiB instance keeps
    the joins, the window functions and the cached result in memory. Never below 2, so that a
    run whose estimate is off can still grow; never above `ceiling`, the cost guard.
    Minimum: a quarter of the need (at least 1), what the cluster starts with: managed scaling
    adds instances only while YARN has pending containers, so a small range never pays for the
    maximum, and a large one starts big enough not to wait minutes for every scale-up.
    """
    if nbytes < 0:
        raise ValueError(f"nbytes must be >= 0, got {nbytes}")
    if bytes_per_instance <= 0 or ceiling < 1:
        raise ValueError("bytes_per_instance must be > 0 and ceiling >= 1")
    needed = max(1, math.ceil(nbytes / bytes_per_instance))
    maximum = max(min(needed, ceiling), min(2, ceiling))
    minimum = min(max(1, math.ceil(needed / 4)), maximum)
    return minimum, maximum


# --- S3 ------------------------------------------------------------------------------------


def s3_key(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p.strip("/"))


def raw_input_bytes(s3: S3Client, lake: str, start: dt.date, end: dt.date) -> int:
    """Bytes of raw Parquet the job reads for [start, end]: the daily partitions of the range
    and the reference snapshots it joins (the same datasets `read_raw_inputs` reads).

    Keys come back in lexical order, which for ISO dates is day order: the listing starts at
    the first day of the range and stops after the last, so a one-day run does not list years.
    """
    bucket, root = parse_s3_uri(lake)
    paginator = s3.get_paginator("list_objects_v2")
    total = 0
    for dataset in RAW_DAILY_SCHEMAS:
        prefix = s3_key(root, RAW, dataset, f"{PARTITION_COLUMN}=")
        pages = paginator.paginate(Bucket=bucket, Prefix=prefix, StartAfter=prefix + str(start))
        past_end = False
        for page in pages:
            for obj in page.get("Contents", []):
                folder = obj["Key"][len(prefix) :].split("/", 1)[0]
                try:
                    day = dt.date.fromisoformat(folder)
                except ValueError:
                    continue
                if day > end:
                    past_end = True
                    break
                if day >= start:
                    total += obj["Size"]
            if past_end:
                break
    for table in RAW_REFERENCE_SCHEMAS:
        for page in paginator.paginate(Bucket=bucket, Prefix=s3_key(root, RAW, table) + "/"):
            total += sum(obj["Size"] for obj in page.get("Contents", []))
    return total


@dataclass(frozen=True)
class ShippedCode:
    script_uri: str
    package_uri: str


def _upload_once(s3: S3Client, bucket: str, key: str, data: bytes) -> bool:
    """Put `data` unless the (content-addressed) key already exists; True if uploaded."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return False
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    return True


def _write_once(folder: Path, name: str, data: bytes) -> bool:
    """Write `data` to `folder/name` unless it is there (content-addressed); True if written.
    Through a temporary file and a rename, so a reader never sees half a zip."""
    target = folder / name
    if target.exists():
        return False
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def ship_job_code(
    s3: S3Client | None,
    code_prefix: str,
    script: Artifact | None = None,
    package: Artifact | None = None,
) -> ShippedCode:
    """Put the job script and the `--py-files` zip of the installed package under the code
    prefix; both names carry a content hash, so unchanged code is not shipped again.

    `s3://bucket/prefix` (EMR: the cluster fetches them from S3) needs the `s3` client; any
    other prefix is a local folder (a standalone cluster in client mode: spark-submit adds them
    to the driver and the driver serves them to the executors, as EMR's executors get them)."""
    script = script or job_script()
    package = package or build_package_zip()
    if not code_prefix.startswith("s3://"):
        folder = Path(code_prefix).expanduser().resolve()
        for artifact in (script, package):
            _write_once(folder, artifact.name, artifact.data)
        return ShippedCode(
            script_uri=str(folder / script.name), package_uri=str(folder / package.name)
        )
    if s3 is None:
        raise ValueError(f"shipping the job code to {code_prefix} needs an S3 client")
    bucket, prefix = parse_s3_uri(code_prefix)
    uris = []
    for artifact in (script, package):
        key = s3_key(prefix, artifact.name)
        _upload_once(s3, bucket, key, artifact.data)
        uris.append(f"s3://{bucket}/{key}")
    return ShippedCode(script_uri=uris[0], package_uri=uris[1])
