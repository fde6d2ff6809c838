"""Freshness: which assets carry which policy, and the checks and policies judged at a frozen
clock against an instance where the partition was or was not materialized."""

from __future__ import annotations

import asyncio
import datetime as dt
import zoneinfo
from collections.abc import Iterator

import dagster as dg
import pytest
from dagster._core.definitions.freshness import (
    CronFreshnessPolicy,
    FreshnessState,
    TimeWindowFreshnessPolicy,
)
from dagster._core.definitions.freshness_evaluator import (
    CronFreshnessPolicyEvaluator,
    TimeWindowFreshnessPolicyEvaluator,
)
from dagster._core.loader import LoadingContextForTest
from dagster._core.test_utils import freeze_time

from tsfraud_assets.defs.automation.freshness import (
    FRESHNESS_JOB_NAME,
    FRESHNESS_SENSOR_NAME,
    MODEL_KEY,
    SUSPECT_LIST_KEYS,
    freshness_run_waiting,
    partition_freshness_checks,
    with_freshness,
)
from tsfraud_assets.defs.partitions import daily_partitions as daily_partitions_from
from tsfraud_assets.settings import DEFAULT_PARTITION_START
from tsfraud_assets.settings import timezone_from as freshness_timezone

daily_partitions = daily_partitions_from(DEFAULT_PARTITION_START)

LONDON = "Europe/London"
NEW_YORK = "America/New_York"
MONDAY = dt.date(2026, 3, 9)
FRIDAY = dt.date(2026, 3, 6)


def _stub(key: dg.AssetKey, partitioned: bool = True) -> dg.AssetsDefinition:
    @dg.asset(key=key, partitions_def=daily_partitions if partitioned else None)
    def _asset() -> dg.MaterializeResult:
        return dg.MaterializeResult()

    return _asset


@pytest.fixture
def graph() -> list[dg.AssetsDefinition]:
    """The suspect-list keys, the model and one asset no policy is meant for."""
    return [
        *(_stub(k) for k in SUSPECT_LIST_KEYS),
        _stub(MODEL_KEY, partitioned=False),
        _stub(dg.AssetKey("employee_day_features")),
    ]


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        yield inst


def _at(day: dt.date, hour: int, minute: int, tz: str) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zoneinfo.ZoneInfo(tz))


def _materialize(instance: dg.DagsterInstance, key: dg.AssetKey, day: dt.date) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=day.isoformat()))


def _run_checks(
    instance: dg.DagsterInstance, graph: list[dg.AssetsDefinition], tz: str, now: dt.datetime
) -> dict[dg.AssetKey, dg.AssetCheckEvaluation]:
    checks = partition_freshness_checks(tz)
    with freeze_time(now):
        result = dg.materialize(
            [*graph, *checks],
            selection=dg.AssetSelection.checks(*checks),
            instance=instance,
        )
    return {e.asset_key: e for e in result.get_asset_check_evaluations()}


def test_one_freshness_verdict_per_asset(
    graph: list[dg.AssetsDefinition],
) -> None:
    """The suspect list is judged by its partition checks alone, the model by its policy alone:
    no asset shows a passing policy beside an overdue check."""
    defs = with_freshness(dg.Definitions(assets=graph), timezone=NEW_YORK)
    asset_graph = defs.resolve_asset_graph()
    for key in SUSPECT_LIST_KEYS:
        assert asset_graph.get(key).freshness_policy is None
    model = asset_graph.get(MODEL_KEY).freshness_policy
    assert isinstance(model, TimeWindowFreshnessPolicy)
    assert model.fail_window.to_timedelta() == dt.timedelta(days=8)
    assert asset_graph.get(dg.AssetKey("employee_day_features")).freshness_policy is None
    check_keys = {k for k in asset_graph.asset_check_keys if k.name == "freshness_check"}
    assert {k.asset_key for k in check_keys} == set(SUSPECT_LIST_KEYS)
    assert MODEL_KEY not in {k.asset_key for k in check_keys}
    sensor = defs.resolve_sensor_def(FRESHNESS_SENSOR_NAME)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    # a named target, and the deadline in words, in the investigators' time zone
    assert sensor.job_name == FRESHNESS_JOB_NAME
    assert sensor.description and "07:00 America/New_York" in sensor.description
    job = defs.resolve_job_def(FRESHNESS_JOB_NAME)
    assert {k.asset_key for k in job.asset_layer.asset_graph.asset_check_keys} >= set(
        SUSPECT_LIST_KEYS
    )


