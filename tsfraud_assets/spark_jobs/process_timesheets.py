"""Spark job: raw timesheet entries of a date range -> `processed/timesheet_entries`.

Run as a plain file by `spark-submit` (locally, or as an EMR step launched by Dagster's
`PipesEMRClient` with the package shipped through `--py-files`):

    spark-submit process_timesheets.py --lake s3://bucket/lake --start 2024-03-01 --end 2024-03-31

`--end` is inclusive. Every day of the range is owned by the run: days with entries are
rewritten (dynamic partition overwrite, other days untouched), and days that have no entries
(no raw folder, or a raw partition that was emptied) end with no processed partition, so a
rerun after a source deletion cannot leave stale lines behind.

Under Dagster Pipes the run's metrics are reported as the materialization of
`processed_timesheet_entries`; otherwise they are printed as one JSON line. They are printed in
both cases, so that the EMR step log always has them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from typing import Any

from pyspark import SparkContext, StorageLevel
from pyspark.sql import SparkSession

from tsfraud_assets.lib.lake_layout import PARTITION_COLUMN, PROCESSED_ENTRIES
from tsfraud_assets.lib.processing.transforms import build_processed_entries
from tsfraud_assets.spark_jobs.lake_io import (
    days_between,
    delete_path,
    lake_uri,
    list_partitions,
    read_raw_inputs,
    write_partitions,
)

APP_NAME = "tsfraud-process-timesheets"
PROCESSED_ASSET_KEY = "processed_timesheet_entries"


def run(spark: SparkSession, lake: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Process [start, end] and return the run's metrics (JSON-serialisable)."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    days = days_between(start, end)
    output_uri = lake_uri(lake, PROCESSED_ENTRIES)

    raw, raw_days = read_raw_inputs(spark, lake, start, end)
    rows_read = raw.entries.count() if raw_days else 0
    per_day: dict[dt.date, int] = {}
    if rows_read:
        # Cached because it is used twice: once to count rows per day (which decides what is
        # written and what is cleared), once to write.
        processed = build_processed_entries(raw).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            per_day = {
                row[PARTITION_COLUMN]: int(row["count"])
                for row in processed.groupBy(PARTITION_COLUMN).count().collect()
            }
            write_partitions(processed, output_uri, n_days=len(per_day))
        finally:
            processed.unpersist()

    # Dynamic overwrite only replaces the days it writes; a day of the range that now has no
    # entries must lose its old output explicitly.
    stale = {
        day: uri
        for day, uri in list_partitions(spark, output_uri).items()
        if start <= day <= end and day not in per_day
    }
    for uri in stale.values():
        delete_path(spark, uri)

    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "output": output_uri,
        "days_in_range": len(days),
        "raw_days_found": len(raw_days),
        "rows_read": rows_read,
        "rows_written": sum(per_day.values()),
        "days_written": len(per_day),
        "days_cleared": len(stale),
        "rows_per_day": {day.isoformat(): n for day, n in sorted(per_day.items())},
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=APP_NAME, description="raw -> processed timesheet entries"
    )
    parser.add_argument("--lake", required=True, help="lake root: a folder, file:// or s3:// URI")
    parser.add_argument("--start", required=True, type=dt.date.fromisoformat, help="YYYY-MM-DD")
    parser.add_argument(
        "--end", required=True, type=dt.date.fromisoformat, help="YYYY-MM-DD, inclusive"
    )
    return parser.parse_args(argv)


def in_dagster_pipes() -> bool:
    """Launched by a Dagster Pipes client (its bootstrap env vars are set)."""
    from dagster_pipes import PipesEnvVarParamsLoader

    return PipesEnvVarParamsLoader().is_dagster_pipes_process()


def open_pipes() -> Any:
    """Open the Pipes connection with the transport the orchestrator chose.

    `PipesEMRClient` is used with an S3 message reader (and possibly an S3 context injector),
    whose params name a bucket; the default loader and writer cover the env/file/stdio ones.
    """
    from dagster_pipes import (
        PipesEnvVarParamsLoader,
        PipesS3ContextLoader,
        PipesS3MessageWriter,
        open_dagster_pipes,
    )

    loader = PipesEnvVarParamsLoader()
    context_on_s3 = "bucket" in loader.load_context_params()
    messages_on_s3 = "bucket" in loader.load_messages_params()
    s3: Any = None
    if context_on_s3 or messages_on_s3:
        import boto3

        s3 = boto3.client("s3")
    return open_dagster_pipes(
        params_loader=loader,
        context_loader=PipesS3ContextLoader(client=s3) if context_on_s3 else None,
        message_writer=PipesS3MessageWriter(client=s3) if messages_on_s3 else None,
    )


def _processed_asset_key(asset_keys: Sequence[str]) -> str | None:
    """The key Dagster knows the processed asset by (possibly with a prefix), if in scope."""
    for key in asset_keys:
        if key.split("/")[-1] == PROCESSED_ASSET_KEY:
            return key
    return None


def report_to_pipes(pipes: Any, metrics: dict[str, Any]) -> None:
    """Materialize the processed asset with the metrics; from a multi-asset the key has to be
    named, and from a plain op there is nothing to materialize, so the metrics are logged."""
    keys: Sequence[str] = pipes.asset_keys if pipes.is_asset_step else []
    asset_key = _processed_asset_key(keys)
    if asset_key is None and len(keys) == 1:
        asset_key = keys[0]
    if asset_key is None:
        pipes.log.info(f"{APP_NAME} metrics: {json.dumps(metrics, sort_keys=True)}")
        pipes.report_custom_message(metrics)
        return
    pipes.report_asset_materialization(
        asset_key=asset_key,
        metadata={
            "dagster/row_count": metrics["rows_written"],
            "rows_read": metrics["rows_read"],
            "rows_written": metrics["rows_written"],
            "days_written": metrics["days_written"],
            "days_cleared": metrics["days_cleared"],
            # a bare dict would be taken for a typed metadata value
            "rows_per_day": {"raw_value": metrics["rows_per_day"], "type": "json"},
            "start": metrics["start"],
            "end": metrics["end"],
            "output": {"raw_value": metrics["output"], "type": "path"},
        },
    )


def _run_with_session(args: argparse.Namespace) -> dict[str, Any]:
    # Master and resources come from spark-submit. A context already running in this process
    # (an in-process caller) is reused and left running; the check is per process, not per
    # thread as `SparkSession.getActiveSession` would be.
    already_running = SparkContext._active_spark_context is not None
    spark = SparkSession.builder.appName(APP_NAME).getOrCreate()
    try:
        return run(spark, args.lake, args.start, args.end)
    finally:
        if not already_running:
            spark.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if in_dagster_pipes():
        with open_pipes() as pipes:
            metrics = _run_with_session(args)
            report_to_pipes(pipes, metrics)
    else:
        metrics = _run_with_session(args)
    print(json.dumps(metrics, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
