"""Simulator knobs (#13): the default knobs are the default world; each knob does what it says."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from tests.integration.test_simulator import TABLES, run_sim, table_rows
from tsfraud_simulator import WorldKnobs
from tsfraud_simulator.cli import main as simulate_cli


def test_default_knobs_reproduce_the_default_world(tmp_path: Path) -> None:
    a = run_sim(tmp_path, "a", employees=60, days=20, seed=3)
    b = run_sim(tmp_path, "b", employees=60, days=20, seed=3, knobs=WorldKnobs())
    for table in TABLES:
        assert table_rows(a.path, table) == table_rows(b.path, table), table
    pd.testing.assert_frame_equal(a.truth, b.truth)


def test_knobs_change_investigations_and_intensity(tmp_path: Path) -> None:
    days = 60
    base = run_sim(tmp_path, "base", employees=150, days=days, seed=8)
    none = run_sim(
        tmp_path,
        "none",
        employees=150,
        days=days,
        seed=8,
        knobs=WorldKnobs(investigation_rate=0.0),
    )
    hidden = run_sim(
        tmp_path,
        "hidden",
        employees=150,
        days=days,
        seed=8,
        knobs=WorldKnobs(never_confirmed=("padding", "duplicate")),
    )
    subtle = run_sim(
        tmp_path, "subtle", employees=150, days=days, seed=8, knobs=WorldKnobs(intensity="subtle")
    )
    cases = "SELECT * FROM investigation_cases"
    assert len(base.q(cases)) > 0 and len(none.q(cases)) == 0
    confirmed = hidden.q(cases + " WHERE outcome = 'confirmed'")
    assert len(confirmed) > 0
    assert not set(confirmed.fraud_type) & {"padding", "duplicate"}
    base_types = set(base.q(cases + " WHERE outcome = 'confirmed'").fraud_type)
    assert {"padding"} & base_types or {"duplicate"} & base_types  # the knob removed something

    # Subtle padding adds fewer hours: the padded days' hours sit closer to activity.
    def padding_gap(sim: object) -> float:
        truth = sim.truth  # type: ignore[attr-defined]
        pad = truth[truth.fraud_type == "padding"][["employee_id", "work_date"]]
        hours = sim.q(  # type: ignore[attr-defined]
            "SELECT employee_id, work_date, sum(hours) AS h FROM timesheet_entries "
            "WHERE status IN ('submitted', 'approved') GROUP BY 1, 2"
        )
        act = sim.q(  # type: ignore[attr-defined]
            "SELECT employee_id, activity_date AS work_date, active_minutes FROM "
            "workstation_activity"
        )
        day = pad.merge(hours).merge(act)
        return float((day.h - day.active_minutes / 60).mean())

    assert padding_gap(subtle) < padding_gap(base) - 0.5


def _first_submissions(sim: object) -> pd.DataFrame:
    """Each employee-day's first submission: time and channel."""
    return sim.q(  # type: ignore[attr-defined,no-any-return]
        "SELECT employee_id, work_date, submitted_at AS t, entry_channel AS channel, h FROM ("
        " SELECT *, sum(hours) OVER (PARTITION BY employee_id, work_date) AS h, row_number() "
        " OVER (PARTITION BY employee_id, work_date ORDER BY submitted_at, entry_id) AS rn"
        " FROM timesheet_entries) WHERE rn = 1"
    )


def test_buddy_days_are_filed_by_a_colleague_with_a_short_working_day(tmp_path: Path) -> None:
    world = run_sim(
        tmp_path,
        "buddy",
        employees=150,
        days=30,
        seed=8,
        knobs=WorldKnobs(fraud_mix={"buddy": 1.0}, never_confirmed=("buddy",)),
    )
    truth = world.truth
    truth = truth.assign(work_date=pd.to_datetime(truth["work_date"]).dt.date)
    buddy = truth[truth.fraud_type == "buddy"][["employee_id", "work_date"]]
    proxy = truth[truth.lookalike == "proxy_entry"][["employee_id", "work_date"]]
    assert len(buddy) >= 5 and len(proxy) >= 5
    subs = _first_submissions(world)
    subs["t"] = pd.to_datetime(subs["t"])
    subs["work_date"] = pd.to_datetime(subs["work_date"]).dt.date

    def joined_by_colleague(days: pd.DataFrame) -> float:
        """Share of these days whose first line was entered within a minute of another
        employee's, on the same channel."""
        hits = 0
        for row in days.itertuples():
            mine = subs[(subs.employee_id == row.employee_id) & (subs.work_date == row.work_date)]
            t, ch = mine.t.iloc[0], mine.channel.iloc[0]
            near = subs[
                (subs.employee_id != row.employee_id)
                & ((subs.t - t).abs() <= pd.Timedelta(seconds=60))
                & (subs.channel == ch)
            ]
            hits += int(len(near) > 0)
        return hits / len(days)

    assert joined_by_colleague(buddy) == 1.0
    assert joined_by_colleague(proxy) == 1.0
    # the buddy-covered person worked a fraction of the day; the proxy-entered one all of it
    act = world.q(
        "SELECT employee_id, activity_date AS work_date, active_minutes FROM workstation_activity"
    )
    act["work_date"] = pd.to_datetime(act["work_date"]).dt.date

    def active_share(days: pd.DataFrame) -> float:
        d = days.merge(subs, on=["employee_id", "work_date"]).merge(
            act, on=["employee_id", "work_date"], how="left"
        )
        return float((d.active_minutes.fillna(0) / 60 / d.h).mean())

    assert active_share(buddy) < 0.5 < active_share(proxy)
    confirmed = world.q("SELECT fraud_type FROM investigation_cases WHERE outcome = 'confirmed'")
    assert "buddy" not in set(confirmed.fraud_type)


