"""The code location tests/test_run_monitoring.py points a real `dagster-daemon` at: a run that
takes long enough to be killed mid-step, and a quick one that waits in the queue behind it."""

from __future__ import annotations

import time

import dagster as dg


@dg.asset
def slow_step() -> int:
    time.sleep(600)  # killed long before this ends
    return 1


@dg.asset
def quick_step() -> int:
    return 2


slow_job = dg.define_asset_job(
    "slow_job", selection=[slow_step], executor_def=dg.in_process_executor
)
quick_job = dg.define_asset_job(
    "quick_job", selection=[quick_step], executor_def=dg.in_process_executor
)
defs = dg.Definitions(assets=[slow_step, quick_step], jobs=[slow_job, quick_job])
