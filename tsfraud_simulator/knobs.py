"""What real firms vary, as simulator knobs: investigations, fraud intensity and mix, noise.

The default world is a generous one (rule-driven investigations open on 30% of fraud days and
confirm 96% of them; schemes are blatant enough). Detection tuned there can fail on a firm
where investigators confirm a handful of cases a month, chosen from tips, where padding is a
quiet hour a day, and where a scheme nobody has confirmed yet is running. Each knob moves one
of those, and `WorldKnobs()` (all defaults) reproduces the default world exactly: default knobs
draw no extra random numbers and change no threshold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from tsfraud_simulator import catalog as cat

SELECTIONS = ("rules", "tips", "random")
"""How investigations are chosen: `rules` (default: red-flag days and look-alikes, as a list
would surface them), `tips` (about people: perpetrators, any day, look-alikes no more than
anyone), `random` (audits: every employee-day alike)."""
INTENSITIES = ("default", "subtle", "blatant")


def fraud_type_names() -> dict[str, int]:
    """Fraud type name (as in the ground truth) -> catalog code."""
    return {name: code for code, name in enumerate(cat.FRAUD_TYPES)}


@dataclass(frozen=True)
class WorldKnobs:
    investigation_rate: float = 1.0
    """Multiplier on the chance that a day is investigated (0 = no case ever opens)."""
    confirm_rate: float = 0.96
    """Share of investigated fraud days that end confirmed (the rest are cleared: missed)."""
    selection: str = "rules"
    """See SELECTIONS."""
    intensity: str = "default"
    """`subtle`: padding of about an hour, 1-2 h fraud lines, fraud on fewer days;
    `blatant`: more hours, more often."""
    fraud_mix: dict[str, float] = field(default_factory=dict)
    """Relative weights per fraud type name for perpetrators beyond the one-per-type minimum
    (missing types keep their default weight; 0 removes the extra ones). Optional schemes
    (`catalog.OPTIONAL_FRAUD_TYPES`: `buddy`, a colleague filing a short day as a full one)
    exist only when given a weight here; they then also get honest look-alikes (`proxy_entry`:
    a colleague entering someone's fully worked time with their own)."""
    never_confirmed: tuple[str, ...] = ()
    """Fraud types whose cases always end cleared: schemes no investigator has recognised."""
    activity_noise: float = 0.0
    """Standard deviation (log scale) of day-to-day noise on logged workstation activity."""
    lookalike_rate: float = 1.0
    """Multiplier on honest look-alike behaviour (holiday shifts, offline client days,
    repeated lines, long days)."""
    offdesk_rate: float = 1.0
    """Multiplier on honest work away from the workstation (calls before the first login,
    meetings after the last: 8% of worked days and a quarter of long days at 1.0)."""
    field_share: float = 0.0
    """Share of employees who work mostly at client sites on the client's laptops: the firm's
    workstation logs see only 35-65% of their real hours, every day. Their own habit, not
    fraud; firm-wide "hours beyond activity" rules fire on many of their honest days (a firm
    where a quarter of honest days trip some rule looks like this)."""

    def __post_init__(self) -> None:
        names = fraud_type_names()
        if self.selection not in SELECTIONS:
            raise ValueError(f"selection must be one of {', '.join(SELECTIONS)}")
        if self.intensity not in INTENSITIES:
            raise ValueError(f"intensity must be one of {', '.join(INTENSITIES)}")
        if not 0 <= self.confirm_rate <= 1:
            raise ValueError("confirm_rate is a share in [0, 1]")
        if self.investigation_rate < 0 or self.activity_noise < 0 or self.lookalike_rate < 0:
            raise ValueError("investigation_rate, activity_noise and lookalike_rate must be >= 0")
        if not 0 <= self.offdesk_rate <= 4:
            raise ValueError("offdesk_rate is a multiplier in [0, 4]")
        if not 0 <= self.field_share <= 1:
            raise ValueError("field_share is a share of employees in [0, 1]")
        unknown = sorted((set(self.fraud_mix) | set(self.never_confirmed)) - set(names))
        if unknown:
            raise ValueError(
                f"unknown fraud type(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}"
            )
        if any(w < 0 for w in self.fraud_mix.values()):
            raise ValueError("fraud_mix weights must be >= 0")

    @property
    def is_default(self) -> bool:
        return self == WorldKnobs()

    def never_confirmed_codes(self) -> tuple[int, ...]:
        names = fraud_type_names()
        return tuple(names[n] for n in self.never_confirmed)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["never_confirmed"] = list(self.never_confirmed)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> WorldKnobs:
        if not data:
            return cls()
        data = dict(data)
        data["never_confirmed"] = tuple(data.get("never_confirmed", ()))
        data["fraud_mix"] = dict(data.get("fraud_mix", {}))
        return cls(**data)

    def describe(self) -> str:
        if self.is_default:
            return "default world"
        default = WorldKnobs()
        parts = [
            f"{k}={v}" for k, v in self.to_json().items() if v != WorldKnobs.to_json(default)[k]
        ]
        return ", ".join(parts)
