"""Raw ingest layer: source tables into the lake, untouched but validated."""

from collections import Counter
from collections.abc import Iterator

import dagster as dg
from dagster._core.definitions.metadata import RawMetadataValue

from tsfraud_assets.defs.partitions import partition_days, single_run
from tsfraud_assets.defs.raw.ingest import DayIngest, ingest_days, ingest_reference, raw_dataset
from tsfraud_assets.lib import contract
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase

RAW_GROUP = "raw"
REFERENCE_KEYS = [dg.AssetKey(f"raw_{t}") for t in contract.REFERENCE_TABLES]
DAILY_KEYS = [dg.AssetKey(f"raw_{t}") for t in contract.DAILY_TABLES]


@dg.multi_asset(
    name="raw_reference_tables",
    specs=[
        dg.AssetSpec(
            key,
            group_name=RAW_GROUP,
            kinds={"parquet"},
            description=f"Full snapshot of the source table `{table}`.",
        )
        for key, table in zip(REFERENCE_KEYS, contract.REFERENCE_TABLES, strict=True)
    ],
)
def raw_reference_tables(source: SourceDatabase, lake: Lake) -> Iterator[dg.MaterializeResult]:
    source.check_contract(contract.REFERENCE_TABLES)
    counts = ingest_reference(source, lake)
    for key, table in zip(REFERENCE_KEYS, contract.REFERENCE_TABLES, strict=True):
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "dagster/row_count": counts[table],
                "path": dg.MetadataValue.path(lake.uri(raw_dataset(table))),
            },
        )


def build_raw_daily_tables(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """The daily source tables over `partitions` (one per work date, from the settings' start)."""

    @dg.multi_asset(
        name="raw_daily_tables",
        specs=[
            dg.AssetSpec(
                key,
                group_name=RAW_GROUP,
                kinds={"parquet"},
                description=f"The source table `{table}`, one Hive partition per work date; "
                "rows that break the contract go to quarantine/ with their reason.",
            )
            for key, table in zip(DAILY_KEYS, contract.DAILY_TABLES, strict=True)
        ],
        partitions_def=partitions,
        backfill_policy=single_run,
    )
    def raw_daily_tables(
        context: dg.AssetExecutionContext, source: SourceDatabase, lake: Lake
    ) -> Iterator[dg.MaterializeResult]:
        source.check_contract([*contract.DAILY_TABLES, "employees", "projects"])
        results = ingest_days(source, lake, partition_days(context))
        for result in results:
            context.log.info(
                f"{result.day}: {result.rows} rows, quarantined {result.quarantined} "
                f"{dict(result.reasons)}"
            )
        for key, table in zip(DAILY_KEYS, contract.DAILY_TABLES, strict=True):
            yield dg.MaterializeResult(asset_key=key, metadata=day_metadata(table, results, lake))

    return raw_daily_tables


def day_metadata(table: str, results: list[DayIngest], lake: Lake) -> dict[str, RawMetadataValue]:
    reasons: Counter[str] = Counter()
    for r in results:
        if table == "timesheet_entries":
            reasons.update(r.reasons)
    metadata: dict[str, RawMetadataValue] = {
        "dagster/row_count": sum(r.rows[table] for r in results),
        "quarantined_rows": sum(r.quarantined[table] for r in results),
        "days": len(results),
        "path": dg.MetadataValue.path(lake.uri(raw_dataset(table))),
    }
    if table == "timesheet_entries":
        metadata["hours"] = float(sum(r.hours for r in results))
        metadata["quarantine_reasons"] = dg.MetadataValue.json(dict(reasons))
    return metadata
