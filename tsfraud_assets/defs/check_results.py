"""One asset-check result per partition, whatever range the run covered.

A check on a partitioned asset that runs inside a single-run backfill has no single partition
key, and dagster 1.13's `AssetCheckResult` takes none: its one result is stored without a
partition, every day of the range is then recorded SKIPPED, and the UI's Partitions tab shows a
red bar over a check that passed on every day. Yielding an `AssetCheckEvaluation` per day (which
carries `partition=`) records exactly one result per day; the op's output is then yielded
empty. Each evaluation names the day's latest materialization as its target, as Dagster does for
a single-partition run: the UI counts a day's result only while it targets the day's current
materialization, and shows the day "Missing" otherwise. A failed day with ERROR severity on a
blocking check still fails the step, so nothing downstream of the range runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)


@dataclass(frozen=True)
class DayResult:
    partition: str
    passed: bool
    metadata: Mapping[str, dg.RawMetadataValue]
    description: str | None = None


def per_partition_evaluations(
    context: dg.AssetCheckExecutionContext,
    results: list[DayResult],
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> Iterator[dg.AssetCheckEvaluation | dg.Output[None]]:
    """The events for one check op: each day's evaluation, then the op's (empty) output."""
    (spec,) = context.check_specs
    for result in results:
        target = latest_materialization(context.instance, spec.asset_key, result.partition)
        yield dg.AssetCheckEvaluation(
            asset_key=spec.asset_key,
            check_name=spec.name,
            passed=result.passed,
            metadata=result.metadata,
            severity=severity,
            description=result.description,
            blocking=spec.blocking,
            partition=result.partition,
            target_materialization_data=target,
        )
    yield dg.Output(None)


def latest_materialization(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, partition: str
) -> AssetCheckEvaluationTargetMaterializationData | None:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition]), limit=1
    ).records
    if not records:
        return None
    return AssetCheckEvaluationTargetMaterializationData(
        storage_id=records[0].storage_id,
        run_id=records[0].run_id,
        timestamp=records[0].timestamp,
    )
