"""The investigators' review: verdicts as append-only data, the pages, the CLI, the sensor.

The warehouse here is a DuckDB file holding the relations the dbt project builds (same names,
same columns), with `suspect_dispositions` a view over the lake's verdict files exactly as the
dbt model is on DuckDB, so a verdict written to the lake is read back through the warehouse
resource as the app does in production.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, ClassVar

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from starlette.testclient import TestClient

from tsfraud_assets.defs.automation.verdict_sensor import new_verdicts, verdict_sensor
from tsfraud_assets.resources.lake import Lake
from tsfraud_assets.resources.warehouse import DuckDBWarehouse
from tsfraud_assets.reviews import dispositions, views
from tsfraud_assets.reviews.app import CSRF_COOKIE, create_app
from tsfraud_assets.reviews.dispositions import VerdictError, record_verdict

DAY = dt.date(2026, 6, 24)  # a Wednesday, the latest scored day: still filling
FULL = 10  # employee-days scored on a complete Wednesday
SCORED_AT = dt.datetime(2026, 6, 25, 6, 30, 0, 123456)
MODEL = "20260622T050000-abc123"


def _employees() -> pd.DataFrame:
    rows = []
    for i in range(1, FULL + 1):
        rows.append(
            {
                "employee_id": i,
                "employee_code": f"E{i:06d}",
                "country_code": "GB",
                "office": "London" if i % 2 else "Leeds",
                "practice": "technology",
                "grade": "consultant",
                "manager_id": 99,
                "hire_date": dt.date(2020, 1, 1),
                "termination_date": pd.NaT,
                "contracted_hours_per_week": 40.0,
                "updated_at": dt.datetime(2026, 1, 1),
            }
        )
    rows.append({**rows[0], "employee_id": 99, "employee_code": "E000099", "manager_id": None})
    return pd.DataFrame(rows)


def _scores() -> pd.DataFrame:
    """Eight Wednesdays before DAY with FULL employee-days each, DAY itself with 4; employee 1
    flagged on DAY and on two earlier Wednesdays, employee 2 flagged on DAY only."""
    rows = []
    for week in range(9):
        day = DAY - dt.timedelta(weeks=week)
        ids = range(1, 5) if week == 0 else range(1, FULL + 1)
        for i in ids:
            flagged = (i == 1 and week in (0, 1, 2)) or (i == 2 and week == 0)
            rows.append(
                {
                    "employee_id": i,
                    "work_date": day,
                    "fraud_score": 0.9 - i / 100 if flagged else 0.01,
                    "rank": i,
                    "is_suspect": flagged,
                    "reasons": "11.0 h booked, 2.5 h active; 6.0 h on a project not staffed on"
                    if flagged
                    else "",
                    "model_version": MODEL,
                    "scored_at": SCORED_AT,
                }
            )
    return pd.DataFrame(rows)


def _build(
    path: Path, lake: Lake, scores: pd.DataFrame, versions: pd.DataFrame | None = None
) -> None:
    employees = _employees()
    suspects = scores[scores["is_suspect"]].merge(employees, on="employee_id")
    suspects = suspects.assign(
        manager_code="E000099",
        previous_score=float("nan"),
        score_changed=False,
        total_hours=11.0,
        active_hours=2.5,
        entry_count=2,
    )
    features = scores[["employee_id", "work_date"]].assign(
        total_hours=8.0, active_hours=7.5, entry_count=1
    )
    hours = pd.DataFrame(
        [
            {
                "employee_id": 1,
                "work_date": DAY,
                "project_code": "P-0042",
                "project_type": "billable",
                "client_name": "Acme Freight",
                "hours": 6.0,
                "entry_count": 1,
                "has_unassigned_lines": True,
            }
        ]
    )
    dispositions.ensure_dataset(lake)
    glob = lake.uri(dispositions.DISPOSITIONS_DATASET, "*.parquet")
    with duckdb.connect(str(path)) as con:
        for name, frame in {
            "stg_employees": employees,
            "stg_timesheet_scores": scores,
            "review_suspects": suspects,
            "employee_day_features": features,
            "review_entry_hours": hours,
            "suspect_list_versions": versions
            if versions is not None
            else pd.DataFrame(
                {
                    "employee_code": pd.Series(dtype=str),
                    "work_date": pd.Series(dtype="datetime64[us]"),
                    "fraud_score": pd.Series(dtype=float),
                    "scored_at": pd.Series(dtype="datetime64[us]"),
                }
            ),
        }.items():
            con.register("frame", frame)
            con.execute(f'create or replace table "{name}" as select * from frame')
            con.unregister("frame")
        con.execute(
            "create or replace view suspect_dispositions as "
            f"select * from read_parquet('{glob}', union_by_name = true)"
        )


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Any]:
    lake = Lake(root=str(tmp_path / "lake"))
    path = tmp_path / "warehouse.duckdb"
    _build(path, lake, _scores())
    return {"lake": lake, "warehouse": DuckDBWarehouse(path=str(path)), "path": path}


def _stored(world: dict[str, Any]) -> pd.DataFrame:
    wh = world["warehouse"]
    return wh.query(f"select * from {wh.relation('suspect_dispositions')} order by decided_at")


def _record(world: dict[str, Any], **kwargs: Any) -> dispositions.Recorded:
    args: dict[str, Any] = {
        "employee_code": "E000001",
        "work_date": DAY.isoformat(),
        "verdict": "confirmed",
        "reason": "padding",
        "reviewer": "Ann Reviewer",
        "note": "",
    }
    args.update(kwargs)
    return record_verdict(world["warehouse"], world["lake"], **args)


# ------------------------------------------------------------------------- the verdict store


def test_a_verdict_is_stored_keyed_to_the_list_version_seen(world: dict[str, Any]) -> None:
    recorded = _record(world, note="booked 11 h, badge shows 2.5 h")
    assert recorded.created
    stored = _stored(world)
    assert len(stored) == 1
    row = stored.iloc[0]
    assert row["employee_id"] == 1 and row["employee_code"] == "E000001"
    assert pd.Timestamp(row["work_date"]).date() == DAY
    assert row["model_version"] == MODEL
    assert pd.Timestamp(row["scored_at"]).to_pydatetime() == SCORED_AT
    assert (row["verdict"], row["reason"], row["reviewer"]) == (
        "confirmed",
        "padding",
        "Ann Reviewer",
    )
    assert row["fraud_score"] == pytest.approx(0.89)
    assert row["channel"] == "cli"


def test_the_same_verdict_twice_is_one_row_and_a_changed_mind_is_a_new_one(
    world: dict[str, Any],
) -> None:
    first = _record(world)
    again = _record(world)  # the CLI command run twice
    assert first.created and not again.created
    assert again.disposition_id == first.disposition_id
    assert len(_stored(world)) == 1
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    changed = _record(world, verdict="cleared", reason="legitimate_overtime", now=later)
    assert changed.created
    stored = _stored(world)
    assert list(stored["verdict"]) == ["confirmed", "cleared"]  # nothing overwritten
    data = views.day_list(world["warehouse"], DAY)
    assert data is not None
    assert data.rows[0]["verdict"]["verdict"] == "cleared"  # the latest one stands
    assert data.tally is not None
    assert (data.tally.confirmed, data.tally.cleared, data.tally.needs_info) == (0, 1, 0)
    _record(world, employee_code="E000002", reviewer="Bo")
    tally = views.review_tally(world["warehouse"], DAY)
    assert (tally.confirmed, tally.cleared, tally.confirmed_share) == (1, 1, 0.5)


def test_a_resubmitted_form_is_one_row_but_two_forms_are_two(world: dict[str, Any]) -> None:
    a = _record(world, token="form-1", channel="web")
    b = _record(world, token="form-1", channel="web")
    c = _record(world, token="form-2", channel="web")
    assert (a.created, b.created, c.created) == (True, False, True)
    assert len(_stored(world)) == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"employee_code": "E999999"}, "no employee with code E999999"),
        ({"employee_code": "rm -rf"}, "is not an employee code"),
        ({"work_date": "2025-01-01"}, "outside the scored days"),
        ({"work_date": "24/06/2026"}, "is not a date"),
        ({"employee_code": "E000005"}, "not on the suspect list of 2026-06-24"),
        ({"verdict": "guilty"}, "verdict must be one of"),
        ({"reason": "legitimate_overtime"}, "needs a fraud type"),
        ({"verdict": "cleared", "reason": ""}, "needs a reason code"),
        ({"reviewer": "   "}, "reviewer's name is required"),
        ({"reason": "other"}, "'other' needs a note"),
        ({"note": "x" * 2001}, "longer than 2000"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_written(
    world: dict[str, Any], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(VerdictError, match=message):
        _record(world, **kwargs)
    assert _stored(world).empty
    assert dispositions.verdict_files(world["lake"]) == []


def test_a_verdict_on_a_list_re_scored_since_it_was_opened_is_refused(
    world: dict[str, Any],
) -> None:
    with pytest.raises(VerdictError, match="re-scored since you opened it"):
        _record(world, seen_scored_at="2026-06-25T05:00:00", seen_model_version=MODEL)
    with pytest.raises(VerdictError, match="re-scored since you opened it"):
        _record(world, seen_scored_at=SCORED_AT.isoformat(), seen_model_version="older")
    assert _stored(world).empty
    assert _record(world, seen_scored_at=SCORED_AT.isoformat(), seen_model_version=MODEL).created


# ------------------------------------------------------------------------- what the pages show


def test_the_day_is_still_filling_against_the_usual_weekday(world: dict[str, Any]) -> None:
    today = views.completeness(world["warehouse"], DAY)
    assert (today.scored, today.usual, today.complete) == (4, FULL, False)
    assert "still filling" in today.explanation and "40%" in today.explanation
    week_before = views.completeness(world["warehouse"], DAY - dt.timedelta(weeks=1))
    assert week_before.complete and week_before.scored == FULL


def test_the_list_counts_repeat_flags_and_names_the_client(world: dict[str, Any]) -> None:
    data = views.day_list(world["warehouse"])  # default: the latest scored day
    assert data is not None and data.day == DAY
    assert [r["employee_code"] for r in data.rows] == ["E000001", "E000002"]
    first, second = data.rows
    assert (first["flags_30d"], first["flags_90d"]) == (3, 3)
    assert (second["flags_30d"], second["flags_90d"]) == (1, 1)
    assert first["projects"][0]["client_name"] == "Acme Freight"
    assert first["manager_code"] == "E000099"
    assert first["risk_level"] == "high"


def test_the_list_says_what_changed_since_the_version_it_replaced(world: dict[str, Any]) -> None:
    assert views.day_list(world["warehouse"], DAY).changes.previous_scored_at is None  # type: ignore[union-attr]
    earlier = SCORED_AT - dt.timedelta(days=1)
    versions = pd.DataFrame(
        [
            # two archived versions: the page compares with the latest one only
            {
                "employee_code": "E000007",
                "work_date": DAY,
                "fraud_score": 0.5,
                "scored_at": earlier - dt.timedelta(days=1),
            },
            {
                "employee_code": "E000001",
                "work_date": DAY,
                "fraud_score": 0.60,
                "scored_at": earlier,
            },
            {
                "employee_code": "E000003",
                "work_date": DAY,
                "fraud_score": 0.40,
                "scored_at": earlier,
            },
        ]
    )
    _build(world["path"], world["lake"], _scores(), versions)
    changes = views.day_list(world["warehouse"], DAY).changes  # type: ignore[union-attr]
    assert changes is not None and changes.previous_scored_at == earlier
    assert changes.added == ["E000002"]
    assert changes.dropped == [{"employee_code": "E000003", "fraud_score": 0.40}]
    assert changes.moved == [{"employee_code": "E000001", "before": 0.60, "now": 0.89}]
    page = TestClient(create_app(world["warehouse"], world["lake"])).get("/")
    assert "Re-scored:" in page.text and "Dropped (no longer flagged)" in page.text


def test_a_re_score_archives_the_list_it_replaces_once(tmp_path: Path) -> None:
    from tsfraud_assets.reviews.history import VERSIONS_DATASET, archive_list_version

    lake = Lake(root=str(tmp_path / "lake"))
    previous = pa.table(
        {"employee_id": [1, 2], "fraud_score": [0.9, 0.1], "scored_at": [SCORED_AT, SCORED_AT]}
    )
    first = archive_list_version(lake, DAY, previous)
    assert first is not None and first.endswith(f"work_date={DAY}/20260625T063000123456.parquet")
    assert archive_list_version(lake, DAY, previous) is None  # kept once, never rewritten
    assert lake.read_partition(VERSIONS_DATASET, DAY).num_rows == 2  # type: ignore[union-attr]


def test_risk_level_is_the_models_calibrated_level() -> None:
    # listed days are at least medium: the list takes medium risk or a blatant red flag
    assert [views.risk_level(s) for s in (0.89, 0.5, 0.49, 0.2, 0.05)] == [
        "high",
        "high",
        "medium",
        "medium",
        "medium",
    ]


# ------------------------------------------------------------------------- the web app


@pytest.fixture
def client(world: dict[str, Any]) -> TestClient:
    browser = TestClient(create_app(world["warehouse"], world["lake"]))
    browser.get("/")  # as an investigator does: the form key comes with the page
    return browser


def test_list_page_shows_the_flags_and_the_days_state(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "E000001" in page.text and "Acme Freight" in page.text
    assert "still filling" in page.text
    assert "3 in 30 days" in page.text
    assert "/static/review.css" in page.text and "http" not in page.text.split("<body>")[0]
    assert client.get("/static/review.css").status_code == 200


def test_list_page_refuses_a_day_outside_the_data(client: TestClient) -> None:
    page = client.get("/?day=2020-01-01")
    assert page.status_code == 400
    assert "outside the scored days" in page.text
    assert client.get("/?day=yesterday").status_code == 400


def test_person_page_and_unknown_code(client: TestClient) -> None:
    page = client.get(f"/person/E000001?until={DAY}")
    assert page.status_code == 200
    assert "flagged" in page.text and "Acme Freight" in page.text
    # A flagged day carries its own verdict form, keyed to that day's list version.
    assert page.text.count('name="outcome"') == 3  # DAY and the two Wednesdays before
    assert f'name="scored_at" value="{pd.Timestamp(SCORED_AT).isoformat()}"' in page.text
    missing = client.get("/person/E999999")
    assert missing.status_code == 404 and "no employee with code E999999" in missing.text


def _form(client: TestClient, **overrides: str) -> dict[str, str]:
    form = {
        "csrf": client.cookies.get(CSRF_COOKIE, ""),
        "employee_code": "E000001",
        "work_date": DAY.isoformat(),
        "scored_at": SCORED_AT.isoformat(),
        "model_version": MODEL,
        "token": "tok-1",
        "back": f"/?day={DAY}",
        "outcome": "cleared:work_off_network",
        "reviewer": "Bo Checker",
        "note": "<script>alert('x')</script> at the client's site",
    }
    form.update(overrides)
    return form


def test_recording_a_verdict_from_the_page_escapes_the_note_and_survives_a_double_submit(
    client: TestClient, world: dict[str, Any]
) -> None:
    first = client.post("/verdict", data=_form(client), follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"].startswith(f"/?day={DAY}&msg=Recorded")
    assert 'name="reviewer" required maxlength="80" autocomplete="name" value="Bo Checker"' in (
        client.get("/").text  # the next form remembers who is reviewing
    )
    second = client.post("/verdict", data=_form(client), follow_redirects=False)
    assert second.status_code == 303 and "Already+recorded" in second.headers["location"]
    stored = _stored(world)
    assert len(stored) == 1
    assert stored.iloc[0]["note"].startswith("<script>")  # stored as typed
    assert stored.iloc[0]["channel"] == "web"
    person = client.get(f"/person/E000001?until={DAY}")
    assert "<script>alert" not in person.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in person.text


def test_bad_verdicts_from_the_page_say_why(client: TestClient, world: dict[str, Any]) -> None:
    for form, message in [
        (_form(client, employee_code="E999999"), "no employee with code E999999"),
        (_form(client, employee_code="E000005"), "not on the suspect list"),
        (_form(client, work_date="2019-01-01"), "outside the scored days"),
        (_form(client, outcome=""), "verdict must be one of"),
        (_form(client, scored_at="2026-06-25T05:00:00"), "re-scored since you opened it"),
        (_form(client, back="https://elsewhere.example/"), "no employee with code E999999"),
    ]:
        if "elsewhere" in form["back"]:
            form["employee_code"] = "E999999"
        page = client.post("/verdict", data=form, follow_redirects=False)
        assert page.status_code == 400, message
        assert message in page.text
        assert "elsewhere.example" not in page.text  # only ever links back into the app
    assert _stored(world).empty


def test_a_verdict_posted_from_another_site_is_refused_and_nothing_written(
    client: TestClient, world: dict[str, Any]
) -> None:
    page = client.get("/")
    assert f'name="csrf" value="{client.cookies.get(CSRF_COOKIE)}"' in page.text
    stranger = TestClient(create_app(world["warehouse"], world["lake"]))
    for sender, form, headers in [
        (stranger, _form(client), {}),  # a page elsewhere knows no browser's key
        (client, _form(client, csrf="guessed-" + "x" * 40), {}),
        (client, _form(client), {"origin": "https://elsewhere.example"}),
    ]:
        refused = sender.post("/verdict", data=form, headers=headers, follow_redirects=False)
        assert refused.status_code == 403
        assert "Nothing was recorded" in refused.text
    assert _stored(world).empty
    same_site = client.post("/verdict", data=_form(client), headers={"origin": "http://testserver"})
    assert same_site.status_code == 200 and "Recorded" in same_site.text
    assert len(_stored(world)) == 1


def test_the_form_key_cookie_is_http_only_and_same_site_strict(world: dict[str, Any]) -> None:
    fresh = TestClient(create_app(world["warehouse"], world["lake"]))
    cookie = fresh.get("/").headers["set-cookie"].lower()
    assert cookie.startswith(CSRF_COOKIE + "=") and "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "set-cookie" not in fresh.get("/").headers  # kept, not rotated on every page


# ------------------------------------------------------------------------- the CLI and sensor


def test_dispose_command(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tsfraud_assets.cli.main import main

    monkeypatch.setenv("TSFRAUD_LAKE", world["lake"].root)
    monkeypatch.setenv("TSFRAUD_DUCKDB_PATH", str(world["path"]))
    argv = ["dispose", "e000002", str(DAY), "needs_info", "--reason", "ask_manager", "--by", "Cy"]
    assert main(argv) == 0
    assert (
        "recorded needs_info (ask_manager) for E000002 on 2026-06-24 by Cy"
        in capsys.readouterr().out
    )
    assert main(argv) == 0
    assert "already recorded" in capsys.readouterr().out
    assert main(["dispose", "E000002", "2031-01-01", "cleared", "--reason", "x", "--by", "Cy"]) == 2
    assert "not recorded:" in capsys.readouterr().out
    assert len(_stored(world)) == 1


def test_the_sensor_requests_one_retraining_per_batch_of_new_verdicts(
    world: dict[str, Any],
) -> None:
    assert new_verdicts(["a", "b", "c"], "b") == ["c"]
    lake = world["lake"]
    resources = {"lake": lake}
    with dg.build_sensor_context(resources=resources) as context:
        first = verdict_sensor(context)
    assert isinstance(first, dg.SensorResult) and not first.run_requests  # the seed is no verdict
    _record(world)
    _record(world, employee_code="E000002", reviewer="Bo")
    with dg.build_sensor_context(resources=resources) as context:
        result = verdict_sensor(context)
    assert isinstance(result, dg.SensorResult)
    assert len(result.run_requests or []) == 1
    assert result.run_requests[0].tags["tsfraud/new_verdicts"] == "2"
    with dg.build_sensor_context(resources=resources, cursor=result.cursor) as context:
        again = verdict_sensor(context)
    assert not again.run_requests


# ------------------------------------------------------------------------- a real browser

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def served(world: dict[str, Any]) -> Any:
    """The app on a loopback port, served by uvicorn in a thread, as `tsfraud review` does."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    app = create_app(world["warehouse"], world["lake"])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install)")
