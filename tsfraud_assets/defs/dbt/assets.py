"""dbt layer: staging → intermediate → marts, built by dbt on DuckDB (local) or Athena (aws).

Three selections because they run at different moments of the day: reference models (all
history, unpartitioned), the employee-day features (partitioned, before scoring) and the
investigators' reports (partitioned, after scoring).
"""

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, dbt_assets

from tsfraud_assets.defs.dbt.invocation import dbt_window_env, stream_with_adapter_responses
from tsfraud_assets.defs.partitions import partition_days, single_run
from tsfraud_assets.resources.dbt import TsfraudDbtCliResource, dbt_project, keep_partial_parse
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.reviews import ensure_review_datasets

# The asset graph comes from the manifest, which is the same for both targets (the models and
# sources do not change with the engine); the deployment's target is the dbt resource's.
DBT_PROJECT = dbt_project("local")
# suspect_dispositions: the investigators' verdicts the labels read; stg_clients: client names
# the daily review views join (both views over reference data, built with the snapshots).
REFERENCE_MODELS = (
    "stg_employees stg_investigation_cases suspect_dispositions investigation_labels stg_clients"
)


class TsfraudDbtTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props.get("resource_type") != "model":
            return super().get_group_name(dbt_resource_props)
        # A model used by both stages (stg_employees) belongs with the features.
        tags = dbt_resource_props.get("tags", [])
        return "reports" if "reports" in tags and "features" not in tags else "features"


TRANSLATOR = TsfraudDbtTranslator()


def needs_lake_sources(target: str | None) -> bool:
    """Whether dbt's `lake` sources must be created as tables before a build (Athena's Glue
    catalogue); DuckDB reads each source's Parquet files where they lie."""
    return target != "duckdb"


def build_window(context: dg.AssetExecutionContext, dbt: TsfraudDbtCliResource) -> Iterator[Any]:
    """`dbt build` of the selection over the run's work dates: incremental models replace
    exactly these days (one invocation for a whole backfill range). The window goes through
    the environment, so dbt reuses its saved parse (invocation.py). On Athena each model's
    materialization carries the bytes its build scanned and their estimated cost."""
    days = partition_days(context)
    env = dbt_window_env(days[0], days[-1])
    invocation = dbt.cli(["build"], env=env, context=context)
    yield from stream_with_adapter_responses(invocation)


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    select=REFERENCE_MODELS,
    name="dbt_reference_models",
    dagster_dbt_translator=TRANSLATOR,
)
def dbt_reference_models(
    context: dg.AssetExecutionContext, dbt: TsfraudDbtCliResource, lake: Lake
) -> Iterator[Any]:
    ensure_review_datasets(lake)  # the verdicts' and list versions' views need a file
    # The lake's datasets as Glue external tables on Athena: dbt's sources must exist before
    # anything builds on them. DuckDB reads the Parquet directly, so the local deployment
    # skips the invocation (a dbt start and parse, ~6 s of every reference refresh).
    # No context: run-operation takes no --select.
    if needs_lake_sources(dbt.target):
        keep_partial_parse(dbt.cli(["run-operation", "create_lake_sources"]).wait())
    # all history: no window, whatever the process environment holds
    invocation = dbt.cli(["build"], env=dbt_window_env(), context=context)
    yield from stream_with_adapter_responses(invocation)


def build_windowed_dbt_assets(
    partitions: dg.PartitionsDefinition,
) -> list[dg.AssetsDefinition]:
    """The two daily dbt selections over `partitions`: features before scoring, reports after."""

    @dbt_assets(
        manifest=DBT_PROJECT.manifest_path,
        project=DBT_PROJECT,
        select="tag:features",
        exclude=REFERENCE_MODELS,
        name="dbt_feature_models",
        partitions_def=partitions,
        backfill_policy=single_run,
        dagster_dbt_translator=TRANSLATOR,
    )
    def dbt_feature_models(
        context: dg.AssetExecutionContext, dbt: TsfraudDbtCliResource
    ) -> Iterator[Any]:
        yield from build_window(context, dbt)

    @dbt_assets(
        manifest=DBT_PROJECT.manifest_path,
        project=DBT_PROJECT,
        select="tag:reports",
        exclude=REFERENCE_MODELS,
        name="dbt_report_models",
        partitions_def=partitions,
        backfill_policy=single_run,
        dagster_dbt_translator=TRANSLATOR,
    )
    def dbt_report_models(
        context: dg.AssetExecutionContext, dbt: TsfraudDbtCliResource, lake: Lake
    ) -> Iterator[Any]:
        ensure_review_datasets(lake)  # the daily job may run before any reference refresh
        yield from build_window(context, dbt)

    return [dbt_feature_models, dbt_report_models]
