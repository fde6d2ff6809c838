"""Raw ingest layer: source tables into the lake, untouched but validated."""

from collections import Counter
from collections.abc import Iterator

import dagster as dg
from dagster._core.definitions.metadata import RawMetadataValue

from tsfraud_assets.defs.partitions import partition_days, single_run
from tsfraud_assets.defs.raw.ingest import (
    DayIngest,
    IngestIncomplete,
    UndatedIngest,
    ingest_days,
    ingest_reference,
    ingest_undated,
    raw_dataset,
    undated_dataset,
)
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
        undated = ingest_undated(source, lake)
        for item in undated.values():
            if item.rows:
                context.log.warning(
                    f"{item.table}: {item.rows} row(s) have no valid date and belong to no day; "
                    f"quarantined in {lake.uri(undated_dataset(item.table))} {dict(item.reasons)}"
                )
        try:
            results = ingest_days(source, lake, partition_days(context))
        except IngestIncomplete as exc:
            # The days written before the failure are whole: record them, so the lake and the
            # instance agree, then fail the step with the reason.
            for result in exc.done:
                for key, table in zip(DAILY_KEYS, contract.DAILY_TABLES, strict=True):
                    if table not in result.rows:
                        continue
                    context.log_event(
                        dg.AssetMaterialization(
                            asset_key=key,
                            partition=result.day.isoformat(),
                            metadata=day_metadata(table, [result], lake, undated),
                        )
                    )
            raise
        for result in results:
            context.log.info(
                f"{result.day}: {result.rows} rows, quarantined {result.quarantined} "
                f"{ {t: dict(c) for t, c in result.reasons.items() if c} }"
            )
        for key, table in zip(DAILY_KEYS, contract.DAILY_TABLES, strict=True):
            yield dg.MaterializeResult(
                asset_key=key, metadata=day_metadata(table, results, lake, undated)
            )

    return raw_daily_tables


def day_metadata(
    table: str,
    results: list[DayIngest],
    lake: Lake,
    undated: dict[str, UndatedIngest] | None = None,
) -> dict[str, RawMetadataValue]:
    reasons: Counter[str] = Counter()
    for r in results:
        reasons.update(r.reasons.get(table, {}))
    metadata: dict[str, RawMetadataValue] = {
        "dagster/row_count": sum(r.rows[table] for r in results),
        "quarantined_rows": sum(r.quarantined[table] for r in results),
        "quarantine_reasons": dg.MetadataValue.json(dict(reasons)),
        "days": len(results),
        "path": dg.MetadataValue.path(lake.uri(raw_dataset(table))),
    }
    if undated is not None and table in undated:
        metadata["undated_quarantined_rows"] = undated[table].rows
        metadata["undated_quarantine_reasons"] = dg.MetadataValue.json(dict(undated[table].reasons))
    if table == "timesheet_entries":
        metadata["hours"] = float(sum(r.hours for r in results))
    return metadata
