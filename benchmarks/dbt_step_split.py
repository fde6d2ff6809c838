"""Where a dbt step's seconds go, for the daily run of a kept timeliness measurement.

benchmarks/timeliness.py reports dbt as one figure per run; most of it was not dbt's own work.
This splits each dbt step of the kept run (`timeliness.py --keep`) into: step start -> dbt's
first log line (dagster-dbt's preparation, dbt's process start and imports), dbt's first ->
last log line (dbt itself; run_results' elapsed time beside it), and dbt's last line -> step
end (Dagster recording the step's materializations and check results). It also counts the
planned events Dagster wrote before the run was queued and how long they took.

The times come from the run's event log (the instance under `<workdir>/dagster_home`) and each
invocation's `dbt.log` in the dbt project's `target/<step>-<ids>/` folders, matched to the step
by time. A measurement, never a test.

    .venv/bin/python benchmarks/dbt_step_split.py /tmp/tsfraud-timeliness-XXXX
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TARGET = PROJECT_ROOT / "dbt_project" / "target"


def _ts(value: str) -> float:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def main(workdir: Path) -> None:
    os.environ["DAGSTER_HOME"] = str(workdir / "dagster_home")
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        runs = [r for r in instance.get_runs() if r.job_name.startswith("daily_")]
        if not runs:
            raise SystemExit(f"no daily run in {workdir}/dagster_home")
        run = runs[0]  # the newest: the one the batch caused
        created = instance.get_run_records(dg.RunsFilter(run_ids=[run.run_id]))[0]
        steps: dict[str, dict[str, Any]] = collections.defaultdict(dict)
        planned: collections.Counter[str] = collections.Counter()
        planned_span: list[float] = []
        for entry in instance.all_logs(run.run_id):
            event = entry.dagster_event
            if event is None:
                continue
            kind = event.event_type_value
            if kind.endswith("_PLANNED"):
                planned[kind] += 1
                planned_span.append(entry.timestamp)
            if not entry.step_key:
                continue
            step = steps[entry.step_key]
            if kind in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE"):
                step[kind] = entry.timestamp
            elif kind == "ASSET_MATERIALIZATION":
                step["materializations"] = step.get("materializations", 0) + 1
            elif kind == "ASSET_CHECK_EVALUATION":
                step["checks"] = step.get("checks", 0) + 1

    print(f"{run.job_name} {run.run_id[:8]}, created {created.create_timestamp:%H:%M:%S}")
    if planned_span:
        n = sum(planned.values())
        span = planned_span[-1] - planned_span[0]
        each_ms = span / max(n - 1, 1) * 1000
        print(f"planned events: {dict(planned)}; {span:.1f} s, {each_ms:.0f} ms each")
    for key, step in steps.items():
        end = step.get("STEP_SUCCESS", step.get("STEP_FAILURE"))
        start = step.get("STEP_START")
        if not key.startswith("dbt_") or start is None or end is None:
            continue
        folders = [
            p
            for p in TARGET.glob(f"{key}-*")
            if (p / "dbt.log").exists() and start - 1 <= (p / "dbt.log").stat().st_mtime <= end + 1
        ]
        if not folders:
            print(f"{key:24} {end - start:5.1f} s  (no dbt folder of that time in {TARGET})")
            continue
        folder = max(folders, key=lambda p: (p / "dbt.log").stat().st_mtime)
        lines = (folder / "dbt.log").read_text().splitlines()
        first, last = (_ts(json.loads(line)["info"]["ts"]) for line in (lines[0], lines[-1]))
        results_path = folder / "run_results.json"
        elapsed = (
            json.loads(results_path.read_text())["elapsed_time"] if results_path.exists() else 0
        )
        print(
            f"{key:24} {end - start:5.1f} s: before dbt's first log line {first - start:4.1f}, "
            f"dbt {last - first:4.1f} (node work {elapsed:.1f}), after dbt {end - last:4.1f} "
            f"({step.get('materializations', 0)} materializations, {step.get('checks', 0)} checks)"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
