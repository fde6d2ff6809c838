"""Our copy of the customer's DDL agrees with theirs, and the contract reads it right."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from tsfraud_assets.lib.contract import SCHEMA_SQL, parse_ddl, source_tables

SHARED = Path(__file__).resolve().parents[3] / "shared" / "source-system" / "schema.sql"


@pytest.mark.skipif(not SHARED.exists(), reason="../shared is not beside this checkout")
def test_our_ddl_copy_matches_the_customers() -> None:
    ours = parse_ddl(SCHEMA_SQL.read_text())
    theirs = parse_ddl(SHARED.read_text())
    assert sorted(ours) == sorted(theirs)
    for name, table in theirs.items():
        assert [(c.name, c.sql_type, c.nullable) for c in ours[name].columns] == [
            (c.name, c.sql_type, c.nullable) for c in table.columns
        ], name


def test_types_map_exactly() -> None:
    entries = source_tables()["timesheet_entries"]
    schema = entries.arrow_schema()
    assert schema.field("hours").type == pa.decimal128(5, 2)
    assert schema.field("work_date").type == pa.date32()
    assert schema.field("submitted_at").type == pa.timestamp("us")
    assert entries.column("approver_id").nullable
    assert not entries.column("hours").nullable
    assert (
        source_tables()["workstation_activity"].arrow_schema().field("active_minutes").type
        == pa.int32()
    )


def test_parser_reads_composite_keys_and_rejects_unknown_types() -> None:
    tables = parse_ddl("CREATE TABLE t (a BIGINT NOT NULL, b NUMERIC(7, 3), PRIMARY KEY (a, b));")
    assert [(c.name, c.sql_type, c.nullable) for c in tables["t"].columns] == [
        ("a", "BIGINT", False),
        ("b", "NUMERIC(7,3)", True),
    ]
    assert tables["t"].arrow_schema().field("b").type == pa.decimal128(7, 3)
    with pytest.raises(ValueError, match="unsupported SQL type"):
        parse_ddl("CREATE TABLE u (x BLOB);")["u"].arrow_schema()
