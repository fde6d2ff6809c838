"""The dbt project compiles for Athena into SQL that Trino accepts, with no AWS account.

The DuckDB tests prove what the models compute; nothing runs them on Athena before
production. This compiles every model and test for the ``athena`` target against a local
moto server (dbt-athena talks to Glue while compiling) and parses the result as Trino SQL,
so a DuckDB-only function or syntax that slipped into a model fails here, named.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from tsfraud_assets.defs.dbt.invocation import dbt_window_env
from tsfraud_assets.settings import DBT_PROJECT_DIR

MIN_DATE, MAX_DATE = date(2024, 3, 4), date(2024, 3, 10)
STAGING_BUCKET = "tsfraud-test-athena-results"
BIN = Path(sys.executable).parent

#: Fragments that are DuckDB (or Postgres) only and would fail on Athena at run time even
#: where sqlglot's lenient Trino parser accepts them.
NOT_TRINO = {
    "read_parquet(": "DuckDB table function",
    "::": "Postgres/DuckDB cast shorthand",
    "median(": "DuckDB aggregate; use the median() macro",
    "quantile_cont(": "DuckDB aggregate; use the median() macro",
    "interval 1 ": "DuckDB interval literal; Trino needs interval '1' day",
}


@pytest.fixture(scope="module")
def compiled(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run ``dbt compile --target athena`` with a window; return its target directory."""
    import boto3

    aws_env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "TSFRAUD_ATHENA_STAGING_DIR": f"s3://{STAGING_BUCKET}/staging/",
        "TSFRAUD_ATHENA_DATA_DIR": f"s3://{STAGING_BUCKET}/data/",
        "TSFRAUD_ATHENA_SCHEMA": "tsfraud",
        "TSFRAUD_ATHENA_WORKGROUP": "primary",
    }
    for unset in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN"):
        aws_env[unset] = ""
    boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=STAGING_BUCKET)

    tmp = tmp_path_factory.mktemp("dbt_athena")
    env = {**os.environ, **aws_env, **dbt_window_env(MIN_DATE, MAX_DATE)}
    for name in [k for k, v in env.items() if v == ""]:
        del env[name]
    completed = subprocess.run(
        [
            str(BIN / "dbt"),
            "compile",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target",
            "athena",
            "--target-path",
            str(tmp / "target"),
            "--log-path",
            str(tmp / "logs"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-5000:] + completed.stderr[-5000:]
    return tmp / "target"


def compiled_files(target: Path) -> dict[str, Path]:
    root = target / "compiled" / "tsfraud"
    return {str(p.relative_to(root)): p for p in sorted(root.rglob("*.sql"))}


def compiled_model(target: Path, name: str) -> str:
    matches = [p for rel, p in compiled_files(target).items() if Path(rel).stem == name]
    assert len(matches) == 1, f"{name}: {matches}"
    return matches[0].read_text()


def manifest(target: Path) -> dict[str, Any]:
    return json.loads((target / "manifest.json").read_text())


def output_columns(sql: str) -> list[str]:
    """Names of the columns a query returns, following ``select * from <cte>`` chains."""
    query = sqlglot.parse_one(sql, read="trino")
    assert isinstance(query, exp.Select)
    ctes = {cte.alias: cte.this for cte in query.find_all(exp.CTE)}
    select: exp.Select = query
    while len(select.expressions) == 1 and isinstance(select.expressions[0], exp.Star):
        source = (select.args.get("from_") or select.args["from"]).this
        select = ctes[source.name]
    return [e.alias_or_name for e in select.expressions]


def test_every_compiled_model_and_test_parses_as_trino(compiled: Path) -> None:
    files = compiled_files(compiled)
    models = [rel for rel in files if rel.startswith("models/")]
    assert len(models) >= 15, models
    failures = []
    for rel, path in files.items():
        sql = path.read_text()
        try:
            statements = [s for s in sqlglot.parse(sql, read="trino") if s is not None]
            if not statements:
                failures.append(f"{rel}: no statement")
        except sqlglot.errors.SqlglotError as error:
            failures.append(f"{rel}: {str(error)[:500]}")
        lowered = sql.lower()
        failures += [
            f"{rel}: contains {fragment!r} ({why})"
            for fragment, why in NOT_TRINO.items()
            if fragment in lowered
        ]
    assert not failures, "\n".join(failures)


def work_date_ranges(sql: str) -> set[tuple[str, str]]:
    """(low, high) of every ``... work_date ... between <literal> and <literal>``."""
    ranges = set()
    for between in sqlglot.parse_one(sql, read="trino").find_all(exp.Between):
        if any(c.name == "work_date" for c in between.this.find_all(exp.Column)):
            low, high = between.args["low"], between.args["high"]
            ranges.add((low.find(exp.Literal).this, high.find(exp.Literal).this))
    return ranges


def test_feature_model_filters_on_the_window(compiled: Path) -> None:
    window = (MIN_DATE.isoformat(), MAX_DATE.isoformat())
    assert window in work_date_ranges(compiled_model(compiled, "employee_day_features"))
    # Staging reads 63 days before (the baselines, the padding habit's baselines of the days
    # it counts) and 35 after (the submission batches).
    assert ("2024-01-01", "2024-04-14") in work_date_ranges(
        compiled_model(compiled, "stg_timesheet_entries")
    )
    for report in (
        "suspect_timesheets",
        "daily_suspect_summary",
        "daily_signal_summary",
        "daily_client_hours",
    ):
        assert window in work_date_ranges(compiled_model(compiled, report)), report


def test_sources_resolve_to_the_glue_tables(compiled: Path) -> None:
    expected = {
        "stg_timesheet_entries": "processed_timesheet_entries",
        "stg_employees": "raw_employees",
        "stg_investigation_cases": "raw_investigation_cases",
        "stg_timesheet_scores": "timesheet_scores",
    }
    for model, table in expected.items():
        sql = compiled_model(compiled, model)
        tables = {
            (t.catalog, t.db, t.name)
            for t in sqlglot.parse_one(sql, read="trino").find_all(exp.Table)
        }
        assert ("awsdatacatalog", "tsfraud", table) in tables, (model, tables)


def test_partitioned_marts_are_hive_parquet_insert_overwrite_with_work_date_last(
    compiled: Path,
) -> None:
    nodes = manifest(compiled)["nodes"]
    partitioned = {
        node["name"]: node["config"]
        for node in nodes.values()
        if node["resource_type"] == "model" and node["config"].get("partitioned_by")
    }
    assert set(partitioned) == {
        "employee_day_features",
        "suspect_timesheets",
        "daily_suspect_summary",
        "daily_signal_summary",
        "daily_client_hours",
    }
    for name, config in partitioned.items():
        assert config["partitioned_by"] == ["work_date"], name
        assert config["materialized"] == "incremental", name
        assert config["incremental_strategy"] == "insert_overwrite", name
        assert config["table_type"] == "hive", name
        assert config["format"] == "parquet", name
        assert output_columns(compiled_model(compiled, name))[-1] == "work_date", name


def test_tags_and_dagster_lineage(compiled: Path) -> None:
    """Dagster selects the dbt runs by tag and links sources to upstream assets by key."""
    data = manifest(compiled)
    tags = {
        n["name"]: set(n["tags"]) for n in data["nodes"].values() if n["resource_type"] == "model"
    }
    for name in (
        "employee_day_features",
        "investigation_labels",
        "int_employee_days",
        "stg_timesheet_entries",
        "entry_history",
    ):
        assert "features" in tags[name], name
    for name in (
        "suspect_timesheets",
        "daily_suspect_summary",
        "weekly_suspect_trend",
        "daily_signal_summary",
        "daily_client_hours",
        "stg_timesheet_scores",
    ):
        assert "reports" in tags[name] and "features" not in tags[name], name
    keys = {
        s["name"]: (s.get("meta") or s["config"]["meta"])["dagster"]["asset_key"]
        for s in data["sources"].values()
    }
    assert keys == {
        "processed_timesheet_entries": ["processed_timesheet_entries"],
        "raw_employees": ["raw_employees"],
        "raw_investigation_cases": ["raw_investigation_cases"],
        "timesheet_scores": ["timesheet_scores"],
        "raw_clients": ["raw_clients"],
        "suspect_disposition_files": ["suspect_disposition_files"],
        "timesheet_score_versions": ["timesheet_score_versions"],
        "timesheet_entry_versions": ["timesheet_entry_history"],
    }
