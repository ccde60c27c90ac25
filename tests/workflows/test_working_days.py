"""Working days in mainland China (workflows.working_days): chinese_calendar for the years it
knows, the configured table beyond, Monday-Friday otherwise; clocks that count only working days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.working_days import (
    CHINESE_CALENDAR,
    HOLIDAYS,
    SHANGHAI,
    TABLE,
    WEEKDAYS,
    WorkingCalendar,
    package_covers,
    parse_table,
)

# An illustrative table for a year after the package's last one. Not the State Council's 2027
# arrangement: the shape an operator fills in once it is published.
TABLE_2027 = {
    "2027": {  # a JSON key, as FLASK_WORKING_DAY_TABLE gives it
        "holidays": ["2027-01-01", "2027-10-01..2027-10-07"],
        "workdays": ["2027-09-26", date(2027, 10, 9)],
    }
}

CAL = WorkingCalendar()


def d(text: str) -> date:
    return date.fromisoformat(text)


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


# ---- which days -----------------------------------------------------------------------------

def test_each_year_is_decided_by_the_first_source_that_knows_it():
    # if a newer chinese_calendar covers 2027, the table tests below still hold (the table wins)
    assert package_covers(2026)
    assert CAL.source(2026) == CHINESE_CALENDAR and CAL.makeup_days_known(2026)
    assert CAL.source(2003) == HOLIDAYS and CAL.covers(2003)    # before chinese_calendar's first year
    assert CAL.source(2101) == WEEKDAYS and not CAL.covers(2101)
    assert WorkingCalendar(packages=()).source(2026) == WEEKDAYS


@pytest.mark.parametrize(("day", "working"), [
    # Spring Festival 2027: Friday 5 (New Year's Eve) to Wednesday 10 February off
    ("2027-02-04", True), ("2027-02-05", False), ("2027-02-06", False), ("2027-02-07", False),
    ("2027-02-08", False), ("2027-02-09", False), ("2027-02-10", False), ("2027-02-11", True),
    # National Day 2027: Friday 1 to Tuesday 5 October (the package's statutory days)
    ("2027-10-01", False), ("2027-10-05", False), ("2027-10-06", True),
    ("2027-07-14", True),
])
def test_2027_comes_from_the_holidays_package_without_make_up_days(day, working):
    if package_covers(2027):
        pytest.skip("chinese_calendar now covers 2027: it decides")
    assert CAL.source(2027) == HOLIDAYS and CAL.covers(2027)
    assert not CAL.makeup_days_known(2027)
    assert CAL.is_working_day(d(day)) is working


def test_a_spring_festival_2027_clock_pauses_for_the_whole_week():
    assert CAL.add_working_days(dt("2027-02-04 10:00"), 1) == dt("2027-02-11 10:00")
    assert CAL.working_time_between(dt("2027-02-04 18:00"), dt("2027-02-11 09:00")) == timedelta(hours=15)


def test_a_make_up_saturday_in_the_table_is_a_working_day_and_completes_the_year():
    cal = WorkingCalendar({2027: {"workdays": ["2027-02-20"]}})   # a Saturday after the Spring Festival
    assert cal.is_working_day(d("2027-02-20")) and not cal.is_working_day(d("2027-02-21"))
    assert not cal.is_working_day(d("2027-02-09"))                # the package still gives the holidays
    assert cal.makeup_days_known(2027) and cal.overridden(2027)
    assert [(e.day, e.working, e.source) for e in cal.describe(2027) if e.source == TABLE] == [
        (d("2027-02-20"), True, TABLE)]
    assert CAL.add_working_days(dt("2027-02-19 10:00"), 1) == dt("2027-02-22 10:00")
    assert cal.add_working_days(dt("2027-02-19 10:00"), 1) == dt("2027-02-20 10:00")


def test_an_empty_workdays_list_says_the_year_has_none():
    assert WorkingCalendar({2027: {"workdays": []}}).makeup_days_known(2027)
    assert not WorkingCalendar({2027: {"holidays": ["2027-03-01"]}}).makeup_days_known(2027)


@pytest.mark.parametrize(("day", "working"), [
    # Mid-Autumn 2026: Friday 25 to Sunday 27 September off; Sunday 20 September a make-up workday
    ("2026-09-20", True), ("2026-09-24", True), ("2026-09-25", False), ("2026-09-26", False),
    ("2026-09-27", False), ("2026-09-28", True),
    # National Day 2026: 1 to 7 October off (Thursday to Wednesday); Saturday 10 October worked
    ("2026-09-30", True), ("2026-10-01", False), ("2026-10-05", False), ("2026-10-07", False),
    ("2026-10-08", True), ("2026-10-09", True), ("2026-10-10", True), ("2026-10-11", False),
    # Spring Festival 2026: 15 to 23 February off; Saturdays 14 and 28 February worked
    ("2026-02-13", True), ("2026-02-14", True), ("2026-02-15", False), ("2026-02-16", False),
    ("2026-02-23", False), ("2026-02-24", True), ("2026-02-28", True), ("2026-03-01", False),
    # New Year 2026: 1 to 3 January off, Sunday 4 January worked
    ("2026-01-02", False), ("2026-01-04", True),
    # an ordinary week
    ("2026-11-20", True), ("2026-11-21", False), ("2026-11-22", False), ("2026-11-23", True),
])
def test_2026_holidays_and_make_up_workdays_come_from_chinese_calendar(day, working):
    assert CAL.is_working_day(d(day)) is working


def test_beyond_the_package_the_table_decides_and_monday_to_friday_fill_the_rest():
    cal = WorkingCalendar(TABLE_2027, packages=())
    assert cal.source(2027) == WEEKDAYS and cal.overridden(2027) and cal.covers(2027)
    assert not cal.is_working_day(d("2027-10-01"))   # a Friday, listed (as part of a range)
    assert not cal.is_working_day(d("2027-10-07"))   # the range's last day is included
    assert cal.is_working_day(d("2027-10-08"))       # a Friday, not listed
    assert cal.is_working_day(d("2027-09-26"))       # a Sunday listed as a make-up workday
    assert cal.is_working_day(d("2027-10-09"))       # a Saturday given as a date
    assert not cal.is_working_day(d("2027-10-10"))   # a Sunday, not listed
    assert not cal.is_working_day(d("2027-01-01"))


def test_a_year_nobody_covers_counts_monday_to_friday_and_says_so():
    cal = WorkingCalendar(packages=())
    assert not cal.covers(2027) and cal.source(2027) == WEEKDAYS and not cal.makeup_days_known(2027)
    assert cal.is_working_day(d("2027-10-01"))       # National Day unknown: a plain Friday
    assert not cal.is_working_day(d("2027-10-02"))


def test_the_table_corrects_a_year_the_package_covers():
    # a holiday extended at short notice (as in February 2020), and a Sunday made a workday
    cal = WorkingCalendar({2026: {"holidays": ["2026-02-24"], "workdays": ["2026-11-22"]}})
    assert not cal.is_working_day(d("2026-02-24"))
    assert cal.is_working_day(d("2026-11-22"))
    assert not cal.is_working_day(d("2026-02-23"))   # the package still decides the rest
    assert cal.is_working_day(d("2026-02-28"))
    assert cal.source(2026) == CHINESE_CALENDAR and cal.overridden(2026)


@pytest.mark.parametrize(("table", "message"), [
    ({"year": {}}, "is not a year"),
    ({2027: {"holidays": ["2027-13-01"]}}, "is not YYYY-MM-DD"),
    ({2027: {"holidays": ["2028-01-01"]}}, "is not in 2027"),
    ({2027: {"holidays": ["2027-10-07..2027-10-01"]}}, "is not YYYY-MM-DD"),
    ({2027: {"holidays": ["2027-10-01"], "workdays": ["2027-10-01"]}}, "both a holiday and a workday"),
    ({2027: {"holiday": ["2027-10-01"]}}, "unknown keys"),
    ({2027: ["2027-10-01"]}, "expected"),
    ({1999: {"holidays": ["1999-10-01"]}}, "out of range"),
    ({"20277": {}}, "out of range"),
    (["2027-10-01"], "expected"),
])
def test_a_malformed_table_is_refused_with_the_setting_and_the_reason(table, message):
    with pytest.raises(ValueError, match=message) as refused:
        parse_table(table)
    assert str(refused.value).startswith("WORKING_DAY_TABLE")


def test_next_working_day_skips_the_national_day_week():
    assert CAL.next_working_day(d("2026-10-01")) == d("2026-10-08")
    assert CAL.next_working_day(d("2026-10-08")) == d("2026-10-08")


def test_a_calendar_without_working_days_is_an_error_not_an_endless_loop():
    everything_off = {y: {"holidays": [f"{y}-01-01..{y}-12-31"]} for y in range(2030, 2042)}
    cal = WorkingCalendar(everything_off)
    with pytest.raises(ValueError, match="check the working-day table"):
        cal.add_working_days(dt("2030-01-01 10:00"), 1)


# ---- clocks ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("start", "n", "due"), [
    # from a working day: the same time of day on the n-th next working day
    ("2026-11-23 10:00", 1, "2026-11-24 10:00"),
    ("2026-11-20 16:30", 1, "2026-11-23 16:30"),       # Friday -> Monday
    ("2026-11-23 10:00", 5, "2026-11-30 10:00"),
    # Mid-Autumn: Thursday 24 September + 1 skips the Friday holiday and the weekend
    ("2026-09-24 10:00", 1, "2026-09-28 10:00"),
    # Friday 18 September + 1: Saturday is off, Sunday 20 September is a make-up workday
    ("2026-09-18 10:00", 1, "2026-09-20 10:00"),
    # National Day: Wednesday 30 September + 1 is Thursday 8 October; + 3 the make-up Saturday
    ("2026-09-30 10:00", 1, "2026-10-08 10:00"),
    ("2026-09-30 10:00", 3, "2026-10-10 10:00"),
    ("2026-09-30 10:00", 4, "2026-10-12 10:00"),
    # Spring Festival: Friday 13 February + 1 is the make-up Saturday, + 2 Tuesday 24 February
    ("2026-02-13 09:00", 1, "2026-02-14 09:00"),
    ("2026-02-13 09:00", 2, "2026-02-24 09:00"),
    # from a day off: the clock starts at 00:00 of the next working day, so the deadline is the
    # end of the n-th working day (00:00 of the next calendar day)
    ("2026-02-18 14:00", 1, "2026-02-25 00:00"),
    ("2026-11-21 15:00", 1, "2026-11-24 00:00"),       # Saturday + 1: all of Monday
    ("2026-10-03 08:00", 2, "2026-10-10 00:00"),       # end of Friday 9 October
    # fractions of a day, and zero
    ("2026-11-23 10:00", 0.5, "2026-11-23 22:00"),
    ("2026-11-21 15:00", 0, "2026-11-21 15:00"),
    # across the end of chinese_calendar's years, into the holidays package's 2027 (New Year off)
    ("2026-12-31 10:00", 1, "2027-01-04 10:00"),
])
def test_add_working_days(start, n, due):
    assert CAL.add_working_days(dt(start), n) == dt(due)


def test_add_working_days_in_a_year_from_the_table():
    cal = WorkingCalendar(TABLE_2027)
    assert cal.add_working_days(dt("2027-09-30 10:00"), 1) == dt("2027-10-08 10:00")
    assert cal.add_working_days(dt("2027-09-30 10:00"), 2) == dt("2027-10-09 10:00")  # make-up Saturday
    assert cal.add_working_days(dt("2027-09-24 10:00"), 1) == dt("2027-09-26 10:00")  # make-up Sunday
    assert cal.add_working_days(dt("2026-12-31 10:00"), 1) == dt("2027-01-04 10:00")  # New Year off


def test_aware_datetimes_are_counted_in_shanghai_and_returned_in_their_zone():
    start = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)            # 10:00 in Shanghai
    due = CAL.add_working_days(start, 1)
    assert due.tzinfo is UTC and due == datetime(2026, 10, 8, 2, 0, tzinfo=UTC)
    # 23:00 UTC on Thursday 24 September is 07:00 on the Friday holiday in Shanghai
    late = CAL.add_working_days(datetime(2026, 9, 24, 23, 0, tzinfo=UTC), 1)
    assert late.astimezone(SHANGHAI) == datetime(2026, 9, 29, 0, 0, tzinfo=SHANGHAI)


def test_negative_working_time_is_refused():
    with pytest.raises(ValueError):
        CAL.add_working_days(dt("2026-11-23 10:00"), -1)


@pytest.mark.parametrize(("start", "end", "hours"), [
    ("2026-11-23 10:00", "2026-11-23 16:00", 6),
    ("2026-11-20 12:00", "2026-11-23 12:00", 24),        # the weekend does not count
    ("2026-09-30 12:00", "2026-10-08 12:00", 24),        # nor the National Day week
    ("2026-10-01 00:00", "2026-10-08 00:00", 0),
    ("2026-09-18 18:00", "2026-09-21 06:00", 6 + 24 + 6),  # Friday evening, the make-up Sunday, Monday morning
    # Spring Festival: Fri 13, Sat 14 (make-up), Tue 24 to Fri 27, Sat 28 (make-up): 7 working days
    ("2026-02-13 00:00", "2026-03-02 00:00", 24 * 7),
])
def test_working_time_between(start, end, hours):
    assert CAL.working_time_between(dt(start), dt(end)) == timedelta(hours=hours)
    assert CAL.working_time_between(dt(end), dt(start)) == -timedelta(hours=hours)


def test_a_paused_clock_resumes_with_what_was_left():
    start = dt("2026-09-22 10:00")                          # Tuesday
    paused = dt("2026-09-24 10:00")                         # Thursday: 2 working days used
    resumed = dt("2026-10-08 10:00")                        # after Mid-Autumn and National Day
    left = timedelta(days=5) - CAL.working_time_between(start, paused)
    assert left == timedelta(days=3)
    # Friday 9 (1), Saturday 10, a make-up workday (2), Monday 12 (3)
    assert CAL.add_working_time(resumed, left) == dt("2026-10-12 10:00")


MOMENTS = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 2, 1))


@settings(max_examples=200, deadline=None)
@given(start=MOMENTS, minutes=st.integers(min_value=0, max_value=12 * 24 * 60))
def test_the_deadline_is_the_first_moment_the_working_time_is_used_up(start, minutes):
    cal = WorkingCalendar(TABLE_2027)
    amount = timedelta(minutes=minutes)
    due = cal.add_working_time(start, amount)
    assert cal.working_time_between(start, due) == amount
    if amount:
        assert cal.is_working_day((due - timedelta(microseconds=1)).date())
        assert cal.working_time_between(start, due - timedelta(microseconds=1)) < amount


def day_by_day(cal: WorkingCalendar, start: datetime, end: datetime) -> timedelta:
    """working_time_between as it was first written: every day from start to end, one by one."""
    if end < start:
        return -day_by_day(cal, end, start)
    a, b = (m.astimezone(SHANGHAI).replace(tzinfo=None) if m.tzinfo else m for m in (start, end))
    total, day = timedelta(0), a.date()
    while day <= b.date():
        if cal.is_working_day(day):
            low = max(a, datetime.combine(day, datetime.min.time()))
            high = min(b, datetime.combine(day + timedelta(days=1), datetime.min.time()))
            total += max(high - low, timedelta(0))
        day += timedelta(days=1)
    return total


WIDE = st.datetimes(min_value=datetime(2023, 6, 1), max_value=datetime(2028, 6, 1))


@settings(max_examples=300, deadline=None)
@given(start=WIDE, end=WIDE, aware=st.booleans())
def test_the_whole_days_counted_by_year_give_the_day_by_day_sum(start, end, aware):
    """Spans of months and years (a stuck list measures them) counted from each year's running
    total of working days, across the table's year, the packages' and Monday-to-Friday's."""
    cal = WorkingCalendar(TABLE_2027)
    if aware:
        start, end = start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
    assert cal.working_time_between(start, end) == day_by_day(cal, start, end)


def test_working_days_from_to_counts_both_ends_and_nothing_backwards():
    assert CAL.working_days_from_to(d("2026-09-28"), d("2026-10-11")) == 6  # Mon 28 - Wed 30, Thu 8 - Sat 10 (make-up)
    assert CAL.working_days_from_to(d("2026-10-01"), d("2026-10-07")) == 0
    assert CAL.working_days_from_to(d("2026-10-09"), d("2026-10-08")) == 0
    assert CAL.working_days_from_to(d("2025-12-31"), d("2026-01-05")) == 3  # Wed 31, (1-3 holiday), Sun 4 make-up, Mon 5
