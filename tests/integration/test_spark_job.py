"""The Spark job end to end, on a tiny raw lake written the way the ingest writes it.

Raw days: 03-05 (Tue) and 03-09 (Sat) lie outside the processed range 03-06..03-08; 03-07 has
no raw folder at all. Each raw day holds 6 entries plus an older version of one of them.
Runs are the expensive part (several Spark jobs each), so one range run and one day-by-day run
are shared by the module and the other tests work on copies of them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from dagster_pipes import PipesContext
from pyspark.sql import SparkSession

from tsfraud_assets.lib import contract
from tsfraud_assets.lib.processing.schemas import PROCESSED_COLUMNS, PROCESSED_TIMESHEET_ENTRIES
from tsfraud_assets.spark_jobs import process_timesheets
from tsfraud_assets.spark_jobs.process_timesheets import PROCESSED_ASSET_KEY, main, run

REPO = Path(__file__).resolve().parents[2]
JOB_SCRIPT = REPO / "tsfraud_assets" / "spark_jobs" / "process_timesheets.py"
SPARK_SUBMIT = Path(sys.executable).with_name("spark-submit")

START, END = dt.date(2024, 3, 6), dt.date(2024, 3, 8)
RAW_DAYS = [dt.date(2024, 3, 5), dt.date(2024, 3, 6), dt.date(2024, 3, 8), dt.date(2024, 3, 9)]
PROCESSED_DAYS = [dt.date(2024, 3, 6), dt.date(2024, 3, 8)]
ENTRIES_PER_DAY = 6
PROCESSED = "processed/timesheet_entries"


# --- a raw lake, as the contract (and the ingest) lays it out ---------------------------------


def _write(
    path: Path, table: str, rows: list[dict[str, Any]], exclude: tuple[str, ...] = ()
) -> None:
    schema = contract.table(table).arrow_schema(exclude=exclude)
    path.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.Table.from_pylist(rows, schema=schema), path / "data.parquet", compression="zstd"
    )


def _entry(
    entry_id: int, employee_id: int, project_id: int, day: dt.date, hours: str, **kw: Any
) -> dict[str, Any]:
    submitted = dt.datetime.combine(day, dt.time(18, 0))
    row = {
        "entry_id": entry_id,
        "employee_id": employee_id,
        "project_id": project_id,
        "hours": Decimal(hours),
        "activity_code": "DEV",
        "comment": None,
        "entry_channel": "web",
        "status": "submitted",
        "submitted_at": submitted,
        "approver_id": None,
        "approved_at": None,
        "updated_at": submitted,
    }
    row.update(kw)
    return row


def day_entries(day: dt.date) -> list[dict[str, Any]]:
    base = day.day * 100
    approved = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(9, 0))
    latest: dict[str, Any] = {"status": "approved", "approver_id": 3, "approved_at": approved}
    return [
        _entry(base + 1, 1, 10, day, "8.00", updated_at=approved, **latest),
        _entry(base + 2, 1, 11, day, "1.00", activity_code="ADMIN"),
        _entry(base + 3, 2, 12, day, "7.50", activity_code="ANALYSIS"),
        _entry(base + 4, 3, 10, day, "4.00", activity_code="MEETING", **latest),  # self-approved
        _entry(base + 5, 3, 10, day, "4.00", activity_code="MEETING"),  # duplicate of base + 4
        _entry(base + 6, 2, 11, day, "2.00", activity_code="ADMIN", status="withdrawn"),
        # an older version of base + 1, picked up by an earlier extract
        _entry(base + 1, 1, 10, day, "6.00"),
    ]


def write_raw_day(root: Path, day: dt.date, rows: list[dict[str, Any]]) -> None:
    _write(
        root / "raw/timesheet_entries" / f"work_date={day}",
        "timesheet_entries",
        rows,
        exclude=("work_date",),
    )


def write_raw_lake(root: Path) -> None:
    t0 = dt.datetime(2024, 1, 1)
    d = dt.date
    person = {
        "office": "Berlin",
        "practice": "technology",
        "grade": "consultant",
        "hire_date": d(2020, 1, 1),
        "contracted_hours_per_week": Decimal("40.00"),
        "updated_at": t0,
    }
    _write(
        root / "raw/employees",
        "employees",
        [
            {
                **person,
                "employee_id": 1,
                "employee_code": "E1",
                "country_code": "DE",
                "manager_id": 3,
                "termination_date": None,
            },
            {
                **person,
                "employee_id": 2,
                "employee_code": "E2",
                "country_code": "FR",
                "manager_id": 3,
                "termination_date": d(2024, 3, 6),
            },
            {
                **person,
                "employee_id": 3,
                "employee_code": "E3",
                "country_code": "DE",
                "manager_id": None,
                "termination_date": None,
            },
        ],
    )
    _write(
        root / "raw/clients",
        "clients",
        [{"client_id": 1, "client_name": "ACME", "industry": "retail", "country_code": "DE"}],
    )
    _write(
        root / "raw/projects",
        "projects",
        [
            {
                "project_id": 10,
                "project_code": "P10",
                "client_id": 1,
                "project_type": "billable",
                "start_date": d(2024, 1, 1),
                "end_date": None,
                "status": "open",
                "updated_at": t0,
            },
            {
                "project_id": 11,
                "project_code": "P11",
                "client_id": None,
                "project_type": "internal",
                "start_date": d(2020, 1, 1),
                "end_date": None,
                "status": "open",
                "updated_at": t0,
            },
            {
                "project_id": 12,
                "project_code": "P12",
                "client_id": 1,
                "project_type": "billable",
                "start_date": d(2024, 1, 1),
                "end_date": d(2024, 3, 6),
                "status": "closed",
                "updated_at": t0,
            },
        ],
    )
    _write(
        root / "raw/project_assignments",
        "project_assignments",
        [
            # two overlapping assignments of employee 1 on project 10
            {
                "assignment_id": 1,
                "employee_id": 1,
                "project_id": 10,
                "start_date": d(2024, 1, 1),
                "end_date": None,
                "allocation_pct": Decimal("50.00"),
                "updated_at": t0,
            },
            {
                "assignment_id": 2,
                "employee_id": 1,
                "project_id": 10,
                "start_date": d(2024, 3, 1),
                "end_date": d(2024, 3, 31),
                "allocation_pct": Decimal("50.00"),
                "updated_at": t0,
            },
            {
                "assignment_id": 3,
                "employee_id": 2,
                "project_id": 12,
                "start_date": d(2024, 1, 1),
                "end_date": d(2024, 3, 6),
                "allocation_pct": Decimal("100.00"),
                "updated_at": t0,
            },
        ],
    )
    _write(
        root / "raw/leave_records",
        "leave_records",
        [
            {
                "leave_id": 1,
                "employee_id": 1,
                "start_date": d(2024, 3, 8),
                "end_date": d(2024, 3, 8),
                "leave_type": "sick",
                "status": "approved",
                "updated_at": t0,
            },
            {
                "leave_id": 2,
                "employee_id": 2,
                "start_date": d(2024, 3, 1),
                "end_date": d(2024, 3, 31),
                "leave_type": "vacation",
                "status": "cancelled",
                "updated_at": t0,
            },
        ],
    )
    _write(
        root / "raw/public_holidays",
        "public_holidays",
        [
            {"country_code": "DE", "holiday_date": d(2024, 3, 8), "holiday_name": "Frauentag"},
            {"country_code": "FR", "holiday_date": d(2024, 3, 6), "holiday_name": "Test day"},
        ],
    )
    _write(root / "raw/investigation_cases", "investigation_cases", [])
    for day in RAW_DAYS:
        write_raw_day(root, day, day_entries(day))
        seen = dt.datetime.combine(day, dt.time(8, 0))
        _write(
            root / "raw/workstation_activity" / f"work_date={day}",
            "workstation_activity",
            [
                {
                    "employee_id": 1,
                    "first_seen_at": seen,
                    "last_seen_at": seen,
                    "active_minutes": 480,
                }
            ],
            exclude=("activity_date",),
        )


def read_processed(root: Path) -> pd.DataFrame:
    """The processed dataset as pandas, `work_date` restored from the folder names."""
    path = root / PROCESSED
    if not path.exists():
        return pd.DataFrame(columns=PROCESSED_COLUMNS)
    partitioning = ds.partitioning(pa.schema([("work_date", pa.date32())]), flavor="hive")
    table = ds.dataset(path, format="parquet", partitioning=partitioning).to_table()
    return table.to_pandas().sort_values("entry_id").reset_index(drop=True)[PROCESSED_COLUMNS]


def day_dirs(root: Path) -> list[str]:
    path = root / PROCESSED
    return sorted(p.name for p in path.iterdir() if p.is_dir()) if path.exists() else []


def file_stats(root: Path, day: dt.date) -> dict[str, tuple[int, int]]:
    folder = root / PROCESSED / f"work_date={day}"
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir()}


def copy_lake(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, copy_function=shutil.copy2)
    return dst


# --- shared runs ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def range_lake(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("range_lake")
    write_raw_lake(root)
    metrics = run(spark, str(root), START, END)
    (root / "metrics.json").write_text(json.dumps(metrics))
    return root


@pytest.fixture(scope="module")
def daily_lake(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("daily_lake")
    write_raw_lake(root)
    day = START
    while day <= END:
        run(spark, root.as_uri(), day, day)  # also: the lake root given as a file:// URI
        day += dt.timedelta(days=1)
    return root


# --- (a) a range run --------------------------------------------------------------------------


def test_range_run_metrics(range_lake: Path) -> None:
    metrics = json.loads((range_lake / "metrics.json").read_text())
    assert metrics["rows_read"] == 2 * (ENTRIES_PER_DAY + 1)
    assert metrics["rows_written"] == 2 * ENTRIES_PER_DAY
    assert metrics["days_written"] == 2
    assert metrics["days_in_range"] == 3
    assert metrics["raw_days_found"] == 2
    assert metrics["days_cleared"] == 0
    assert metrics["rows_per_day"] == {"2024-03-06": 6, "2024-03-08": 6}


def test_range_run_writes_only_its_days_one_file_each(range_lake: Path) -> None:
    # 03-05 and 03-09 have raw data but are outside the range; 03-07 has no raw folder
    assert day_dirs(range_lake) == ["work_date=2024-03-06", "work_date=2024-03-08"]
    for day in PROCESSED_DAYS:
        files = [n for n in file_stats(range_lake, day) if n.endswith(".parquet")]
        assert len(files) == 1, files


def test_output_has_the_contract_schema(spark: SparkSession, range_lake: Path) -> None:
    back = spark.read.parquet(str(range_lake / PROCESSED))
    assert [(f.name, f.dataType) for f in back.schema] == [
        (f.name, f.dataType) for f in PROCESSED_TIMESHEET_ENTRIES
    ]
    # the files themselves: no partition column inside, naive microsecond timestamps
    path = next((range_lake / PROCESSED / "work_date=2024-03-06").glob("*.parquet"))
    schema = pq.read_schema(path)
    assert schema.names == PROCESSED_COLUMNS[:-1]
    assert schema.field("submitted_at").type == pa.timestamp("us")
    assert schema.field("hours").type == pa.float64()
    assert schema.field("day_entry_count").type == pa.int32()
    assert schema.field("hire_date").type == pa.date32()
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"


def test_one_row_per_latest_entry_with_its_flags(range_lake: Path) -> None:
    df = read_processed(range_lake)
    assert df["entry_id"].is_unique
    assert sorted(df["entry_id"]) == [b + i for b in (600, 800) for i in range(1, 7)]
    row = df.set_index("entry_id").to_dict("index")
    # latest version of entry 601 (approved, 8 h), not the older 6 h one
    assert (row[601]["hours"], row[601]["status"], row[601]["approval_lag_hours"]) == (
        8.0,
        "approved",
        15.0,
    )
    assert row[601]["work_date"] == dt.date(2024, 3, 6)
    assert row[601]["submitted_at"] == pd.Timestamp("2024-03-06 18:00:00")
    assert (row[601]["is_assigned"], row[601]["is_manager_approved"]) == (True, True)
    # employee 1 on 03-08: sick leave and a German holiday
    assert (row[801]["is_on_leave"], row[801]["leave_type"], row[801]["is_holiday"]) == (
        True,
        "sick",
        True,
    )
    # employee 2 (France): terminated 03-06, project 12 and its assignment end 03-06
    assert [row[k]["is_post_termination"] for k in (603, 803)] == [False, True]
    assert [row[k]["is_project_open"] for k in (603, 803)] == [True, False]
    assert [row[k]["is_assigned"] for k in (603, 803)] == [True, False]
    assert [row[k]["is_holiday"] for k in (603, 803)] == [True, False]
    assert [row[k]["is_holiday"] for k in (601, 801)] == [False, True]  # Germany: 03-08 only
    assert not row[603]["is_on_leave"]  # cancelled leave
    # employee 3: self-approved line and its unapproved copy
    assert bool(row[604]["is_self_approved"]) and not bool(row[605]["is_self_approved"])
    assert [bool(row[k]["is_duplicate_line"]) for k in (604, 605)] == [False, True]
    assert (row[604]["day_counted_hours"], row[604]["day_entry_count"]) == (8.0, 2)
    # the withdrawn line of employee 2 is kept but does not count
    assert (row[606]["is_counted"], row[606]["day_counted_hours"]) == (False, 7.5)
    assert (row[601]["active_minutes"], row[603]["active_minutes"]) == (480, 0)
    assert (bool(row[601]["has_activity"]), bool(row[603]["has_activity"])) == (True, False)
    assert not row[801]["is_weekend"]  # a Friday


# --- (b) range run == day-by-day runs ---------------------------------------------------------


def test_range_run_equals_day_by_day_runs(range_lake: Path, daily_lake: Path) -> None:
    assert day_dirs(daily_lake) == day_dirs(range_lake)
    pd.testing.assert_frame_equal(read_processed(daily_lake), read_processed(range_lake))


# --- (c) rerunning one day --------------------------------------------------------------------


def test_rerun_of_one_day_rewrites_only_that_day(
    spark: SparkSession, range_lake: Path, tmp_path: Path
) -> None:
    lake = copy_lake(range_lake, tmp_path / "lake")
    untouched_before = file_stats(lake, dt.date(2024, 3, 8))
    rerun_before = file_stats(lake, dt.date(2024, 3, 6))

    metrics = run(spark, str(lake), dt.date(2024, 3, 6), dt.date(2024, 3, 6))

    assert metrics["days_written"] == 1 and metrics["rows_written"] == ENTRIES_PER_DAY
    assert file_stats(lake, dt.date(2024, 3, 8)) == untouched_before
    assert file_stats(lake, dt.date(2024, 3, 6)) != rerun_before  # really rewritten
    assert day_dirs(lake) == day_dirs(range_lake)
    pd.testing.assert_frame_equal(read_processed(lake), read_processed(range_lake))


# --- (d) days whose raw data disappeared ------------------------------------------------------


def test_emptied_and_removed_raw_days_lose_their_output(
    spark: SparkSession, range_lake: Path, tmp_path: Path
) -> None:
    lake = copy_lake(range_lake, tmp_path / "lake")
    # the ingest rewrites a day that now has no entries as a zero-row file
    write_raw_day(lake, dt.date(2024, 3, 8), [])

    metrics = run(spark, str(lake), START, END)

    assert metrics["rows_per_day"] == {"2024-03-06": ENTRIES_PER_DAY}
    assert metrics["days_cleared"] == 1
    assert day_dirs(lake) == ["work_date=2024-03-06"]

    # left in the range: one zero-row file (03-08) and no folder at all (03-06, 03-07)
    shutil.rmtree(lake / "raw/timesheet_entries/work_date=2024-03-06")
    metrics = run(spark, str(lake), START, END)
    assert (metrics["raw_days_found"], metrics["rows_read"], metrics["rows_written"]) == (1, 0, 0)
    assert metrics["days_cleared"] == 1
    assert day_dirs(lake) == []


def test_end_before_start_is_rejected(spark: SparkSession, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="before start"):
        run(spark, str(tmp_path), END, START)


# --- Dagster Pipes ----------------------------------------------------------------------------


def test_metrics_reach_dagster_through_pipes(
    range_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process: the job's `main` under a real Pipes session opened by a multi-asset, which
    is where the asset key has to be named explicitly."""
    lake = copy_lake(range_lake, tmp_path / "lake")
    monkeypatch.setattr(PipesContext, "_instance", None)
    day = dt.date(2024, 3, 8)

    @dg.multi_asset(
        specs=[
            dg.AssetSpec(PROCESSED_ASSET_KEY),
            dg.AssetSpec("some_other_asset"),
        ]
    )
    # `context` unannotated: dagster cannot resolve a string annotation on a nested function.
    def spark_job(context) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        with dg.open_pipes_session(
            context=context,
            context_injector=dg.PipesEnvContextInjector(),
            message_reader=dg.PipesFileMessageReader(str(tmp_path / "messages.jsonl")),
        ) as session:
            for name, value in session.get_bootstrap_env_vars().items():
                monkeypatch.setenv(name, value)
            assert process_timesheets.in_dagster_pipes()
            assert main(["--lake", str(lake), "--start", str(day), "--end", str(day)]) == 0
        yield from session.get_results()

    result = dg.materialize([spark_job])
    assert result.success
    by_key = {
        e.asset_key: e.materialization.metadata for e in result.get_asset_materialization_events()
    }
    # the other asset only gets Dagster's implicit, empty materialization
    assert "rows_written" not in by_key[dg.AssetKey("some_other_asset")]
    metadata = by_key[dg.AssetKey(PROCESSED_ASSET_KEY)]
    assert metadata["rows_written"].value == ENTRIES_PER_DAY
    assert metadata["dagster/row_count"].value == ENTRIES_PER_DAY
    assert metadata["days_written"].value == 1
    assert metadata["rows_per_day"].value == {"2024-03-08": ENTRIES_PER_DAY}


