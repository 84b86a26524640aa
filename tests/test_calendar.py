"""remiss/calendar.py: Swedish business days, deadline instants and deadline warnings.

The business-day rules are checked over whole years against a computation written here
from first principles (weekdays minus the Swedish public holidays and the de-facto eves),
with its own Easter and midsummer arithmetic, so a wrong `holidays` call or a wrong eve
shows up as a difference.
"""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from remiss.calendar import (
    days_left,
    deadline_instant,
    deadline_warnings,
    is_business_day,
    local_date,
    next_business_day,
    previous_business_day,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
UTC = timezone.utc


# ---------------------------------------------------------------- an independent calendar

def easter_sunday(year: int) -> date:
    """The anonymous Gregorian algorithm (Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 (the algorithm's own name)
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def midsummer_day(year: int) -> date:
    """Midsommardagen: the Saturday between 20 and 26 June."""
    june_20 = date(year, 6, 20)
    return june_20 + timedelta(days=(5 - june_20.weekday()) % 7)


def swedish_closed_weekdays(year: int) -> dict[date, str]:
    easter = easter_sunday(year)
    return {
        date(year, 1, 1): "nyårsdagen",
        date(year, 1, 6): "trettondedag jul",
        easter - timedelta(days=2): "långfredagen",
        easter + timedelta(days=1): "annandag påsk",
        date(year, 5, 1): "första maj",
        easter + timedelta(days=39): "Kristi himmelsfärdsdag",
        date(year, 6, 6): "nationaldagen",
        midsummer_day(year) - timedelta(days=1): "midsommarafton",
        date(year, 12, 24): "julafton",
        date(year, 12, 25): "juldagen",
        date(year, 12, 26): "annandag jul",
        date(year, 12, 31): "nyårsafton",
    }


def expected_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in swedish_closed_weekdays(day.year)


def days_of(year: int):
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += timedelta(days=1)


# ---------------------------------------------------------------- the independent calendar itself

def test_own_easter_and_midsummer_match_known_dates():
    """Guard the test's own arithmetic with dates from the almanac."""
    assert easter_sunday(2021) == date(2021, 4, 4)
    assert easter_sunday(2024) == date(2024, 3, 31)
    assert easter_sunday(2026) == date(2026, 4, 5)
    assert easter_sunday(2038) == date(2038, 4, 25)  # the latest possible
    assert easter_sunday(2285) == date(2285, 3, 22)  # the earliest possible
    assert midsummer_day(2021) == date(2021, 6, 26)
    assert midsummer_day(2024) == date(2024, 6, 22)
    assert midsummer_day(2026) == date(2026, 6, 20)
    assert midsummer_day(2025) == date(2025, 6, 21)


# ---------------------------------------------------------------- business days over whole years

@pytest.mark.parametrize("year, count", [(2021, 253), (2024, 251), (2026, 251)])
def test_business_days_in_a_year_match_first_principles(year, count):
    """The counts by hand: 2021 has 261 weekdays, 8 of them closed; 2024 has 262, 11 closed;
    2026 has 261, 10 closed."""
    by_app = [day for day in days_of(year) if is_business_day(day)]
    by_rule = [day for day in days_of(year) if expected_business_day(day)]
    assert by_app == by_rule
    assert len(by_app) == count


def test_every_day_agrees_with_first_principles_2005_to_2040():
    """Since 2005, when nationaldagen replaced annandag pingst."""
    differences = [(day, is_business_day(day))
                   for year in range(2005, 2041) for day in days_of(year)
                   if is_business_day(day) != expected_business_day(day)]
    assert differences == []


@pytest.mark.parametrize("year", [2021, 2024, 2026])
def test_each_listed_holiday_on_a_weekday_is_closed(year):
    closed = {day: name for day, name in swedish_closed_weekdays(year).items() if day.weekday() < 5}
    assert closed  # some fall on weekdays every year
    assert [name for day, name in closed.items() if is_business_day(day)] == []


def test_weekends_are_never_business_days():
    for day in days_of(2024):
        if day.weekday() >= 5:
            assert not is_business_day(day), day


def test_days_the_package_does_not_close_stay_open():
    """Skärtorsdag, the day before Ascension, the eve of Epiphany and of All Saints are
    ordinary working days; only the three named eves close."""
    assert is_business_day(date(2021, 4, 1))    # skärtorsdag
    assert is_business_day(date(2021, 5, 12))   # the day before Kristi himmelsfärd
    assert is_business_day(date(2021, 1, 5))    # trettondagsafton
    assert is_business_day(date(2021, 11, 5))   # allhelgonaafton
    assert is_business_day(date(2021, 6, 24))   # the Thursday before midsommarafton
    assert is_business_day(date(2021, 12, 23))
    assert is_business_day(date(2021, 12, 30))
    assert is_business_day(date(2024, 4, 30))   # valborgsmässoafton
    assert is_business_day(date(2024, 6, 20))   # the day before midsommarafton


def test_before_2005_annandag_pingst_was_the_holiday_not_nationaldagen():
    """The rules follow the law of the year, so dates in old rounds keep their meaning."""
    assert not is_business_day(date(2004, 5, 31))   # annandag pingst
    assert is_business_day(date(2004, 6, 7))        # the Monday after national day (a Sunday)
    assert is_business_day(date(2003, 6, 6))        # nationaldagen, a Friday, not yet a holiday
    assert not is_business_day(date(2005, 6, 6))    # nationaldagen, a Monday
    assert is_business_day(date(2005, 5, 16))       # annandag pingst, no longer a holiday


# ---------------------------------------------------------------- Easter, midsummer, Christmas 2021

def test_easter_2021():
    assert is_business_day(date(2021, 4, 1))          # skärtorsdag
    assert not is_business_day(date(2021, 4, 2))      # långfredag
    assert not is_business_day(date(2021, 4, 5))      # annandag påsk
    assert is_business_day(date(2021, 4, 6))
    assert previous_business_day(date(2021, 4, 5)) == date(2021, 4, 1)
    assert previous_business_day(date(2021, 4, 2)) == date(2021, 4, 1)
    assert next_business_day(date(2021, 4, 2)) == date(2021, 4, 6)
    assert next_business_day(date(2021, 4, 3)) == date(2021, 4, 6)


def test_ascension_and_national_day():
    assert not is_business_day(date(2021, 5, 13))   # Kristi himmelsfärd, a Thursday
    assert is_business_day(date(2021, 5, 14))
    assert not is_business_day(date(2024, 6, 6))    # nationaldagen on a Thursday
    assert not is_business_day(date(2026, 5, 1))    # första maj on a Friday
    assert previous_business_day(date(2026, 5, 3)) == date(2026, 4, 30)


def test_midsummer():
    assert not is_business_day(date(2021, 6, 25))   # midsommarafton, Friday
    assert previous_business_day(date(2021, 6, 27)) == date(2021, 6, 24)
    assert next_business_day(date(2021, 6, 25)) == date(2021, 6, 28)
    assert not is_business_day(date(2024, 6, 21))
    assert not is_business_day(date(2026, 6, 19))
    assert is_business_day(date(2026, 6, 22))       # the Monday after: only the eve and the Saturday close


def test_christmas_and_new_year():
    assert not is_business_day(date(2021, 12, 24))  # julafton, Friday
    assert is_business_day(date(2021, 12, 27))      # Monday; juldag and annandag fell on the weekend
    assert next_business_day(date(2021, 12, 24)) == date(2021, 12, 27)
    assert not is_business_day(date(2021, 12, 31))  # nyårsafton, Friday
    assert next_business_day(date(2021, 12, 31)) == date(2022, 1, 3)
    assert previous_business_day(date(2022, 1, 2)) == date(2021, 12, 30)


def test_christmas_2024_closes_four_weekdays_in_a_row():
    for day in (24, 25, 26):
        assert not is_business_day(date(2024, 12, day))
    assert is_business_day(date(2024, 12, 27))
    assert not is_business_day(date(2024, 12, 31))
    assert not is_business_day(date(2025, 1, 1))
    assert previous_business_day(date(2025, 1, 1)) == date(2024, 12, 30)
    assert next_business_day(date(2024, 12, 24)) == date(2024, 12, 27)
    assert next_business_day(date(2024, 12, 31)) == date(2025, 1, 2)


def test_a_business_day_is_its_own_previous_and_next():
    assert previous_business_day(date(2021, 3, 26)) == date(2021, 3, 26)
    assert next_business_day(date(2021, 3, 26)) == date(2021, 3, 26)
    assert previous_business_day(date(2021, 3, 27)) == date(2021, 3, 26)
    assert next_business_day(date(2021, 3, 27)) == date(2021, 3, 29)


def test_previous_and_next_over_a_whole_year():
    for day in days_of(2026):
        before, after = previous_business_day(day), next_business_day(day)
        assert before <= day <= after
        assert is_business_day(before) and is_business_day(after)
        if expected_business_day(day):
            assert before == after == day
        else:
            assert all(not expected_business_day(d) for d in _strictly_between(before, after))


def _strictly_between(first: date, last: date):
    day = first + timedelta(days=1)
    while day < last:
        yield day
        day += timedelta(days=1)


# ---------------------------------------------------------------- deadline instants and DST

def test_deadline_instant_is_the_end_of_the_local_day_on_spring_forward():
    instant = deadline_instant(date(2021, 3, 28), STOCKHOLM)
    assert (instant.year, instant.month, instant.day) == (2021, 3, 28)
    assert (instant.hour, instant.minute, instant.second) == (23, 59, 59)
    assert instant.utcoffset() == timedelta(hours=2)
    assert instant.astimezone(UTC) == datetime(2021, 3, 28, 21, 59, 59, tzinfo=UTC)
    assert local_date(instant + timedelta(seconds=1), STOCKHOLM) == date(2021, 3, 29)


def test_deadline_instant_is_the_end_of_the_local_day_on_fall_back():
    instant = deadline_instant(date(2021, 10, 31), STOCKHOLM)
    assert (instant.year, instant.month, instant.day) == (2021, 10, 31)
    assert (instant.hour, instant.minute, instant.second) == (23, 59, 59)
    assert instant.utcoffset() == timedelta(hours=1)
    assert instant.astimezone(UTC) == datetime(2021, 10, 31, 22, 59, 59, tzinfo=UTC)
    assert local_date(instant + timedelta(seconds=1), STOCKHOLM) == date(2021, 11, 1)


def test_the_switch_days_are_23_and_25_hours_long():
    def utc_end(day):
        return deadline_instant(day, STOCKHOLM).astimezone(UTC)

    assert utc_end(date(2021, 3, 28)) - utc_end(date(2021, 3, 27)) == timedelta(hours=23)
    assert utc_end(date(2021, 10, 31)) - utc_end(date(2021, 10, 30)) == timedelta(hours=25)
    assert utc_end(date(2021, 3, 27)) - utc_end(date(2021, 3, 26)) == timedelta(hours=24)
    assert deadline_instant(date(2021, 3, 27), STOCKHOLM).utcoffset() == timedelta(hours=1)
    assert deadline_instant(date(2021, 10, 30), STOCKHOLM).utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize("utc, local", [
    # winter, around midnight
    (datetime(2021, 1, 26, 22, 59, 59, tzinfo=UTC), date(2021, 1, 26)),
    (datetime(2021, 1, 26, 23, 0, 0, tzinfo=UTC), date(2021, 1, 27)),
    # the night of the spring switch (02:00 CET -> 03:00 CEST)
    (datetime(2021, 3, 27, 22, 59, 59, tzinfo=UTC), date(2021, 3, 27)),
    (datetime(2021, 3, 27, 23, 0, 0, tzinfo=UTC), date(2021, 3, 28)),
    (datetime(2021, 3, 28, 0, 59, 59, tzinfo=UTC), date(2021, 3, 28)),
    (datetime(2021, 3, 28, 1, 0, 0, tzinfo=UTC), date(2021, 3, 28)),
    # the end of the switch day, now on summer time
    (datetime(2021, 3, 28, 21, 59, 59, tzinfo=UTC), date(2021, 3, 28)),
    (datetime(2021, 3, 28, 22, 0, 0, tzinfo=UTC), date(2021, 3, 29)),
    # the night of the autumn switch (03:00 CEST -> 02:00 CET; 02:xx happens twice)
    (datetime(2021, 10, 30, 21, 59, 59, tzinfo=UTC), date(2021, 10, 30)),
    (datetime(2021, 10, 30, 22, 0, 0, tzinfo=UTC), date(2021, 10, 31)),
    (datetime(2021, 10, 31, 0, 30, 0, tzinfo=UTC), date(2021, 10, 31)),
    (datetime(2021, 10, 31, 1, 30, 0, tzinfo=UTC), date(2021, 10, 31)),
    # the end of the switch day, now on winter time
    (datetime(2021, 10, 31, 22, 59, 59, tzinfo=UTC), date(2021, 10, 31)),
    (datetime(2021, 10, 31, 23, 0, 0, tzinfo=UTC), date(2021, 11, 1)),
])
def test_local_date_around_midnight_and_the_switches(utc, local):
    assert local_date(utc, STOCKHOLM) == local


def test_local_date_accepts_any_aware_instant():
    tokyo = datetime(2021, 3, 28, 7, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # 22:00Z on the 27th
    assert local_date(tokyo, STOCKHOLM) == date(2021, 3, 27)
    assert local_date(tokyo, ZoneInfo("Asia/Tokyo")) == date(2021, 3, 28)


@pytest.mark.parametrize("deadline, now, left", [
    # on the deadline day itself, until its last second
    (date(2021, 3, 28), datetime(2021, 3, 27, 23, 0, tzinfo=UTC), 0),
    (date(2021, 3, 28), datetime(2021, 3, 28, 21, 59, 59, tzinfo=UTC), 0),
    # one second later it has passed
    (date(2021, 3, 28), datetime(2021, 3, 28, 22, 0, tzinfo=UTC), -1),
    # the last second of the day before, locally
    (date(2021, 3, 28), datetime(2021, 3, 27, 22, 59, 59, tzinfo=UTC), 1),
    # past midnight locally while it is still the previous day in UTC
    (date(2021, 3, 29), datetime(2021, 3, 28, 22, 30, tzinfo=UTC), 0),
    (date(2021, 10, 31), datetime(2021, 10, 30, 22, 30, tzinfo=UTC), 0),
    (date(2021, 10, 31), datetime(2021, 10, 31, 22, 59, 59, tzinfo=UTC), 0),
    (date(2021, 10, 31), datetime(2021, 10, 31, 23, 0, tzinfo=UTC), -1),
    # across the switch, whole days count as calendar days
    (date(2021, 4, 1), datetime(2021, 3, 26, 12, 0, tzinfo=UTC), 6),
    (date(2021, 11, 3), datetime(2021, 10, 29, 12, 0, tzinfo=UTC), 5),
    (date(2021, 3, 26), datetime(2021, 4, 1, 12, 0, tzinfo=UTC), -6),
])
def test_days_left(deadline, now, left):
    assert days_left(deadline, now, STOCKHOLM) == left


def test_days_left_agrees_with_deadline_instant_every_half_hour_across_both_switches():
    """A deadline has not passed (days_left >= 0) exactly while now <= its deadline_instant,
    and it is today (0) exactly between the end of the day before and its own end."""
    for deadline in (date(2021, 3, 27), date(2021, 3, 28), date(2021, 3, 29),
                     date(2021, 10, 30), date(2021, 10, 31), date(2021, 11, 1)):
        end = deadline_instant(deadline, STOCKHOLM).astimezone(UTC)
        end_of_day_before = deadline_instant(deadline - timedelta(days=1), STOCKHOLM).astimezone(UTC)
        now = end - timedelta(days=3)
        while now < end + timedelta(days=2):
            left = days_left(deadline, now, STOCKHOLM)
            assert (left >= 0) == (now <= end), (deadline, now)
            assert (left == 0) == (end_of_day_before < now <= end), (deadline, now)
            now += timedelta(minutes=30)


# ---------------------------------------------------------------- deadline warnings

def rendered(warnings) -> list[str]:
    return [str(w) for w in warnings]


def test_a_good_eight_week_spring_period_gives_no_warning(app):
    with app.test_request_context():
        assert is_business_day(date(2021, 3, 29))
        assert deadline_warnings(date(2021, 2, 1), date(2021, 3, 29), 6) == []
        assert deadline_warnings(date(2026, 2, 2), date(2026, 3, 30), 6) == []


def test_a_saturday_deadline_warns_and_names_the_business_day_before(app):
    with app.test_request_context():
        warnings = rendered(deadline_warnings(date(2021, 2, 1), date(2021, 3, 27), 6))
    assert len(warnings) == 1
    assert "inte en arbetsdag" in warnings[0]
    assert "26 mars 2021" in warnings[0]


def test_a_holiday_deadline_names_skartorsdag(app):
    with app.test_request_context():
        warnings = rendered(deadline_warnings(date(2021, 2, 8), date(2021, 4, 5), 6))
    assert len(warnings) == 1
    assert "inte en arbetsdag" in warnings[0]
    assert "1 april 2021" in warnings[0]


def test_a_midsummer_eve_deadline_warns(app):
    with app.test_request_context():
        warnings = rendered(deadline_warnings(date(2021, 5, 3), date(2021, 6, 25), 6))
    assert len(warnings) == 1
    assert "24 juni 2021" in warnings[0]


def test_the_warning_in_english_names_the_day_in_english(app):
    app.config["DEFAULT_LOCALE"] = "en"
    with app.test_request_context():
        warnings = rendered(deadline_warnings(date(2021, 2, 1), date(2021, 3, 27), 6))
    assert len(warnings) == 1
    assert "not a working day" in warnings[0]
    assert "26 March 2021" in warnings[0]


def test_a_two_week_period_with_six_weeks_minimum_warns(app):
    with app.test_request_context():
        warnings = rendered(deadline_warnings(date(2021, 3, 1), date(2021, 3, 15), 6))
    assert len(warnings) == 1
    assert "kortare än 6 veckor" in warnings[0]


def test_exactly_the_minimum_does_not_warn_one_day_less_does(app):
    with app.test_request_context():
        assert deadline_warnings(date(2021, 2, 15), date(2021, 3, 29), 6) == []
        warnings = rendered(deadline_warnings(date(2021, 2, 16), date(2021, 3, 29), 6))
    assert len(warnings) == 1
    assert "kortare än 6 veckor" in warnings[0]


def test_a_period_spanning_christmas_warns(app):
    with app.test_request_context():
        warnings = rendered(deadline_warnings(date(2021, 11, 15), date(2022, 1, 14), 6))
    assert warnings == ["Remisstiden går över jul och nyår, då få nämnder sammanträder."]


def test_a_period_in_early_january_or_late_december_warns(app):
    with app.test_request_context():
        january = rendered(deadline_warnings(date(2022, 1, 3), date(2022, 2, 28), 6))
        december = rendered(deadline_warnings(date(2021, 10, 25), date(2021, 12, 20), 6))
        after = deadline_warnings(date(2022, 1, 10), date(2022, 3, 7), 6)
    assert january == ["Remisstiden går över jul och nyår, då få nämnder sammanträder."]
    assert december == ["Remisstiden går över jul och nyår, då få nämnder sammanträder."]
    assert after == []


def test_a_period_spanning_july_warns(app):
    with app.test_request_context():
        warnings = rendered(deadline_warnings(date(2021, 6, 1), date(2021, 8, 20), 6))
        before = deadline_warnings(date(2021, 4, 26), date(2021, 6, 30), 6)
        after = deadline_warnings(date(2021, 8, 2), date(2021, 9, 27), 6)
    assert warnings == ["Remisstiden går över juli, då de flesta har semester och nämnderna inte sammanträder."]
    assert before == []
    assert after == []


def test_a_long_period_over_a_whole_year_warns_for_both(app):
    with app.test_request_context():
        warnings = rendered(deadline_warnings(date(2021, 2, 1), date(2022, 2, 28), 6))
    assert len(warnings) == 2
    assert any("jul och nyår" in w for w in warnings)
    assert any("juli" in w and "semester" in w for w in warnings)


def test_everything_at_once(app):
    """A short period ending on julafton: not a business day, too short, over Christmas."""
    with app.test_request_context():
        warnings = rendered(deadline_warnings(date(2021, 12, 10), date(2021, 12, 24), 6))
    assert len(warnings) == 3
    assert "23 december 2021" in warnings[0]
    assert "kortare än 6 veckor" in warnings[1]
    assert "jul och nyår" in warnings[2]


def test_the_seasons_are_inclusive_at_both_ends(app):
    """A period touching 1 or 31 July, 20 December or 6 January by a single day still warns."""
    july = "Remisstiden går över juli, då de flesta har semester och nämnderna inte sammanträder."
    christmas = "Remisstiden går över jul och nyår, då få nämnder sammanträder."
    with app.test_request_context():
        assert rendered(deadline_warnings(date(2021, 5, 6), date(2021, 7, 1), 6)) == [july]
        assert rendered(deadline_warnings(date(2021, 7, 31), date(2021, 9, 27), 6)) == [july]
        assert deadline_warnings(date(2021, 8, 1), date(2021, 9, 27), 6) == []
        assert rendered(deadline_warnings(date(2021, 12, 31), date(2022, 2, 28), 6)) == [christmas]
        assert rendered(deadline_warnings(date(2022, 1, 6), date(2022, 2, 28), 6)) == [christmas]
        assert deadline_warnings(date(2022, 1, 7), date(2022, 2, 28), 6) == []
