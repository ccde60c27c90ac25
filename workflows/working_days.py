"""Working days in mainland China, and clocks that run only on them (the SLAs, design.md section 4).

Which days are working days:

1. A date the configured table names decides: its year's "holidays" are days off, its
   "workdays" are working days (the make-up working days, 调休上班, are usually a Saturday or
   a Sunday).
2. Otherwise, for the years the `chinese_calendar` package covers (2004 to 2026 in 1.11; it
   raises NotImplementedError outside them), the package decides: the State Council's yearly
   arrangement of public holidays and make-up working days.
3. Otherwise Monday to Friday are working days.

So the table supplies the years after the package's last one (the State Council publishes each
year's arrangement in November or December of the year before) and can correct a covered year
(a holiday extended at short notice, as in February 2020). A year that neither covers falls
back to Monday-Friday; `covers(year)` tells when that happens, so the application can warn.

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

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = timedelta(days=1)
# A clock that finds no working day in ten years is fed a broken table, not a long SLA.
MAX_SCAN_DAYS = 3660


@dataclass(frozen=True)
class YearTable:
    """One year's exceptions to the rules: days off and make-up working days."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()


@cache
def package_covers(year: int) -> bool:
    """Whether the installed chinese_calendar knows the State Council's arrangement for `year`."""
    try:
        chinese_calendar.is_workday(date(year, 7, 1))
    except NotImplementedError:
        return False
    return True


def parse_table(table: Mapping | None) -> dict[int, YearTable]:
    """Read {year: {"holidays": [...], "workdays": [...]}}, as the configuration holds it.

    Years may be ints or strings (JSON keys); days are dates, "YYYY-MM-DD" strings or inclusive
    ranges "YYYY-MM-DD..YYYY-MM-DD". Raises ValueError naming the first problem.
    """
    parsed: dict[int, YearTable] = {}
    for raw_year, entry in (table or {}).items():
        try:
            year = int(raw_year)
        except (TypeError, ValueError):
            raise ValueError(f"working-day table: {raw_year!r} is not a year") from None
        if not isinstance(entry, Mapping):
            raise ValueError(f"working-day table {year}: expected {{'holidays': [...], 'workdays': [...]}}")
        unknown = set(entry) - {"holidays", "workdays"}
        if unknown:
            raise ValueError(f"working-day table {year}: unknown keys {sorted(unknown)}")
        holidays = _days(year, "holidays", entry.get("holidays") or ())
        workdays = _days(year, "workdays", entry.get("workdays") or ())
        both = holidays & workdays
        if both:
            raise ValueError(f"working-day table {year}: {min(both)} is both a holiday and a workday")
        parsed[year] = YearTable(holidays, workdays)
    return parsed


def _days(year: int, key: str, values: Iterable) -> frozenset[date]:
    if isinstance(values, str | date):
        values = [values]
    days: set[date] = set()
    for value in values:
        for day in _expand(value, year, key):
            if day.year != year:
                raise ValueError(f"working-day table {year}: {key} {day} is not in {year}")
            days.add(day)
    return frozenset(days)


def _expand(value, year: int, key: str) -> list[date]:
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
        raise ValueError(f"working-day table {year}: {key} entry {value!r} is not YYYY-MM-DD "
                         "or YYYY-MM-DD..YYYY-MM-DD") from None


class WorkingCalendar:
    """Mainland China's working days: the table, then chinese_calendar, then Monday-Friday."""

    def __init__(self, table: Mapping | None = None, *, use_package: bool = True, tz: tzinfo = SHANGHAI):
        self.table = parse_table(table)
        self.use_package = use_package
        self.tz = tz

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
        if self.use_package and package_covers(day.year):
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5

    def source(self, year: int) -> str:
        """What decides `year`: "package" (maybe corrected by the table), "table" or "weekdays"."""
        if self.use_package and package_covers(year):
            return "package"
        return "table" if year in self.table else "weekdays"

    def covers(self, year: int) -> bool:
        """False when `year` falls back to Monday-Friday (no public holidays known)."""
        return self.source(year) != "weekdays"

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
        """The working time from `start` to `end` (negative when `end` comes first)."""
        if end < start:
            return -self.working_time_between(end, start)
        a, _ = self._local(start)
        b, _ = self._local(end)
        total = timedelta(0)
        day = a.date()
        while day <= b.date():
            if self.is_working_day(day):
                low = max(a, datetime.combine(day, time()))
                high = min(b, datetime.combine(day + DAY, time()))
                if high > low:
                    total += high - low
            day += DAY
        return total

    def _local(self, moment: datetime) -> tuple[datetime, Callable[[datetime], datetime]]:
        """Naive local wall time, and how to turn a result back into the caller's kind."""
        if moment.tzinfo is None:
            return moment, lambda result: result
        zone = moment.tzinfo
        local = moment.astimezone(self.tz).replace(tzinfo=None)
        return local, lambda result: result.replace(tzinfo=self.tz).astimezone(zone)