def test_in_a_browser_an_investigator_reviews_the_list(
    served: str, world: dict[str, Any], tmp_path: Path
) -> None:
    """Load the list, open a person, record a verdict, see it stored and shown; then the day
    is re-scored under an open page and the stale form is refused, not pinned to the new list.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(served + "/")
        assert "still filling" in page.locator("#completeness").inner_text()
        row = page.locator("#row-E000001")
        assert "Acme Freight" in row.inner_text() and "3 in 30 days" in row.inner_text()
        page.screenshot(path=str(tmp_path / "list.png"), full_page=True)

        page.click("#row-E000001 a.person")
        page.wait_for_url("**/person/E000001**")
        assert page.locator("h1").inner_text() == "E000001"
        page.go_back()

        row.locator("summary").click()
        row.locator("select[name=outcome]").select_option("confirmed:padding")
        row.locator("input[name=reviewer]").fill("Dee Browser")
        row.locator("textarea[name=note]").fill("<b>11 h</b> booked, badge 2.5 h")
        row.locator("button[type=submit]").click()
        page.wait_for_url("**msg=Recorded**")
        assert "Recorded: confirmed (padding)" in page.locator(".notice").inner_text()
        assert "confirmed: padding" in page.locator("#row-E000001").inner_text()
        stored = _stored(world)
        assert list(stored["reviewer"]) == ["Dee Browser"]
        assert stored.iloc[0]["note"] == "<b>11 h</b> booked, badge 2.5 h"

        # Open the form for the second person, then the day is re-scored underneath.
        row2 = page.locator("#row-E000002")
        row2.locator("summary").click()
        rescored = _scores()
        rescored.loc[rescored["work_date"] == DAY, "scored_at"] = SCORED_AT + dt.timedelta(hours=2)
        replaced = pd.DataFrame(  # the version the re-score replaced: E000003 was on it
            [
                {"employee_code": c, "work_date": DAY, "fraud_score": f, "scored_at": SCORED_AT}
                for c, f in (("E000001", 0.89), ("E000002", 0.88), ("E000003", 0.30))
            ]
        )
        _build(world["path"], world["lake"], rescored, replaced)
        row2.locator("select[name=outcome]").select_option("cleared:model_error")
        row2.locator("input[name=reviewer]").fill("Dee Browser")
        row2.locator("button[type=submit]").click()
        assert "re-scored since you opened it" in page.locator("#error-text").inner_text()
        assert len(_stored(world)) == 1
        page.goto(served + "/")  # the re-scored list says what changed
        changes = page.locator("#changes").inner_text()
        assert "Dropped (no longer flagged): E000003 (was 0.300)" in changes
        page.screenshot(path=str(tmp_path / "rescored.png"), full_page=True)

        assert all(u.startswith(served) for u in requests), "a page fetched from elsewhere"
        browser.close()


# ------------------------------------------------------------------------- the Athena path


class DuckAthena:
    """Athena's client API answered by DuckDB: the app's SQL goes through AthenaWarehouse as in
    production (parameters spliced in as Athena literals, results typed from Athena's strings,
    idempotency tokens honoured), against the same relations under the `tsfraud` schema."""

    TYPES: ClassVar[dict[str, str]] = {
        "BIGINT": "bigint",
        "INTEGER": "integer",
        "DOUBLE": "double",
        "VARCHAR": "varchar",
    }

    def __init__(self, path: Path) -> None:
        self.path = path
        self.by_token: dict[str, str] = {}
        self.results: dict[str, tuple[list[dict[str, str]], list[list[str | None]]]] = {}

    def start_query_execution(self, **request: Any) -> dict[str, Any]:
        token = request["ClientRequestToken"]
        if token in self.by_token:  # what Athena does with a token it has seen
            return {"QueryExecutionId": self.by_token[token]}
        sql = request["QueryString"]
        for literal in request.get("ExecutionParameters", []):
            sql = sql.replace("?", literal, 1)
        with duckdb.connect(str(self.path), read_only=True) as con:
            cursor = con.execute(sql)
            described = cursor.description or []
            rows = cursor.fetchall()
        columns = [{"Name": d[0], "Type": self._type(str(d[1]))} for d in described]
        text = [[self._text(v) for v in row] for row in rows]
        query_id = f"q{len(self.results)}"
        self.results[query_id] = (columns, text)
        self.by_token[token] = query_id
        return {"QueryExecutionId": query_id}

    def _type(self, duck: str) -> str:
        if duck.startswith("TIMESTAMP"):
            return "timestamp"
        if duck == "DATE":
            return "date"
        if duck == "BOOLEAN":
            return "boolean"
        return self.TYPES.get(duck, "varchar")

    @staticmethod
    def _text(value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dt.datetime):
            return value.isoformat(sep=" ", timespec="milliseconds")  # Athena's precision
        return str(value)

    def get_query_execution(self, QueryExecutionId: str) -> dict[str, Any]:
        return {
            "QueryExecution": {
                "QueryExecutionId": QueryExecutionId,
                "Status": {"State": "SUCCEEDED"},
                "StatementType": "DML",
                "Statistics": {"DataScannedInBytes": 1024},
            }
        }

    def get_query_results(self, QueryExecutionId: str, **_: Any) -> dict[str, Any]:
        columns, rows = self.results[QueryExecutionId]
        header = [{"VarCharValue": c["Name"]} for c in columns]
        data = [[{} if v is None else {"VarCharValue": v} for v in row] for row in rows]
        return {
            "ResultSet": {
                "ResultSetMetadata": {"ColumnInfo": columns},
                "Rows": [{"Data": header}] + [{"Data": d} for d in data],
            }
        }


def test_the_pages_work_on_the_athena_warehouse(world: dict[str, Any]) -> None:
    from tsfraud_assets.resources.warehouse import AthenaWarehouse

    with duckdb.connect(str(world["path"])) as con:
        con.execute("create schema tsfraud")
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main'"
        ).fetchall():
            con.execute(f'create view tsfraud."{name}" as select * from main."{name}"')
    athena = DuckAthena(world["path"])
    warehouse = AthenaWarehouse(schema_name="tsfraud").use_clients(athena, sleep=lambda s: None)
    client = TestClient(create_app(warehouse, world["lake"]))

    page = client.get("/")
    assert page.status_code == 200 and "still filling" in page.text and "Acme Freight" in page.text
    scored_at = SCORED_AT.isoformat(sep=" ", timespec="milliseconds")  # as Athena returns it
    sent = client.post(
        "/verdict",
        data=_form(client, scored_at=scored_at, note="badge logs"),
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    # The same list query again, in a new request, must see the verdict (a fresh token).
    page = client.get("/")
    assert "cleared: work off network" in page.text
    person = client.get(f"/person/E000001?until={DAY}")
    assert person.status_code == 200 and "badge logs" in person.text
    assert len(_stored(world)) == 1
