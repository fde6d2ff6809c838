"""#13 / #14.9 / #14.8 through the real `run_range`: a 60-person firm's first 12 days.

No investigation has closed yet, so the model is the label-free prior; the run still gives a
ranked, explained list, says which mode scored it, and a second run over the same unchanged
range reuses the model and leaves every score partition byte-identical.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from tsfraud_assets.cli.run import STEPS, run_range
from tsfraud_assets.definitions import build_definitions
from tsfraud_assets.defs.model import model_store
from tsfraud_assets.defs.suspects.scoring import SCORES_DATASET
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.settings import load_settings
from tsfraud_simulator import simulate

pytestmark = pytest.mark.e2e

START = dt.date(2026, 3, 2)
DAYS = 12
END = START + dt.timedelta(days=DAYS - 1)


def _model_metadata(instance: dg.DagsterInstance) -> dict:
    event = instance.get_latest_materialization_event(dg.AssetKey("fraud_model"))
    assert event is not None and event.asset_materialization is not None
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def _partitions(lake: Lake) -> dict[str, bytes]:
    root = Path(lake.root) / SCORES_DATASET
    return {p.parent.name: p.read_bytes() for p in sorted(root.glob("*/*.parquet"))}


def test_a_young_firm_with_no_closed_case_gets_a_list_and_reruns_change_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        "TSFRAUD_DATA_DIR": str(tmp_path),
        "TSFRAUD_LAKE": str(tmp_path / "lake"),
        # A folder that does not exist yet (a fresh clone's `data/`): created, not a traceback.
        "TSFRAUD_DUCKDB_PATH": str(tmp_path / "not-yet" / "warehouse.duckdb"),
        "TSFRAUD_SOURCE_URL": f"sqlite:///{tmp_path / 'source.db'}",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    settings = load_settings()
    simulate(
        settings.source_url,
        employees=60,
        start=START,
        days=DAYS,
        seed=5,
        ground_truth_path=str(tmp_path / "truth.parquet"),
    )
    defs = build_definitions(settings)
    instance = dg.DagsterInstance.ephemeral()

    results = run_range(defs, START, END, instance, log_level="ERROR")
    assert len(results) == len(STEPS) and all(r.success for r in results)
    meta = _model_metadata(instance)
    assert meta["scoring_mode"] == "prior-only" and meta["labels_used"] == 0
    assert meta["holdout_window"].startswith("none")
    lake = Lake(root=settings.lake_root)
    version = model_store.current_version(lake)
    assert version == meta["model_version"]

    tables = [
        lake.read_partition(SCORES_DATASET, START + dt.timedelta(days=i)) for i in range(DAYS)
    ]
    scores = pd.concat([t.to_pandas() for t in tables if t is not None], ignore_index=True)
    assert len(scores) > 40 * 8  # every weekday of 60 people is scored
    assert (scores["scoring_mode"] == "prior-only").all()
    assert (scores["model_version"] == version).all()
    listed = scores[scores["is_suspect"]]
    # A ceiling, not a quota: at most 1 a day (ceil(1% of <= 60)), never a low-risk one.
    assert 0 < len(listed) <= DAYS
    assert set(listed["risk_level"]) <= {"high", "medium"}
    assert (listed["reasons"].str.len() > 0).all()

    # #14.8: the same unchanged range again reuses the model and rewrites no score.
    before = _partitions(lake)
    again = run_range(defs, START, END, instance, log_level="ERROR")
    assert all(r.success for r in again)
    meta2 = _model_metadata(instance)
    assert meta2["reused_unchanged"] is True and meta2["promoted"] is False
    assert meta2["model_version"] == version == model_store.current_version(lake)
    assert _partitions(lake) == before
