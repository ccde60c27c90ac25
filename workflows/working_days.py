"""Working days in mainland China, and clocks that run only on them (the SLAs, design.md section 4).

Which days are working days, asked in this order for each day (issue 17):

1. The operator's table (WORKING_DAY_TABLE, and the years a platform admin sets in the app) names
   the day: its year's "holidays" are days off, its "workdays" are working days (the make-up
   working days, 调休上班, usually a Saturday or a Sunday). It is copied from the State Council's
   yearly notice, published in November or December of the year before.
2. `chinese_calendar` for the years it covers (2004 to 2026 in 1.11; it raises
   NotImplementedError outside them): the State Council's whole arrangement, holidays and
   make-up working days.
3. The `holidays` package's China calendar (1950 to 2100): the statutory public holidays of any
   year, computed from the lunar calendar, and the make-up working days only once its
   maintainers add the year's notice (`weekend_workdays`). Until then a year it decides has its
   holidays but counts its make-up Saturdays as days off: `makeup_days_known(year)` says so, and
   the application warns the platform admin until the table gives them.
4. Monday to Friday, when nothing above knows the year.

`source(year)` names what decides a year below the table; `describe(year)` lists the year's
days off on weekdays and working weekend days with what decided each (`flask sla calendar YEAR`).

How a clock runs: every hour of a working day counts (24 hours per working day, local wall
time), no hour of a day off does. "n working days after t" is the earliest moment by which n x
24 working hours have passed since t:

- from a working day, it is the same local time of day on the n-th next working day
  (Thursday 10:00 + 1, Friday a holiday: Monday 10:00);
- from a day off, the clock starts at 00:00 of the next working day, so the deadline is the end
  (24:00) of the n-th working day, returned as 00:00 of the calendar day after it
  (Saturday 15:00 + 1: Tuesday 00:00, i.e. all of Monday);
- n = 0 returns the start unchanged.

`working_time_between(a, b)` measures the same hours (a timedelta; divide by
timedelta(days=1) for working days), so a paused clock resumes with
`add_working_time(resumed_at, allowed - working_time_between(started, paused))`, and
working_time_between(t, add_working_time(t, x)) == x for every t and x.

Datetimes may be naive (local wall time, returned naive) or aware (converted to the calendar's
zone, Asia/Shanghai by default, and returned in the zone they came in).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo

# chinese_calendar and holidays are imported where a year is first asked about: `holidays` alone
# costs more to import than the rest of this module (start-up, issue 15)

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = timedelta(days=1)
# A clock that finds no working day in ten years is fed a broken table, not a long SLA.
MAX_SCAN_DAYS = 3660
# the years a table may name: a typo such as 20277 or 207 is refused, not silently ignored
TABLE_YEARS = range(2000, 2101)

# what decides a year below the table
CHINESE_CALENDAR, HOLIDAYS, WEEKDAYS = "chinese_calendar", "holidays", "weekdays"
TABLE = "table"
PACKAGES = (CHINESE_CALENDAR, HOLIDAYS)


@dataclass(frozen=True)
class YearTable:
    """One year's exceptions to the rules: days off and make-up working days."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    workdays_given: bool = False  # "workdays" was set, even empty: the year's make-up days are known


@cache
def package_covers(year: int) -> bool:
    """Whether the installed chinese_calendar knows the State Council's arrangement for `year`."""
    import chinese_calendar

    try:
        chinese_calendar.is_workday(date(year, 7, 1))
    except NotImplementedError:
        return False
    return True


@cache
def holidays_package_year(year: int) -> YearTable | None:
    """The `holidays` package's China calendar for `year` (None outside its range): the statutory
    days off and, once its maintainers have added the year's notice, the make-up working days."""
    import holidays as holidays_package

    calendar_class = holidays_package.CN
    if not calendar_class.start_year <= year <= calendar_class.end_year:
        return None
    known = calendar_class(years=year)
    days_off = frozenset(day for day in known if day.year == year)
    workdays = frozenset(day for day in known.weekend_workdays if day.year == year)
    return YearTable(days_off, workdays, workdays_given=bool(workdays))


@cache
def holiday_names(year: int) -> dict[date, str]:
    """The holidays package's names of `year`'s days off (English)."""
    import holidays as holidays_package

    return dict(holidays_package.CN(years=year)) if holidays_package_year(year) is not None else {}


