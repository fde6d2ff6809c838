"""The end-to-end demo on the embedded default: simulate, run every layer, judge the list."""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd

from tsfraud_assets.lib import lake_layout
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.settings import Settings, load_settings, write_settings_file


def evaluate_against_truth(scores: pd.DataFrame, ground_truth: pd.DataFrame) -> dict[str, float]:
    """Precision and recall of the flagged list over the days scored."""
    gt = ground_truth[["employee_id", "work_date", "is_fraud"]].copy()
    gt["work_date"] = pd.to_datetime(gt["work_date"]).dt.date
    s = scores.copy()
    s["work_date"] = pd.to_datetime(s["work_date"]).dt.date
    merged = s.merge(gt, on=["employee_id", "work_date"], how="left")
    merged["is_fraud"] = merged["is_fraud"].fillna(False).astype(bool)
    flagged = merged["is_suspect"].astype(bool)
    tp = int((flagged & merged["is_fraud"]).sum())
    fraud = int(merged["is_fraud"].sum())
    return {
        "employee_days": len(merged),
        "flagged": int(flagged.sum()),
        "fraud_days": fraud,
        "true_positives": tp,
        "precision": tp / max(int(flagged.sum()), 1),
        "recall": tp / max(fraud, 1),
    }


def _partitions_follow_the_data(settings: Settings, start: dt.date, end: dt.date) -> Settings:
    """Daily partitions from the first to the last simulated day, for this command and for
    everything later reading the same data dir (`make ui`, the daemon, `tsfraud run`), through
    `<data dir>/tsfraud.env`: the UI's partition bars and the backfill dialog then cover the
    data, not months without any. Exported TSFRAUD_PARTITION_START/END still win; the demo
    only needs them to cover the simulated days."""
    path = write_settings_file(
        settings.data_dir,
        {"TSFRAUD_PARTITION_START": start.isoformat(), "TSFRAUD_PARTITION_END": end.isoformat()},
        reason=f"`tsfraud demo`: partitions are the simulated days, {start}..{end}",
    )
    settings = load_settings()
    last = settings.partition_end
    if dt.date.fromisoformat(settings.partition_start) > start or (
        last is not None and dt.date.fromisoformat(last) < end
    ):
        raise SystemExit(
            f"TSFRAUD_PARTITION_START/END in the environment ({settings.partition_start}.."
            f"{last}) do not cover the simulated days {start}..{end}: unset them (the demo "
            f"wrote its range to {path})"
        )
    print(f"    daily partitions {settings.partition_start} .. {last or 'today'} (in {path})")
    return settings


def run_demo(employees: int, start: dt.date, days: int, seed: int, verbose: bool = False) -> int:
    import dagster as dg

    log_level = "INFO" if verbose else "WARNING"

    from tsfraud_assets.cli.console import Console
    from tsfraud_assets.cli.progress import step_printer
    from tsfraud_assets.cli.run import ensure_dagster_home, run_range, run_range_handing_off
    from tsfraud_simulator import simulate

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    end = start + dt.timedelta(days=days - 1)
    print(f"1/3 simulating {employees} employees x {days} days into {settings.source_url}")
    summary = simulate(
        settings.source_url,
        employees=employees,
        start=start,
        days=days,
        seed=seed,
        ground_truth_path=str(settings.default_ground_truth),
        replace=True,
    )
    print(f"    {summary}")
    settings = _partitions_follow_the_data(settings, start, end)

    print(f"2/3 running every layer for {start} .. {end} through Dagster")
    ensure_dagster_home(settings)
    from tsfraud_assets.cli.run import EVALUATION_STEP
    from tsfraud_assets.definitions import build_definitions
    from tsfraud_assets.defs.suspects.scoring import SCORES_DATASET
    from tsfraud_assets.resources.warehouse import DuckDBWarehouse

    console = Console.for_command(settings.data_dir, "demo", verbose)
    if console.log_path:
        print(f"    detail (Dagster, dbt, Spark): {console.log_path}   (-v shows it here)")
    t0 = time.monotonic()
    defs = build_definitions(settings)
    printer = step_printer(console.line)
    with dg.DagsterInstance.get() as instance:
        _results, sensor_line = run_range_handing_off(
            defs,
            settings,
            start,
            end,
            instance,
            log_level=log_level,
            on_step_done=printer,
            console=console,
            by="tsfraud demo",
        )
        print(f"    every layer done in {time.monotonic() - t0:,.0f} s")
        print(f"    {sensor_line}")
        (evaluation,) = run_range(
            defs,
            start,
            end,
            instance,
            steps=(EVALUATION_STEP,),
            log_level=log_level,
            on_step_done=printer,
            console=console,
        )
    (materialization,) = evaluation.asset_materializations_for_node("model_evaluation")
    meta = materialization.metadata

    print("3/3 judging the suspect list against the simulator's ground truth")
    print(f"    unseen days {meta['evaluation_window'].value}: model vs baselines")
    for line in str(meta["metrics"].value).splitlines():
        print(f"    {line}")
    for line in str(meta["recall_by_fraud_type"].value).splitlines():
        print(f"    {line}")
    lake = Lake(root=settings.lake_root)
    scores = lake.read_partitions(SCORES_DATASET, lake.list_partitions(SCORES_DATASET))
    assert scores is not None, "no scores were written"
    truth = pd.read_parquet(settings.default_ground_truth)
    warehouse = DuckDBWarehouse(path=settings.duckdb_path, lake_root=settings.lake_root)
    model_meta = lake.read_json(lake_layout.CURRENT_MODEL)
    train_end = _train_end(lake, model_meta["version"])
    frame = scores.to_pandas()
    frame["work_date"] = pd.to_datetime(frame["work_date"]).dt.date
    held_out = frame[frame["work_date"] > train_end] if train_end else frame
    for label, part in (("all scored days", frame), (f"days after {train_end} (unseen)", held_out)):
        m = evaluate_against_truth(part, truth)
        print(
            f"    {label}: {m['flagged']} flagged of {m['employee_days']} employee-days; "
            f"precision {m['precision']:.2f}, recall {m['recall']:.2f} "
            f"({m['true_positives']} of {m['fraud_days']} fraud days)"
        )
    reports = settings.data_dir / "reports"
    reports.mkdir(exist_ok=True)
    for name in ("suspect_timesheets", "daily_suspect_summary"):
        df = warehouse.query(f"select * from {warehouse.relation(name)} order by work_date")
        df.to_csv(reports / f"{name}.csv", index=False)
    print()
    print(f"suspect list (Parquet): {lake.uri(SCORES_DATASET)}/work_date=YYYY-MM-DD/data.parquet")
    print(f"suspect list (CSV):     {reports / 'suspect_timesheets.csv'}")
    print(f"daily report (CSV):     {reports / 'daily_suspect_summary.csv'}")
    print(f"warehouse (DuckDB):     {settings.duckdb_path}  (tables suspect_timesheets, ...)")
    print(f"investigators' report:  {lake.uri('reports/investigator_report/latest.html')}")
    print(f"model:                  {lake.uri('models/fraud_model', model_meta['version'])}")
    return 0


def _train_end(lake: Lake, version: str) -> dt.date | None:
    meta = lake.read_json(lake_layout.model_metadata(version))
    window = meta.get("training_window") or {}
    end = (window.get("label_horizon") or window.get("end")) if isinstance(window, dict) else None
    return dt.date.fromisoformat(end) if end else None
