"""One simulated day: who worked, what they claimed, when it was entered and approved.

Each work date is generated from its own random generator keyed by (seed, date), over the
people and projects the firm timeline has on that date, so a day comes out identical however
far the simulation runs. A day is generated as *lifecycles*: every timesheet line carries all
its future events (submission, correction, approval, rejection or withdrawal) and every case
its opening and closing. What the source tables show at an instant is then a pure function of
the lifecycles (module `snapshot`), which is how an append batch finds exactly the rows
that are new or changed since the previous batch without reading them back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tsfraud_simulator import catalog as cat
from tsfraud_simulator.clock import (
    DAY_S,
    HOUR_S,
    NO_TIME,
    day_start,
    weekday,
)
from tsfraud_simulator.firm import SUBMIT_DAILY, SUBMIT_MONDAY, SUBMIT_NEXT_DAY, Firm
from tsfraud_simulator.fraud import FraudProfiles

TAG_DAY = 17
# Every event of work date D (late entry, correction, approval, case closure) happens before
# D + H_DAYS: an append batch regenerates that many days back and nothing older can change.
H_DAYS = 120
ID_BASE = 730_120  # 2000-01-01: entry and case ids start with the work date's day number
ENTRY_ID_STRIDE = 1_000_000
CASE_ID_STRIDE = 100_000

ENTRY_FIELDS = (
    "entry_id",
    "emp",
    "proj",
    "day",
    "h0",
    "h1",
    "code",
    "comment",
    "channel",
    "t_sub",
    "t_corr",
    "t_appr1",
    "t_final",
    "final",
    "approver",
    # After approval (module docstring of `_post_approval_edits`): NO_TIME when it never happens.
    "t_edit",
    "h2",
    "proj2",
    "t_reappr",
    "appr2",
    "t_del",
)


@dataclass
class DayBatch:
    day: int
    entries: dict[str, np.ndarray]
    activity: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]  # one row per employee-day with lines: emp, fraud, lookalike
    cases: dict[str, np.ndarray]


def _groups_first(keys: np.ndarray) -> np.ndarray:
    """Mask of the first element of each run of equal keys (keys sorted)."""
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return first


def _pick_codes(rng: np.random.Generator, ptype: np.ndarray, practice: np.ndarray) -> np.ndarray:
    codes = np.zeros(len(ptype), dtype=np.int64)
    for t in (cat.INTERNAL, cat.BENCH, cat.TRAINING):
        m = ptype == t
        if m.any():
            choices, probs = cat.NONBILLABLE_ACTIVITY[t]
            codes[m] = np.array(choices)[rng.choice(len(choices), size=int(m.sum()), p=probs)]
    for pr, (choices, probs) in cat.BILLABLE_ACTIVITY.items():
        m = (ptype == cat.BILLABLE) & (practice == pr)
        if m.any():
            codes[m] = np.array(choices)[rng.choice(len(choices), size=int(m.sum()), p=probs)]
    return codes


def _pick_comments(rng: np.random.Generator, codes: np.ndarray) -> np.ndarray:
    u = rng.random((len(codes), 2))
    offset = np.array(cat.COMMENT_OFFSET)[codes]
    count = np.array(cat.COMMENT_COUNT)[codes]
    comment = offset + (u[:, 0] * count).astype(np.int64)
    return np.where(u[:, 1] < 0.35, -1, comment)


def _submission_times(
    firm: Firm, rng: np.random.Generator, emps: np.ndarray, day: int
) -> np.ndarray:
    """When each person enters the day's time, from their habit (local clock -> UTC)."""
    e = firm.emp
    wd = int(weekday(day))
    habit = e["submit_habit"][emps]
    u = rng.random((len(emps), 3))
    next_wd = day + (3 if wd == 4 else 2 if wd == 5 else 1)
    friday = day + (4 - wd) if wd <= 4 else day + 7 - wd
    monday = day + 7 - wd
    sub_day = np.where(
        habit == SUBMIT_DAILY,
        day,
        np.where(
            habit == SUBMIT_NEXT_DAY, next_wd, np.where(habit == SUBMIT_MONDAY, monday, friday)
        ),
    )
    local_h = np.where(
        habit == SUBMIT_DAILY,
        16.5 + 3.0 * u[:, 0],
        np.where(sub_day == friday, 14.5 + 3.5 * u[:, 0], 8.5 + 3.0 * u[:, 0]),
    )
    if wd >= 5:  # weekend work is entered that evening or on Monday
        sub_day = np.where(habit == SUBMIT_DAILY, day, monday)
    forgot = u[:, 1] < 0.04
    sub_day = sub_day + np.where(forgot, 1 + (u[:, 2] * 4).astype(np.int64), 0)
    t = day_start(sub_day) + ((local_h - e["utc_offset_h"][emps]) * HOUR_S).astype(np.int64)
    return np.maximum(t, int(day_start(day)) + 12 * HOUR_S - 11 * HOUR_S)


