"""Who commits which fraud, and how often.

Fraud is a habit of a few people, not noise sprinkled over days: a small share of employees
each carry one or two fraud types and act on them on a share of their days. Every type gets at
least one perpetrator (two for collusive approval) so that even a small simulated firm shows
all of them; beyond that the number of perpetrators scales with `fraud_rate`, the target share
of employee-days that are fraudulent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tsfraud_simulator import catalog as cat
from tsfraud_simulator.clock import DAY_S, HOUR_S, day_start, next_weekday

if TYPE_CHECKING:
    from tsfraud_simulator.firm import FirmParams, _Builder

DEFAULT_FRAUD_RATE = 0.015
# Average share of a perpetrator's timesheet days that are fraudulent (measured on simulated
# firms); it converts the target day rate into a number of perpetrators.
MEAN_FRAUD_DAY_SHARE = 0.55
MIN_SET = (
    cat.F_PADDING,
    cat.F_UNASSIGNED,
    cat.F_CLOSED,
    cat.F_LEAVE,
    cat.F_DUPLICATE,
    cat.F_BULK,
    cat.F_RUBBER,
    cat.F_RUBBER,
    cat.F_RUBBER,
)
EXTRA_WEIGHTS = {
    cat.F_PADDING: 0.22,
    cat.F_UNASSIGNED: 0.13,
    cat.F_CLOSED: 0.12,
    cat.F_LEAVE: 0.12,
    cat.F_DUPLICATE: 0.12,
    cat.F_BULK: 0.13,
    cat.F_RUBBER: 0.16,
    cat.F_BUDDY: 0.0,  # optional: only a world whose fraud_mix names it has buddies
}
SECONDARY = (cat.F_PADDING, cat.F_UNASSIGNED, cat.F_CLOSED, cat.F_DUPLICATE, cat.F_LEAVE)
POST_EDIT_WEIGHT = 0.08
"""Default weight of post_approval_edit among the extra perpetrators (`fraud_mix` changes it):
modest, a scheme that needs a system letting approved lines be edited."""
TAG_POST_EDIT = 9_003
"""Seed tag of the generator that picks post_approval_edit perpetrators. Picked with their own
generator after everyone else, so adding the type left every other perpetrator, ghost and day
of the worlds made before it exactly as it was."""


@dataclass
class FraudProfiles:
    primary: dict[int, int] = field(default_factory=dict)
    secondary: dict[int, int] = field(default_factory=dict)
    intensity: dict[int, float] = field(default_factory=dict)
    colluder: dict[int, int] = field(default_factory=dict)  # approver of padded time
    ghosts: list[int] = field(default_factory=list)
    filer: dict[int, int] = field(default_factory=dict)
    """Buddy timesheeting: perpetrator -> the colleague (same office) who files their days."""
    proxy: dict[int, int] = field(default_factory=dict)
    """Honest look-alike: employee -> the colleague who often enters their time with their own
    (an assistant, a travelling team-mate); the days are fully worked."""
    # Frozen per-employee arrays (filled by `frozen`).
    type1: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    type2: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    p: np.ndarray = field(default_factory=lambda: np.zeros(0))
    approver: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    filer_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    proxy_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def has_pairs(self) -> bool:
        """Whether any buddy or proxy pair exists (the default world has none, and draws no
        random numbers for them)."""
        return bool(self.filer or self.proxy)

    def leave_takers(self) -> list[int]:
        return sorted(
            e for e in self.primary if cat.F_LEAVE in (self.primary[e], self.secondary.get(e, -1))
        )

    def bulk_submitters(self) -> list[int]:
        return sorted(e for e, t in self.primary.items() if t == cat.F_BULK)

    def frozen(self, n_employees: int) -> FraudProfiles:
        out = FraudProfiles(
            dict(self.primary),
            dict(self.secondary),
            dict(self.intensity),
            dict(self.colluder),
            list(self.ghosts),
            dict(self.filer),
            dict(self.proxy),
        )
        out.type1 = np.full(n_employees, -1, dtype=np.int64)
        out.type2 = np.full(n_employees, -1, dtype=np.int64)
        out.p = np.zeros(n_employees)
        out.approver = np.full(n_employees, -1, dtype=np.int64)
        out.filer_of = np.full(n_employees, -1, dtype=np.int64)
        out.proxy_of = np.full(n_employees, -1, dtype=np.int64)
        for emp, other in self.filer.items():
            out.filer_of[emp] = other
        for emp, other in self.proxy.items():
            out.proxy_of[emp] = other
        for e, t in self.primary.items():
            out.type1[e] = t
            out.type2[e] = self.secondary.get(e, -1)
            out.p[e] = self.intensity[e]
            out.approver[e] = self.colluder.get(e, -1)
        return out


def perpetrator_count(employees: int, fraud_rate: float) -> int:
    return max(len(MIN_SET), round(fraud_rate * employees / MEAN_FRAUD_DAY_SHARE))


def assign_fraud_profiles(
    b: _Builder, rng: np.random.Generator, params: FirmParams, start: int
) -> FraudProfiles:
    """Pick perpetrators among the initial workforce and the leavers whose time keeps coming."""
    e = b.e
    n = len(e["hire"])
    profiles = FraudProfiles()
    if params.fraud_rate <= 0:
        return profiles
    k = perpetrator_count(n, params.fraud_rate)
    types = list(MIN_SET)
    mix = params.knobs.fraud_mix
    optional = {cat.FRAUD_TYPES.index(t) for t in cat.OPTIONAL_FRAUD_TYPES}
    enabled = {t for t in optional if mix.get(cat.FRAUD_TYPES[t], 0.0) > 0}
    # An optional scheme the knobs leave out is not even a zero-weight choice: the default
    # world's draws stay exactly what they were before the scheme existed.
    names = sorted(t for t in EXTRA_WEIGHTS if t not in optional or t in enabled)
    types += sorted(enabled)  # at least one perpetrator each, like MIN_SET
    w = np.array([mix.get(cat.FRAUD_TYPES[t], EXTRA_WEIGHTS[t]) for t in names], dtype=float)
    if w.sum() > 0:
        extra = rng.choice(len(names), size=max(0, k - len(types)), p=w / w.sum())
        types += [names[i] for i in extra]
    approvers = [
        i
        for i in range(n)
        if e["grade"][i] in (cat.MANAGER, cat.SENIOR_MANAGER) and e["manager"][i] >= 0
    ]
    workers = [i for i in range(n) if e["grade"][i] <= cat.SENIOR_MANAGER and e["manager"][i] >= 0]
    taken: set[int] = set()

    def draw(pool: list[int]) -> int | None:
        free = [i for i in pool if i not in taken]
        if not free:
            return None
        pick = free[int(rng.integers(len(free)))]
        taken.add(pick)
        return pick

    n_rubber = types.count(cat.F_RUBBER)
    rubber: list[int] = []
    for _ in range(n_rubber // 2):  # colluding pairs approve each other's time
        a = draw(approvers)
        if a is None:
            break
        peers = [i for i in approvers if e["country"][i] == e["country"][a]] or approvers
        bb = draw(peers) or draw(approvers)
        if bb is None:
            taken.discard(a)
            break
        profiles.colluder[a], profiles.colluder[bb] = bb, a
        rubber += [a, bb]
    if n_rubber % 2:
        s = draw(approvers)
        if s is not None:
            profiles.colluder[s] = s  # approves their own time
            rubber.append(s)
    for r in rubber:
        profiles.primary[r] = cat.F_RUBBER
    for t in types:
        if t == cat.F_RUBBER:
            continue
        pick = draw(workers)
        if pick is None:
            break
        if t == cat.F_BUDDY:
            # The colleague who files the days: same office (they sit together, use the
            # same machines), an honest worker otherwise.
            mates = [i for i in workers if e["office"][i] == e["office"][pick]]
            mate = draw(mates)
            mate = draw(workers) if mate is None else mate
            if mate is None:
                taken.discard(pick)
                break
            profiles.filer[pick] = mate
            profiles.primary[pick] = t
            continue
        profiles.primary[pick] = t
        if t in SECONDARY and rng.random() < 0.3:
            others = [s for s in SECONDARY if s != t]
            profiles.secondary[pick] = others[int(rng.integers(len(others)))]
    for emp in sorted(profiles.primary):
        profiles.intensity[emp] = float(rng.uniform(0.35, 0.75))
    if profiles.filer:
        # Honest pairs that look the same from the submission log: one enters the other's
        # (fully worked) time with their own, on about half their days. Twice as many pairs as
        # buddies (times the look-alike knob), so coordination alone is not proof.
        n_proxy = max(1, round(2 * len(profiles.filer) * params.knobs.lookalike_rate))
        for _ in range(n_proxy):
            y = draw(workers)
            if y is None:
                break
            mates = [i for i in workers if e["office"][i] == e["office"][y]]
            x = draw(mates)
            x = draw(workers) if x is None else x
            if x is None:
                break
            profiles.proxy[y] = x
    # Leavers whose timesheets keep coming after the termination date.
    leavers = [i for i in range(n) if e["grade"][i] <= cat.CONSULTANT and i not in taken]
    for _ in range(1 + n // 1500):
        g = draw(leavers)
        if g is None:
            break
        term = next_weekday(start + int(rng.integers(-12, 19)))
        term_rec = int(day_start(term)) - int(rng.integers(5, 21)) * DAY_S + 16 * HOUR_S
        b.terminate(g, term, term_rec)
        e["ghost_until"][g] = term + int(rng.integers(60, 151))
        profiles.ghosts.append(g)
    b.protected |= taken
    # Not protected from attrition (a leaver's scheme simply stops): protecting them would
    # shift the attrition draws of every later month, and so the whole world.
    _assign_post_edit(profiles, workers, set(taken), params, k)
    return profiles


def _assign_post_edit(
    profiles: FraudProfiles, workers: list[int], taken: set[int], params: FirmParams, k: int
) -> None:
    """post_approval_edit perpetrators: at least one, plus its share of the extra ones."""
    rng = np.random.default_rng([params.seed, TAG_POST_EDIT])
    mix = params.knobs.fraud_mix
    name = cat.FRAUD_TYPES[cat.F_POST_EDIT]
    w_post = float(mix.get(name, POST_EDIT_WEIGHT))
    w_rest = sum(float(mix.get(cat.FRAUD_TYPES[t], w)) for t, w in EXTRA_WEIGHTS.items())
    extra = max(0, k - len(MIN_SET))
    share = w_post / (w_post + w_rest) if w_post + w_rest > 0 else 0.0
    count = 1 + round(extra * share)
    free = [i for i in workers if i not in taken]
    for _ in range(min(count, len(free))):
        pick = free.pop(int(rng.integers(len(free))))
        taken.add(pick)
        profiles.primary[pick] = cat.F_POST_EDIT
        profiles.intensity[pick] = float(rng.uniform(0.35, 0.75))