def test_without_pipes_main_prints_one_json_line(
    range_lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not process_timesheets.in_dagster_pipes()
    lake = copy_lake(range_lake, tmp_path / "lake")
    assert main(["--lake", str(lake), "--start", "2024-03-07", "--end", "2024-03-07"]) == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (metrics["rows_written"], metrics["days_in_range"]) == (0, 1)
    assert day_dirs(lake) == day_dirs(range_lake)


# --- (e) the real spark-submit ----------------------------------------------------------------


@pytest.mark.skipif(
    os.environ.get("TSFRAUD_SKIP_SPARK_SUBMIT") == "1",
    reason="starts a second JVM through spark-submit (~20-30 s)",
)
def test_spark_submit_runs_the_job_file(range_lake: Path, tmp_path: Path) -> None:
    """Costs a JVM start: the job file as `spark-submit` runs it on EMR, in its own process."""
    lake = tmp_path / "lake"
    write_raw_lake(lake)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_PIPES")}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        PYSPARK_PYTHON=sys.executable,
        PYSPARK_DRIVER_PYTHON=sys.executable,
    )
    cmd = [
        str(SPARK_SUBMIT),
        "--master",
        "local[1]",
        "--conf",
        "spark.ui.enabled=false",
        "--conf",
        "spark.sql.shuffle.partitions=2",
        "--conf",  # a short JVM on tiny data: see local_spark_conf
        "spark.driver.extraJavaOptions=-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
        str(JOB_SCRIPT),
        "--lake",
        f"file://{lake}",
        "--start",
        START.isoformat(),
        "--end",
        END.isoformat(),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    metrics = json.loads(proc.stdout.strip().splitlines()[-1])
    assert metrics["rows_written"] == 2 * ENTRIES_PER_DAY
    assert day_dirs(lake) == day_dirs(range_lake)
    pd.testing.assert_frame_equal(read_processed(lake), read_processed(range_lake))