TAG_NOISE = 9_001
"""Seed tag of the activity-noise generator (only used when the knob is on)."""
INTENSITY_FREQUENCY = {"default": 1.0, "subtle": 0.6, "blatant": 1.3}
"""Multiplier on a perpetrator's share of fraudulent days."""
INTENSITY_PADDING = {
    # (padding: factor low, factor span, min extra h), (rubber-stamped: same)
    "default": ((1.2, 0.5, 2), (1.15, 0.4, 1)),
    "subtle": ((1.08, 0.12, 1), (1.05, 0.1, 1)),
    "blatant": ((1.4, 0.6, 3), (1.3, 0.4, 2)),
}
TAG_BUDDY = 9_006
"""Seed tag of the buddy / proxy generator (only used when the world has such pairs). Was
9_002, the post-approval edit generator's tag, so both drew the same stream on a day."""
BUDDY_WORKED_SHARE = {"default": (0.3, 0.35), "subtle": (0.55, 0.25), "blatant": (0.0, 0.3)}
"""Share of the claimed day a buddy-covered person really works: low + u * span (they come
late, leave early, or do not come at all; the colleague files a full day for them)."""
PROXY_SHARE = 0.5
"""Share of days an honest proxy pair enters time together."""
INTENSITY_LINE_HOURS = {"default": (2, 4), "subtle": (1, 2), "blatant": (4, 4)}
"""Hours of an unassigned / closed-project fraud line: int(low + u * span)."""
TAG_EDIT = 9_002
"""Seed tag of the post-approval edit generator: its own, so the rest of a day is unchanged."""
INTENSITY_EDIT_HOURS = {"default": (2, 3), "subtle": (1, 2), "blatant": (3, 3)}
"""Hours a post_approval_edit adds to an approved line: int(low + u * span)."""
HONEST_RAISE_P = 0.003
"""Share of honest approved lines raised after approval by 1-3 h (a forgotten meeting), on
top of the simulator's late corrections (3% of lines, +-0.25-2 h, most after approval)."""
HONEST_RECODE_P = 0.003
"""Share of honest approved lines moved to another of the day's projects (a wrong code)."""
HONEST_DELETE_P = 0.0015
"""Share of honest approved lines deleted afterwards (a line entered twice), on days with two
or more lines."""
DELEGATE_P = 0.1
"""Share of honest re-approvals made by the approver's own manager (the approver is away)."""
FRAUD_SWITCH_P = 0.35
"""Share of post_approval_edit days that move a non-billable line to a billable project
(when the person has both) instead of raising hours."""
FRAUD_NO_REAPPROVAL_P = 0.5
"""Share of post_approval_edit days left under the old approval (the system lets an approved
line be edited without re-approval); the rest are re-approved fast by someone else."""
TAG_OFFDESK = 9_005
"""Generator tag of honest work away from the workstation (calls before the first login,
meetings after the last): its own, so the rest of a day's draws are unchanged."""
OFFDESK_P = 0.08
"""Share of worked days with 0.5-2.5 h of honest work away from the firm's workstation."""
OFFDESK_LONG_P = 0.25
"""The same on long days (the evening call with another time zone)."""
TAG_FIELD = 9_004
"""Generator tag of the field-staff draw (`WorldKnobs.field_share`): which employees work at
client sites and how much of their work the firm's logs see; drawn only when the knob is set."""


