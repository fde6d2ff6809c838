"""The lake's datasets become Glue external tables on Athena through `create_lake_sources`.

On Athena the dbt sources are Glue tables that something must create; the macros in
``dbt_project/macros/lake_sources.sql`` do, from ``_sources.yml``. This renders their DDL for
the ``athena`` target offline (dbt-athena talks to a local moto server), parses it as Athena
DDL, and checks it against the data contracts, which live elsewhere: the Spark job's schema
for the processed layer, the source DDL for the raw snapshots, the scoring asset's Arrow
schema for the scores. It then runs the operation against moto, which records the Athena
queries (without executing them) and keeps a real Glue catalog and S3, to check what is
created, replaced, kept, and never deleted. On DuckDB the operation creates nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from tsfraud_assets.settings import DBT_PROJECT_DIR

BIN = Path(sys.executable).parent
SCHEMA = "tsfraud_lake_sources"
LAKE = "s3://tsfraud-test-lake/prod/lake"
PARTITION_START = "2024-01-01"
STAGING_BUCKET = "tsfraud-test-lake-athena-results"
#: source name -> (folder under the lake root, partitioned on work_date)
LAKE_SOURCES: dict[str, tuple[str, bool]] = {
    "processed_timesheet_entries": ("processed/timesheet_entries", True),
    "raw_employees": ("raw/employees", False),
    "raw_investigation_cases": ("raw/investigation_cases", False),
    "timesheet_scores": ("scores/timesheet_scores", True),
    "raw_clients": ("raw/clients", False),
    "suspect_disposition_files": ("reviews/suspect_dispositions", False),
    "timesheet_score_versions": ("scores/timesheet_score_versions", True),
    "timesheet_entry_versions": ("history/timesheet_entry_versions", True),
}
HIVE_PARQUET = "org.apache.hadoop.hive.ql.io.parquet"


# --- running dbt ------------------------------------------------------------------------------


def run_dbt(
    args: list[str], env: dict[str, str], work: Path, *, quiet: bool = False
) -> subprocess.CompletedProcess[str]:
    """``dbt <args>`` on the project, with its own target and log folders under ``work``.

    ``quiet`` leaves only what macros print() on stdout.
    """
    return subprocess.run(
        [
            str(BIN / "dbt"),
            *(["--quiet"] if quiet else []),
            *args,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def clean_env(overrides: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **overrides}
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN"):
        env.pop(name, None)
    return env


def aws_client(endpoint: str, service: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def athena_env(moto_endpoint: str) -> dict[str, str]:
    aws_client(moto_endpoint, "s3").create_bucket(Bucket=STAGING_BUCKET)
    return clean_env(
        {
            "AWS_ENDPOINT_URL": moto_endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "TSFRAUD_ATHENA_STAGING_DIR": f"s3://{STAGING_BUCKET}/staging/",
            "TSFRAUD_ATHENA_DATA_DIR": f"s3://{STAGING_BUCKET}/data/",
            "TSFRAUD_ATHENA_SCHEMA": SCHEMA,
            "TSFRAUD_ATHENA_WORKGROUP": "primary",
            "TSFRAUD_LAKE": LAKE + "/",
            "TSFRAUD_PARTITION_START": PARTITION_START,
        }
    )


@pytest.fixture(scope="module")
def athena_work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One target folder for every athena invocation: the later ones parse partially."""
    return tmp_path_factory.mktemp("dbt_lake_sources_athena")


@pytest.fixture(scope="module")
def ddl(athena_env: dict[str, str], athena_work: Path) -> dict[str, exp.Create]:
    """``print_lake_source_ddl`` for the athena target, parsed: source name -> statement."""
    completed = run_dbt(
        ["run-operation", "print_lake_source_ddl", "--target", "athena"],
        athena_env,
        athena_work,
        quiet=True,
    )
    assert completed.returncode == 0, completed.stdout[-5000:] + completed.stderr[-5000:]
    statements = [s for s in sqlglot.parse(completed.stdout, read="athena") if s is not None]
    parsed: dict[str, exp.Create] = {}
    for statement in statements:
        assert isinstance(statement, exp.Create), statement.sql("athena")[:200]
        parsed[statement.this.this.name] = statement
    assert len(parsed) == len(statements), "a table has more than one statement"
    return parsed


