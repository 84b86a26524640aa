"""Swedish business days and deadline arithmetic.

A deadline is a local date meaning the end of that day in Europe/Stockholm. Business
days are weekdays that are neither public holidays nor the de-facto eves when offices
close (midsommarafton, julafton, nyårsafton).
"""
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from flask_babel import lazy_gettext as _l

from .i18n import format_day


@lru_cache(maxsize=64)
def _closed_days(year: int) -> frozenset[date]:
    closed = set(holidays.country_holidays("SE", years=year)) | {date(year, 12, 24), date(year, 12, 31)}
    # The holiday data ends (in 2100): a year past it has no midsummer to find, only weekends.
    midsummer_day = next((d for d, name in holidays.country_holidays("SE", years=year, language="en_US").items()
                          if "Midsummer" in name), None)
    if midsummer_day is not None:
        closed.add(midsummer_day - timedelta(days=1))
    return frozenset(closed)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _closed_days(day.year)


def previous_business_day(day: date) -> date:
    """`day` itself if it is a business day, else the nearest earlier one."""
    while not is_business_day(day):
        day -= timedelta(days=1)
    return day


def next_business_day(day: date) -> date:
    """`day` itself if it is a business day, else the nearest later one."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def deadline_instant(day: date, zone: ZoneInfo) -> datetime:
    """The last moment of the deadline day, local time (23:59:59)."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone)


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def days_left(deadline: date, now: datetime, zone: ZoneInfo) -> int:
    """Calendar days from today (local) to the deadline: 0 on the day, negative when passed."""
    return (deadline - local_date(now, zone)).days


def deadline_warnings(start: date, deadline: date, minimum_weeks: int) -> list[str]:
    """What an officer should know before choosing this deadline; warnings, never refusals."""
    warnings = []
    if not is_business_day(deadline):
        warnings.append(_l("Sista svarsdag är inte en arbetsdag (helg eller helgdag). Närmaste arbetsdag före "
                           "är %(day)s.", day=format_day(previous_business_day(deadline))))
    if deadline < start + timedelta(weeks=minimum_weeks):
        warnings.append(_l("Remisstiden är kortare än %(weeks)s veckor. Nämnderna hinner kanske inte behandla "
                           "remissen på ett sammanträde.", weeks=minimum_weeks))
    if _spans(start, deadline, 12, 20, 12, 31) or _spans(start, deadline, 1, 1, 1, 6):
        warnings.append(_l("Remisstiden går över jul och nyår, då få nämnder sammanträder."))
    if _spans(start, deadline, 7, 1, 7, 31):
        warnings.append(_l("Remisstiden går över juli, då de flesta har semester och nämnderna inte sammanträder."))
    return warnings


def _spans(start: date, end: date, m1: int, d1: int, m2: int, d2: int) -> bool:
    """Whether [start, end] overlaps the yearly period m1/d1–m2/d2 in any year it touches."""
    for year in range(start.year, end.year + 1):
        if start <= date(year, m2, d2) and end >= date(year, m1, d1):
            return True
    return False
