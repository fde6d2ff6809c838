"""One line per finished step of `tsfraud run` and the demo, for people watching a terminal."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import dagster as dg

from tsfraud_assets.defs.automation.range_jobs import Step


def step_summary(step: Step, result: dg.ExecuteInProcessResult, seconds: float) -> str:
    """`done step  N assets × D days, checks P passed, W warned, F FAILED in S s (job)`."""
    events = result.get_asset_materialization_events()
    assets = {e.asset_key for e in events if e.asset_key is not None}
    days = {e.partition for e in events if e.partition is not None}
    # A failed WARN check (the suspect list's freshness on past data, say) is an alert, not a
    # failure of the step: counted apart, so "FAILED" means what blocks.
    checks = Counter(
        "passed" if ev.passed else ev.severity.value.lower()
        for ev in result.get_asset_check_evaluations()
    )
    figures = [f"{len(assets)} asset{'s' if len(assets) != 1 else ''}"]
    if days:
        figures[0] += f" × {len(days)} day{'s' if len(days) != 1 else ''}"
    if checks:
        figures.append(
            f"checks {checks['passed']} passed"
            + (f", {checks['warn']} warned" if checks["warn"] else "")
            + (f", {checks['error']} FAILED" if checks["error"] else "")
        )
    status = "done" if result.success else "FAILED"
    return (
        f"    {status:<6} {step.name:<20} {', '.join(figures)} in {seconds:,.0f} s "
        f"({result.job_def.name})"
    )


def step_printer(
    print_line: Callable[[str], None] = print,
) -> Callable[[Step, dg.ExecuteInProcessResult, float], None]:
    def done(step: Step, result: dg.ExecuteInProcessResult, seconds: float) -> None:
        print_line(step_summary(step, result, seconds))

    return done