# --- reading the parsed DDL -------------------------------------------------------------------


def columns_of(create: exp.Create) -> dict[str, str]:
    return {
        c.name: c.args["kind"].sql("hive").lower().replace(" ", "")
        for c in create.this.expressions
        if isinstance(c, exp.ColumnDef)
    }


def partition_columns_of(create: exp.Create) -> dict[str, str]:
    partitioned = create.find(exp.PartitionedByProperty)
    if partitioned is None:
        return {}
    return {c.name: c.args["kind"].sql("hive").lower() for c in partitioned.this.expressions}


def tblproperties_of(create: exp.Create) -> dict[str, str]:
    return {
        p.this.this: p.args["value"].this
        for p in create.args["properties"].expressions
        if type(p) is exp.Property
    }


def location_of(create: exp.Create) -> str:
    return create.find(exp.LocationProperty).this.this


# --- the contracts, from the code that writes each dataset ------------------------------------


def sql_to_hive(sql_type: str) -> str:
    """The source DDL's portable types (tsfraud_assets/lib/source_schema.sql) as Hive types."""
    base = sql_type.split("(")[0]
    if base in ("VARCHAR", "CHAR", "TEXT"):
        return "string"
    if base == "NUMERIC":
        return "decimal" + sql_type[len(base) :].replace(" ", "")
    return {"BIGINT": "bigint", "INTEGER": "int", "DATE": "date", "TIMESTAMP": "timestamp"}[base]


def arrow_to_hive(arrow_type: Any) -> str:
    import pyarrow as pa

    if pa.types.is_timestamp(arrow_type):
        assert arrow_type.tz is None, "the lake's timestamps are naive UTC"
        return "timestamp"
    if pa.types.is_decimal(arrow_type):
        return f"decimal({arrow_type.precision},{arrow_type.scale})"
    return {
        pa.int64(): "bigint",
        pa.int32(): "int",
        pa.float64(): "double",
        pa.bool_(): "boolean",
        pa.string(): "string",
        pa.date32(): "date",
    }[arrow_type]


def contract_columns(source: str) -> dict[str, str]:
    """Every column of a dataset's files (the partition column is in the folder name)."""
    if source == "processed_timesheet_entries":
        from tsfraud_assets.lib.processing.schemas import (
            PARTITION_COLUMN,
            PROCESSED_COLUMNS,
            PROCESSED_TIMESHEET_ENTRIES,
        )

        spark_types = {f.name: f.dataType.simpleString() for f in PROCESSED_TIMESHEET_ENTRIES}
        return {
            name: spark_types[name].replace("timestamp_ntz", "timestamp")
            for name in PROCESSED_COLUMNS
            if name != PARTITION_COLUMN
        }
    if source in ("raw_employees", "raw_investigation_cases", "raw_clients"):
        from tsfraud_assets.lib.contract import table

        return {c.name: sql_to_hive(c.sql_type) for c in table(source.removeprefix("raw_")).columns}
    if source in ("timesheet_scores", "timesheet_score_versions"):
        from tsfraud_assets.defs.suspects.scoring import SCORES_SCHEMA

        return {f.name: arrow_to_hive(f.type) for f in SCORES_SCHEMA}
    if source == "suspect_disposition_files":
        from tsfraud_assets.reviews.dispositions import SCHEMA

        return {f.name: arrow_to_hive(f.type) for f in SCHEMA}
    if source == "timesheet_entry_versions":
        from tsfraud_assets.defs.history.versions import version_schema

        return {f.name: arrow_to_hive(f.type) for f in version_schema()}
    raise KeyError(source)


# --- the rendered DDL -------------------------------------------------------------------------


