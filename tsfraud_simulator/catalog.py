"""The firm's vocabulary: countries, offices, practices, grades and the words people type.

Everything categorical is kept as a small integer code in the generator arrays and turned into
text only when rows are written, so the per-day numpy work never touches Python strings.
No word here may hint at fraud: the source tables must not leak the ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Office:
    name: str
    country: str
    utc_offset_h: float  # fixed standard offset: the simulator ignores daylight saving


COUNTRIES: tuple[str, ...] = ("US", "GB", "DE", "FR", "IN", "SG", "AU")
# Share of headcount per country (a US-heavy firm with a large delivery centre in India).
COUNTRY_WEIGHTS: tuple[float, ...] = (0.30, 0.12, 0.10, 0.08, 0.22, 0.08, 0.10)

OFFICES: tuple[Office, ...] = (
    Office("New York", "US", -5.0),
    Office("Chicago", "US", -6.0),
    Office("San Francisco", "US", -8.0),
    Office("London", "GB", 0.0),
    Office("Frankfurt", "DE", 1.0),
    Office("Munich", "DE", 1.0),
    Office("Paris", "FR", 1.0),
    Office("Bengaluru", "IN", 5.5),
    Office("Mumbai", "IN", 5.5),
    Office("Singapore", "SG", 8.0),
    Office("Sydney", "AU", 10.0),
    Office("Melbourne", "AU", 10.0),
)
OFFICE_WEIGHTS: tuple[float, ...] = (0.5, 0.25, 0.25, 1.0, 0.6, 0.4, 1.0, 0.6, 0.4, 1.0, 0.6, 0.4)

PRACTICES: tuple[str, ...] = ("strategy", "technology", "operations", "finance", "people")
PRACTICE_ABBR: tuple[str, ...] = ("STR", "TEC", "OPS", "FIN", "PPL")
PRACTICE_WEIGHTS: tuple[float, ...] = (0.15, 0.35, 0.22, 0.18, 0.10)

GRADES: tuple[str, ...] = ("analyst", "consultant", "manager", "senior_manager", "partner")
ANALYST, CONSULTANT, MANAGER, SENIOR_MANAGER, PARTNER = range(5)
GRADE_WEIGHTS: tuple[float, ...] = (0.32, 0.30, 0.19, 0.12, 0.07)

PROJECT_TYPES: tuple[str, ...] = ("billable", "internal", "bench", "training")
BILLABLE, INTERNAL, BENCH, TRAINING = range(4)

INDUSTRIES: tuple[str, ...] = (
    "banking",
    "insurance",
    "energy",
    "retail",
    "healthcare",
    "telecom",
    "manufacturing",
    "public_sector",
    "technology",
    "consumer_goods",
)
CLIENT_STEMS: tuple[str, ...] = (
    "Northwind",
    "Bluewater",
    "Crescent",
    "Summit",
    "Redwood",
    "Ironbridge",
    "Silverline",
    "Evergreen",
    "Harbor",
    "Pinnacle",
    "Orion",
    "Atlas",
    "Meridian",
    "Sterling",
    "Cobalt",
    "Granite",
    "Lakeside",
    "Aurora",
    "Falcon",
    "Keystone",
    "Horizon",
    "Vantage",
    "Beacon",
    "Westfield",
)
INDUSTRY_SUFFIXES: dict[str, tuple[str, ...]] = {
    "banking": ("Bank", "Capital", "Financial"),
    "insurance": ("Insurance", "Assurance", "Mutual"),
    "energy": ("Energy", "Power", "Utilities"),
    "retail": ("Retail", "Stores", "Markets"),
    "healthcare": ("Health", "Pharma", "Medical"),
    "telecom": ("Telecom", "Networks", "Mobile"),
    "manufacturing": ("Industries", "Motors", "Materials"),
    "public_sector": ("Agency", "Authority", "Council"),
    "technology": ("Systems", "Software", "Labs"),
    "consumer_goods": ("Foods", "Brands", "Consumer"),
}

STATUS_SUBMITTED, STATUS_APPROVED, STATUS_REJECTED, STATUS_WITHDRAWN = range(4)
STATUSES: tuple[str, ...] = ("submitted", "approved", "rejected", "withdrawn")

CHANNELS: tuple[str, ...] = ("web", "mobile", "api")

ACTIVITY_CODES: tuple[str, ...] = (
    "DEV",
    "ANALYSIS",
    "MEETING",
    "TRAVEL",
    "ADMIN",
    "TRAINING",
    "DESIGN",
    "REVIEW",
    "SALES",
)
(DEV, ANALYSIS, MEETING, TRAVEL, ADMIN, TRAINING_CODE, DESIGN, REVIEW, SALES) = range(9)

# Activity mix per project type (codes, probabilities); billable work depends on the practice.
BILLABLE_ACTIVITY: dict[int, tuple[tuple[int, ...], tuple[float, ...]]] = {
    0: ((ANALYSIS, MEETING, DESIGN, REVIEW, TRAVEL), (0.40, 0.30, 0.12, 0.10, 0.08)),
    1: ((DEV, DESIGN, MEETING, REVIEW, ANALYSIS, TRAVEL), (0.45, 0.15, 0.15, 0.1, 0.1, 0.05)),
    2: ((ANALYSIS, MEETING, DESIGN, REVIEW, TRAVEL), (0.35, 0.25, 0.15, 0.15, 0.10)),
    3: ((ANALYSIS, REVIEW, MEETING, TRAVEL), (0.50, 0.20, 0.22, 0.08)),
    4: ((ANALYSIS, MEETING, DESIGN, TRAVEL), (0.40, 0.35, 0.17, 0.08)),
}
NONBILLABLE_ACTIVITY: dict[int, tuple[tuple[int, ...], tuple[float, ...]]] = {
    INTERNAL: ((ADMIN, MEETING, SALES, REVIEW), (0.45, 0.30, 0.15, 0.10)),
    BENCH: ((ADMIN, TRAINING_CODE, MEETING), (0.45, 0.40, 0.15)),
    TRAINING: ((TRAINING_CODE,), (1.0,)),
}

COMMENTS_BY_CODE: dict[int, tuple[str, ...]] = {
    DEV: ("Sprint tasks", "Feature build", "Bug fixes", "Code review follow-ups", "Data pipeline"),
    ANALYSIS: ("Data analysis", "Model update", "Requirements analysis", "Benchmarking"),
    MEETING: ("Client workshop", "Status meeting", "Steering committee", "Stand-up and sync"),
    TRAVEL: ("Travel to client site", "Return travel", "Site visit"),
    ADMIN: ("Email and admin", "Expenses", "Internal coordination", "Planning"),
    TRAINING_CODE: ("Onboarding", "E-learning module", "Certification prep", "Academy course"),
    DESIGN: ("Solution design", "Process design", "Slides for workshop", "Target operating model"),
    REVIEW: ("Deliverable review", "Quality review", "Peer review"),
    SALES: ("Proposal writing", "Client pitch", "Account planning"),
}
# Flattened so a comment is a single integer in the generator arrays.
COMMENTS: tuple[str, ...] = tuple(c for code in range(9) for c in COMMENTS_BY_CODE[code])
COMMENT_OFFSET: tuple[int, ...] = tuple(
    sum(len(COMMENTS_BY_CODE[c]) for c in range(code)) for code in range(9)
)
COMMENT_COUNT: tuple[int, ...] = tuple(len(COMMENTS_BY_CODE[c]) for c in range(9))

LEAVE_TYPES: tuple[str, ...] = ("vacation", "sick", "parental", "unpaid")
VACATION, SICK, PARENTAL, UNPAID = range(4)
LEAVE_STATUSES: tuple[str, ...] = ("approved", "cancelled")

FRAUD_TYPES: tuple[str, ...] = (
    "padding",
    "unassigned_project",
    "closed_project",
    "leave_or_holiday",
    "duplicate",
    "ghost",
    "backdated_bulk",
    "rubber_stamp",
    # An approved line changed afterwards, in a later batch: hours raised or moved to a
    # billable project, left under the old approval or re-approved by someone else.
    "post_approval_edit",
    "buddy",  # a colleague files the day of someone who worked a fraction of it
)
(
    F_PADDING,
    F_UNASSIGNED,
    F_CLOSED,
    F_LEAVE,
    F_DUPLICATE,
    F_GHOST,
    F_BULK,
    F_RUBBER,
    F_POST_EDIT,
    F_BUDDY,
) = range(10)
OPTIONAL_FRAUD_TYPES: tuple[str, ...] = ("buddy",)
"""Schemes a firm has only when its knobs give them a weight (`WorldKnobs.fraud_mix`): the
default world stays exactly as it was before they existed."""

# Honest days that look like one fraud pattern but differ from it in another signal.
LOOKALIKES: tuple[str, ...] = (
    "long_day",  # padding: but workstation activity matches the hours
    "late_catchup",  # backdated_bulk: but few days, short lag, activity present
    "weekend_deadline",  # padding/weekend: before a project deadline, with activity
    "holiday_work",  # leave_or_holiday: but with workstation activity
    "repeated_line",  # duplicate: two equal lines, yet the day total is normal
    "staffing_lag",  # unassigned_project: billing starts before the assignment is recorded
    "offline_work",  # padding: little activity (client site), but normal hours
    "partner_self_approval",  # rubber_stamp: top partners approve their own normal time
    # post_approval_edit: a forgotten hour added, a wrong charge code fixed or a line removed
    # after approval, re-approved by the manager (or the manager's delegate)
    "post_approval_correction",
    "proxy_entry",  # buddy: a colleague enters someone's (fully worked) time with their own
)
(
    L_LONG_DAY,
    L_LATE_CATCHUP,
    L_WEEKEND,
    L_HOLIDAY,
    L_REPEATED,
    L_STAFFING_LAG,
    L_OFFLINE,
    L_PARTNER_SELF,
    L_CORRECTION,
    L_PROXY,
) = range(10)

CASE_OUTCOMES: tuple[str, ...] = ("confirmed", "cleared")
