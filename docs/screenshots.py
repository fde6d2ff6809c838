"""Screenshots of the Dagster UI for docs/: the asset graph, a partitioned asset with its
checks, and the backfill dialog. Headless Debian chromium through Playwright (from PyPI; never
`playwright install`, which downloads a browser).

    DAGSTER_HOME=data/dagster_home .venv/bin/dagster dev -w workspace.yaml -p 3111 &
    .venv/bin/python docs/screenshots.py --url http://127.0.0.1:3111

Run after `make demo`, so the pictures show its 120 days.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

OUT = Path(__file__).resolve().parent / "images"
CHROMIUM = "/usr/bin/chromium"


def _settle(page: Page, ms: int = 4000) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(ms)
    skip = page.get_by_role("button", name="Skip")  # the first-visit community dialog
    if skip.count():
        skip.first.click()
        page.wait_for_timeout(1000)


def take(url: str) -> list[Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})

        page.goto(f"{url}/asset-groups")
        _settle(page, 6000)
        shots.append(OUT / "asset-graph.png")
        page.screenshot(path=str(shots[-1]))

        page.goto(f"{url}/assets/raw_timesheet_entries?view=partitions")
        _settle(page)
        shots.append(OUT / "partitioned-asset.png")
        page.screenshot(path=str(shots[-1]))

        page.goto(f"{url}/assets/raw_timesheet_entries?view=checks")
        _settle(page)
        shots.append(OUT / "asset-checks.png")
        page.screenshot(path=str(shots[-1]))
        page.get_by_text("Partitions", exact=True).last.click()  # the check's own tab
        page.wait_for_timeout(5000)
        shots.append(OUT / "asset-check-partitions.png")
        page.screenshot(path=str(shots[-1]))

        page.goto(f"{url}/assets/raw_timesheet_entries?view=partitions")
        _settle(page)
        page.get_by_role("button", name="Materialize…").first.click()
        page.wait_for_timeout(4000)
        confirm = page.get_by_role("button", name="Confirm")  # the multi-asset notice
        if confirm.count():
            confirm.first.click()
            page.wait_for_timeout(6000)
        shots.append(OUT / "backfill-dialog.png")
        page.screenshot(path=str(shots[-1]))
        browser.close()
    return shots


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:3000")
    for shot in take(parser.parse_args().url):
        print(shot)
