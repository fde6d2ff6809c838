"""Fault injection (issue #14): each fault is real where the machine allows it, and each test
asserts the same four things: nothing lost, nothing duplicated, a clear message, and the next
run heals (lake + quarantine = source, per day and per table).

- a `kill -9` of an ingest process mid-range,
- a full disk (a 1 MiB tmpfs mounted for the test; skipped where mounting is not allowed),
- the source database going away mid-extract (its backends terminated) and a closed port,
- the S3 endpoint going away (a loopback moto server stopped) and coming back,
- a corrupt Parquet file in the lake,
- a failure in the middle of a single-run range, seen from Dagster: the days written before it
  are recorded as materializations, not left written but unrecorded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import fsspec
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from tests.aws_env import point_aws_clients_at
from tests.conftest import free_port, moto_server
from tests.source_fixtures import postgres_source
from tsfraud_assets.defs.raw.ingest import IngestIncomplete, ingest_days, reconcile_day
from tsfraud_assets.defs.raw.moves import stale_days
from tsfraud_assets.lib import contract
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase, SourceUnavailableError
from tsfraud_assets.settings import PROJECT_ROOT
from tsfraud_simulator import simulate

START = dt.date(2026, 3, 2)
DAYS = [START + dt.timedelta(days=i) for i in range(8)]
TODAY = dt.date(2026, 6, 1)


@pytest.fixture(scope="module")
def firm(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A simulated firm in SQLite, shared read-only by the tests (the pipeline never writes)."""
    path = tmp_path_factory.mktemp("firm") / "source.db"
    simulate(f"sqlite:///{path}", employees=150, start=START, days=len(DAYS), seed=5)
    return f"sqlite:///{path}"


def assert_lake_matches_source(source: SourceDatabase, lake: Lake) -> None:
    """Nothing lost or duplicated: per day, rows and hours of the lake plus quarantine equal
    the source's, every partition file reads, and each entry is on exactly one day."""
    seen: dict[int, dt.date] = {}
    for day in DAYS:
        rec = reconcile_day(source, lake, day)
        assert rec.ok, rec
        for table in contract.DAILY_TABLES:
            assert lake.read_partition(f"raw/{table}", day) is not None, (table, day)
        raw = lake.read_partition("raw/timesheet_entries", day)
        assert raw is not None
        for entry_id in raw.column("entry_id").to_pylist():
            assert entry_id not in seen, (entry_id, seen.get(entry_id), day)
            seen[entry_id] = day


def _partition_files(root: Path) -> list[Path]:
    return sorted(root.rglob("data.parquet"))


# --- kill -9 mid-ingest -----------------------------------------------------------------------


