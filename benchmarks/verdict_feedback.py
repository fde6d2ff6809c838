"""Do investigators' verdicts make the next weeks' lists better? A simulated investigator.

On a simulated firm that has been through the pipeline (`tsfraud demo`, or the detection
benchmark's `--workdir`), with the simulator's ground truth:

1. a model trained to T0 (the first half of the days) scores the next `--review-weeks` weeks;
2. a simulated investigator works through each of those days' lists (every flagged
   employee-day) and answers from the ground truth: confirmed when the day was fraud, cleared
   otherwise, two days after the work date;
3. those verdicts are written as the review app writes them (one Parquet file each under
   reviews/suspect_dispositions/, in a scratch lake) and dbt's real `investigation_labels`
   is rebuilt on DuckDB from them and the source's cases;
4. two models are trained to T1 (the end of the review weeks): one on the source's cases alone,
   one on the cases plus the verdicts; both score the remaining days, and their precision and
   recall at the alert budget (and PR-AUC) are measured against the ground truth.

A measurement, printed, not a test (nothing is asserted). Time and labels known at T1 are the
same for both models; the only difference is whether the verdicts were fed back.

    .venv/bin/python benchmarks/verdict_feedback.py [--data-dir data] [--review-weeks 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.metrics import average_precision_score

from tsfraud_assets.defs.dbt.invocation import DBT_PROJECT_DIR
from tsfraud_assets.lib.modeling.score import score_day
from tsfraud_assets.lib.modeling.train import train_model
from tsfraud_assets.resources.warehouse import DuckDBWarehouse
from tsfraud_assets.reviews.dispositions import DISPOSITIONS_DATASET, SCHEMA


def dbt_labels(scratch: Path, cases_dir: Path, verdicts: list[dict]) -> pd.DataFrame:
    """investigation_labels as dbt builds it from `cases_dir` and these verdict rows."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    lake = scratch / "lake"
    (lake / "raw").mkdir(parents=True)
    os.symlink(cases_dir, lake / "raw" / "investigation_cases")
    folder = lake / DISPOSITIONS_DATASET
    folder.mkdir(parents=True)
    for row in verdicts:
        name = f"{row['decided_at']:%Y%m%dT%H%M%S%f}-{row['disposition_id']}.parquet"
        pq.write_table(pa.Table.from_pylist([row], schema=SCHEMA), folder / name)
    db = scratch / "labels.duckdb"
    os.environ["TSFRAUD_LAKE"], os.environ["TSFRAUD_DUCKDB_PATH"] = str(lake), str(db)
    result = dbtRunner().invoke(
        [
            *("build", "--select", "+investigation_labels", "--quiet"),
            *("--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)),
            *("--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs")),
        ]
    )
    if DuckDBConnectionManager._ENV is not None:
        DuckDBConnectionManager._ENV.close()
    DuckDBConnectionManager.close_all_connections()
    if not result.success:
        raise SystemExit(f"dbt build of investigation_labels failed: {result.exception}")
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select * from investigation_labels").df()