def parse_table(table: Mapping | None, setting: str = "WORKING_DAY_TABLE") -> dict[int, YearTable]:
    """Read {year: {"holidays": [...], "workdays": [...]}}, as the configuration holds it.

    Years may be ints or strings (JSON keys) within TABLE_YEARS; days are dates, "YYYY-MM-DD"
    strings or inclusive ranges "YYYY-MM-DD..YYYY-MM-DD". Raises ValueError naming `setting` and
    the first problem.
    """
    if table is not None and not isinstance(table, Mapping):
        raise ValueError(f"{setting}: expected {{year: {{'holidays': [...], 'workdays': [...]}}}}")
    parsed: dict[int, YearTable] = {}
    for raw_year, entry in (table or {}).items():
        try:
            year = int(raw_year)
        except (TypeError, ValueError):
            raise ValueError(f"{setting}: {raw_year!r} is not a year") from None
        if year not in TABLE_YEARS:
            raise ValueError(f"{setting}: year {year} is out of range "
                             f"({TABLE_YEARS.start}-{TABLE_YEARS.stop - 1})")
        if not isinstance(entry, Mapping):
            raise ValueError(f"{setting} {year}: expected {{'holidays': [...], 'workdays': [...]}}")
        unknown = set(entry) - {"holidays", "workdays"}
        if unknown:
            raise ValueError(f"{setting} {year}: unknown keys {sorted(unknown)}")
        holidays = _days(year, "holidays", entry.get("holidays") or (), setting)
        workdays = _days(year, "workdays", entry.get("workdays") or (), setting)
        both = holidays & workdays
        if both:
            raise ValueError(f"{setting} {year}: {min(both)} is both a holiday and a workday")
        parsed[year] = YearTable(holidays, workdays, workdays_given="workdays" in entry)
    return parsed


def _days(year: int, key: str, values: Iterable, setting: str) -> frozenset[date]:
    if isinstance(values, str | date):
        values = [values]
    days: set[date] = set()
    for value in values:
        for day in _expand(value, year, key, setting):
            if day.year != year:
                raise ValueError(f"{setting} {year}: {key} {day} is not in {year}")
            days.add(day)
    return frozenset(days)


def _expand(value, year: int, key: str, setting: str) -> list[date]:
    if isinstance(value, datetime):
        return [value.date()]
    if isinstance(value, date):
        return [value]
    try:
        text = str(value).strip()
        if ".." in text:
            first, last = (date.fromisoformat(part.strip()) for part in text.split("..", 1))
            if last < first:
                raise ValueError
            return [first + timedelta(days=i) for i in range((last - first).days + 1)]
        return [date.fromisoformat(text)]
    except ValueError:
        raise ValueError(f"{setting} {year}: {key} entry {value!r} is not YYYY-MM-DD "
                         "or YYYY-MM-DD..YYYY-MM-DD") from None


@dataclass(frozen=True)
class DayException:
    """A day whose status differs from Monday-Friday, and what decided it."""

    day: date
    working: bool
    source: str  # TABLE or one of PACKAGES
    name: str = ""  # the holidays package's name for it, in English, when it decided


