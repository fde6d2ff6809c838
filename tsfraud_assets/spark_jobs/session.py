"""A local SparkSession tuned for a laptop or CI runner, not for a cluster.

On EMR the session comes from `spark-submit` and the cluster's defaults; this module is only
for tests and embedded local runs, where Spark's defaults (200 shuffle partitions, a web UI,
a Hive metastore in the working directory) cost far more than the data they process.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from pyspark.sql import SparkSession

LOCAL_MASTER = "local[2]"


def local_spark_conf() -> dict[str, str]:
    """Settings for local mode on a 2-core machine with a few GB of memory."""
    warehouse = Path(tempfile.gettempdir()) / "tsfraud-spark-warehouse"
    return {
        # Also here (not only in local_spark_session) for callers that build their own session
        # from this dict, e.g. dagster-pyspark's PySparkResource.
        "spark.master": LOCAL_MASTER,
        # Few cores, small data: 200 shuffle partitions would be 200 near-empty tasks per stage.
        "spark.sql.shuffle.partitions": "4",
        "spark.default.parallelism": "4",
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        # No web UI (port clashes between parallel runs, startup time) and no progress bars.
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.log.level": "WARN",
        # A range run must rewrite only its own days.
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        # Work dates are calendar dates and timestamps are naive UTC: no local-time shifts.
        "spark.sql.session.timeZone": "UTC",
        # Driver and executors share one short-lived JVM in local mode, on small data: the
        # optimising JIT (C2) and a parallel GC burn more of two cores than they ever pay back
        # (measured: about 40% less CPU for the test suite with C1 only and the serial GC).
        "spark.driver.extraJavaOptions": (
            "-Duser.timezone=UTC -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
        ),
        "spark.driver.memory": "2g",
        # No Hive metastore (no derby.log / metastore_db in the working directory).
        "spark.sql.catalogImplementation": "in-memory",
        "spark.sql.warehouse.dir": warehouse.as_uri(),
        # Same codec as the ingest writes; readable by Spark, DuckDB and Athena.
        "spark.sql.parquet.compression.codec": "zstd",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        # Sandboxes and CI runners often cannot resolve their own hostname.
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        # Python workers (if any) must use this interpreter, not whatever `python3` is on PATH.
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
        # Fast pandas conversion in tests and local inspection.
        "spark.sql.execution.arrow.pyspark.enabled": "true",
    }


def local_spark_session(app_name: str) -> SparkSession:
    """One local session per process: getOrCreate returns the running one if there is one."""
    # Otherwise Spark warns on every start when the hostname resolves to a loopback address.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.master(LOCAL_MASTER).appName(app_name)
    for key, value in local_spark_conf().items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
