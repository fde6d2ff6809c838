"""Do the entry history's signals help? A world grown batch by batch, scored with and without.

The source edits rows in place, so "changed after approval" only exists for a tsfraud that
extracts every day: the detection grid's one-shot `simulate` + `run_range` shows the final
values only, and every revision feature is 0 there. This benchmark grows the world the way
production sees it:

1. `simulate` the first `--first-days` work dates into a SQLite source;
2. one batch a day (`append_through`), each followed by the daily extract of every work date
   so far (`ingest_days`, the raw asset's function, timesheet entries only) and the history's
   comparison (`record_day`, the history asset's function) at the batch's time;
3. `run_range` once over the final source: reference + raw ingest -> Spark -> dbt features,
   with `employee_day_features` reading the history the batches built;
4. the model trained on the first `--train-share` of the work dates (labels closed by then),
   and the label-free prior, each scored on the rest twice: as built, and with the six revision
   columns set to 0 (what a one-shot extract would give). The last `--settle` days are grown
   but not measured: an edit 1-9 days after approval has not happened yet for them.

Figures: PR-AUC, precision and recall at the 1% budget, recall of `post_approval_edit` at 1%
and at the fraud-rate budget, and how often each signal fires on fraud and on honest days.

    nice -n 10 .venv/bin/python benchmarks/revisions.py [--employees 300 --days 40
        --settle 10 --first-days 5 --seed 7 --fraud-rate 0.03 --post-edit-weight 0.5]
        [--workdir DIR]

`--workdir` keeps the grown world and reuses it when asked again with the same parameters.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from detection import build_features, configure

from tsfraud_assets.defs.history.versions import record_day
from tsfraud_assets.defs.raw.ingest import ingest_days
from tsfraud_assets.lib.modeling.evaluate import evaluate
from tsfraud_assets.lib.modeling.features import REVISION_COLUMNS
from tsfraud_assets.lib.modeling.score import score_day
from tsfraud_assets.lib.modeling.train import train_model
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.source_db import SourceDatabase
from tsfraud_assets.resources.warehouse import DuckDBWarehouse
from tsfraud_simulator import WorldKnobs, append_through, simulate
from tsfraud_simulator.clock import snapshot_at, to_datetime

START = dt.date(2026, 3, 2)
BUDGET = 0.01
TYPE = "post_approval_edit"
FLAG_COLUMNS = (
    "hours_raised_after_approval",
    "project_changed_after_approval",
    "reapproved_by_other",
    "deleted_after_approval",
)


def grow(workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Simulate, then one batch a day with the daily extract and history after each."""
    settings = configure(workdir)
    params = {k: str(v) for k, v in sorted(vars(args).items()) if k not in ("workdir",)}
    params.pop("train_share", None)
    marker = workdir / "grown.json"
    if marker.exists():
        done = json.loads(marker.read_text())
        if done.get("params") == params:
            print(f"reusing the grown world in {workdir}", flush=True)
            return dict(done)
        shutil.rmtree(workdir)
        workdir.mkdir(parents=True)
        settings = configure(workdir)
    knobs = WorldKnobs(fraud_mix={TYPE: args.post_edit_weight})
    total = args.days + args.settle
    end = START + dt.timedelta(days=total - 1)
    t0 = time.monotonic()
    summary = simulate(
        settings.source_url,
        args.employees,
        START,
        args.first_days,
        seed=args.seed,
        fraud_rate=args.fraud_rate,
        ground_truth_path=os.environ["TSFRAUD_GROUND_TRUTH"],
        knobs=knobs,
    )
    source = SourceDatabase(url=settings.source_url)
    lake = Lake(root=settings.lake_root)
    appended = {"inserted": 0, "updated": 0, "deleted": 0}
    last = START + dt.timedelta(days=args.first_days - 1)
    batches = 0
    while True:
        extracted_at = to_datetime(snapshot_at(last.toordinal()))
        days = [START + dt.timedelta(days=i) for i in range((last - START).days + 1)]
        ingest_days(
            source, lake, days, today=last + dt.timedelta(days=1), tables=("timesheet_entries",)
        )
        for day in days:
            r = record_day(lake, day, extracted_at)
            appended["inserted"] += r.inserted
            appended["updated"] += r.updated
            appended["deleted"] += r.deleted
        batches += 1
        if last >= end:
            break
        last += dt.timedelta(days=1)
        summary = append_through(settings.source_url, last)
        if batches % 10 == 0:
            print(
                f"  batch {batches}: through {last}, history so far {appended}, "
                f"{time.monotonic() - t0:.0f} s",
                flush=True,
            )
    grow_s = time.monotonic() - t0
    print(summary.describe(), flush=True)
    print(f"grown in {batches} batches, {grow_s:.0f} s; history versions {appended}", flush=True)
    t0 = time.monotonic()
    error = build_features(settings, START, end)
    done = {
        "params": params,
        "grow_s": round(grow_s, 1),
        "pipeline_s": round(time.monotonic() - t0, 1),
        "pipeline_error": error,
        "batches": batches,
        "history_versions": appended,
        "employee_days": summary.employee_days,
        "fraud_days_by_type": summary.fraud_days_by_type,
        "lookalike_days": summary.lookalike_days,
    }
    marker.write_text(json.dumps(done, indent=2) + "\n")
    return done