class WorkingCalendar:
    """Mainland China's working days: the table, chinese_calendar, the holidays package, Monday-Friday."""

    def __init__(self, table: Mapping | None = None, *, packages: Iterable[str] = PACKAGES,
                 tz: tzinfo = SHANGHAI, parsed: Mapping[int, YearTable] | None = None):
        self.table = dict(parsed) if parsed is not None else parse_table(table)
        self.packages = tuple(packages)
        unknown = set(self.packages) - set(PACKAGES)
        if unknown:
            raise ValueError(f"unknown calendar packages {sorted(unknown)}")
        self.tz = tz
        self._decided: dict[date, tuple[bool, str]] = {}  # below the table, per day (a few thousand at most)
        self._year_counts: dict[int, list[int]] = {}  # working days before each day of a year

    # ---- days ------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        if isinstance(day, datetime):
            day = day.date()
        entry = self.table.get(day.year)
        if entry is not None:
            if day in entry.holidays:
                return False
            if day in entry.workdays:
                return True
        return self._below_table(day)[0]

    def _below_table(self, day: date) -> tuple[bool, str]:
        decided = self._decided.get(day)
        if decided is None:
            decided = self._decided[day] = self._decide_below_table(day)
        return decided

    def _decide_below_table(self, day: date) -> tuple[bool, str]:
        source = self.source(day.year)
        if source == CHINESE_CALENDAR:
            import chinese_calendar

            return chinese_calendar.is_workday(day), source
        if source == HOLIDAYS:
            known = holidays_package_year(day.year)
            if day in known.workdays:
                return True, source
            return day not in known.holidays and day.weekday() < 5, source
        return day.weekday() < 5, source

    def source(self, year: int) -> str:
        """What decides `year` below the table: CHINESE_CALENDAR, HOLIDAYS or WEEKDAYS."""
        if CHINESE_CALENDAR in self.packages and package_covers(year):
            return CHINESE_CALENDAR
        if HOLIDAYS in self.packages and holidays_package_year(year) is not None:
            return HOLIDAYS
        return WEEKDAYS

    def overridden(self, year: int) -> bool:
        """Whether the table names days of `year`."""
        return year in self.table

    def covers(self, year: int) -> bool:
        """False when `year` falls back to Monday-Friday (no public holidays known)."""
        return self.overridden(year) or self.source(year) != WEEKDAYS

    def makeup_days_known(self, year: int) -> bool:
        """Whether the official make-up working days of `year` are known: chinese_calendar's
        years, a holidays-package year its maintainers completed, or a year the table gives them."""
        entry = self.table.get(year)
        if entry is not None and entry.workdays_given:
            return True
        source = self.source(year)
        if source == HOLIDAYS:
            return holidays_package_year(year).workdays_given
        return source == CHINESE_CALENDAR

    def describe(self, year: int) -> list[DayException]:
        """`year`'s weekdays off and working weekend days, each with what decided it."""
        found = []
        day = date(year, 1, 1)
        entry = self.table.get(year)
        while day.year == year:
            if entry is not None and (day in entry.holidays or day in entry.workdays):
                working, source = day in entry.workdays, TABLE
            else:
                working, source = self._below_table(day)
            if working != (day.weekday() < 5):
                name = holiday_names(year).get(day, "") if source == HOLIDAYS else ""
                found.append(DayException(day, working, source, name))
            day += DAY
        return found

    def next_working_day(self, day: date) -> date:
        """`day` itself when it is a working day, else the first working day after it."""
        for _ in range(MAX_SCAN_DAYS):
            if self.is_working_day(day):
                return day
            day += DAY
        raise ValueError(f"no working day within {MAX_SCAN_DAYS} days of {day}: check the working-day table")

    # ---- clocks ----------------------------------------------------------------------------

    def add_working_days(self, start: datetime, n: float) -> datetime:
        """The deadline n working days after `start` (see the module docstring for the rules)."""
        return self.add_working_time(start, timedelta(days=n))

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The earliest moment by which `amount` of working time has passed since `start`."""
        if amount < timedelta(0):
            raise ValueError(f"negative working time: {amount}")
        if not amount:
            return start
        moment, back = self._local(start)
        remaining = amount
        for _ in range(MAX_SCAN_DAYS):
            day_end = datetime.combine(moment.date() + DAY, time())
            if self.is_working_day(moment.date()):
                available = day_end - moment
                if remaining <= available:
                    return back(moment + remaining)
                remaining -= available
            moment = day_end
        raise ValueError(f"no working day within {MAX_SCAN_DAYS} days of {start}: check the working-day table")

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """The working time from `start` to `end` (negative when `end` comes first): the working
        part of the first and the last day, and the whole days between counted by year."""
        if end < start:
            return -self.working_time_between(end, start)
        a, _ = self._local(start)
        b, _ = self._local(end)
        first, last = a.date(), b.date()
        if first == last:
            return b - a if self.is_working_day(first) else timedelta(0)
        total = timedelta(0)
        if self.is_working_day(first):
            total += datetime.combine(first + DAY, time()) - a
        if self.is_working_day(last):
            total += b - datetime.combine(last, time())
        return total + DAY * self.working_days_from_to(first + DAY, last - DAY)

    def working_days_from_to(self, first: date, last: date) -> int:
        """How many working days from `first` to `last`, both included (0 when last < first)."""
        count = 0
        for year in range(first.year, last.year + 1):
            before = self._working_days_before(year)
            low = first.timetuple().tm_yday if year == first.year else 1
            high = last.timetuple().tm_yday if year == last.year else len(before) - 1
            count += before[high] - before[low - 1]
        return count

    def _working_days_before(self, year: int) -> list[int]:
        """[0, working days among the year's first day, among its first two, ...]: one pass over
        the year, kept (a stuck list measures hundreds of requests stuck for months)."""
        counts = self._year_counts.get(year)
        if counts is None:
            counts, day, seen = [0], date(year, 1, 1), 0
            while day.year == year:
                seen += self.is_working_day(day)
                counts.append(seen)
                day += DAY
            self._year_counts[year] = counts
        return counts

    def _local(self, moment: datetime) -> tuple[datetime, Callable[[datetime], datetime]]:
        """Naive local wall time, and how to turn a result back into the caller's kind."""
        if moment.tzinfo is None:
            return moment, lambda result: result
        zone = moment.tzinfo
        local = moment.astimezone(self.tz).replace(tzinfo=None)
        return local, lambda result: result.replace(tzinfo=self.tz).astimezone(zone)