def test_a_killed_ingest_leaves_whole_partitions_and_the_rerun_heals(
    firm: str, tmp_path: Path
) -> None:
    lake_root = tmp_path / "lake"
    script = textwrap.dedent(
        f"""\
        import datetime as dt
        from tsfraud_assets.defs.raw.ingest import ingest_days
        from tsfraud_assets.resources.lake import Lake
        from tsfraud_assets.resources.source_db import SourceDatabase
        days = [dt.date.fromisoformat(d) for d in {[d.isoformat() for d in DAYS]!r}]
        # small batches and one connection: slow enough to be killed in the middle
        source = SourceDatabase(url={firm!r}, batch_rows=200, parallel_ranges=1)
        while True:
            ingest_days(source, Lake(root={str(lake_root)!r}), days, today=dt.date(2026, 6, 1))
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT_ROOT)
    try:
        deadline = time.monotonic() + 120
        while len(_partition_files(lake_root)) < 3:
            assert proc.poll() is None, "the ingest process ended on its own"
            assert time.monotonic() < deadline, "no partition written in 120 s"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    written = _partition_files(lake_root)
    assert written
    for path in written:  # readers never see half a file: each one is whole
        pq.read_table(path)
    source = SourceDatabase(url=firm)
    lake = Lake(root=str(lake_root))
    ingest_days(source, lake, DAYS, today=TODAY)
    assert_lake_matches_source(source, lake)
    assert not [p for p in lake_root.rglob("*") if p.name.endswith(".inprogress")]
    clean = Lake(root=str(tmp_path / "clean"))
    ingest_days(source, clean, DAYS, today=TODAY)
    for day in DAYS:  # the healed lake is the lake an uninterrupted run writes
        for table in contract.DAILY_TABLES:
            ds = f"raw/{table}"
            assert lake.read_partition(ds, day) == clean.read_partition(ds, day), (ds, day)


# --- disk full --------------------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_keeps_the_old_partitions_and_the_rerun_heals(
    firm: str, tmp_path: Path, tiny_disk: Path
) -> None:
    lake = Lake(root=str(tiny_disk / "lake"))
    source = SourceDatabase(url=firm)
    day = DAYS[0]
    ingest_days(source, lake, [day], today=TODAY)
    before = lake.read_partition("raw/timesheet_entries", day)
    filler = tiny_disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        with contextlib.suppress(OSError):
            while True:  # take every free byte
                os.write(fd, b"\0" * 4096)
    finally:
        os.close(fd)
    with pytest.raises(IngestIncomplete, match="No space left on device") as err:
        ingest_days(source, lake, DAYS[:3], today=TODAY)
    assert "failed after" in str(err.value)
    assert lake.read_partition("raw/timesheet_entries", day) == before  # old file intact
    assert not [p for p in tiny_disk.rglob("*") if p.name.endswith(".inprogress")]
    filler.unlink()  # space again: the rerun heals
    ingest_days(source, lake, DAYS, today=TODAY)
    assert_lake_matches_source(source, lake)


# --- the source goes away ---------------------------------------------------------------------


@pytest.mark.postgres
def test_the_source_going_away_mid_extract_is_clear_and_the_rerun_heals(tmp_path: Path) -> None:
    with postgres_source() as url:
        simulate(url, employees=150, start=START, days=len(DAYS), seed=5, replace=True)
        name = sa.engine.make_url(url).database
        admin = sa.create_engine(
            "postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT"
        )
        source = SourceDatabase(url=url, parallel_ranges=1)
        lake = Lake(root=str(tmp_path / "lake"))
        real = Lake.write_partition
        calls: list[dt.date] = []

        def write_then_cut(self: Lake, dataset: str, day: dt.date, *args: Any) -> Any:
            stats = real(self, dataset, day, *args)
            calls.append(day)
            if len(calls) == 3:  # mid-extract: the server drops every connection to the source
                with admin.connect() as conn:
                    conn.exec_driver_sql(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                    )
            return stats

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(Lake, "write_partition", write_then_cut)
            with pytest.raises(IngestIncomplete) as err:
                ingest_days(source, lake, DAYS, today=TODAY)
        message = str(err.value)
        assert "failed after" in message and "terminat" in message.lower(), message
        for path in _partition_files(tmp_path / "lake"):
            pq.read_table(path)
        ingest_days(source, lake, DAYS, today=TODAY)  # the server is back: a new connection
        assert_lake_matches_source(source, lake)
        admin.dispose()


def test_a_source_that_cannot_be_reached_is_named_without_its_password() -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql://tsfraud:s3cret@127.0.0.1:{port}/firm"
    with pytest.raises(SourceUnavailableError) as err, SourceDatabase(url=url).snapshot():
        pass
    message = str(err.value)
    assert message.startswith("cannot reach the source database postgresql://tsfraud:***@")
    assert "s3cret" not in message and "refused" in message.lower()


# --- the S3 endpoint goes away ----------------------------------------------------------------


def test_the_s3_endpoint_going_away_is_clear_and_the_rerun_heals(
    firm: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    # this test's own endpoint, which it stops: clients must not keep it for later tests
    point_aws_clients_at(f"http://127.0.0.1:{port}", monkeypatch, AWS_MAX_ATTEMPTS="2")
    source = SourceDatabase(url=firm)
    lake = Lake(root="s3://faults/tsfraud")
    with moto_server(port):
        boto3.client("s3").create_bucket(Bucket="faults")
        ingest_days(source, lake, DAYS[:2], today=TODAY)
    # the endpoint is down: the ingest fails, saying where it could not write
    started = time.monotonic()
    with pytest.raises(IngestIncomplete) as err:
        ingest_days(source, lake, DAYS, today=TODAY)
    took = time.monotonic() - started
    message = str(err.value)
    assert "failed after 0 of" in message and str(port) in message, message
    print(f"S3 endpoint down: the ingest failed after {took:.1f} s: {message[:200]}")
    with moto_server(port):  # back (empty: moto keeps nothing across restarts)
        boto3.client("s3").create_bucket(Bucket="faults")
        fsspec.filesystem("s3").invalidate_cache()
        ingest_days(source, lake, DAYS, today=TODAY)
        assert_lake_matches_source(source, lake)
    fsspec.get_filesystem_class("s3").clear_instance_cache()  # none outlives this endpoint


# --- a corrupt file in the lake ---------------------------------------------------------------


def test_a_corrupt_partition_is_reported_and_rebuilt(firm: str, tmp_path: Path) -> None:
    source = SourceDatabase(url=firm)
    lake = Lake(root=str(tmp_path / "lake"))
    ingest_days(source, lake, DAYS, today=TODAY)
    bad_day = DAYS[2]
    path = tmp_path / "lake" / "raw" / "timesheet_entries" / f"work_date={bad_day}" / "data.parquet"
    path.write_bytes(path.read_bytes()[:100] + b"garbage")
    rec = reconcile_day(source, lake, bad_day)
    assert not rec.ok and rec.problem is not None
    assert f"a lake file of {bad_day} cannot be read" in rec.problem
    # the next run over any nearby day rebuilds it too
    assert bad_day in stale_days(source, lake, [DAYS[5]])
    ingest_days(source, lake, [bad_day], today=TODAY)
    assert_lake_matches_source(source, lake)


# --- a failure inside a single-run range, as Dagster records it ------------------------------


def test_days_written_before_a_failure_are_recorded_as_materializations(
    firm: str, tmp_path: Path
) -> None:
    from tsfraud_assets.defs.partitions import daily_partitions
    from tsfraud_assets.defs.raw.assets import build_raw_daily_tables
    from tsfraud_assets.settings import DEFAULT_PARTITION_START

    raw_daily_tables = build_raw_daily_tables(daily_partitions(DEFAULT_PARTITION_START))
    from tsfraud_assets.defs.automation.sensors import range_tags

    lake = Lake(root=str(tmp_path / "lake"))
    real = Lake.write_partition

    def full_on_last_day(self: Lake, dataset: str, day: dt.date, *args: Any) -> Any:
        if day == DAYS[-1]:
            raise OSError(28, "No space left on device")
        return real(self, dataset, day, *args)

    instance = dg.DagsterInstance.ephemeral()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Lake, "write_partition", full_on_last_day)
        result = dg.materialize(
            [raw_daily_tables],
            resources={"source": SourceDatabase(url=firm, parallel_ranges=2), "lake": lake},
            instance=instance,
            tags=range_tags(DAYS[0], DAYS[-1]),
            raise_on_error=False,
        )
    assert not result.success
    failure = " ".join(
        e.step_failure_data.error.to_string()
        for e in result.all_events
        if e.is_step_failure and e.step_failure_data.error is not None
    )
    assert "No space left on device" in failure
    recorded = {
        key.to_user_string(): sorted(
            r.partition_key or ""
            for r in instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=key), limit=100
            ).records
        )
        for key in (dg.AssetKey("raw_timesheet_entries"), dg.AssetKey("raw_workstation_activity"))
    }
    on_disk = {
        f"raw_{table}": sorted(d.isoformat() for d in lake.list_partitions(f"raw/{table}"))
        for table in contract.DAILY_TABLES
    }
    assert recorded == on_disk  # every written day recorded, nothing recorded unwritten
    assert recorded["raw_timesheet_entries"] == [d.isoformat() for d in DAYS[:-1]]
