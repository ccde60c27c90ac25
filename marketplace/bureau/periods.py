"""A dashboard range cut into whole months (read from the kept monthly counts) and the partial
months at its edges (read from the detail rows). Dates are Beijing dates; months "2026-07"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from marketplace.formatting import SHANGHAI

PREFIX_LENGTHS = (0, 2, 4, 6)  # the bureau levels: national, province, city, district


def prefixes(region_code: str | None) -> list[str]:
    """The region prefixes a division code is counted under, one per bureau level."""
    return [(region_code or "")[:length] for length in PREFIX_LENGTHS]


def month_of(moment: datetime) -> str:
    """The Beijing month of a UTC moment, as "2026-07"."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SHANGHAI).strftime("%Y-%m")


def utc_start(day: date) -> datetime:
    """00:00 of a Beijing date, as a UTC moment."""
    return datetime.combine(day, time.min, tzinfo=SHANGHAI).astimezone(UTC)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class Periods:
    first_month: str | None  # the whole months, "2026-01" to "2026-11"; None: none
    last_month: str | None
    edges: tuple[tuple[date, date], ...]  # [low, high) Beijing dates outside the whole months


def split(start: date, end: date) -> Periods:
    """[start, end] (inclusive) as whole months and at most two partial edges."""
    first = start if start.day == 1 else _next_month(start)
    stop = (end + timedelta(days=1)).replace(day=1)
    if first >= stop:
        return Periods(None, None, ((start, end + timedelta(days=1)),))
    edges = tuple((low, high) for low, high in ((start, first), (stop, end + timedelta(days=1))) if low < high)
    return Periods(first.strftime("%Y-%m"), (stop - timedelta(days=1)).strftime("%Y-%m"), edges)