def test_one_external_parquet_table_per_lake_source(ddl: dict[str, exp.Create]) -> None:
    assert set(ddl) == set(LAKE_SOURCES)
    for name, create in ddl.items():
        folder, _ = LAKE_SOURCES[name]
        assert create.kind == "TABLE" and create.args.get("exists"), name
        assert create.this.this.db == SCHEMA, name
        assert create.find(exp.ExternalProperty) is not None, name
        assert create.find(exp.FileFormatProperty).name.lower() == "parquet", name
        assert location_of(create) == f"{LAKE}/{folder}/", name


def test_partitioned_sources_project_work_date_from_the_hive_folders(
    ddl: dict[str, exp.Create],
) -> None:
    for name, create in ddl.items():
        folder, partitioned = LAKE_SOURCES[name]
        properties = tblproperties_of(create)
        assert properties.get("classification") == "parquet", name
        if not partitioned:
            assert partition_columns_of(create) == {}, name
            assert not any(k.startswith(("projection.", "storage.")) for k in properties), name
            continue
        assert partition_columns_of(create) == {"work_date": "date"}, name
        assert "work_date" not in columns_of(create), name
        assert {k: v for k, v in properties.items() if k != "classification"} == {
            "projection.enabled": "true",
            "projection.work_date.type": "date",
            "projection.work_date.format": "yyyy-MM-dd",
            "projection.work_date.range": f"{PARTITION_START},NOW+1DAYS",
            "projection.work_date.interval": "1",
            "projection.work_date.interval.unit": "DAYS",
            "storage.location.template": f"{LAKE}/{folder}/work_date=${{work_date}}/",
        }, name


@pytest.mark.parametrize("source", sorted(LAKE_SOURCES))
def test_columns_and_types_match_the_contract(ddl: dict[str, exp.Create], source: str) -> None:
    assert columns_of(ddl[source]) == contract_columns(source)


# --- running it on Athena (moto) --------------------------------------------------------------


def glue_table_input(create: exp.Create) -> dict[str, Any]:
    """What Athena stores in Glue for one of these CREATE EXTERNAL TABLE statements."""
    return {
        "Name": create.this.this.name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"EXTERNAL": "TRUE", **tblproperties_of(create)},
        "PartitionKeys": [{"Name": n, "Type": t} for n, t in partition_columns_of(create).items()],
        "StorageDescriptor": {
            "Columns": [{"Name": n, "Type": t} for n, t in columns_of(create).items()],
            "Location": location_of(create),
            "InputFormat": f"{HIVE_PARQUET}.MapredParquetInputFormat",
            "OutputFormat": f"{HIVE_PARQUET}.MapredParquetOutputFormat",
            "SerdeInfo": {"SerializationLibrary": f"{HIVE_PARQUET}.serde.ParquetHiveSerDe"},
        },
    }


def athena_queries(endpoint: str) -> dict[str, str]:
    """Every query moto's Athena received so far: id -> SQL."""
    athena = aws_client(endpoint, "athena")
    ids = athena.list_query_executions()["QueryExecutionIds"]
    return {
        i: athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"] for i in ids
    }


def drop_glue_schema(glue: Any) -> None:
    if SCHEMA in {d["Name"] for d in glue.get_databases()["DatabaseList"]}:
        for table in glue.get_tables(DatabaseName=SCHEMA)["TableList"]:
            glue.delete_table(DatabaseName=SCHEMA, Name=table["Name"])
        glue.delete_database(Name=SCHEMA)


@pytest.fixture
def glue(moto_endpoint: str) -> Iterator[Any]:
    """moto's Glue with an empty SCHEMA, for one test."""
    client = aws_client(moto_endpoint, "glue")
    drop_glue_schema(client)
    client.create_database(DatabaseInput={"Name": SCHEMA})
    yield client
    drop_glue_schema(client)