def test_field_staff_show_a_habitually_low_activity_ratio_on_honest_days(tmp_path: Path) -> None:
    """`field_share`: some people's real work is mostly invisible to the firm's logs, every
    day. Their honest days then show big firm-wide activity gaps; everyone else is unchanged."""
    base = run_sim(tmp_path, "base", employees=120, days=20, seed=5)
    field = run_sim(
        tmp_path, "field", employees=120, days=20, seed=5, knobs=WorldKnobs(field_share=0.3)
    )
    query = (
        "SELECT a.employee_id, a.activity_date AS work_date, a.active_minutes / 60.0 AS active, "
        "h.h FROM workstation_activity a JOIN (SELECT employee_id, work_date, sum(hours) AS h "
        "FROM timesheet_entries WHERE status IN ('submitted', 'approved') GROUP BY 1, 2) h "
        "ON h.employee_id = a.employee_id AND h.work_date = a.activity_date"
    )

    def ratios(sim: object) -> pd.Series:
        days = sim.q(query)  # type: ignore[attr-defined]
        truth = sim.truth  # type: ignore[attr-defined]
        fraud = truth[truth.is_fraud][["employee_id", "work_date"]].astype(str)
        key = days[["employee_id", "work_date"]].astype(str).apply(tuple, axis=1)
        honest = days[~key.isin(set(fraud.apply(tuple, axis=1)))]
        return (honest.active / honest.h).groupby(honest.employee_id).median()

    before, after = ratios(base), ratios(field)
    both = before.index.intersection(after.index)
    drop = after[both] / before[both]
    field_staff = drop < 0.7
    assert 0.15 < field_staff.mean() < 0.45  # about 30% of people
    assert drop[field_staff].between(0.3, 0.7).all()  # the logs see 35-65% of their work
    assert (drop[~field_staff] > 0.95).all()  # everyone else as before
    with pytest.raises(ValueError, match="field_share"):
        WorldKnobs(field_share=1.5)


def test_presence_spans_cover_honest_days_mostly_and_padded_days_not(tmp_path: Path) -> None:
    """The span from first to last activity covers an honest day's work and its breaks, except
    when work happened away from the firm's machine (calls before login, client laptops: a
    minority of days); padded hours were never worked, so the span falls short of the claim."""
    sim = run_sim(tmp_path, "spans", employees=150, days=40, seed=8)
    days = sim.q(
        "SELECT a.employee_id, a.activity_date AS work_date, h.h, a.active_minutes / 60.0 AS "
        "active, (julianday(a.last_seen_at) - julianday(a.first_seen_at)) * 24 AS span "
        "FROM workstation_activity a JOIN (SELECT employee_id, work_date, sum(hours) AS h FROM "
        "timesheet_entries WHERE status IN ('submitted', 'approved') GROUP BY 1, 2) h "
        "ON h.employee_id = a.employee_id AND h.work_date = a.activity_date"
    )
    days["work_date"] = days["work_date"].astype(str)
    truth = sim.truth.assign(work_date=sim.truth["work_date"].astype(str))
    days = days.merge(truth, on=["employee_id", "work_date"], how="left")
    honest = days[~days["is_fraud"].fillna(False).astype(bool)]
    short = (honest.h - honest.span) >= 1.5
    assert 0.002 < short.mean() < 0.05  # honest off-desk work exists, and is the exception
    assert (honest.active <= honest.span + 1e-6).all()  # active minutes fit in the span
    busy = run_sim(
        tmp_path, "busy", employees=150, days=40, seed=8, knobs=WorldKnobs(offdesk_rate=3)
    )
    b_days = busy.q(
        "SELECT a.employee_id, a.activity_date AS work_date, h.h, "
        "(julianday(a.last_seen_at) - julianday(a.first_seen_at)) * 24 AS span "
        "FROM workstation_activity a JOIN (SELECT employee_id, work_date, sum(hours) AS h FROM "
        "timesheet_entries WHERE status IN ('submitted', 'approved') GROUP BY 1, 2) h "
        "ON h.employee_id = a.employee_id AND h.work_date = a.activity_date"
    )
    assert ((b_days.h - b_days.span) >= 1.5).mean() > 2 * short.mean()  # offdesk_rate works
    padded = days[days["fraud_type"] == "padding"]
    assert len(padded) > 10
    assert ((padded.h - padded.span) >= 1.0).mean() > 0.6


def test_knobs_are_validated_and_reach_the_cli(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown fraud type"):
        WorldKnobs(never_confirmed=("embezzlement",))
    with pytest.raises(ValueError, match="selection"):
        WorldKnobs(selection="psychic")
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    code = simulate_cli(
        [
            "simulate",
            "--url",
            url,
            "--employees",
            "40",
            "--start",
            "2026-03-02",
            "--days",
            "5",
            "--investigation-rate",
            "0",
            "--never-confirmed",
            "padding",
            "--fraud-mix",
            "padding=3,duplicate=0",
            "--field-share",
            "0.2",
            "--offdesk-rate",
            "2",
        ]
    )
    assert code == 0
    side = Path(str(tmp_path / "cli.db") + ".ground_truth.json")
    knobs = WorldKnobs.from_json(__import__("json").loads(side.read_text())["knobs"])
    assert knobs == WorldKnobs(
        investigation_rate=0.0,
        never_confirmed=("padding",),
        fraud_mix={"padding": 3.0, "duplicate": 0.0},
        field_share=0.2,
        offdesk_rate=2.0,
    )
    assert dt.date(2026, 3, 2)  # the start parsed as a date (no error above)
