"""A tiny hand-built source database (the customer's DDL, a handful of rows) for unit tests."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from tsfraud_assets.lib.contract import ddl_statements

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DAY = dt.date(2026, 3, 3)
T0 = dt.datetime(2026, 3, 3, 18, 0, 0)


def create_schema(engine: sa.Engine) -> None:
    statements = ddl_statements()
    with engine.begin() as conn:
        for stmt in statements:
            conn.exec_driver_sql(stmt)


def insert(engine: sa.Engine, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    cols = list(rows[0])
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"
    with engine.begin() as conn:
        conn.execute(sa.text(sql), rows)


def entry(entry_id: int, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "entry_id": entry_id,
        "employee_id": 1,
        "project_id": 10,
        "work_date": DAY,
        "hours": 4.25,
        "activity_code": "DEV",
        "comment": None,
        "entry_channel": "web",
        "status": "approved",
        "submitted_at": T0,
        "approver_id": 2,
        "approved_at": T0 + dt.timedelta(hours=20),
        "updated_at": T0 + dt.timedelta(hours=20),
    }
    row.update(over)
    return row


def fill_minimal(engine: sa.Engine) -> None:
    """Two employees, one client, one project, two entries and one activity row on DAY."""
    emp = {
        "country_code": "GB",
        "office": "London",
        "practice": "technology",
        "grade": "consultant",
        "hire_date": dt.date(2020, 1, 6),
        "termination_date": None,
        "contracted_hours_per_week": 40.0,
        "updated_at": T0,
    }
    insert(
        engine,
        "employees",
        [
            {"employee_id": 2, "employee_code": "E0002", "manager_id": None, **emp},
            {"employee_id": 1, "employee_code": "E0001", "manager_id": 2, **emp},
        ],
    )
    insert(
        engine,
        "clients",
        [{"client_id": 5, "client_name": "Acme", "industry": "retail", "country_code": "GB"}],
    )
    insert(
        engine,
        "projects",
        [
            {
                "project_id": 10,
                "project_code": "P-10",
                "client_id": 5,
                "project_type": "billable",
                "start_date": dt.date(2026, 1, 1),
                "end_date": None,
                "status": "open",
                "updated_at": T0,
            }
        ],
    )
    insert(
        engine,
        "public_holidays",
        [
            {
                "country_code": "GB",
                "holiday_date": dt.date(2026, 4, 3),
                "holiday_name": "Good Friday",
            }
        ],
    )
    insert(
        engine, "timesheet_entries", [entry(100), entry(101, hours=3.5, activity_code="MEETING")]
    )
    insert(
        engine,
        "workstation_activity",
        [
            {
                "employee_id": 1,
                "activity_date": DAY,
                "first_seen_at": dt.datetime(2026, 3, 3, 8, 30),
                "last_seen_at": dt.datetime(2026, 3, 3, 17, 45),
                "active_minutes": 460,
            }
        ],
    )


@contextmanager
def sqlite_source(tmp_path: Any) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'source.db'}"
    engine = sa.create_engine(url)
    create_schema(engine)
    engine.dispose()
    yield url


@contextmanager
def postgres_source() -> Iterator[str]:
    """A fresh database on the local PostgreSQL server, dropped afterwards."""
    name = f"tsfraud_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    except sa.exc.OperationalError as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is not reachable: {exc}")
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    engine = sa.create_engine(url)
    create_schema(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()
