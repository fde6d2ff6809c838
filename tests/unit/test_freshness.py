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
    FRESHNESS_SENSOR_NAME,
    MODEL_KEY,
    SUSPECT_LIST_KEYS,
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


def test_policies_land_on_the_suspect_list_and_the_model_only(
    graph: list[dg.AssetsDefinition],
) -> None:
    defs = with_freshness(dg.Definitions(assets=graph), timezone=NEW_YORK)
    asset_graph = defs.resolve_asset_graph()
    for key in SUSPECT_LIST_KEYS:
        policy = asset_graph.get(key).freshness_policy
        assert isinstance(policy, CronFreshnessPolicy)
        assert policy.timezone == NEW_YORK
        assert policy.deadline_cron == "0 7 * * 2-6"
    model = asset_graph.get(MODEL_KEY).freshness_policy
    assert isinstance(model, TimeWindowFreshnessPolicy)
    assert model.fail_window.to_timedelta() == dt.timedelta(days=8)
    assert asset_graph.get(dg.AssetKey("employee_day_features")).freshness_policy is None
    check_keys = {k for k in asset_graph.asset_check_keys if k.name == "freshness_check"}
    assert {k.asset_key for k in check_keys} == set(SUSPECT_LIST_KEYS)
    sensor = defs.resolve_sensor_def(FRESHNESS_SENSOR_NAME)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


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


def test_policies_judge_the_last_refresh_against_the_deadline(
    instance: dg.DagsterInstance, graph: list[dg.AssetsDefinition]
) -> None:
    defs = with_freshness(dg.Definitions(assets=graph), timezone=LONDON)
    report = SUSPECT_LIST_KEYS[2]
    # the report refreshed on Monday 23:00 (for Monday): fresh at Tuesday's 07:00 deadline
    with freeze_time(_at(MONDAY, 23, 0, LONDON)):
        _materialize(instance, report, MONDAY)
        instance.report_runless_asset_event(dg.AssetMaterialization(MODEL_KEY))
    tuesday = MONDAY + dt.timedelta(days=1)
    assert _policy_state(instance, defs, report, _at(tuesday, 9, 0, LONDON)) == FreshnessState.PASS
    # nothing on Tuesday: stale once Wednesday's deadline passes, not before
    wednesday = tuesday + dt.timedelta(days=1)
    assert _policy_state(instance, defs, report, _at(wednesday, 6, 0, LONDON)) == (
        FreshnessState.PASS
    )
    assert _policy_state(instance, defs, report, _at(wednesday, 7, 30, LONDON)) == (
        FreshnessState.FAIL
    )
    # the model: warn after a week, fail after eight days
    trained = _at(MONDAY, 23, 0, LONDON)
    states = [
        _policy_state(instance, defs, MODEL_KEY, trained + dt.timedelta(days=d, hours=1))
        for d in (6, 7, 8)
    ]
    assert states == [FreshnessState.PASS, FreshnessState.WARN, FreshnessState.FAIL]
    never = _policy_state(instance, defs, SUSPECT_LIST_KEYS[1], _at(tuesday, 9, 0, LONDON))
    assert never == FreshnessState.UNKNOWN
