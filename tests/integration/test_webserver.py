"""The real Dagster UI server over the project's workspace: the asset graph as the UI sees it,
and a partition launched through its GraphQL API that lands in the lake.

The server runs with the project's dagster.yaml but the run queue swapped for the
DefaultRunCoordinator: the queue needs the daemon to dequeue runs, and without it a launched
run would wait forever. Everything it
writes goes to a temporary folder; it only listens on 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from dagster_shared.yaml_utils import load_yaml_from_path

from tests.process_utils import stop_process_group
from tsfraud_assets.settings import PROJECT_ROOT
from tsfraud_simulator import simulate

START = dt.date(2026, 3, 2)
DAY = START + dt.timedelta(days=1)
LOCATION = "tsfraud"
STARTUP_TIMEOUT = 240.0  # a readiness wait, not a speed target: a loaded CI box is slow
RUN_TIMEOUT = 60.0

# The layers the UI must show, from ingest to the investigators' page.
LAYERS = [
    "raw_timesheet_entries",
    "processed_timesheet_entries",
    "stg_timesheet_entries",
    "employee_day_features",
    "fraud_model",
    "timesheet_scores",
    "stg_timesheet_scores",
    "suspect_timesheets",
    "investigator_report",
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, port: int, log: Path) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.log = log

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{self.base}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.loads(response.read())
        assert "errors" not in payload, payload["errors"]
        return dict(payload["data"])

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def _dagster_yaml_without_queue(home: Path) -> None:
    config = load_yaml_from_path(str(PROJECT_ROOT / "dagster.yaml")) or {}
    assert isinstance(config, dict)
    # Dagster's default is the queue too, so name the coordinator that launches at once.
    config["run_coordinator"] = {
        "module": "dagster._core.run_coordinator",
        "class": "DefaultRunCoordinator",
    }
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(json.dumps(config, indent=2))  # JSON is YAML


def _wait_until_loaded(server: Server, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"dagster-webserver exited with {proc.returncode}:\n{server.tail()}")
        try:
            with urllib.request.urlopen(f"{server.base}/server_info", timeout=2) as r:
                if r.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    else:
        pytest.fail(f"/server_info never answered:\n{server.tail()}")
    query = """{ workspaceOrError { ... on Workspace { locationEntries {
        name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
    while time.monotonic() < deadline:
        entries = server.graphql(query)["workspaceOrError"]["locationEntries"]
        entry = next((e for e in entries if e["name"] == LOCATION), None)
        if entry and entry["loadStatus"] == "LOADED":
            error = entry["locationOrLoadError"]
            assert error["__typename"] == "RepositoryLocation", error
            return
        time.sleep(0.5)
    pytest.fail(f"code location {LOCATION} did not load:\n{server.tail()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("webserver")
    source_url = f"sqlite:///{tmp / 'source.db'}"
    simulate(
        source_url,
        employees=30,
        start=START,
        days=5,
        seed=1,
        ground_truth_path=str(tmp / "truth.parquet"),
    )
    home = tmp / "dagster_home"
    _dagster_yaml_without_queue(home)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "TSFRAUD_DATA_DIR": str(tmp),
        "TSFRAUD_LAKE": str(tmp / "lake"),
        "TSFRAUD_DUCKDB_PATH": str(tmp / "warehouse.duckdb"),
        "TSFRAUD_SOURCE_URL": source_url,
    }
    env.pop("DAGSTER_IS_DEV_CLI", None)
    port = _free_port()
    log = tmp / "webserver.log"
    webserver = Path(sys.executable).parent / "dagster-webserver"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(webserver), "-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the code server and runs go too
        )
    srv = Server(port, log)
    srv.tmp = tmp  # type: ignore[attr-defined]
    srv.source_url = source_url  # type: ignore[attr-defined]
    try:
        _wait_until_loaded(srv, proc)
        yield srv
    finally:
        stop_process_group(proc)


ASSET_NODES = """{
  assetNodes {
    assetKey { path }
    groupName
    isPartitioned
    dependencyKeys { path }
    internalFreshnessPolicy {
      __typename
      ... on CronFreshnessPolicy { deadlineCron timezone }
      ... on TimeWindowFreshnessPolicy { failWindowSeconds }
    }
    assetChecksOrError { ... on AssetChecks { checks { name blocking } } }
  }
}"""


@pytest.fixture(scope="module")
def nodes(server: Server) -> dict[str, dict[str, Any]]:
    data = server.graphql(ASSET_NODES)["assetNodes"]
    return {"/".join(n["assetKey"]["path"]): n for n in data}


def _deps(node: dict[str, Any]) -> set[str]:
    return {"/".join(k["path"]) for k in node["dependencyKeys"]}


def _ancestors(nodes: dict[str, dict[str, Any]], key: str) -> set[str]:
    seen: set[str] = set()
    todo = [key]
    while todo:
        for dep in _deps(nodes[todo.pop()]):
            if dep not in seen and dep in nodes:
                seen.add(dep)
                todo.append(dep)
    return seen


def test_every_layer_is_in_the_graph(nodes: dict[str, dict[str, Any]]) -> None:
    missing = [k for k in [*LAYERS, "raw_workstation_activity"] if k not in nodes]
    assert not missing
    groups = {k: nodes[k]["groupName"] for k in LAYERS}
    assert groups["raw_timesheet_entries"] == "raw"
    assert groups["timesheet_scores"] == "suspects"
    assert groups["suspect_timesheets"] == groups["investigator_report"] == "reports"
    assert all(nodes[k]["isPartitioned"] for k in LAYERS if k != "fraud_model")


def test_lineage_runs_from_raw_through_dbt_to_the_report(nodes: dict[str, dict[str, Any]]) -> None:
    # each layer reads the one before it, the dbt models included
    for upstream, downstream in itertools.pairwise(LAYERS):
        assert upstream in _ancestors(nodes, downstream), (upstream, downstream)
    assert "raw_timesheet_entries" in _deps(nodes["processed_timesheet_entries"])
    assert "processed_timesheet_entries" in _deps(nodes["stg_timesheet_entries"])
    assert {"employee_day_features", "fraud_model"} <= _deps(nodes["timesheet_scores"])
    assert "timesheet_scores" in _deps(nodes["stg_timesheet_scores"])
    assert "stg_timesheet_scores" in _deps(nodes["suspect_timesheets"])
    assert {
        "suspect_timesheets",
        "daily_suspect_summary",
        "weekly_suspect_trend",
        "daily_signal_summary",
        "timesheet_scores",
        "fraud_model",
    } <= _deps(nodes["investigator_report"])


def test_checks_and_freshness_are_attached(nodes: dict[str, dict[str, Any]]) -> None:
    raw_checks = {
        c["name"]: c for c in nodes["raw_timesheet_entries"]["assetChecksOrError"]["checks"]
    }
    assert raw_checks["reconciles_with_source"]["blocking"] is True
    for key in ("timesheet_scores", "suspect_timesheets", "investigator_report"):
        checks = {c["name"] for c in nodes[key]["assetChecksOrError"]["checks"]}
        assert "freshness_check" in checks, key
        # one freshness verdict per asset: the partition check, no per-asset policy beside it
        assert nodes[key]["internalFreshnessPolicy"] is None, key
    model_policy = nodes["fraud_model"]["internalFreshnessPolicy"]
    assert model_policy["__typename"] == "TimeWindowFreshnessPolicy"
    assert model_policy["failWindowSeconds"] == 8 * 24 * 3600


def test_daily_assets_list_their_partitions(server: Server) -> None:
    data = server.graphql(
        """query($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) {
            ... on AssetNode {
              partitionDefinition { type }
              partitionKeyConnection(limit: 2, ascending: true) { results }
              latest: partitionKeyConnection(limit: 1, ascending: false) { results }
            } } }""",
        {"key": {"path": ["timesheet_scores"]}},
    )["assetNodeOrError"]
    assert data["partitionDefinition"]["type"] == "TIME_WINDOW"
    first = [dt.date.fromisoformat(k) for k in data["partitionKeyConnection"]["results"]]
    assert first[1] - first[0] == dt.timedelta(days=1)
    latest = dt.date.fromisoformat(data["latest"]["results"][0])
    assert first[0] <= DAY <= latest


LAUNCH = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename
  ... on LaunchRunSuccess { run { runId } }
  ... on PythonError { message stack }
  ... on InvalidSubsetError { message }
  ... on RunConfigValidationInvalid { errors { message } }
} }"""


RUN_STATUS = """query($id: ID!) { runOrError(runId: $id) {
  ... on Run { status tags { key value } } } }"""
LATEST_BY_PARTITION = """query($key: AssetKeyInput!, $partition: String!) {
  assetNodeOrError(assetKey: $key) { ... on AssetNode {
    latestMaterializationByPartition(partitions: [$partition]) { runId partition } } } }"""


def _source_rows(url: str, table: str, column: str, day: dt.date) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        n: int = conn.execute(
            sa.text(f"select count(*) from {table} where {column} = :d"), {"d": day.isoformat()}
        ).scalar_one()
    engine.dispose()
    return int(n)


def test_a_partition_launched_through_graphql_lands_in_the_lake(server: Server) -> None:
    params = {
        "selector": {
            "repositoryLocationName": LOCATION,
            "repositoryName": "__repository__",
            "jobName": "__ASSET_JOB",
            "assetSelection": [
                {"path": ["raw_timesheet_entries"]},
                {"path": ["raw_workstation_activity"]},
            ],
            "assetCheckSelection": [
                {"assetKey": {"path": ["raw_timesheet_entries"]}, "name": "reconciles_with_source"}
            ],
        },
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": DAY.isoformat()}]},
        # in-process: one Python process loads the code location for the run, not two
        "runConfigData": {"execution": {"config": {"in_process": {}}}},
    }
    launched = server.graphql(LAUNCH, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]

    status = ""
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        run = server.graphql(RUN_STATUS, {"id": run_id})["runOrError"]
        status = run["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(1)
    assert status == "SUCCESS", f"run {run_id} ended {status}:\n{server.tail()}"
    assert {"key": "dagster/partition", "value": DAY.isoformat()} in run["tags"]

    tmp: Path = server.tmp  # type: ignore[attr-defined]
    url: str = server.source_url  # type: ignore[attr-defined]
    entries = tmp / "lake" / "raw" / "timesheet_entries" / f"work_date={DAY}" / "data.parquet"
    activity = tmp / "lake" / "raw" / "workstation_activity" / f"work_date={DAY}" / "data.parquet"
    quarantine = tmp / "lake" / "quarantine" / "timesheet_entries" / f"work_date={DAY}"
    quarantined = sum(pq.read_metadata(p).num_rows for p in quarantine.glob("*.parquet"))
    assert pq.read_metadata(entries).num_rows + quarantined == _source_rows(
        url, "timesheet_entries", "work_date", DAY
    )
    assert pq.read_metadata(activity).num_rows == _source_rows(
        url, "workstation_activity", "activity_date", DAY
    )
    # only the launched partition was written
    written = sorted(p.name for p in entries.parent.parent.iterdir())
    assert written == [f"work_date={DAY}"]

    latest = server.graphql(
        LATEST_BY_PARTITION,
        {"key": {"path": ["raw_timesheet_entries"]}, "partition": DAY.isoformat()},
    )["assetNodeOrError"]["latestMaterializationByPartition"]
    assert latest == [{"runId": run_id, "partition": DAY.isoformat()}]
