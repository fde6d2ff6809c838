"""Spark processing of the raw lake into the processed layer.

One job (`tsfraud_assets/spark_jobs/process_timesheets.py`) and two ways to run it:
- `LocalSparkProcessing` (embedded default): dagster-pyspark's resource gives one local
  SparkSession per run; the job runs in-process over the whole partition range.
- `EmrPipesSparkProcessing` (production): the same file, with the same arguments
  (`job_arguments`), submitted with `spark-submit --deploy-mode cluster` as an Amazon EMR step;
  its metrics come back through Dagster Pipes. See docs/emr.md.
"""

from tsfraud_assets.resources.spark.emr import (
    CLUSTER_ENDED,
    ENV_PREFIX,
    OUTPUT_SPARK_CONF_KEYS,
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
    LocalSparkProcessing,
    SparkProcessing,
    job_arguments,
)

__all__ = [
    "CLUSTER_ENDED",
    "ENV_PREFIX",
    "GIB",
    "OUTPUT_SPARK_CONF_KEYS",
    "STEP_ENDED",
    "EmrPipesSparkProcessing",
    "LocalSparkProcessing",
    "ShippedCode",
    "SparkProcessing",
    "aws_session",
    "aws_spark_processing_from_env",
    "capacity_for_input_bytes",
    "cluster_spark_conf",
    "job_arguments",
    "metrics_from_pipes",
    "raw_input_bytes",
    "s3_key",
    "ship_job_code",
    "spark_submit_step",
    "wait_for_cluster_end",
    "wait_for_step_end",
    "with_driver_env",
]
