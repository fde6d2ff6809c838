"""Spark processing of the raw lake into the processed layer.

One job (`tsfraud_assets/spark_jobs/process_timesheets.py`) and three ways to run it:
- `LocalSparkProcessing` (embedded default): dagster-pyspark's resource gives one local
  SparkSession per run; the job runs in-process over the whole partition range.
- `StandaloneSparkProcessing` (`TSFRAUD_SPARK_MASTER=spark://host:port`): the same file and
  code zip, on the same spark-submit line, submitted to a Spark standalone cluster; metrics
  through Dagster Pipes. See docs/spark-cluster.md.
- `EmrPipesSparkProcessing` (production): the same file, with the same arguments
  (`spark_submit_args`), submitted with `spark-submit --deploy-mode cluster` as an Amazon EMR
  step; its metrics come back through Dagster Pipes. See docs/emr.md.
"""

from tsfraud_assets.resources.spark.emr import (
    CLUSTER_ENDED,
    ENV_PREFIX,
    STEP_ENDED,
    EmrPipesSparkProcessing,
    aws_session,
    aws_spark_processing_from_env,
    cluster_spark_conf,
    metrics_from_pipes,
    spark_submit_step,
    wait_for_cluster_end,
    wait_for_step_end,
    with_driver_env,
)
from tsfraud_assets.resources.spark.emr_code import (
    GIB,
    ShippedCode,
    capacity_for_input_bytes,
    raw_input_bytes,
    s3_key,
    ship_job_code,
)
from tsfraud_assets.resources.spark.processing import (
    OUTPUT_SPARK_CONF_KEYS,
    LocalSparkProcessing,
    SparkProcessing,
    job_arguments,
    output_spark_conf,
    spark_submit_args,
)
from tsfraud_assets.resources.spark.standalone import (
    MASTER_ENV,
    StandaloneSparkProcessing,
    installed_spark_home,
    standalone_spark_conf,
    standalone_spark_processing_from_env,
)

__all__ = [
    "CLUSTER_ENDED",
    "ENV_PREFIX",
    "GIB",
    "MASTER_ENV",
    "OUTPUT_SPARK_CONF_KEYS",
    "STEP_ENDED",
    "EmrPipesSparkProcessing",
    "LocalSparkProcessing",
    "ShippedCode",
    "SparkProcessing",
    "StandaloneSparkProcessing",
    "aws_session",
    "aws_spark_processing_from_env",
    "capacity_for_input_bytes",
    "cluster_spark_conf",
    "installed_spark_home",
    "job_arguments",
    "metrics_from_pipes",
    "output_spark_conf",
    "raw_input_bytes",
    "s3_key",
    "ship_job_code",
    "spark_submit_args",
    "spark_submit_step",
    "standalone_spark_conf",
    "standalone_spark_processing_from_env",
    "wait_for_cluster_end",
    "wait_for_step_end",
    "with_driver_env",
]