def test_athena_creates_missing_replaces_drifted_keeps_current_refuses_foreign(
    ddl: dict[str, exp.Create],
    athena_env: dict[str, str],
    athena_work: Path,
    moto_endpoint: str,
    glue: Any,
) -> None:
    """One run over every case (each dbt start costs seconds): processed is current, employees
    lost a column the contract has since gained, cases is missing, and a view sits where the
    scores table belongs."""
    current = glue_table_input(ddl["processed_timesheet_entries"])
    glue.create_table(DatabaseName=SCHEMA, TableInput=current)
    drifted = glue_table_input(ddl["raw_employees"])
    drifted["StorageDescriptor"]["Columns"].pop()
    glue.create_table(DatabaseName=SCHEMA, TableInput=drifted)
    view = {
        "Name": "timesheet_scores",
        "TableType": "VIRTUAL_VIEW",
        "StorageDescriptor": {"Columns": [{"Name": "employee_id", "Type": "bigint"}]},
    }
    glue.create_table(DatabaseName=SCHEMA, TableInput=view)
    s3 = aws_client(moto_endpoint, "s3")
    s3.create_bucket(Bucket="tsfraud-test-lake")
    s3.put_object(
        Bucket="tsfraud-test-lake", Key="prod/lake/raw/employees/part-0.parquet", Body=b"x"
    )
    before = set(athena_queries(moto_endpoint))

    completed = run_dbt(
        ["run-operation", "create_lake_sources", "--target", "athena"], athena_env, athena_work
    )
    output = completed.stdout + completed.stderr

    assert completed.returncode != 0, output[-5000:]
    assert (
        "not replacing what is not a Hive external table: "
        f"`{SCHEMA}`.`timesheet_scores` (TableType VIRTUAL_VIEW" in output
    ), output[-5000:]
    assert f"`{SCHEMA}`.`processed_timesheet_entries` is up to date" in output
    assert f"recreating `{SCHEMA}`.`raw_employees`: columns" in output
    sent = [
        sqlglot.parse_one(sql, read="athena").sql("athena", comments=False)
        for query_id, sql in athena_queries(moto_endpoint).items()
        if query_id not in before
    ]
    assert sorted(sent) == sorted(
        ddl[name].sql("athena")
        for name in (
            "raw_employees",
            "raw_investigation_cases",
            "raw_clients",  # missing too, like the cases
            "suspect_disposition_files",
            "timesheet_score_versions",
            "timesheet_entry_versions",
        )
    )
    # moto runs no DDL: the drifted table, deleted from Glue, stays gone here; on Athena the
    # CREATE sent right after the delete recreates it. The view was not touched.
    tables = {t["Name"]: t for t in glue.get_tables(DatabaseName=SCHEMA)["TableList"]}
    assert set(tables) == {"processed_timesheet_entries", "timesheet_scores"}
    assert tables["timesheet_scores"]["TableType"] == "VIRTUAL_VIEW"
    # Replacing a table only touched the catalog: the lake's files are where they were.
    kept = s3.list_objects_v2(Bucket="tsfraud-test-lake", Prefix="prod/lake/raw/employees/")
    assert [o["Key"] for o in kept.get("Contents", [])] == [
        "prod/lake/raw/employees/part-0.parquet"
    ]


# --- DuckDB -----------------------------------------------------------------------------------


def test_duckdb_target_creates_nothing(tmp_path: Path) -> None:
    import duckdb

    warehouse = tmp_path / "warehouse.duckdb"
    env = clean_env({"TSFRAUD_DUCKDB_PATH": str(warehouse), "TSFRAUD_LAKE": str(tmp_path / "lake")})
    completed = run_dbt(
        ["run-operation", "create_lake_sources", "--target", "duckdb"], env, tmp_path
    )
    assert completed.returncode == 0, completed.stdout[-5000:] + completed.stderr[-5000:]
    assert "nothing to create on duckdb" in completed.stdout
    if warehouse.exists():
        with duckdb.connect(str(warehouse), read_only=True) as con:
            relations = con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        assert relations == []


def test_only_athena_needs_the_lake_sources_created_before_a_build() -> None:
    """The reference asset runs `create_lake_sources` for Athena's catalogue, and skips that
    dbt invocation on DuckDB, whose sources read the Parquet files where they lie."""
    from tsfraud_assets.defs.dbt.assets import needs_lake_sources
    from tsfraud_assets.resources.dbt import DBT_TARGETS

    assert needs_lake_sources(DBT_TARGETS["aws"])
    assert not needs_lake_sources(DBT_TARGETS["local"])