def measure(scored: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    merged = scored.merge(truth, on=["employee_id", "work_date"], how="left")
    fraud = merged["is_fraud"].fillna(False).astype(bool)
    flagged = merged["is_suspect"].astype(bool)
    tp = int((flagged & fraud).sum())
    return {
        "flagged": int(flagged.sum()),
        "precision": tp / max(int(flagged.sum()), 1),
        "recall": tp / max(int(fraud.sum()), 1),
        "pr_auc": float(average_precision_score(fraud, merged["fraud_score"])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--review-weeks", type=int, default=3)
    parser.add_argument("--budget", type=float, default=0.01)
    args = parser.parse_args()
    data = args.data_dir.resolve()
    warehouse = DuckDBWarehouse(path=str(data / "warehouse.duckdb"))
    features = warehouse.query(f"select * from {warehouse.relation('employee_day_features')}")
    cases = warehouse.query(
        f"select * from {warehouse.relation('stg_investigation_cases')}"
    )  # the source's cases only: verdicts already in this lake are left out
    truth = pd.read_parquet(data / "source.db.ground_truth.parquet")
    truth = truth[["employee_id", "work_date", "is_fraud"]].assign(
        work_date=lambda f: pd.to_datetime(f["work_date"]).dt.date
    )
    features["work_date"] = pd.to_datetime(features["work_date"]).dt.date
    days = sorted(features["work_date"].unique())
    t0 = days[len(days) // 2]
    t1 = t0 + dt.timedelta(weeks=args.review_weeks)
    stamp = dt.datetime(2026, 1, 1)

    started = time.monotonic()
    case_labels = cases[
        cases["closed_at"].notna() & cases["outcome"].isin(["confirmed", "cleared"])
    ]
    first = train_model(features, case_labels, train_end=t0, trained_at=stamp)
    window = features[(features["work_date"] > t0) & (features["work_date"] <= t1)]
    listed = score_day(first, window, alert_budget=args.budget, with_reasons=False)
    listed = listed[listed["is_suspect"]].merge(truth, on=["employee_id", "work_date"], how="left")
    verdicts = []
    for i, r in enumerate(listed.itertuples()):
        fraud = bool(r.is_fraud) if not pd.isna(r.is_fraud) else False
        verdicts.append(
            {
                "disposition_id": f"sim{i:06d}",
                "employee_id": int(r.employee_id),
                "employee_code": f"E{int(r.employee_id):06d}",
                "work_date": r.work_date,
                "model_version": first.version,
                "scored_at": dt.datetime.combine(r.work_date, dt.time(6)),
                "fraud_score": float(r.fraud_score),
                "verdict": "confirmed" if fraud else "cleared",
                "reason": "other" if fraud else "model_error",
                "reviewer": "simulated investigator",
                "note": "answered from the simulator's ground truth",
                "decided_at": dt.datetime.combine(r.work_date + dt.timedelta(days=2), dt.time(10)),
                "channel": "cli",
            }
        )
    confirmed = sum(v["verdict"] == "confirmed" for v in verdicts)
    with tempfile.TemporaryDirectory(prefix="tsfraud-feedback-") as scratch:
        labels = dbt_labels(Path(scratch), data / "lake" / "raw" / "investigation_cases", verdicts)

    evaluation = features[features["work_date"] > t1]
    results = {}
    for name, known in (("cases only", case_labels), ("cases + verdicts", labels)):
        model = train_model(features, known, train_end=t1, trained_at=stamp)
        scored = score_day(model, evaluation, alert_budget=args.budget, with_reasons=False)
        results[name] = (measure(scored, truth), model.metadata["labels"])
    elapsed = time.monotonic() - started

    print(
        f"data {data}: {len(days)} days {days[0]}..{days[-1]}; first model trained to {t0}; "
        f"the investigator reviewed the lists of {t0 + dt.timedelta(days=1)}..{t1} "
        f"({len(verdicts)} flags: {confirmed} confirmed, {len(verdicts) - confirmed} cleared); "
        f"both models trained to {t1}, judged on {t1 + dt.timedelta(days=1)}..{days[-1]} "
        f"({len(evaluation):,} employee-days) at a {args.budget:.0%} budget; {elapsed:.0f} s"
    )
    print(
        f"{'labels':<18} {'confirmed':>9} {'cleared':>8} {'flagged':>8} {'precision':>9} "
        f"{'recall':>7} {'PR-AUC':>7}"
    )
    for name, (m, known) in results.items():
        print(
            f"{name:<18} {known['confirmed']:>9} {known['cleared']:>8} {m['flagged']:>8} "
            f"{m['precision']:>9.3f} {m['recall']:>7.3f} {m['pr_auc']:>7.3f}"
        )


if __name__ == "__main__":
    main()
