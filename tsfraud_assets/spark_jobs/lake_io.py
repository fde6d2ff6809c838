"""Reading the raw layer and writing the processed layer with Spark, on any Hadoop file system.

Paths are plain strings joined with "/": the lake root may be a local folder, `file:///...`
or `s3://...`, and `os.path` would mangle the latter two. Listing and deleting go through the
JVM's Hadoop FileSystem (the same one Spark itself uses, with the cluster's S3 credentials and
committer settings) rather than fsspec, which may not be installed or configured on EMR.

Daily datasets are read by naming the partition folders of the run's days explicitly instead
of pointing Spark at the dataset root: Spark would list every partition of the dataset's whole
history before pruning, which on S3 is thousands of LIST calls for a one-day run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from tsfraud_assets.lib.lake_layout import PARTITION_COLUMN, RAW
from tsfraud_assets.lib.processing.schemas import (
    RAW_DAILY_SCHEMAS,
    RAW_REFERENCE_SCHEMAS,
)
from tsfraud_assets.lib.processing.transforms import RawInputs

# A day of a large firm is a few hundred thousand lines: one file per day, split only if huge.
MAX_RECORDS_PER_FILE = 2_000_000


def lake_uri(lake: str, *parts: str) -> str:
    return "/".join([lake.rstrip("/"), *parts])


def partition_name(day: dt.date) -> str:
    return f"{PARTITION_COLUMN}={day.isoformat()}"


def days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every calendar day from start to end, both included."""
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def _hadoop_fs(spark: SparkSession, uri: str) -> tuple[Any, Any]:
    jvm: Any = spark._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(spark._jsc.hadoopConfiguration()), path


def list_partitions(spark: SparkSession, dataset_uri: str) -> dict[dt.date, str]:
    """The dataset's `work_date=D` folders by day; a missing dataset has none.

    One listing of the dataset folder: hidden and temporary entries (`.spark-staging-*`,
    `_temporary`, `_SUCCESS`) and anything else that is not a day folder are ignored.
    """
    fs, path = _hadoop_fs(spark, dataset_uri)
    if not fs.exists(path):
        return {}
    prefix = f"{PARTITION_COLUMN}="
    days: dict[dt.date, str] = {}
    for status in fs.listStatus(path):
        name = status.getPath().getName()
        if not status.isDirectory() or not name.startswith(prefix):
            continue
        try:
            day = dt.date.fromisoformat(name.removeprefix(prefix))
        except ValueError:
            continue
        days[day] = status.getPath().toString()
    return days


def delete_path(spark: SparkSession, uri: str) -> bool:
    fs, path = _hadoop_fs(spark, uri)
    return bool(fs.delete(path, True))


def read_daily(
    spark: SparkSession, lake: str, dataset: str, start: dt.date, end: dt.date
) -> tuple[DataFrame, list[dt.date]]:
    """The raw rows of `dataset` whose work date is in [start, end], and the days found.

    Days without a folder are simply absent (never ingested, or nothing to ingest); a range
    with no folder at all gives an empty frame of the right schema.
    """
    schema = RAW_DAILY_SCHEMAS[dataset]
    base = lake_uri(lake, RAW, dataset)
    found = sorted(d for d in list_partitions(spark, base) if start <= d <= end)
    if not found:
        return spark.createDataFrame([], schema), found
    paths = [lake_uri(base, partition_name(d)) for d in found]
    df = (
        spark.read.schema(schema)
        .option("basePath", base)
        .parquet(*paths)
        .where(F.col(PARTITION_COLUMN).between(F.lit(start), F.lit(end)))
    )
    return df, found


def read_reference(spark: SparkSession, lake: str, table: str) -> DataFrame:
    """A reference table's full snapshot. A missing snapshot fails the run: without it every
    flag computed from it would silently be false."""
    return spark.read.schema(RAW_REFERENCE_SCHEMAS[table]).parquet(lake_uri(lake, RAW, table))


def read_raw_inputs(
    spark: SparkSession, lake: str, start: dt.date, end: dt.date
) -> tuple[RawInputs, list[dt.date]]:
    """Everything one run reads, and the days that have a raw timesheet partition."""
    entries, entry_days = read_daily(spark, lake, "timesheet_entries", start, end)
    activity, _ = read_daily(spark, lake, "workstation_activity", start, end)
    raw = RawInputs(
        entries=entries,
        activity=activity,
        employees=read_reference(spark, lake, "employees"),
        projects=read_reference(spark, lake, "projects"),
        assignments=read_reference(spark, lake, "project_assignments"),
        leave=read_reference(spark, lake, "leave_records"),
        holidays=read_reference(spark, lake, "public_holidays"),
    )
    return raw, entry_days


def write_partitions(df: DataFrame, output_uri: str, n_days: int) -> None:
    """Replace exactly the days present in `df` (dynamic partition overwrite).

    Repartitioning by the day sends each day to one task, so each day is written as one file
    (more only beyond MAX_RECORDS_PER_FILE) instead of one file per upstream task. The
    overwrite mode is set on the writer itself: a session default of `static` would wipe
    every other day of the dataset.
    """
    (
        df.repartition(max(n_days, 1), PARTITION_COLUMN)
        .sortWithinPartitions(PARTITION_COLUMN, "employee_id", "entry_id")
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .option("compression", "zstd")
        .option("maxRecordsPerFile", MAX_RECORDS_PER_FILE)
        .partitionBy(PARTITION_COLUMN)
        .parquet(output_uri)
    )
