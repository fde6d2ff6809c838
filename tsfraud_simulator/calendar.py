"""Public holidays per country and year, computed in code.

The pipeline runs offline, so nothing is downloaded: fixed-date holidays, the Easter cycle
and nth-weekday rules are computed, and the few lunar-calendar holidays (Chinese New Year,
Diwali, Holi, Vesak) come from a small table of plausible dates with a fixed fallback outside
it. The lists are plausible rather than authoritative, which is all the simulator needs:
each country has its own days off, some of them moving from year to year.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

_CNY = {
    2015: (2, 19), 2016: (2, 8), 2017: (1, 28), 2018: (2, 16), 2019: (2, 5), 2020: (1, 25),
    2021: (2, 12), 2022: (2, 1), 2023: (1, 22), 2024: (2, 10), 2025: (1, 29), 2026: (2, 17),
    2027: (2, 6), 2028: (1, 26), 2029: (2, 13), 2030: (2, 3), 2031: (1, 23), 2032: (2, 11),
}  # fmt: skip
_DIWALI = {
    2015: (11, 11), 2016: (10, 30), 2017: (10, 19), 2018: (11, 7), 2019: (10, 27),
    2020: (11, 14), 2021: (11, 4), 2022: (10, 24), 2023: (11, 13), 2024: (11, 1),
    2025: (10, 21), 2026: (11, 9), 2027: (10, 29), 2028: (10, 17), 2029: (11, 5),
    2030: (10, 26), 2031: (11, 14), 2032: (11, 2),
}  # fmt: skip
_HOLI = {
    2015: (3, 6), 2016: (3, 24), 2017: (3, 13), 2018: (3, 2), 2019: (3, 21), 2020: (3, 10),
    2021: (3, 29), 2022: (3, 18), 2023: (3, 8), 2024: (3, 25), 2025: (3, 14), 2026: (3, 4),
    2027: (3, 22), 2028: (3, 11), 2029: (3, 1), 2030: (3, 20), 2031: (3, 9), 2032: (3, 27),
}  # fmt: skip
_VESAK = {
    2015: (6, 1), 2016: (5, 21), 2017: (5, 10), 2018: (5, 29), 2019: (5, 19), 2020: (5, 7),
    2021: (5, 26), 2022: (5, 15), 2023: (6, 2), 2024: (5, 22), 2025: (5, 12), 2026: (5, 31),
    2027: (5, 20), 2028: (5, 9), 2029: (5, 27), 2030: (5, 16), 2031: (6, 4), 2032: (5, 23),
}  # fmt: skip


def easter_sunday(year: int) -> dt.date:
    """Anonymous Gregorian algorithm (Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th `weekday` (0 = Monday) of a month; n = -1 is the last one."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _lunar(table: dict[int, tuple[int, int]], year: int, fallback: tuple[int, int]) -> dt.date:
    month, day = table.get(year, fallback)
    return dt.date(year, month, day)


def _observed_us(day: dt.date) -> dt.date:
    if day.weekday() == 5:
        return day - dt.timedelta(days=1)
    if day.weekday() == 6:
        return day + dt.timedelta(days=1)
    return day


def _substitute(days: list[tuple[dt.date, str]]) -> list[tuple[dt.date, str]]:
    """Commonwealth rule: a holiday on a weekend moves to the next free weekday."""
    taken = {d for d, _ in days if d.weekday() < 5}
    out: list[tuple[dt.date, str]] = []
    for day, name in sorted(days):
        if day.weekday() < 5:
            out.append((day, name))
            continue
        sub = day + dt.timedelta(days=7 - day.weekday())
        while sub in taken or sub.weekday() >= 5:
            sub += dt.timedelta(days=1)
        taken.add(sub)
        out.append((sub, f"{name} (substitute day)"))
    return out


def _us(year: int) -> list[tuple[dt.date, str]]:
    return [
        (_observed_us(dt.date(year, 1, 1)), "New Year's Day"),
        (nth_weekday(year, 1, 0, 3), "Martin Luther King Jr. Day"),
        (nth_weekday(year, 2, 0, 3), "Presidents' Day"),
        (nth_weekday(year, 5, 0, -1), "Memorial Day"),
        (_observed_us(dt.date(year, 6, 19)), "Juneteenth"),
        (_observed_us(dt.date(year, 7, 4)), "Independence Day"),
        (nth_weekday(year, 9, 0, 1), "Labor Day"),
        (nth_weekday(year, 10, 0, 2), "Columbus Day"),
        (_observed_us(dt.date(year, 11, 11)), "Veterans Day"),
        (nth_weekday(year, 11, 3, 4), "Thanksgiving Day"),
        (_observed_us(dt.date(year, 12, 25)), "Christmas Day"),
    ]


def _gb(year: int) -> list[tuple[dt.date, str]]:
    easter = easter_sunday(year)
    return _substitute(
        [
            (dt.date(year, 1, 1), "New Year's Day"),
            (easter - dt.timedelta(days=2), "Good Friday"),
            (easter + dt.timedelta(days=1), "Easter Monday"),
            (nth_weekday(year, 5, 0, 1), "Early May Bank Holiday"),
            (nth_weekday(year, 5, 0, -1), "Spring Bank Holiday"),
            (nth_weekday(year, 8, 0, -1), "Summer Bank Holiday"),
            (dt.date(year, 12, 25), "Christmas Day"),
            (dt.date(year, 12, 26), "Boxing Day"),
        ]
    )


def _de(year: int) -> list[tuple[dt.date, str]]:
    easter = easter_sunday(year)
    return [
        (dt.date(year, 1, 1), "Neujahr"),
        (easter - dt.timedelta(days=2), "Karfreitag"),
        (easter + dt.timedelta(days=1), "Ostermontag"),
        (dt.date(year, 5, 1), "Tag der Arbeit"),
        (easter + dt.timedelta(days=39), "Christi Himmelfahrt"),
        (easter + dt.timedelta(days=50), "Pfingstmontag"),
        (dt.date(year, 10, 3), "Tag der Deutschen Einheit"),
        (dt.date(year, 12, 25), "Erster Weihnachtstag"),
        (dt.date(year, 12, 26), "Zweiter Weihnachtstag"),
    ]


def _fr(year: int) -> list[tuple[dt.date, str]]:
    easter = easter_sunday(year)
    return [
        (dt.date(year, 1, 1), "Jour de l'an"),
        (easter + dt.timedelta(days=1), "Lundi de Pâques"),
        (dt.date(year, 5, 1), "Fête du Travail"),
        (dt.date(year, 5, 8), "Victoire 1945"),
        (easter + dt.timedelta(days=39), "Ascension"),
        (easter + dt.timedelta(days=50), "Lundi de Pentecôte"),
        (dt.date(year, 7, 14), "Fête nationale"),
        (dt.date(year, 8, 15), "Assomption"),
        (dt.date(year, 11, 1), "Toussaint"),
        (dt.date(year, 11, 11), "Armistice 1918"),
        (dt.date(year, 12, 25), "Noël"),
    ]


def _in(year: int) -> list[tuple[dt.date, str]]:
    diwali = _lunar(_DIWALI, year, (11, 1))
    return [
        (dt.date(year, 1, 26), "Republic Day"),
        (_lunar(_HOLI, year, (3, 12)), "Holi"),
        (dt.date(year, 5, 1), "Maharashtra Day"),
        (dt.date(year, 8, 15), "Independence Day"),
        (dt.date(year, 10, 2), "Gandhi Jayanti"),
        (diwali, "Diwali"),
        (diwali + dt.timedelta(days=1), "Diwali (Balipratipada)"),
        (dt.date(year, 12, 25), "Christmas Day"),
    ]


def _sg(year: int) -> list[tuple[dt.date, str]]:
    easter = easter_sunday(year)
    cny = _lunar(_CNY, year, (2, 5))
    days = [
        (dt.date(year, 1, 1), "New Year's Day"),
        (cny, "Chinese New Year"),
        (cny + dt.timedelta(days=1), "Chinese New Year (second day)"),
        (easter - dt.timedelta(days=2), "Good Friday"),
        (dt.date(year, 5, 1), "Labour Day"),
        (_lunar(_VESAK, year, (5, 20)), "Vesak Day"),
        (dt.date(year, 8, 9), "National Day"),
        (_lunar(_DIWALI, year, (11, 1)), "Deepavali"),
        (dt.date(year, 12, 25), "Christmas Day"),
    ]
    out = []
    for day, name in days:
        if day.weekday() == 6:  # Sunday holidays move to Monday
            day, name = day + dt.timedelta(days=1), f"{name} (observed)"
        out.append((day, name))
    return out


def _au(year: int) -> list[tuple[dt.date, str]]:
    easter = easter_sunday(year)
    fixed = _substitute(
        [
            (dt.date(year, 1, 1), "New Year's Day"),
            (dt.date(year, 1, 26), "Australia Day"),
            (dt.date(year, 12, 25), "Christmas Day"),
            (dt.date(year, 12, 26), "Boxing Day"),
        ]
    )
    return [
        *fixed,
        (easter - dt.timedelta(days=2), "Good Friday"),
        (easter + dt.timedelta(days=1), "Easter Monday"),
        (dt.date(year, 4, 25), "Anzac Day"),
        (nth_weekday(year, 6, 0, 2), "King's Birthday"),
        (nth_weekday(year, 10, 0, 1), "Labour Day"),
    ]


_RULES = {"US": _us, "GB": _gb, "DE": _de, "FR": _fr, "IN": _in, "SG": _sg, "AU": _au}


@cache
def holidays(country: str, year: int) -> tuple[tuple[dt.date, str], ...]:
    """Sorted (date, name) pairs, one per date: two holidays on one day share the row."""
    by_day: dict[dt.date, str] = {}
    for day, name in _RULES[country](year):
        by_day[day] = f"{by_day[day]} / {name}" if day in by_day else name
    return tuple(sorted(by_day.items()))