def test_no_second_freshness_run_while_one_waits_in_the_queue(
    graph: list[dg.AssetsDefinition],
) -> None:
    defs = with_freshness(dg.Definitions(assets=graph), timezone=LONDON)
    sensor = defs.resolve_sensor_def(FRESHNESS_SENSOR_NAME)
    with dg.instance_for_test() as instance:
        assert freshness_run_waiting(instance) is None
        instance.add_run(
            dg.DagsterRun(job_name=FRESHNESS_JOB_NAME, status=dg.DagsterRunStatus.SUCCESS)
        )
        assert freshness_run_waiting(instance) is None  # a finished run holds nothing back
        # (a queued run needs a code location's origin; a started one holds back the same way)
        instance.add_run(
            dg.DagsterRun(job_name=FRESHNESS_JOB_NAME, status=dg.DagsterRunStatus.STARTED)
        )
        assert freshness_run_waiting(instance) == "started"
        result = sensor(dg.build_sensor_context(instance=instance, definitions=defs))
        assert isinstance(result, dg.SkipReason)
        assert result.skip_message == "a freshness run is already started"


def test_timezone_comes_from_the_environment_and_is_validated() -> None:
    assert freshness_timezone({}) == LONDON
    assert freshness_timezone({"TSFRAUD_TIMEZONE": "Asia/Kolkata"}) == "Asia/Kolkata"
    with pytest.raises(ValueError, match="TSFRAUD_TIMEZONE"):
        freshness_timezone({"TSFRAUD_TIMEZONE": "Mars/Olympus_Mons"})


def test_partition_check_fails_after_the_deadline_when_yesterday_is_missing(
    instance: dg.DagsterInstance, graph: list[dg.AssetsDefinition]
) -> None:
    scores, suspects, report = SUSPECT_LIST_KEYS
    for key in SUSPECT_LIST_KEYS:
        _materialize(instance, key, FRIDAY)
    _materialize(instance, scores, MONDAY)  # only the scores made it for Monday
    tuesday = MONDAY + dt.timedelta(days=1)

    before = _run_checks(instance, graph, LONDON, _at(tuesday, 6, 59, LONDON))
    # before 07:00 on Tuesday, the last deadline is Saturday's, for Friday: all fresh
    assert all(e.passed for e in before.values()), before

    after = _run_checks(instance, graph, LONDON, _at(tuesday, 7, 1, LONDON))
    assert after[scores].passed
    assert not after[suspects].passed and not after[report].passed
    assert after[report].severity == dg.AssetCheckSeverity.WARN
    assert MONDAY.isoformat() in (after[report].description or "")


def test_monday_morning_expects_fridays_list_not_the_weekends(
    instance: dg.DagsterInstance, graph: list[dg.AssetsDefinition]
) -> None:
    for key in SUSPECT_LIST_KEYS:
        _materialize(instance, key, FRIDAY)
    monday_noon = _run_checks(instance, graph, LONDON, _at(MONDAY, 12, 0, LONDON))
    assert all(e.passed for e in monday_noon.values())
    # a week later nothing new arrived: the next Monday's deadline (Tuesday 07:00) is missed
    tuesday_week = _run_checks(
        instance, graph, LONDON, _at(MONDAY + dt.timedelta(days=8), 9, 0, LONDON)
    )
    assert not any(e.passed for e in tuesday_week.values())


def test_the_deadline_follows_the_investigators_time_zone(
    instance: dg.DagsterInstance, graph: list[dg.AssetsDefinition]
) -> None:
    for key in SUSPECT_LIST_KEYS:
        _materialize(instance, key, FRIDAY)
    # 10:30 UTC on Tuesday: past 07:00 in London, 06:30 in New York (EDT since 8 March)
    now = dt.datetime(2026, 3, 10, 10, 30, tzinfo=dt.UTC)
    london = _run_checks(instance, graph, LONDON, now)
    new_york = _run_checks(instance, graph, NEW_YORK, now)
    assert not any(e.passed for e in london.values())
    assert all(e.passed for e in new_york.values())


def _policy_state(
    instance: dg.DagsterInstance, defs: dg.Definitions, key: dg.AssetKey, now: dt.datetime
) -> FreshnessState:
    node = defs.resolve_asset_graph().get(key)
    evaluator = (
        CronFreshnessPolicyEvaluator()
        if isinstance(node.freshness_policy, CronFreshnessPolicy)
        else TimeWindowFreshnessPolicyEvaluator()
    )
    with freeze_time(now):
        return asyncio.run(evaluator.evaluate_freshness(LoadingContextForTest(instance), node))


def test_the_model_policy_warns_after_a_week_and_fails_after_eight_days(
    instance: dg.DagsterInstance, graph: list[dg.AssetsDefinition]
) -> None:
    defs = with_freshness(dg.Definitions(assets=graph), timezone=LONDON)
    with freeze_time(_at(MONDAY, 23, 0, LONDON)):
        instance.report_runless_asset_event(dg.AssetMaterialization(MODEL_KEY))
    trained = _at(MONDAY, 23, 0, LONDON)
    states = [
        _policy_state(instance, defs, MODEL_KEY, trained + dt.timedelta(days=d, hours=1))
        for d in (6, 7, 8)
    ]
    assert states == [FreshnessState.PASS, FreshnessState.WARN, FreshnessState.FAIL]