def generate_day(firm: Firm, day: int) -> DayBatch:
    rng = np.random.default_rng([firm.params.seed, TAG_DAY, day])
    e = firm.emp
    n_emp = firm.n_employees
    wd = int(weekday(day))
    weekend = np.bool_(wd >= 5)
    act = np.flatnonzero((e["hire"] <= day) & (day <= e["term"]))
    ghosts = np.flatnonzero((e["term"] < day) & (day <= e["ghost_until"]))
    n = len(act)
    u = rng.random((n, 12))
    z = rng.standard_normal(n)
    ug = rng.random((len(ghosts), 2))

    country = e["country"][act]
    hol = firm.is_holiday(country, day)
    lv = firm.leave
    lm = (lv["start"] <= day) & (day <= lv["end"]) & ~lv["cancelled"]
    on_leave = np.zeros(n_emp, dtype=bool)
    on_leave[lv["emp"][lm]] = True
    leave = on_leave[act]
    ep = firm.episodes
    ep_kind = np.full(n_emp, -1, dtype=np.int64)
    ep_sub = np.zeros(n_emp, dtype=np.int64)
    ep_first = np.zeros(n_emp, dtype=np.int64)
    for i in np.flatnonzero((ep["start"] <= day) & (day <= ep["end"])):
        ep_kind[ep["emp"][i]] = ep["kind"][i]
        ep_sub[ep["emp"][i]] = ep["sub"][i]
        ep_first[ep["emp"][i]] = ep["start"][i]
    kind = ep_kind[act]

    a = firm.asg
    p = firm.proj
    a_on = (a["start"] - a["early"] <= day) & (day <= a["end"])
    a_on &= p["type"][a["proj"]] == cat.BILLABLE

    knobs = firm.params.knobs
    look_x = knobs.lookalike_rate  # 1.0 by default: every threshold below unchanged
    workday = ~weekend & ~hol & ~leave
    absent = workday & (u[:, 0] < 0.008)
    weekend_work = np.zeros(n, dtype=bool)
    if weekend:
        deadline_emp = np.zeros(n_emp, dtype=bool)
        soon = a_on & (p["end"][a["proj"]] > day) & (p["end"][a["proj"]] <= day + 7)
        deadline_emp[a["emp"][soon]] = True
        wk_p = np.where(deadline_emp[act], 0.3, e["weekend_p"][act])
        weekend_work = ~leave & ~hol & (u[:, 1] < wk_p)
    holiday_work = hol & ~weekend & ~leave & (u[:, 1] < 0.025 * look_x)
    works = (workday & ~absent) | weekend_work | holiday_work

    contracted = e["contracted"][act]
    daily = contracted / 5.0 * e["hours_factor"][act] * np.exp(e["hours_sd"][act] * z)
    long_day = workday & (u[:, 2] < e["long_day_p"][act] * look_x)
    real = np.where(long_day, 10.25 + 2.75 * u[:, 3], daily)
    real = np.where(weekend_work, 2.0 + 6.0 * u[:, 3], real)
    real = np.where(holiday_work, 3.0 + 5.5 * u[:, 3], real)
    real = np.where(works, np.clip(real, 1.0, 14.0), 0.0)
    unit = np.where(e["whole_hours"][act], 4, 1)
    claim_q = np.maximum(np.round(real * 4 / unit).astype(np.int64) * unit, unit)
    # Client-site days on the client's laptop: the firm's logs see little or nothing.
    offline = workday & works & ~long_day & (u[:, 4] < 0.009 * look_x)
    unseen = offline & (u[:, 4] < 0.004 * look_x)

    look = np.full(n, -1, dtype=np.int64)
    for mask, code in (
        (works & (kind == 0), cat.L_LATE_CATCHUP),
        (holiday_work, cat.L_HOLIDAY),
        (weekend_work, cat.L_WEEKEND),
        (long_day & works, cat.L_LONG_DAY),
        (offline, cat.L_OFFLINE),
        (works & (e["manager"][act] < 0), cat.L_PARTNER_SELF),
    ):
        look = np.where((look < 0) & mask, code, look)

    # --- fraud on the day ---------------------------------------------------------------
    fr = firm.fraud
    ftype = np.full(n, -1, dtype=np.int64)
    works_emp = np.zeros(n_emp, dtype=bool)
    works_emp[act[works]] = True
    rb = np.random.default_rng([firm.params.seed, TAG_BUDDY, day]) if fr.has_pairs else None
    claimant = works.copy()
    for j in np.flatnonzero(fr.type1[act] >= 0).tolist():
        emp = act[j]
        t1, t2, fp = int(fr.type1[emp]), int(fr.type2[emp]), float(fr.p[emp])
        fp *= INTENSITY_FREQUENCY[knobs.intensity]
        off_day = (leave[j] or hol[j]) and not weekend
        if t1 == cat.F_BULK:
            if kind[j] == 1 and workday[j]:
                ftype[j] = cat.F_BULK
        elif cat.F_LEAVE in (t1, t2) and off_day:
            if u[j, 5] < 0.85:
                ftype[j] = cat.F_LEAVE
        elif works[j] and workday[j]:
            day_types = [t for t in (t1, t2) if t >= 0 and t != cat.F_LEAVE]
            if day_types and u[j, 5] < fp:
                ftype[j] = day_types[0]
                if ftype[j] == cat.F_BUDDY and not works_emp[fr.filer_of[emp]]:
                    ftype[j] = -1  # the colleague is away: nobody to file the day
            elif len(day_types) == 2 and u[j, 6] < fp * 0.5:
                ftype[j] = day_types[1]
    whole = np.round(real + 0.49)
    pad = np.isin(ftype, (cat.F_PADDING, cat.F_RUBBER))
    (pad_lo, pad_span, pad_min), (rub_lo, rub_span, rub_min) = INTENSITY_PADDING[knobs.intensity]
    factor = np.where(
        ftype == cat.F_PADDING, pad_lo + pad_span * u[:, 7], rub_lo + rub_span * u[:, 7]
    )
    padded = np.maximum(
        np.round(real * factor), whole + np.where(ftype == cat.F_PADDING, pad_min, rub_min)
    )
    claim_q = np.where(pad, np.minimum(padded, 16) * 4, claim_q).astype(np.int64)
    unit = np.where(pad, 4, unit)
    day_off = ftype == cat.F_LEAVE
    std_day = np.round(contracted / 5.0)
    claim_q = np.where(day_off, std_day * 4, claim_q).astype(np.int64)
    unit = np.where(day_off, 4, unit)
    real = np.where(day_off, 0.0, real)
    bulk = ftype == cat.F_BULK
    bulk_works = bulk & (u[:, 8] < 0.55)
    real = np.where(bulk, np.where(bulk_works, np.maximum(daily, 1.0), 0.0), real)
    claim_q = np.where(bulk, (8 + (u[:, 9] * 3).astype(np.int64)) * 4, claim_q)
    unit = np.where(bulk, 4, unit)
    claimant |= day_off | bulk
    buddy = ftype == cat.F_BUDDY
    if rb is not None and buddy.any():  # the claim stays a normal day; the work does not
        lo_s, span_s = BUDDY_WORKED_SHARE[knobs.intensity]
        real = np.where(buddy, real * (lo_s + span_s * rb.random(n)), real)
        real = np.where(buddy & (real < 0.5), 0.0, real)
    # Bulk perpetrators enter nothing for the episode until the bulk day.
    claimant &= ~((fr.type1[act] == cat.F_BULK) & (kind == 1) & ~bulk)
    look = np.where(ftype >= 0, -1, look)

    # --- claimants: honest and fraudulent workers plus ghosts ----------------------------
    ghost_claim = ~weekend & ~firm.is_holiday(e["country"][ghosts], day) & (ug[:, 0] < 0.95)
    g_emp = ghosts[ghost_claim]
    c_emp = np.concatenate([act[claimant], g_emp])
    order = np.argsort(c_emp, kind="stable")
    c_emp = c_emp[order]
    m = len(c_emp)
    g_std = np.round(e["contracted"][g_emp] / 5.0) * 4
    c_q = np.concatenate([claim_q[claimant], g_std.astype(np.int64)])[order]
    c_unit = np.concatenate([unit[claimant], np.full(len(g_emp), 4)])[order]
    c_fraud = np.concatenate([ftype[claimant], np.full(len(g_emp), cat.F_GHOST)])[order]
    c_look = np.concatenate([look[claimant], np.full(len(g_emp), -1)])[order]
    c_kind = np.concatenate([kind[claimant], np.full(len(g_emp), -1)])[order]
    c_new = np.concatenate([(day - e["hire"][act])[claimant] < 14, np.zeros(len(g_emp), bool)])
    c_new = c_new[order]
    c_pos = np.full(n_emp, -1, dtype=np.int64)
    c_pos[c_emp] = np.arange(m)
    if m == 0:
        return _empty_batch(day)
    uc = rng.random((m, 8))

    # --- lines: billable assignments by allocation, the rest on internal/bench time -------
    ai = np.flatnonzero(a_on & (c_pos[a["emp"]] >= 0))
    l_c = c_pos[a["emp"][ai]]
    l_proj = a["proj"][ai]
    ua = rng.random(len(ai))
    l_w = a["alloc"][ai] * (0.75 + 0.5 * ua)
    lag = (day < a["start"][ai]) & (c_fraud[l_c] < 0)
    staffing_lag = np.zeros(m, dtype=bool)
    staffing_lag[l_c[lag]] = True
    alloc_sum = np.bincount(l_c, weights=a["alloc"][ai], minlength=m)
    has_billable = alloc_sum > 0
    c_country, c_practice = e["country"][c_emp], e["practice"][c_emp]
    internal = firm.internal_project[c_country, c_practice]
    idle = np.where(c_new | (uc[:, 0] < 0.12), firm.training_project, firm.bench_project[c_country])
    i_proj = np.where(has_billable, internal, idle)
    rest = np.maximum(100.0 - alloc_sum, 0.0)
    i_w = np.where(
        has_billable,
        np.where(rest > 0, rest * (0.5 + uc[:, 1]), np.where(uc[:, 2] < 0.35, 6.0, 0.0)),
        100.0,
    )
    off_hours = np.isin(c_look, (cat.L_WEEKEND, cat.L_HOLIDAY)) & has_billable
    i_w = np.where(off_hours, 0.0, i_w)
    l_c = np.concatenate([l_c, np.arange(m)])
    l_proj = np.concatenate([l_proj, i_proj])
    l_w = np.concatenate([l_w, i_w])
    keep = l_w > 0
    l_c, l_proj, l_w = l_c[keep], l_proj[keep], l_w[keep]
    srt = np.lexsort((-l_w, l_c))
    l_c, l_proj, l_w = l_c[srt], l_proj[srt], l_w[srt]
    units_total = c_q // c_unit
    w_sum = np.bincount(l_c, weights=l_w, minlength=m)
    l_units = np.floor(units_total[l_c] * l_w / w_sum[l_c]).astype(np.int64)
    first = _groups_first(l_c)
    short = units_total - np.bincount(l_c, weights=l_units, minlength=m).astype(np.int64)
    l_units[first] += short[l_c[first]]
    keep = l_units > 0
    l_c, l_proj, l_units = l_c[keep], l_proj[keep], l_units[keep]
    l_q = l_units * c_unit[l_c]
    l_type = p["type"][l_proj]
    l_code = _pick_codes(rng, l_type, np.maximum(p["practice"][l_proj], 0))
    l_comment = _pick_comments(rng, l_code)
    l_order = np.arange(len(l_c), dtype=np.float64)

    # Honest splits: a billable line becomes two with different activities.
    us = rng.random((len(l_c), 3))
    split = (l_type == cat.BILLABLE) & (l_q >= 8) & (l_q // c_unit[l_c] >= 2) & (us[:, 0] < 0.25)
    repeat_c = (c_fraud < 0) & (c_look < 0) & (uc[:, 3] < 0.012 * look_x) & (c_kind != 0)
    first = _groups_first(l_c)
    rep = first & repeat_c[l_c] & ((l_q // c_unit[l_c]) % 2 == 0) & (l_q >= 2 * c_unit[l_c])
    split &= ~rep
    si = np.flatnonzero(split | rep)
    part = np.where(
        rep[si],
        l_q[si] // 2,
        np.maximum(1, (us[si, 1] * (l_q[si] // c_unit[l_c[si]] - 1)).astype(np.int64) + 1)
        * c_unit[l_c[si]],
    )
    part = np.where(rep[si], part, np.minimum(part, l_q[si] - c_unit[l_c[si]]))
    other = _pick_codes(rng, l_type[si], np.maximum(p["practice"][l_proj[si]], 0))
    other = np.where(
        other != l_code[si], other, np.where(l_code[si] == cat.MEETING, cat.ANALYSIS, cat.MEETING)
    )
    new_code = np.where(rep[si], l_code[si], other)
    l_q[si] -= part
    s_comment = np.where(rep[si], l_comment[si], _pick_comments(rng, new_code))
    l_c = np.concatenate([l_c, l_c[si]])
    l_proj = np.concatenate([l_proj, l_proj[si]])
    l_q = np.concatenate([l_q, part])
    l_code = np.concatenate([l_code, new_code])
    l_comment = np.concatenate([l_comment, s_comment])
    l_order = np.concatenate([l_order, l_order[si] + 0.5])
    c_look = np.where(
        (c_look < 0) & np.isin(np.arange(m), l_c[si[rep[si]]]), cat.L_REPEATED, c_look
    )
    c_look = np.where((c_look < 0) & staffing_lag, cat.L_STAFFING_LAG, c_look)

    # Fraud lines: a project the person is not staffed on, a closed project, a copied line.
    extra_c: list[int] = []
    extra_proj: list[int] = []
    extra_q: list[int] = []
    extra_code: list[int] = []
    extra_comment: list[int] = []
    extra_order: list[float] = []
    ue = rng.random((m, 3))
    open_billable = np.flatnonzero(
        (p["type"] == cat.BILLABLE) & (p["start"] <= day) & (p["end"] >= day)
    )
    closed_billable = np.flatnonzero((p["type"] == cat.BILLABLE) & (p["end"] < day))
    fraud_lines = np.isin(c_fraud, (cat.F_UNASSIGNED, cat.F_CLOSED, cat.F_DUPLICATE))
    for c in np.flatnonzero(fraud_lines).tolist():
        emp = c_emp[c]
        lo_h, line_span = INTENSITY_LINE_HOURS[knobs.intensity]
        hours_q = int(lo_h + ue[c, 0] * line_span) * 4
        mine = l_c == c
        if c_fraud[c] == cat.F_DUPLICATE:
            top = int(np.flatnonzero(mine)[np.argmax(l_q[mine])])
            extra_c.append(c)
            extra_proj.append(int(l_proj[top]))
            extra_q.append(int(l_q[top]))
            extra_code.append(int(l_code[top]))
            extra_comment.append(int(l_comment[top]))
            extra_order.append(float(l_order[top]) + 0.25)
            continue
        # Only assignments already started: later ones may not be generated yet.
        staffed = set(a["proj"][(a["emp"] == emp) & (a["start"] - a["early"] <= day)].tolist())
        if c_fraud[c] == cat.F_UNASSIGNED:
            pool = open_billable[~np.isin(open_billable, list(staffed))]
        else:
            past = np.array(sorted(staffed), dtype=np.int64)
            mine_closed = past[(p["end"][past] < day) & (p["type"][past] == cat.BILLABLE)]
            pool = mine_closed if len(mine_closed) else closed_billable
            if len(mine_closed):
                pool = pool[p["end"][pool] == p["end"][pool].max()]
        if len(pool) == 0:
            c_fraud[c] = -1
            continue
        proj = int(pool[int(ue[c, 1] * len(pool))])
        code = int(_pick_codes(rng, np.array([cat.BILLABLE]), np.array([e["practice"][emp]]))[0])
        extra_c.append(c)
        extra_proj.append(proj)
        extra_q.append(hours_q)
        extra_code.append(code)
        extra_comment.append(int(_pick_comments(rng, np.array([code]))[0]))
        extra_order.append(1e9)
    if extra_c:
        l_c = np.concatenate([l_c, np.array(extra_c, dtype=np.int64)])
        l_proj = np.concatenate([l_proj, np.array(extra_proj, dtype=np.int64)])
        l_q = np.concatenate([l_q, np.array(extra_q, dtype=np.int64)])
        l_code = np.concatenate([l_code, np.array(extra_code, dtype=np.int64)])
        l_comment = np.concatenate([l_comment, np.array(extra_comment, dtype=np.int64)])
        l_order = np.concatenate([l_order, np.array(extra_order)])
    srt = np.lexsort((l_order, l_c))
    l_c, l_proj, l_q = l_c[srt], l_proj[srt], l_q[srt]
    l_code, l_comment = l_code[srt], l_comment[srt]
    nl = len(l_c)
    rank = np.arange(nl) - np.flatnonzero(_groups_first(l_c))[np.cumsum(_groups_first(l_c)) - 1]

    # --- submission and approval ----------------------------------------------------------
    c_sub = _submission_times(firm, rng, c_emp, day)
    in_episode = c_kind >= 0
    c_sub = np.where(
        in_episode,
        ep_sub[c_emp] + (day - ep_first[c_emp]) * 47 + (uc[:, 4] * 20).astype(int),
        c_sub,
    )
    pair_with = np.full(m, -1, dtype=np.int64)  # claimant whose submission this one joins
    if rb is not None:
        c_sub, pair_with, c_look = _pair_submissions(fr, rb, c_emp, c_pos, c_fraud, c_look, c_sub)
    manager = e["manager"][c_emp]
    approver = np.where(manager < 0, c_emp, manager)
    grand = np.where(manager >= 0, e["manager"][np.maximum(manager, 0)], -1)
    delegate = (uc[:, 5] < 0.03) & (grand >= 0)
    approver = np.where(delegate, grand, approver)
    latency_h = e["approval_latency_h"][approver] * np.exp(0.5 * rng.standard_normal(m))
    latency_h = np.where(manager < 0, 0.02 + 0.3 * uc[:, 6], np.clip(latency_h, 0.2, 120.0))
    collude = c_fraud == cat.F_RUBBER
    approver = np.where(collude, fr.approver[c_emp], approver)
    latency_h = np.where(collude, 0.05 + 0.5 * uc[:, 6], latency_h)

    ul = rng.random((nl, 6))
    t_sub = c_sub[l_c] + rank * (30 + (ul[:, 0] * 90).astype(np.int64))
    lat = (latency_h[l_c] * HOUR_S).astype(np.int64) + (ul[:, 1] * 600).astype(np.int64)
    t_appr = t_sub + lat
    honest = (c_fraud[l_c] < 0) & (c_kind[l_c] != 1)
    corr = honest & (ul[:, 2] < 0.03)
    rej = honest & (ul[:, 2] >= 0.03) & (ul[:, 2] < 0.04)
    wdr = honest & (ul[:, 2] >= 0.04) & (ul[:, 2] < 0.046)
    h0 = l_q.astype(np.float64) / 4
    delta = (1 + (ul[:, 3] * 8).astype(np.int64)) * np.where(ul[:, 4] < 0.5, -1, 1)
    h1 = np.where(corr, np.clip(l_q + delta, 1, 56) / 4, h0)
    t_corr = np.where(corr, t_sub + HOUR_S + (ul[:, 5] * 12 * DAY_S).astype(np.int64), NO_TIME)
    relat = lat + (ul[:, 0] * 2 * HOUR_S).astype(np.int64)
    t_appr1 = np.where(corr & (t_corr > t_appr), t_appr, NO_TIME)
    t_final = np.where(corr, t_corr + relat, t_appr)
    t_wdr = t_sub + np.minimum((0.2 + ul[:, 5] * 20) * HOUR_S, 0.8 * lat).astype(np.int64)
    t_final = np.where(wdr, t_wdr, t_final)
    final = np.where(
        rej, cat.STATUS_REJECTED, np.where(wdr, cat.STATUS_WITHDRAWN, cat.STATUS_APPROVED)
    )

    # Replacement lines after a rejection or a withdrawal.
    ri = np.flatnonzero(rej | wdr)
    r_sub = t_final[ri] + ((2 + ul[ri, 3] * 46) * HOUR_S).astype(np.int64)
    r_q = np.where(rej[ri], np.clip(l_q[ri] + np.where(ul[ri, 4] < 0.5, -2, 0), 1, 56), l_q[ri])
    r_proj = np.where(wdr[ri], i_proj[l_c[ri]], l_proj[ri])
    r_lat = lat[ri]
    cols = {
        "c": np.concatenate([l_c, l_c[ri]]),
        "proj": np.concatenate([l_proj, r_proj]),
        "h0": np.concatenate([h0, r_q / 4]),
        "h1": np.concatenate([h1, r_q / 4]),
        "code": np.concatenate([l_code, l_code[ri]]),
        "comment": np.concatenate([l_comment, l_comment[ri]]),
        "t_sub": np.concatenate([t_sub, r_sub]),
        "t_corr": np.concatenate([t_corr, np.full(len(ri), NO_TIME)]),
        "t_appr1": np.concatenate([t_appr1, np.full(len(ri), NO_TIME)]),
        "t_final": np.concatenate([t_final, r_sub + r_lat]),
        "final": np.concatenate([final, np.full(len(ri), cat.STATUS_APPROVED)]),
        "seq_key": np.concatenate([np.arange(nl), nl + np.arange(len(ri))]),
    }
    srt = np.lexsort((cols["seq_key"], cols["c"]))
    cols = {k: v[srt] for k, v in cols.items()}
    lc = cols["c"]
    total = len(lc)
    ch_u = rng.random(total)
    pref = e["channel_p"][c_emp[lc]]
    channel = (ch_u[:, None] > np.cumsum(pref, axis=1)).sum(axis=1)
    channel = np.minimum(channel, 2)
    for c in np.flatnonzero(pair_with >= 0).tolist():
        # filed from the colleague's session: their channel
        theirs = np.flatnonzero(lc == pair_with[c])
        channel[lc == c] = channel[theirs[0]]
    lo = int(day_start(day)) + 60
    hi = int(day_start(day)) + H_DAYS * DAY_S - 1
    entries = {
        "entry_id": (day - ID_BASE) * ENTRY_ID_STRIDE + np.arange(total, dtype=np.int64) + 1,
        "emp": c_emp[lc],
        "proj": cols["proj"],
        "day": np.full(total, day, dtype=np.int64),
        "h0": cols["h0"],
        "h1": cols["h1"],
        "code": cols["code"],
        "comment": cols["comment"],
        "channel": channel,
        "t_sub": np.clip(cols["t_sub"], lo, hi),
        "t_corr": np.where(cols["t_corr"] == NO_TIME, NO_TIME, np.clip(cols["t_corr"], lo, hi)),
        "t_appr1": np.where(cols["t_appr1"] == NO_TIME, NO_TIME, np.clip(cols["t_appr1"], lo, hi)),
        "t_final": np.clip(cols["t_final"], lo, hi),
        "final": cols["final"],
        "approver": approver[lc],
    }
    entries.update(
        _post_approval_edits(firm, day, entries, c_fraud[lc], cols["t_corr"] != NO_TIME, hi)
    )
    edited_honestly = np.zeros(m, dtype=bool)
    changed = (entries["t_edit"] != NO_TIME) | (entries["t_del"] != NO_TIME)
    edited_honestly[lc[changed & (c_fraud[lc] < 0)]] = True

    # --- workstation activity: real work only -------------------------------------------
    worked = (real > 0) & ~unseen
    w_emp = act[worked]
    uw = rng.random((len(w_emp), 3))
    w_real = real[worked]
    start_h = e["start_hour"][w_emp] + 0.4 * (uw[:, 0] - 0.5)
    start_h = np.where(weekend | hol[worked], start_h + 1.5, start_h)
    first_seen = int(day_start(day)) + ((start_h - e["utc_offset_h"][w_emp]) * HOUR_S).astype(
        np.int64
    )
    # Hours at the firm's workstation: real work less what happened away from it. Calls and
    # meetings before the first login or after the last (OFFDESK_P of worked days, more on
    # long days); a client-site day on the client's laptop (offline: the firm's machine sees
    # 30-55% of it); field staff (`field_share`: 35-65%, every day). The span from first to
    # last activity covers the desk hours and breaks; active minutes are the desk hours at
    # the person's activity ratio.
    ro = np.random.default_rng([firm.params.seed, TAG_OFFDESK, day]).random((len(w_emp), 3))
    off_p = np.where(long_day[worked], OFFDESK_LONG_P, OFFDESK_P) * knobs.offdesk_rate
    off_h = np.where(ro[:, 0] < off_p, 0.5 + 2.0 * ro[:, 1], 0.0)
    desk_h = np.maximum(w_real - off_h, 0.5 * w_real)
    desk_h = np.where(offline[worked], w_real * (0.3 + 0.25 * uw[:, 2]), desk_h)
    ratio = e["activity_ratio"][w_emp] * (0.93 + 0.07 * uw[:, 2])
    if knobs.field_share > 0:  # own generator, one draw per employee, stable across days
        uf = np.random.default_rng([firm.params.seed, TAG_FIELD]).random((n_emp, 2))
        seen = np.where(uf[:, 0] < knobs.field_share, 0.35 + 0.3 * uf[:, 1], 1.0)
        desk_h = desk_h * seen[w_emp]
    span_h = desk_h + 0.5 + 0.6 * uw[:, 1]
    if knobs.activity_noise > 0:  # own generator: the default world draws nothing extra
        noise = np.random.default_rng([firm.params.seed, TAG_NOISE, day])
        zn = noise.standard_normal((2, len(ratio)))
        ratio = np.clip(ratio * np.exp(knobs.activity_noise * zn[0]), 0.05, 1.0)
        # a machine left on, an agent that starts late: the span is noisy too, less so
        span_h = np.clip(span_h * np.exp(0.5 * knobs.activity_noise * zn[1]), 0.25, 20.0)
    minutes = np.minimum(np.round(desk_h * 60 * ratio), np.floor(span_h * 60))
    activity = {
        "emp": w_emp,
        "day": np.full(len(w_emp), day, dtype=np.int64),
        "first_seen": first_seen,
        "last_seen": first_seen + (span_h * HOUR_S).astype(np.int64),
        "minutes": minutes.astype(np.int64),
    }

    # --- ground truth and investigations -------------------------------------------------
    c_look = np.where(c_fraud >= 0, -1, c_look)
    labels = {"emp": c_emp, "fraud": c_fraud, "lookalike": c_look}
    last_sub = np.full(m, 0, dtype=np.int64)
    np.maximum.at(last_sub, lc, entries["t_sub"])
    is_perp = fr.type1[c_emp] >= 0
    if knobs.selection == "tips":  # about people, not red flags
        p_case = np.where(c_fraud >= 0, 0.15, np.where(is_perp, 0.03, 0.001))
    elif knobs.selection == "random":  # audits
        p_case = np.full(m, 0.01)
    else:
        p_case = np.where(
            c_fraud >= 0, 0.30, np.where(c_look >= 0, 0.08, np.where(is_perp, 0.03, 0.0015))
        )
    if knobs.investigation_rate != 1.0:
        p_case = np.minimum(p_case * knobs.investigation_rate, 1.0)
    ucase = rng.random((m, 5))
    opened = np.flatnonzero(ucase[:, 0] < p_case)
    fast = ucase[opened, 1] < 0.08
    open_lag = np.where(fast, 2 + 5 * ucase[opened, 2], 18 + 22 * ucase[opened, 2])
    close_lag = np.where(fast, 26 + 19 * ucase[opened, 3], 7 + 18 * ucase[opened, 3])
    t_open = last_sub[opened] + (open_lag * DAY_S).astype(np.int64)
    t_close = t_open + (close_lag * DAY_S).astype(np.int64)
    confirmed = (c_fraud[opened] >= 0) & (ucase[opened, 4] < knobs.confirm_rate)
    if knobs.never_confirmed:
        confirmed &= ~np.isin(c_fraud[opened], knobs.never_confirmed_codes())
    cases = {
        "case_id": (day - ID_BASE) * CASE_ID_STRIDE + np.arange(len(opened), dtype=np.int64) + 1,
        "emp": c_emp[opened],
        "day": np.full(len(opened), day, dtype=np.int64),
        "t_open": np.minimum(t_open, hi - DAY_S),
        "t_close": np.minimum(t_close, hi),
        "confirmed": confirmed,
        "fraud": np.where(confirmed, c_fraud[opened], -1),
    }
    # Honest corrections after approval are look-alikes of post_approval_edit. Labelled after
    # the cases were drawn, so who gets investigated is as it was before they existed.
    labels["lookalike"] = np.where(
        (c_look < 0) & (c_fraud < 0) & edited_honestly, cat.L_CORRECTION, c_look
    )
    return DayBatch(day, entries, activity, labels, cases)


def _post_approval_edits(
    firm: Firm,
    day: int,
    ent: dict[str, np.ndarray],
    line_fraud: np.ndarray,
    corrected: np.ndarray,
    hi: int,
) -> dict[str, np.ndarray]:
    """What happens to approved lines after their approval, in a later batch.

    Fraud (`post_approval_edit` days): one line of the day is changed 1-9 days after its
    approval: its hours raised (INTENSITY_EDIT_HOURS), or a non-billable line moved to the
    person's billable project. Half are left under the old approval (the system allows
    editing an approved line), half re-approved within the hour by the approver's own manager
    (or, without one, by the person): someone other than the first approver.
    Honest: a few approved lines get a forgotten 1-3 h added, are moved to another of the
    day's projects, or are deleted, 12 h to 12 days after approval, and re-approved with the
    usual latency by the same approver (a delegate one time in ten).
    A separate generator keyed by (seed, TAG_EDIT, day): the rest of the day is unchanged.
    The edit is stamped when it happens, so a daily extractor sees the approved version first
    and the change in a later batch; a one-shot extract sees only the final values.
    """
    n = len(ent["entry_id"])
    rx = np.random.default_rng([firm.params.seed, TAG_EDIT, day])
    u = rx.random((n, 6))
    e, p = firm.emp, firm.proj
    knobs = firm.params.knobs
    t_edit = np.full(n, NO_TIME, dtype=np.int64)
    t_reappr = np.full(n, NO_TIME, dtype=np.int64)
    t_del = np.full(n, NO_TIME, dtype=np.int64)
    h2 = ent["h1"].copy()
    proj2 = ent["proj"].copy()
    appr2 = ent["approver"].copy()
    if n == 0:
        return {"t_edit": t_edit, "h2": h2, "proj2": proj2, "t_reappr": t_reappr,
                "appr2": appr2, "t_del": t_del}  # fmt: skip
    approved = (ent["final"] == cat.STATUS_APPROVED) & ~corrected
    emp = ent["emp"]
    billable = p["type"][ent["proj"]] == cat.BILLABLE
    first = _groups_first(emp)
    start = np.flatnonzero(first)
    group = np.cumsum(first) - 1
    size = np.diff(np.append(start, n))[group]
    boss = e["manager"][ent["approver"]]
    other = np.where((boss >= 0) & (boss != emp), boss, emp)

    # Fraud: one line per post_approval_edit day.
    lo_h, span_h = INTENSITY_EDIT_HOURS[knobs.intensity]
    for g in np.unique(group[(line_fraud == cat.F_POST_EDIT) & approved]).tolist():
        lines = np.arange(start[g], start[g] + size[start[g]])
        lines = lines[approved[lines]]
        i = int(lines[0])
        to_bill = lines[billable[lines]]
        from_internal = lines[~billable[lines]]
        if u[i, 0] < FRAUD_SWITCH_P and len(to_bill) and len(from_internal):
            i = int(from_internal[0])
            proj2[i] = ent["proj"][int(to_bill[0])]
        else:
            h2[i] = ent["h1"][i] + int(lo_h + u[i, 1] * span_h)
        t_edit[i] = ent["t_final"][i] + int((1 + 8 * u[i, 2]) * DAY_S)
        if u[i, 3] >= FRAUD_NO_REAPPROVAL_P:
            t_reappr[i] = t_edit[i] + int((0.05 + 0.5 * u[i, 4]) * HOUR_S)
            appr2[i] = other[i]

    # Honest corrections after approval.
    honest = approved & (line_fraud < 0)
    x = u[:, 0]
    raise_ = honest & (x < HONEST_RAISE_P)
    recode = honest & (x >= HONEST_RAISE_P) & (x < HONEST_RAISE_P + HONEST_RECODE_P)
    delete = (
        honest
        & (size >= 2)
        & (x >= HONEST_RAISE_P + HONEST_RECODE_P)
        & (x < HONEST_RAISE_P + HONEST_RECODE_P + HONEST_DELETE_P)
    )
    for i in np.flatnonzero(recode).tolist():
        g = group[i]
        others = ent["proj"][start[g] : start[g] + size[i]]
        others = others[others != ent["proj"][i]]
        if len(others) == 0:
            recode[i] = False
            continue
        proj2[i] = others[int(u[i, 1] * len(others))]
    h2 = np.where(raise_, ent["h1"] + 1 + np.floor(u[:, 1] * 3), h2)
    fix = raise_ | recode
    when = ent["t_final"] + ((0.5 + 11.5 * u[:, 2]) * DAY_S).astype(np.int64)
    t_edit = np.where(fix, when, t_edit)
    latency = (e["approval_latency_h"][ent["approver"]] * (0.5 + u[:, 4]) * HOUR_S).astype(np.int64)
    t_reappr = np.where(fix, when + np.maximum(latency, 600), t_reappr)
    delegate = fix & (u[:, 5] < DELEGATE_P) & (boss >= 0) & (boss != emp)
    appr2 = np.where(delegate, boss, appr2)
    t_del = np.where(delete, when, t_del)

    def clip(t: np.ndarray) -> np.ndarray:
        return np.where(t == NO_TIME, NO_TIME, np.minimum(t, hi))

    return {
        "t_edit": clip(t_edit),
        "h2": np.minimum(h2, 14.0),
        "proj2": proj2,
        "t_reappr": clip(t_reappr),
        "appr2": appr2,
        "t_del": clip(t_del),
    }


def _pair_submissions(
    fr: FraudProfiles,
    rb: np.random.Generator,
    c_emp: np.ndarray,
    c_pos: np.ndarray,
    c_fraud: np.ndarray,
    c_look: np.ndarray,
    c_sub: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Buddy days (and honest proxy days) are entered by the colleague, seconds after their own
    time, from their session: (submission times, partner claimant or -1, look-alike codes)."""
    c_sub = c_sub.copy()
    c_look = c_look.copy()
    pair_with = np.full(len(c_emp), -1, dtype=np.int64)
    u = rb.random((len(c_emp), 2))
    for c in range(len(c_emp)):
        emp = int(c_emp[c])
        if c_fraud[c] == cat.F_BUDDY:
            mate = int(c_pos[fr.filer_of[emp]])
        elif fr.proxy_of[emp] >= 0 and c_fraud[c] < 0 and c_look[c] < 0 and u[c, 0] < PROXY_SHARE:
            mate = int(c_pos[fr.proxy_of[emp]])
            if mate >= 0:
                c_look[c] = cat.L_PROXY
        else:
            continue
        if mate < 0:
            continue
        pair_with[c] = mate
        c_sub[c] = c_sub[mate] + 5 + int(u[c, 1] * 50)
    return c_sub, pair_with, c_look


def _empty_batch(day: int) -> DayBatch:
    i64 = np.zeros(0, dtype=np.int64)
    entries: dict[str, np.ndarray] = {k: i64 for k in ENTRY_FIELDS}
    entries["h0"] = entries["h1"] = entries["h2"] = np.zeros(0)
    activity = {k: i64 for k in ("emp", "day", "first_seen", "last_seen", "minutes")}
    labels = {"emp": i64, "fraud": i64, "lookalike": i64}
    cases: dict[str, np.ndarray] = {
        k: i64 for k in ("case_id", "emp", "day", "t_open", "t_close", "fraud")
    }
    cases["confirmed"] = np.zeros(0, dtype=bool)
    return DayBatch(day, entries, activity, labels, cases)


__all__ = ["H_DAYS", "DayBatch", "generate_day"]
