"""The working calendar every clock in the application uses (workflows.working_days over a table).

The table is the deployment's WORKING_DAY_TABLE (checked at start-up, config.finalise) and the
years a platform admin set in the app from the State Council's notice (CalendarYear). For a year
in both the configuration wins, and the admin's calendar page says so.

The rows are read at most once per CALENDAR_REFRESH_SECONDS in a process (and again whenever
WORKING_DAY_TABLE changes): a year saved here is counted at once in this process and within that
time in the other web processes and workers.
"""

from __future__ import annotations

import time
from copy import deepcopy
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from marketplace import audit
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.formatting import SHANGHAI
from marketplace.workcalendar.models import CalendarYear
from workflows.working_days import WorkingCalendar, YearTable, parse_table

_EXTENSION = "working_calendar"


def working_calendar() -> WorkingCalendar:
    """The calendar with the configured and the admin-set years (cached per process)."""
    configured = current_app.config.get("WORKING_DAY_TABLE") or {}
    cached = current_app.extensions.get(_EXTENSION)
    refresh = float(current_app.config.get("CALENDAR_REFRESH_SECONDS", 300))
    if cached is not None and cached[1] == configured and time.monotonic() - cached[0] < refresh:
        return cached[2]
    calendar = WorkingCalendar(parsed={**stored_years(), **parse_table(configured)})
    current_app.extensions[_EXTENSION] = (time.monotonic(), deepcopy(configured), calendar)
    return calendar


def forget() -> None:
    """Drop this process's cached calendar (after a year is saved)."""
    current_app.extensions.pop(_EXTENSION, None)


def configured_years() -> dict[int, YearTable]:
    return parse_table(current_app.config.get("WORKING_DAY_TABLE") or {})


def stored_years() -> dict[int, YearTable]:
    rows = db.session.scalars(select(CalendarYear)).all()
    return parse_table({row.year: row.as_table_entry() for row in rows}, setting="calendar_years")


def set_year(year: int, holidays: list[str], workdays: list[str], source_note: str, actor) -> CalendarYear:
    """Store `year`'s official arrangement (replacing an earlier one). Raises ValueError naming
    the first bad day (nothing stored)."""
    parse_table({year: {"holidays": holidays, "workdays": workdays}}, setting=str(year))
    row = db.session.get(CalendarYear, year)
    before = row.as_table_entry() if row else None
    if row is None:
        row = CalendarYear(year=year)
        db.session.add(row)
    row.holidays, row.workdays, row.source_note = list(holidays), list(workdays), source_note
    row.set_by_id, row.set_at = actor.id, utcnow()
    db.session.flush()
    audit.record("calendar.year_set", row, actor=actor, year=year, holidays=row.holidays, workdays=row.workdays,
                 source_note=source_note, before=before)
    forget()
    return row


def years_ahead(now: datetime | None = None, horizon_days: int = 60) -> list[int]:
    """This year, and the next one once it is within `horizon_days`."""
    today = (now or utcnow()).astimezone(SHANGHAI).date()
    return sorted({today.year, (today + timedelta(days=horizon_days)).year})


def years_without_makeup_days(now: datetime | None = None, horizon_days: int = 60) -> list[int]:
    """Years a clock may run into soon whose official make-up working days nobody gives: decided
    by the holidays package before its maintainers add the notice, or by Monday-Friday."""
    calendar = working_calendar()
    return [year for year in years_ahead(now, horizon_days) if not calendar.makeup_days_known(year)]


def year_overview(year: int) -> dict:
    """What the admin's calendar page shows of `year`."""
    return year_overviews([year])[0]


def year_overviews(years) -> list[dict]:
    """year_overview of each of `years`, their stored tables read in one statement."""
    years = list(years)
    stored = {row.year: row for row in db.session.scalars(select(CalendarYear).where(CalendarYear.year.in_(years)))}
    return [_overview(working_calendar(), year, stored.get(year)) for year in years]


def _overview(calendar, year: int, stored: CalendarYear | None) -> dict:
    return {
        "year": year,
        "source": calendar.source(year),
        "overridden": calendar.overridden(year),
        "configured": year in configured_years(),
        "makeup_days_known": calendar.makeup_days_known(year),
        "covers": calendar.covers(year),
        "stored": stored,
        "days": calendar.describe(year),
    }
