"""Local PySpark over a lake it cannot reach: stage the run's inputs, run, publish the outputs.

The embedded Spark is pip's pyspark. Its Hadoop has no S3 filesystem: `s3a://` needs the
hadoop-aws and AWS SDK jars, which would have to be downloaded at run time (never here, and
impossible offline), and a jar shipped with the project would have to match the JVM's Hadoop
build exactly. So with an `s3://` lake (or any non-folder one) and the embedded engines,
`LocalSparkProcessing` does what an EMR cluster does with EMRFS, in three visible steps:

1. stage: copy exactly what the job reads into a temporary local lake: the range's raw
   `timesheet_entries` / `workstation_activity` partitions and the five reference snapshots
   (fsspec's s3fs, which honours `AWS_ENDPOINT_URL`);
2. run the unchanged job (`spark_jobs/process_timesheets.run`) on that folder, so the
   transforms, the one-file-per-day layout and the range semantics are the very ones tested
   and run on EMR, not a second implementation of them;
3. publish: for every day of the range, the day's output replaces the lake's partition
   (`Lake.replace_partition_files`: one object, visible only once uploaded, so readers see the
   old day or the new one), and a day of the range with no output loses its old partition,
   as the job itself does on a lake it can write.

The temporary folder goes in every case. The cost is one download of the range's raw data and
one upload of its output, the size a laptop's local Spark handles anyway; a lake too big for
that is the `aws` deployment's (EMR) job. Days are published one by one, as Spark's own dynamic
overwrite replaces them: a failure part-way leaves each day old or new, and the step fails, so
the rerun Dagster offers makes the range whole again (the job is idempotent).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tsfraud_assets.lib.lake_layout import (
    PARTITION_COLUMN,
    PROCESSED_ENTRIES,
    partition_name,
    raw_dataset,
)
from tsfraud_assets.resources.lake import Lake

# What `spark_jobs/lake_io.read_raw_inputs` reads (tests hold the two lists together).
DAILY_INPUTS = ("timesheet_entries", "workstation_activity")
REFERENCE_INPUTS = (
    "employees",
    "projects",
    "project_assignments",
    "leave_records",
    "public_holidays",
)
STAGE_PREFIX = "tsfraud-spark-stage-"


@dataclass(frozen=True)
class Staged:
    days: int
    bytes: int


@dataclass(frozen=True)
class Published:
    days_written: int
    days_cleared: int
    rows_written: int
    bytes: int


def stage_inputs(lake: Lake, local_root: Path, start: dt.date, end: dt.date) -> Staged:
    """Copy the raw inputs of [start, end] from `lake` into the folder lake `local_root`."""
    days: set[dt.date] = set()
    size = 0
    for table in DAILY_INPUTS:
        dataset = raw_dataset(table)
        for day in lake.list_partitions(dataset):
            if start <= day <= end:
                part = f"{dataset}/{partition_name(day)}"
                size += lake.download_folder(part, local_root / part)
                days.add(day)
    for table in REFERENCE_INPUTS:
        dataset = raw_dataset(table)
        if not lake.exists(dataset):
            # The job fails on a missing snapshot (flags computed from it would silently be
            # false); say which, and where, before a JVM error does.
            raise FileNotFoundError(
                f"{lake.uri(dataset)} does not exist: materialize raw_{table} first"
            )
        size += lake.download_folder(dataset, local_root / dataset)
    return Staged(days=len(days), bytes=size)


def output_files(local_root: Path, day: dt.date) -> list[Path]:
    """The job's Parquet files for `day` in the staged lake (none if it wrote nothing)."""
    folder = local_root / PROCESSED_ENTRIES / f"{PARTITION_COLUMN}={day.isoformat()}"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.parquet") if not p.name.startswith((".", "_")))


def publish_outputs(local_root: Path, lake: Lake, start: dt.date, end: dt.date) -> Published:
    """Make the lake's processed days of [start, end] exactly the staged job's output."""
    existing = {d for d in lake.list_partitions(PROCESSED_ENTRIES) if start <= d <= end}
    written = cleared = rows = size = 0
    day = start
    while day <= end:
        files = output_files(local_root, day)
        if files:
            stats = lake.replace_partition_files(PROCESSED_ENTRIES, day, files)
            written += 1
            rows += stats.rows
            size += stats.bytes
        elif day in existing:
            lake.delete_partition(PROCESSED_ENTRIES, day)
            cleared += 1
        day += dt.timedelta(days=1)
    return Published(days_written=written, days_cleared=cleared, rows_written=rows, bytes=size)


def run_staged(
    lake: Lake,
    start: dt.date,
    end: dt.date,
    job: Callable[[str], dict[str, Any]],
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Stage, run `job(local_lake_root)` (the Spark job's metrics), publish; the job's
    metrics with the lake's figures in place of the temporary folder's."""
    with tempfile.TemporaryDirectory(prefix=STAGE_PREFIX) as tmp:
        local_root = Path(tmp) / "lake"
        staged = stage_inputs(lake, local_root, start, end)
        log(
            f"staged {staged.days} raw day(s) and the reference snapshots from {lake.uri()} "
            f"({staged.bytes / 1e6:.1f} MB) for local Spark"
        )
        metrics = job(str(local_root))
        published = publish_outputs(local_root, lake, start, end)
        if published.rows_written != metrics.get("rows_written"):
            raise RuntimeError(
                f"the job wrote {metrics.get('rows_written')} rows but "
                f"{published.rows_written} were published to {lake.uri(PROCESSED_ENTRIES)}"
            )
        log(
            f"published {published.days_written} processed day(s) to {lake.uri()}, "
            f"cleared {published.days_cleared}"
        )
    return {
        **metrics,
        "output": lake.uri(PROCESSED_ENTRIES),
        "days_written": published.days_written,
        "days_cleared": published.days_cleared,
        "staged_input_bytes": staged.bytes,
        "published_bytes": published.bytes,
    }
