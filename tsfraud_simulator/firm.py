"""The firm: people, hierarchy, clients, projects, staffing, leave and travel over time.

The firm is a timeline, not a snapshot. It starts from an initial workforce six months before
the simulated window (so the window opens on a firm with history: closed projects, past
leavers) and then evolves month by month, each month drawn from its own random generator keyed
by (seed, month). Month k only adds records dated in month k or later, so the firm generated
through any date is a prefix of the firm generated through a later one: that is what lets a
database grown batch by batch match one generated in one go. What the source tables show at
a given instant is a separate question, answered by `snapshot.firm_tables` (a record is
visible once its creation time has passed; an end date or a termination once it is known).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from tsfraud_simulator import catalog as cat
from tsfraud_simulator.calendar import holidays
from tsfraud_simulator.clock import (
    DAY_S,
    HOUR_S,
    NO_END,
    NO_TIME,
    add_workdays,
    day_start,
    next_weekday,
)
from tsfraud_simulator.fraud import FraudProfiles, assign_fraud_profiles
from tsfraud_simulator.knobs import WorldKnobs

TAG_INIT = 11
TAG_MONTH = 13
HISTORY_MONTHS = 6
# Months generated past the last simulated day: records are created up to ~2 months before
# they take effect (leave requests, hires), and they must already be in a snapshot.
LOOKAHEAD_DAYS = 100
SYSTEM_EPOCH = dt.date(2012, 1, 1).toordinal()  # when the internal projects were set up

# Per grade: (hours factor mean, sd of daily hours, long-day probability, weekend probability)
GRADE_HOURS = (
    (1.00, 0.07, 0.025, 0.008),
    (1.03, 0.09, 0.035, 0.010),
    (1.06, 0.11, 0.045, 0.015),
    (1.08, 0.12, 0.045, 0.020),
    (1.06, 0.15, 0.035, 0.025),
)
# Submission habit per grade: daily, next morning, end of week, following Monday.
GRADE_SUBMIT = (
    (0.55, 0.25, 0.15, 0.05),
    (0.42, 0.25, 0.23, 0.10),
    (0.28, 0.25, 0.32, 0.15),
    (0.18, 0.22, 0.40, 0.20),
    (0.10, 0.20, 0.42, 0.28),
)
SUBMIT_DAILY, SUBMIT_NEXT_DAY, SUBMIT_WEEKLY, SUBMIT_MONDAY = range(4)
GRADE_CHANNEL = (
    (0.82, 0.13, 0.05),
    (0.77, 0.18, 0.05),
    (0.62, 0.33, 0.05),
    (0.52, 0.44, 0.04),
    (0.38, 0.59, 0.03),
)
# Parallel staffing chains per grade: (probability, allocations in percent).
GRADE_CHAINS: tuple[tuple[tuple[float, tuple[int, ...]], ...], ...] = (
    ((0.85, (100,)), (0.15, (50, 50))),
    ((0.70, (100,)), (0.30, (60, 40))),
    ((0.40, (80,)), (0.40, (50, 30)), (0.20, (40, 40))),
    ((0.50, (40, 30)), (0.50, (30, 30, 20))),
    ((0.50, (20, 20, 15)), (0.50, (25, 15))),
)
TENURE_YEARS = ((0.1, 3.0), (1.0, 5.0), (3.0, 9.0), (5.0, 13.0), (8.0, 22.0))
FULL_TIME = {"US": 40.0, "GB": 37.5, "DE": 40.0, "FR": 35.0, "IN": 40.0, "SG": 40.0, "AU": 38.0}
MONTHLY_ATTRITION = (0.013, 0.011)  # analysts, consultants: ~15 % a year


def add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(y, m + 1, 1)


@dataclass(frozen=True)
class FirmParams:
    seed: int
    employees: int
    start: dt.date
    fraud_rate: float
    knobs: WorldKnobs = field(default_factory=WorldKnobs)

    @property
    def history_start(self) -> dt.date:
        return add_months(self.start.replace(day=1), -HISTORY_MONTHS)


@dataclass
class Firm:
    """Column arrays per entity; row i of the employee arrays is employee_id i + 1."""

    params: FirmParams
    through: int
    emp: dict[str, np.ndarray]
    proj: dict[str, np.ndarray]
    project_codes: list[str]
    clients: dict[str, np.ndarray]
    client_names: list[str]
    asg: dict[str, np.ndarray]
    leave: dict[str, np.ndarray]
    episodes: dict[str, np.ndarray]
    fraud: FraudProfiles
    internal_project: np.ndarray  # (country, practice) -> project index
    bench_project: np.ndarray  # country -> project index
    training_project: int
    holiday_base: int
    holiday_flags: np.ndarray  # (country, day - holiday_base) -> bool

    @property
    def n_employees(self) -> int:
        return len(self.emp["country"])

    def is_holiday(self, countries: np.ndarray, day: int) -> np.ndarray:
        return self.holiday_flags[countries, day - self.holiday_base]


class _Builder:
    """Sequential, deterministic construction of the timeline (plain Python lists)."""

    def __init__(self, params: FirmParams) -> None:
        self.p = params
        self.e: dict[str, list] = {
            k: []
            for k in (
                "country",
                "office",
                "practice",
                "grade",
                "manager",
                "hire",
                "hire_rec",
                "term",
                "term_rec",
                "contracted",
                "hours_factor",
                "hours_sd",
                "long_day_p",
                "weekend_p",
                "channel_p",
                "submit_habit",
                "whole_hours",
                "start_hour",
                "approval_latency_h",
                "activity_ratio",
                "ghost_until",
            )
        }
        self.pr: dict[str, list] = {
            k: [] for k in ("client", "type", "practice", "country", "start", "end", "rec", "code")
        }
        self.cl: dict[str, list] = {k: [] for k in ("name", "industry", "country", "rec")}
        self.a: dict[str, list] = {
            k: [] for k in ("emp", "proj", "start", "end", "alloc", "rec", "early")
        }
        self.lv: dict[str, list] = {
            k: [] for k in ("emp", "start", "end", "type", "cancelled", "rec", "cancel_t")
        }
        self.ep: dict[str, list] = {k: [] for k in ("emp", "kind", "start", "end", "sub")}
        self.chains: dict[int, list[list[int]]] = {}  # emp -> [[alloc, next_free], ...]
        self.emp_asgs: dict[int, list[int]] = {}
        self.emp_leaves: dict[int, list[tuple[int, int]]] = {}
        self.open_projects: dict[tuple[int, int], list[int]] = {}
        self.client_by_country: dict[int, list[int]] = {}
        self.protected: set[int] = set()  # fraudsters and forced ghosts: no random attrition
        self.bulk_last_end: dict[int, int] = {}
        self.fraud: FraudProfiles | None = None
        nc, npr = len(cat.COUNTRIES), len(cat.PRACTICES)
        self.internal_project = np.zeros((nc, npr), dtype=np.int64)
        self.bench_project = np.zeros(nc, dtype=np.int64)
        self.training_project = 0
        self.offices_by_country = [
            [i for i, o in enumerate(cat.OFFICES) if o.country == c] for c in cat.COUNTRIES
        ]

    # --- people -------------------------------------------------------------------------
    def office_offset(self, emp: int) -> float:
        return cat.OFFICES[self.e["office"][emp]].utc_offset_h

    def new_employee(
        self,
        rng: np.random.Generator,
        country: int,
        practice: int,
        grade: int,
        hire: int,
        hire_rec: int,
        manager: int,
    ) -> int:
        e = self.e
        idx = len(e["country"])
        offices = self.offices_by_country[country]
        w = np.array([cat.OFFICE_WEIGHTS[o] for o in offices])
        e["country"].append(country)
        e["office"].append(offices[int(rng.choice(len(offices), p=w / w.sum()))])
        e["practice"].append(practice)
        e["grade"].append(grade)
        e["manager"].append(manager)
        e["hire"].append(hire)
        e["hire_rec"].append(hire_rec)
        e["term"].append(NO_END)
        e["term_rec"].append(NO_TIME)
        full = FULL_TIME[cat.COUNTRIES[country]]
        part_time = grade != cat.PARTNER and rng.random() < 0.08
        e["contracted"].append(float(rng.choice([20.0, 24.0, 30.0, 32.0])) if part_time else full)
        factor, sd, long_p, weekend_p = GRADE_HOURS[grade]
        e["hours_factor"].append(float(np.clip(rng.normal(factor, 0.04), 0.9, 1.2)))
        e["hours_sd"].append(sd * float(rng.uniform(0.6, 1.4)))
        e["long_day_p"].append(long_p * float(rng.uniform(0.3, 2.0)))
        e["weekend_p"].append(weekend_p * float(rng.uniform(0.3, 2.0)))
        e["channel_p"].append(GRADE_CHANNEL[grade])
        e["submit_habit"].append(int(rng.choice(4, p=GRADE_SUBMIT[grade])))
        e["whole_hours"].append(bool(rng.random() < (0.45 if grade >= cat.MANAGER else 0.2)))
        e["start_hour"].append(float(np.clip(rng.normal(8.6, 0.6), 7.0, 10.5)))
        e["approval_latency_h"].append(float(np.clip(rng.lognormal(np.log(9.0), 0.7), 1, 96)))
        # How much of the working time the access logs see: meetings away from the laptop,
        # paper reviews and client-site days leave some people with systematically less.
        low = rng.random() < 0.15
        e["activity_ratio"].append(float(rng.uniform(0.68, 0.9) if low else rng.uniform(0.86, 1.0)))
        e["ghost_until"].append(0)
        allocs = GRADE_CHAINS[grade]
        choice = int(rng.choice(len(allocs), p=[a[0] for a in allocs]))
        self.chains[idx] = [[a, NO_END] for a in allocs[choice][1]]
        self.emp_asgs[idx] = []
        self.emp_leaves[idx] = []
        return idx

    def terminate(self, emp: int, term: int, term_rec: int) -> None:
        self.e["term"][emp] = term
        self.e["term_rec"][emp] = max(term_rec, self.e["hire_rec"][emp] + HOUR_S)
        for a in self.emp_asgs[emp]:
            if self.a["end"][a] > term:
                self.a["end"][a] = max(term, self.a["start"][a])
        for chain in self.chains[emp]:
            chain[1] = NO_END

    def active_at(self, day: int) -> list[int]:
        e = self.e
        return [i for i in range(len(e["hire"])) if e["hire"][i] <= day <= e["term"][i]]

    # --- clients and projects -------------------------------------------------------------
    def new_client(self, rng: np.random.Generator, country: int, rec: int) -> int:
        idx = len(self.cl["name"])
        industry = int(rng.integers(len(cat.INDUSTRIES)))
        stem = cat.CLIENT_STEMS[int(rng.integers(len(cat.CLIENT_STEMS)))]
        suffixes = cat.INDUSTRY_SUFFIXES[cat.INDUSTRIES[industry]]
        name = f"{stem} {suffixes[int(rng.integers(len(suffixes)))]}"
        self.cl["name"].append(f"{name} {cat.COUNTRIES[country]} #{idx + 1}")
        self.cl["industry"].append(industry)
        self.cl["country"].append(country)
        self.cl["rec"].append(rec)
        self.client_by_country.setdefault(country, []).append(idx)
        return idx

    def new_project(
        self,
        ptype: int,
        client: int,
        practice: int,
        country: int,
        start: int,
        end: int,
        rec: int,
        code: str | None = None,
    ) -> int:
        idx = len(self.pr["type"])
        pr = self.pr
        pr["client"].append(client)
        pr["type"].append(ptype)
        pr["practice"].append(practice)
        pr["country"].append(country)
        pr["start"].append(start)
        pr["end"].append(end)
        pr["rec"].append(rec)
        pr["code"].append(
            code or f"{cat.COUNTRIES[country]}-{cat.PRACTICE_ABBR[practice]}-{idx + 1:06d}"
        )
        if ptype == cat.BILLABLE:
            self.open_projects.setdefault((country, practice), []).append(idx)
        return idx

    def new_billable_project(
        self, rng: np.random.Generator, country: int, practice: int, start: int
    ) -> int:
        rec = int(day_start(start)) - int(rng.integers(5, 25)) * DAY_S + 15 * HOUR_S
        # Only clients already on record when the project is recorded: a client created later
        # would push the project's record past its start, and the source would then hold
        # entries booked to a project it does not know yet (a foreign-key violation).
        clients = [
            c for c in self.client_by_country.get(country, []) if self.cl["rec"][c] + HOUR_S <= rec
        ]
        if clients and rng.random() < 0.85:
            client = clients[int(rng.integers(len(clients)))]
        else:
            client = self.new_client(rng, country, rec - HOUR_S)
        end = start + int(rng.integers(60, 360))
        return self.new_project(cat.BILLABLE, client, practice, country, start, end, rec)

    # --- staffing -------------------------------------------------------------------------
    def start_stint(
        self, rng: np.random.Generator, emp: int, chain: list[int], start: int, floor: int
    ) -> None:
        """Staff one chain of `emp` on a project from `start`; `floor` is the first day the
        current month may create records for (earlier months are already final)."""
        e = self.e
        country, practice = e["country"][emp], e["practice"][emp]
        start = next_weekday(start)
        if start > e["term"][emp]:
            chain[1] = NO_END
            return
        busy = {self.a["proj"][a] for a in self.emp_asgs[emp] if self.a["end"][a] >= start}
        key_country = country
        if rng.random() < 0.12:
            key_country = int(rng.integers(len(cat.COUNTRIES)))
        pool = self.open_projects.get((key_country, practice), [])
        pr = self.pr
        candidates = [
            p
            for p in pool
            if pr["start"][p] <= start + 7 and pr["end"][p] >= start + 30 and p not in busy
        ]
        if candidates and rng.random() < 0.85:
            proj = candidates[int(rng.integers(len(candidates)))]
        else:
            proj_start = max(floor, start - int(rng.integers(0, 21)))
            proj = self.new_billable_project(rng, key_country, practice, proj_start)
        start = max(start, pr["start"][proj])
        end = min(pr["end"][proj], start + int(rng.integers(30, 200)), e["term"][emp])
        if end < start:
            chain[1] = end + 1
            return
        early = int(rng.integers(1, 4)) if rng.random() < 0.12 else 0
        if start - early < pr["start"][proj]:
            early = 0
        rec = int(day_start(start)) - int(rng.integers(1, 10)) * DAY_S + 9 * HOUR_S
        rec = max(rec, pr["rec"][proj] + HOUR_S, e["hire_rec"][emp] + HOUR_S)
        a = self.a
        idx = len(a["emp"])
        a["emp"].append(emp)
        a["proj"].append(proj)
        a["start"].append(start)
        a["end"].append(end)
        a["alloc"].append(chain[0])
        a["rec"].append(rec)
        a["early"].append(early)
        self.emp_asgs[emp].append(idx)
        chain[1] = end + 1 + int(rng.integers(0, 13))

    def staff_month(self, rng: np.random.Generator, month_end: int, floor: int) -> None:
        for emp in range(len(self.e["hire"])):
            if self.e["term"][emp] < floor:
                continue
            for chain in self.chains[emp]:
                while chain[1] <= month_end:
                    self.start_stint(rng, emp, chain, chain[1], floor)

    # --- leave and travel -----------------------------------------------------------------
    def add_leave(
        self,
        emp: int,
        start: int,
        n_workdays: int,
        ltype: int,
        rec: int,
        cancel_t: int = NO_TIME,
    ) -> None:
        start = next_weekday(start)
        end = add_workdays(start, n_workdays - 1)
        if start < self.e["hire"][emp] or end > self.e["term"][emp]:
            return
        if any(not (end < s or start > t) for s, t in self.emp_leaves[emp]):
            return
        self.emp_leaves[emp].append((start, end))
        lv = self.lv
        lv["emp"].append(emp)
        lv["start"].append(start)
        lv["end"].append(end)
        lv["type"].append(ltype)
        lv["cancelled"].append(cancel_t != NO_TIME)
        lv["rec"].append(max(rec, self.e["hire_rec"][emp] + HOUR_S))
        lv["cancel_t"].append(cancel_t)

    def leave_month(self, rng: np.random.Generator, month_start: int, month_end: int) -> None:
        active = [
            i
            for i in range(len(self.e["hire"]))
            if self.e["hire"][i] <= month_end and self.e["term"][i] >= month_start
        ]
        n = len(active)
        u = rng.random((n, 11))
        span = month_end - month_start + 1
        starts = month_start + (u[:, 1] * span).astype(int)
        for k, emp in enumerate(active):
            if u[k, 0] < 0.32:  # vacation, requested weeks ahead, sometimes cancelled
                days = int(rng.choice([1, 2, 3, 4, 5, 5, 8, 10]))
                rec = int(day_start(int(starts[k]))) - int((7 + u[k, 2] * 53) * DAY_S)
                cancel = NO_TIME
                if u[k, 3] < 0.07:
                    cancel = rec + int((int(day_start(int(starts[k]))) - rec) * u[k, 4] * 0.9)
                self.add_leave(emp, int(starts[k]), days, cat.VACATION, rec, cancel)
            if u[k, 5] < 0.10:  # sick days, recorded once the person is back
                s = month_start + int(u[k, 6] * span)
                days = 1 + int(u[k, 7] * 3)
                rec = int(day_start(add_workdays(s, days))) + 10 * HOUR_S
                cancel = NO_TIME
                if u[k, 10] > 0.97:  # a planned procedure booked ahead, then rescheduled
                    rec = int(day_start(s)) - int((3 + 7 * u[k, 3]) * DAY_S)
                    cancel = rec + int((int(day_start(s)) - rec) * 0.9 * u[k, 7])
                self.add_leave(emp, s, days, cat.SICK, rec, cancel)
            long_leave = cat.PARENTAL if u[k, 8] < 0.0015 else cat.UNPAID if u[k, 9] < 0.003 else -1
            if long_leave >= 0:  # planned a few weeks ahead, now and then called off
                lead = 30 if long_leave == cat.PARENTAL else 14
                rec = int(day_start(int(starts[k]))) - lead * DAY_S + 10 * HOUR_S
                cancel = NO_TIME
                if u[k, 10] < 0.07:
                    cancel = rec + int(lead * DAY_S * u[k, 4] * 0.9)
                days = (
                    40 + int(u[k, 4] * 50) if long_leave == cat.PARENTAL else 5 + int(u[k, 4] * 10)
                )
                self.add_leave(emp, int(starts[k]), days, long_leave, rec, cancel)
        assert self.fraud is not None
        # Employees who claim time on their days off take many short days off.
        for emp in self.fraud.leave_takers():
            if not (self.e["hire"][emp] <= month_end and self.e["term"][emp] >= month_start):
                continue
            for _ in range(int(rng.integers(2, 5))):
                s = month_start + int(rng.integers(span))
                rec = (
                    int(day_start(s))
                    - int(rng.integers(3, 21)) * DAY_S
                    + int(rng.integers(8, 18)) * HOUR_S
                )
                self.add_leave(emp, s, int(rng.integers(1, 3)), cat.VACATION, rec)

    def episodes_month(self, rng: np.random.Generator, month_start: int, month_end: int) -> None:
        assert self.fraud is not None
        bulk = set(self.fraud.bulk_submitters())
        span = month_end - month_start + 1
        ep = self.ep
        for emp in range(len(self.e["hire"])):
            if not (self.e["hire"][emp] <= month_end and self.e["term"][emp] >= month_start):
                continue
            offset = self.office_offset(emp)
            if emp in bulk:
                if rng.random() >= 0.8:
                    continue
                s = month_start + int(rng.integers(0, 12))
                s = next_weekday(max(s, self.bulk_last_end.get(emp, 0) + 7))
                if s > month_end:
                    continue
                end = add_workdays(s, int(rng.integers(8, 17)))
                sub_day = end + int(rng.integers(12, 31))
                self.bulk_last_end[emp] = end
                kind = 1
            else:
                # Honest travel: a few days entered together once back.
                if rng.random() >= 0.035:
                    continue
                s = next_weekday(month_start + int(rng.integers(span)))
                end = add_workdays(s, int(rng.integers(1, 5)))
                sub_day = next_weekday(end + int(rng.integers(2, 6)))
                kind = 0
            local_h = float(rng.uniform(10.0, 18.0))
            ep["emp"].append(emp)
            ep["kind"].append(kind)
            ep["start"].append(s)
            ep["end"].append(end)
            ep["sub"].append(int(day_start(sub_day)) + int((local_h - offset) * HOUR_S))


def _initial_workforce(b: _Builder, rng: np.random.Generator, h0: int) -> None:
    n = max(b.p.employees, 2 * len(cat.COUNTRIES))
    cw = np.array(cat.COUNTRY_WEIGHTS)
    counts = np.maximum(np.floor(cw / cw.sum() * n).astype(int), 2)
    while counts.sum() < n:
        counts[int(rng.choice(len(counts), p=cw / cw.sum()))] += 1
    pw = np.array(cat.PRACTICE_WEIGHTS) / sum(cat.PRACTICE_WEIGHTS)
    gw = np.array(cat.GRADE_WEIGHTS) / sum(cat.GRADE_WEIGHTS)
    for country, count in enumerate(counts):
        grades = np.concatenate([[cat.PARTNER], rng.choice(5, size=count - 1, p=gw)])
        practices = np.concatenate([[0], rng.choice(len(pw), size=count - 1, p=pw)])
        order = np.lexsort((np.arange(count), -grades))  # partners first: managers exist
        members: list[tuple[int, int, int]] = []  # (emp, grade, practice)
        for j in order:
            grade, practice = int(grades[j]), int(practices[j])
            lo, hi = TENURE_YEARS[grade]
            hire = h0 - int(rng.uniform(lo, hi) * 365.25)
            hire = next_weekday(hire)
            manager = _pick_manager(rng, members, grade, practice)
            rec = int(day_start(hire)) - 20 * DAY_S + int(rng.integers(8, 18) * HOUR_S)
            emp = b.new_employee(rng, country, practice, grade, hire, rec, manager)
            members.append((emp, grade, practice))


def _pick_manager(
    rng: np.random.Generator, members: list[tuple[int, int, int]], grade: int, practice: int
) -> int:
    """Managers come from the same country; the first partner of a country has none."""
    if not members:
        return -1
    top = members[0][0]
    wanted = {
        cat.PARTNER: (cat.PARTNER,),
        cat.SENIOR_MANAGER: (cat.PARTNER,),
        cat.MANAGER: (cat.SENIOR_MANAGER, cat.PARTNER),
        cat.CONSULTANT: (cat.MANAGER, cat.SENIOR_MANAGER),
        cat.ANALYST: (cat.MANAGER, cat.SENIOR_MANAGER),
    }[grade]
    if grade == cat.PARTNER:
        return top
    for g in wanted:
        pool = [m for m, mg, mp in members if mg == g and mp == practice]
        if pool:
            return pool[int(rng.integers(len(pool)))]
    pool = [m for m, mg, _ in members if mg in wanted]
    if pool:
        return pool[int(rng.integers(len(pool)))]
    return top


def _nonbillable_projects(b: _Builder) -> None:
    start = SYSTEM_EPOCH
    rec = int(day_start(start))
    for c, country in enumerate(cat.COUNTRIES):
        for p, abbr in enumerate(cat.PRACTICE_ABBR):
            b.internal_project[c, p] = b.new_project(
                cat.INTERNAL, -1, p, c, start, NO_END, rec, f"INT-{country}-{abbr}"
            )
        b.bench_project[c] = b.new_project(
            cat.BENCH, -1, -1, c, start, NO_END, rec, f"BENCH-{country}"
        )
    b.training_project = b.new_project(cat.TRAINING, -1, -1, -1, start, NO_END, rec, "TRN-ACADEMY")


def _terminations_and_hires(
    b: _Builder, rng: np.random.Generator, month_start: int, month_end: int
) -> None:
    e = b.e
    span = month_end - month_start + 1
    leavers: list[int] = []
    for emp in range(len(e["hire"])):
        if e["term"][emp] != NO_END or e["hire"][emp] > month_start - 30:
            continue
        grade = e["grade"][emp]
        if grade > cat.CONSULTANT or emp in b.protected:
            continue
        if rng.random() < MONTHLY_ATTRITION[grade]:
            leavers.append(emp)
    for emp in leavers:
        term = next_weekday(month_start + int(rng.integers(span)))
        term_rec = int(day_start(term)) - int(rng.integers(3, 26)) * DAY_S + 16 * HOUR_S
        b.terminate(emp, term, term_rec)
        # The timesheets of a few leavers keep coming.
        if rng.random() < 0.03 and b.p.fraud_rate > 0:
            e["ghost_until"][emp] = term + int(rng.integers(30, 121))
    for emp in leavers:
        country, practice = e["country"][emp], e["practice"][emp]
        grade = cat.ANALYST if rng.random() < 0.7 else cat.CONSULTANT
        hire = next_weekday(month_start + int(rng.integers(span)))
        rec = int(day_start(hire)) - int(rng.integers(10, 41)) * DAY_S + 11 * HOUR_S
        managers = [
            m
            for m in range(len(e["hire"]))
            if e["country"][m] == country
            and e["grade"][m] in (cat.MANAGER, cat.SENIOR_MANAGER)
            and e["hire"][m] <= month_start
            and e["term"][m] == NO_END
        ]
        same = [m for m in managers if e["practice"][m] == practice]
        pool = same or managers
        manager = pool[int(rng.integers(len(pool)))] if pool else _country_top(b, country)
        new = b.new_employee(rng, country, practice, grade, hire, rec, manager)
        for chain in b.chains[new]:
            chain[1] = hire + int(rng.integers(5, 16))  # onboarding and training first


def _country_top(b: _Builder, country: int) -> int:
    e = b.e
    return next(
        i for i in range(len(e["hire"])) if e["country"][i] == country and e["manager"][i] == -1
    )


def build_firm(params: FirmParams, through: dt.date) -> Firm:
    """The firm timeline from the history start through `through` (+ look-ahead)."""
    b = _Builder(params)
    h0_date = params.history_start
    h0 = h0_date.toordinal()
    rng = np.random.default_rng([params.seed, TAG_INIT])
    _nonbillable_projects(b)
    _initial_workforce(b, rng, h0)
    for country in range(len(cat.COUNTRIES)):
        for _ in range(max(3, params.employees // 60)):
            b.new_client(
                rng, country, int(day_start(SYSTEM_EPOCH)) + int(rng.integers(0, 3000)) * DAY_S
            )
    b.fraud = assign_fraud_profiles(b, rng, params, params.start.toordinal())
    # Stints already running when the history starts.
    for emp in range(len(b.e["hire"])):
        for chain in b.chains[emp]:
            start = max(b.e["hire"][emp], h0 - int(rng.integers(0, 150)))
            b.start_stint(rng, emp, chain, start, floor=-(10**9))
    last = through.toordinal() + LOOKAHEAD_DAYS
    k = 0
    while True:
        ms_date = add_months(h0_date, k)
        ms = ms_date.toordinal()
        if ms > last:
            break
        me = add_months(h0_date, k + 1).toordinal() - 1
        mrng = np.random.default_rng([params.seed, TAG_MONTH, ms_date.year, ms_date.month])
        for key, pool in b.open_projects.items():
            b.open_projects[key] = [p for p in pool if b.pr["end"][p] >= ms]
        _terminations_and_hires(b, mrng, ms, me)
        b.staff_month(mrng, me, ms)
        b.leave_month(mrng, ms, me)
        b.episodes_month(mrng, ms, me)
        k += 1
    return _freeze(b, params, through.toordinal())


def _arrays(cols: dict[str, list], dtypes: dict[str, type]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for k, v in cols.items():
        if k in dtypes:
            out[k] = np.array(v, dtype=dtypes[k])
    return out


def _freeze(b: _Builder, params: FirmParams, through: int) -> Firm:
    i64, f64 = np.int64, np.float64
    emp = _arrays(
        b.e,
        {
            "country": i64,
            "office": i64,
            "practice": i64,
            "grade": i64,
            "manager": i64,
            "hire": i64,
            "hire_rec": i64,
            "term": i64,
            "term_rec": i64,
            "contracted": f64,
            "hours_factor": f64,
            "hours_sd": f64,
            "long_day_p": f64,
            "weekend_p": f64,
            "submit_habit": i64,
            "whole_hours": bool,
            "start_hour": f64,
            "approval_latency_h": f64,
            "activity_ratio": f64,
            "ghost_until": i64,
        },
    )
    emp["channel_p"] = np.array(b.e["channel_p"], dtype=f64).reshape(-1, 3)
    offsets = np.array([o.utc_offset_h for o in cat.OFFICES])
    emp["utc_offset_h"] = offsets[emp["office"]]
    proj = _arrays(
        b.pr,
        {
            "client": i64,
            "type": i64,
            "practice": i64,
            "country": i64,
            "start": i64,
            "end": i64,
            "rec": i64,
        },
    )
    clients = _arrays(b.cl, {"industry": i64, "country": i64, "rec": i64})
    asg = _arrays(
        b.a,
        {
            "emp": i64,
            "proj": i64,
            "start": i64,
            "end": i64,
            "alloc": f64,
            "rec": i64,
            "early": i64,
        },
    )
    leave = _arrays(
        b.lv,
        {
            "emp": i64,
            "start": i64,
            "end": i64,
            "type": i64,
            "cancelled": bool,
            "rec": i64,
            "cancel_t": i64,
        },
    )
    episodes = _arrays(b.ep, {"emp": i64, "kind": i64, "start": i64, "end": i64, "sub": i64})
    first_year = params.history_start.year - 1
    base = dt.date(first_year, 1, 1).toordinal()
    n_days = dt.date(dt.date.fromordinal(through).year + 3, 1, 1).toordinal() - base
    flags = np.zeros((len(cat.COUNTRIES), n_days), dtype=bool)
    for c, country in enumerate(cat.COUNTRIES):
        for year in range(first_year, first_year + 1 + (n_days // 365) + 1):
            for day, _ in holidays(country, year):
                k = day.toordinal() - base
                if 0 <= k < n_days:
                    flags[c, k] = True
    assert b.fraud is not None
    return Firm(
        params=params,
        through=through,
        emp=emp,
        proj=proj,
        project_codes=list(b.pr["code"]),
        clients=clients,
        client_names=list(b.cl["name"]),
        asg=asg,
        leave=leave,
        episodes=episodes,
        fraud=b.fraud.frozen(len(b.e["hire"])),
        internal_project=b.internal_project,
        bench_project=b.bench_project,
        training_project=b.training_project,
        holiday_base=base,
        holiday_flags=flags,
    )


__all__ = ["Firm", "FirmParams", "build_firm"]