def _f(x: Any) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def measure(workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    settings = configure(workdir)
    warehouse = DuckDBWarehouse(path=settings.duckdb_path)
    features = warehouse.query(f"select * from {warehouse.relation('employee_day_features')}")
    labels = warehouse.query(f"select * from {warehouse.relation('investigation_labels')}")
    truth = pd.read_parquet(os.environ["TSFRAUD_GROUND_TRUTH"])
    last_measured = START + dt.timedelta(days=args.days - 1)
    train_end = START + dt.timedelta(days=max(1, round(args.days * args.train_share)) - 1)
    day = pd.to_datetime(features["work_date"]).dt.date
    features = features.loc[day <= last_measured].reset_index(drop=True)
    truth = truth[pd.to_datetime(truth["work_date"]).dt.date <= last_measured]
    day = day.loc[day <= last_measured].reset_index(drop=True)

    # How often each signal fires on fraud of the new type, other fraud, and honest days.
    truth = truth.assign(work_date=pd.to_datetime(truth["work_date"]).dt.date)
    keyed = features.assign(work_date=day.loc[features.index].to_numpy()).merge(
        truth[["employee_id", "work_date", "is_fraud", "fraud_type"]],
        on=["employee_id", "work_date"],
        how="left",
    )
    fraud = keyed["is_fraud"].fillna(False).astype(bool)
    groups = {
        TYPE: keyed["fraud_type"] == TYPE,
        "other fraud": fraud & (keyed["fraud_type"] != TYPE),
        "honest": ~fraud,
    }
    firing = {
        g: {
            "days": int(m.sum()),
            **{c: int((keyed.loc[m, c] > 0).sum()) for c in (*FLAG_COLUMNS, "revision_count")},
        }
        for g, m in groups.items()
    }

    rate = float(truth["is_fraud"].mean())
    budgets = (BUDGET, round(rate, 4))
    unseen_mask = pd.to_datetime(features["work_date"]).dt.date > train_end
    blind = features.copy()
    blind.loc[:, list(REVISION_COLUMNS)] = 0
    results: dict[str, Any] = {}
    for variant, frame in (("with", features), ("without", blind)):
        model = train_model(frame, labels, train_end=train_end, seed=0)
        prior = train_model(frame, labels.iloc[0:0], train_end=train_end, seed=0)
        unseen = frame.loc[unseen_mask].reset_index(drop=True)
        for name, m in (("model", model), ("prior", prior)):
            scored = score_day(m, unseen, with_reasons=False, min_risk=0.0)
            res = evaluate(scored, truth, budgets=budgets)
            results[f"{name} {variant}"] = {
                "mode": m.scoring_mode.split(" (")[0],
                "pr_auc": res["pr_auc"],
                "precision": res[f"precision_at_{BUDGET:g}"],
                "recall": res[f"recall_at_{BUDGET:g}"],
                "type_recall_1": res["recall_by_fraud_type"][f"{BUDGET:g}"].get(TYPE),
                "type_recall_rate": res["recall_by_fraud_type"][f"{budgets[1]:g}"].get(TYPE),
                "n_fraud": res["n_fraud"],
                "n_rows": res["n_rows"],
            }
        if variant == "with":
            # What an investigator reads on the new type's best-ranked days.
            scored = score_day(model, unseen, min_risk=0.0)
            merged = scored.merge(truth, on=["employee_id", "work_date"])
            top = merged[merged["fraud_type"] == TYPE].sort_values("rank").head(3)
            results["examples"] = top[["work_date", "employee_id", "rank", "reasons"]].to_dict(
                "records"
            )
    return {"firing": firing, "results": results, "train_end": str(train_end), "rate": rate}


def report(grown: dict[str, Any], measured: dict[str, Any], args: argparse.Namespace) -> None:
    print(
        f"\n== {args.employees} employees, {args.days} measured work dates (+{args.settle} grown "
        f"to let edits happen) from {START}, {grown['batches']} daily batches; seed {args.seed}, "
        f"fraud rate {args.fraud_rate:.1%}, post_approval_edit weight {args.post_edit_weight}; "
        f"trained through {measured['train_end']}; grow {grown['grow_s']:.0f} s, pipeline "
        f"{grown['pipeline_s']:.0f} s"
    )
    print(f"history versions appended: {grown['history_versions']}")
    print(f"fraud days by type (all grown days): {grown['fraud_days_by_type']}")
    print("\nHow often each signal is > 0 (measured work dates)")
    print("| days | n | " + " | ".join((*FLAG_COLUMNS, "revision_count")) + " |")
    print("|---|---|" + "---|" * (len(FLAG_COLUMNS) + 1))
    for g, row in measured["firing"].items():
        cells = " | ".join(str(row[c]) for c in (*FLAG_COLUMNS, "revision_count"))
        print(f"| {g} | {row['days']} | {cells} |")
    key = f"{BUDGET:g}"
    print(
        f"\n| ranking | revision features | mode | PR-AUC | P@{key} | R@{key} | "
        f"{TYPE} recall @{key} | {TYPE} recall @fraud rate | fraud days (test) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in measured["results"].items():
        if name == "examples":
            continue
        ranking, variant = name.split(" ")
        print(
            f"| {ranking} | {variant} | {r['mode']} | {_f(r['pr_auc'])} | {_f(r['precision'])} | "
            f"{_f(r['recall'])} | {_f(r['type_recall_1'])} | {_f(r['type_recall_rate'])} | "
            f"{r['n_fraud']} of {r['n_rows']:,} |"
        )
    print(f"\nReasons on the best-ranked {TYPE} days (model with the features):")
    for ex in measured["results"].get("examples", []):
        print(
            f"- {ex['work_date']} employee {ex['employee_id']}, rank {ex['rank']}: {ex['reasons']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--employees", type=int, default=300)
    parser.add_argument("--days", type=int, default=40)
    parser.add_argument("--settle", type=int, default=10)
    parser.add_argument("--first-days", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fraud-rate", type=float, default=0.03)
    parser.add_argument("--post-edit-weight", type=float, default=0.5)
    parser.add_argument("--train-share", type=float, default=0.6)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    root = (args.workdir or Path(tempfile.mkdtemp(prefix="tsfraud-revisions-"))).resolve()
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    try:
        grown = grow(root, args)
        measured = measure(root, args)
        (root / "revisions-results.json").write_text(
            json.dumps({"grown": grown, "measured": measured}, indent=2, default=str) + "\n"
        )
        report(grown, measured, args)
        print(f"\n{time.monotonic() - t0:.0f} s in all")
    finally:
        if args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
