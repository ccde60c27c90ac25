"""The regional dashboard's figures, computed in SQL for a bureau and a date range.
(Interface fixed by the lead: fields may be added, not renamed or removed.)"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, case, func, or_, select, true

from marketplace.accounts.models import Organisation
from marketplace.bureau import monthly_figures, request_figures, stay_lengths
from marketplace.bureau.models import (
    RequestDeclineFigures,
    RequestFigures,
    RequestInstitutionFigures,
)
from marketplace.bureau.periods import Periods, split, utc_start
from marketplace.bureau.region import in_region
from marketplace.credit.models import CreditGrade
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.reference.regions import region_prefix
from workflows.financing import State

FUNNEL_STAGES = ("posted", "verified", "routed", "offered", "financed")
CLASSES = ("excellent", "mixed", "poor")
GRADES = ("A", "B", "C", "D", "ungraded")  # "ungraded": no grade row yet, or the latest row's grade is NULL


@dataclass(frozen=True)
class Stage:
    stage: str  # one of FUNNEL_STAGES
    count: int
    amount: Decimal  # yuan (shown in 万元)


@dataclass(frozen=True)
class Turnaround:
    state: str
    institution_id: int | None  # None: the enterprise, the platform or the system moved it on
    institution_name: str
    count: int
    median_hours: float
    p90_hours: float


@dataclass(frozen=True)
class InstitutionPerformance:
    institution_id: int
    name: str
    kind: str  # bank | guarantor
    routed: int
    offered: int
    declined: int
    financed: int
    financed_amount: Decimal


@dataclass(frozen=True)
class DashboardFigures:
    start: date
    end: date  # inclusive
    funnel: list[Stage] = field(default_factory=list)
    classification_mix: dict[str, tuple[int, Decimal]] = field(default_factory=dict)  # class -> (count, amount)
    turnaround: list[Turnaround] = field(default_factory=list)
    decline_reasons: list[tuple[str, int]] = field(default_factory=list)  # (reason code, count), most first
    financed_by_month: list[tuple[str, int, Decimal]] = field(default_factory=list)  # ("2026-07", count, amount)
    institutions: list[InstitutionPerformance] = field(default_factory=list)
    # (grade in GRADES order, enterprises): all the region's enterprises, not only the range's
    grade_distribution: list[tuple[str, int]] = field(default_factory=list)


def _utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) in Beijing time, as UTC moments."""
    return utc_start(start), utc_start(end + timedelta(days=1))


def _in_edges(column, edges) -> ColumnElement[bool]:
    """SQL: the moment in `column` lies in one of the edges ([low, high) Beijing dates)."""
    return or_(*(and_(column >= utc_start(low), column < utc_start(high)) for low, high in edges))


def _funnel_and_mix(bureau: Organisation, periods: Periods,
                    kept: dict) -> tuple[list[Stage], dict[str, tuple[int, Decimal]]]:
    """Each funnel stage and each class as a count and a sum: the whole months from the kept
    monthly counts, the edges from one query over the figures rows. Stages, of the requests
    posted (submitted) in the range in the region: posted: all of them; verified: the timeline
    shows a transition into `verified` (verification done, whatever its class); routed: at least
    one bank or guarantor received it; offered: a bank's offer left the bank (approved);
    financed: a loan exists."""
    names = (*FUNNEL_STAGES, *CLASSES)
    values = {name: [0, Decimal(0)] for name in names}
    for (_month, metric, _key), (n, amount) in kept.items():
        if metric in values:
            values[metric][0] += n
            values[metric][1] += amount
    if periods.edges:
        rows = RequestFigures
        conditions = {"posted": true()} | {name: getattr(rows, name) for name in FUNNEL_STAGES[1:]}
        conditions |= {name: rows.classification == name for name in CLASSES}
        columns = []
        for condition in conditions.values():
            columns.append(func.count(case((condition, 1))))
            columns.append(func.coalesce(func.sum(case((condition, rows.amount))), 0))
        row = db.session.execute(select(*columns).where(
            in_region(rows.region_code, bureau), _in_edges(rows.submitted_at, periods.edges))).one()
        for index, name in enumerate(conditions):
            values[name][0] += int(row[2 * index])
            values[name][1] += Decimal(row[2 * index + 1])
    funnel = [Stage(stage, values[stage][0], values[stage][1]) for stage in FUNNEL_STAGES]
    return funnel, {name: (values[name][0], values[name][1]) for name in CLASSES}


def _turnaround(bureau: Organisation, start: date, end: date) -> list[Turnaround]:
    """Median and p90 of the region's finished stays that began in the range, per state and per
    institution that ended them, read from the stay-length histograms
    (marketplace.bureau.stay_lengths: within 6.5 % of the exact values)."""
    names = dict(db.session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.kind.in_(("bank", "guarantor")))).all())
    result = [Turnaround(state=row.state, institution_id=row.institution_id,
                         institution_name=names.get(row.institution_id, "") if row.institution_id else "",
                         count=row.count, median_hours=round(row.median_seconds / 3600, 2),
                         p90_hours=round(row.p90_seconds / 3600, 2))
              for row in stay_lengths.percentiles(bureau, start, end)]
    order = {state.value: index for index, state in enumerate(State)}
    return sorted(result, key=lambda t: (order.get(t.state, 99), t.institution_id is not None, t.institution_name))


def _decline_reasons(bureau: Organisation, periods: Periods, kept: dict) -> list[tuple[str, int]]:
    """Declines of the range's requests per reason code, most first: the whole months kept, the
    edges from the per-reason rows (ix_request_decline_figures_region_submitted)."""
    counts: dict[str, int] = defaultdict(int)
    for (_month, metric, _key), (n, _amount) in kept.items():
        if metric.startswith(monthly_figures.REASON):
            counts[metric.removeprefix(monthly_figures.REASON)] += n
    if periods.edges:
        rows = RequestDeclineFigures
        query = (select(rows.reason_code, func.sum(rows.n))
                 .where(in_region(rows.region_code, bureau), _in_edges(rows.submitted_at, periods.edges))
                 .group_by(rows.reason_code))
        for code, n in db.session.execute(query):
            counts[code] += int(n)
    return sorted(((code, n) for code, n in counts.items() if n), key=lambda item: (-item[1], item[0]))


def _financed_by_month(bureau: Organisation, periods: Periods, kept: dict) -> list[tuple[str, int, Decimal]]:
    """Loans of the region disbursed in the range, per month of disbursed_on (a Beijing date): the
    whole months kept, the edges summed per day in SQL (ix_request_figures_region_financed)."""
    months: dict[str, tuple[int, Decimal]] = {}

    def add(month: str, n: int, amount) -> None:
        count, total = months.get(month, (0, Decimal(0)))
        months[month] = (count + n, total + Decimal(amount))

    for (month, metric, _key), (n, amount) in kept.items():
        if metric == "loans":
            add(month, n, amount)
    if periods.edges:
        rows = RequestFigures
        in_edges = or_(*(and_(rows.financed_on >= low, rows.financed_on < high) for low, high in periods.edges))
        query = (select(rows.financed_on, func.count(), func.coalesce(func.sum(rows.financed_amount), 0))
                 .where(in_region(rows.region_code, bureau), rows.financed_on.is_not(None), in_edges)
                 .group_by(rows.financed_on))
        for day, n, amount in db.session.execute(query):
            add(day.strftime("%Y-%m"), int(n), amount)
    return [(month, n, amount) for month, (n, amount) in sorted(months.items())]


INSTITUTION_FIELDS = {"inst_routed": "routed", "inst_offered": "offered", "inst_declined": "declined",
                      "inst_financed": "financed"}


def _institutions(bureau: Organisation, periods: Periods, kept: dict) -> list[InstitutionPerformance]:
    """Per bank and guarantor, on the range's requests: targets routed to it, requests it made an
    offer on, its declines, its loans (count and amount); the whole months kept, the edges from
    one query over the (request, institution) rows; then the institutions' names."""
    tallies: dict[int, dict[str, int | Decimal]] = {}

    def add(institution_id: int, field_name: str, n: int, amount=None) -> None:
        row = tallies.setdefault(institution_id, {"routed": 0, "offered": 0, "declined": 0, "financed": 0,
                                                  "amount": Decimal(0)})
        row[field_name] += n
        if amount:
            row["amount"] += Decimal(amount)

    for (_month, metric, key), (n, amount) in kept.items():
        if metric in INSTITUTION_FIELDS:
            add(key, INSTITUTION_FIELDS[metric], n, amount if metric == "inst_financed" else None)
    if periods.edges:
        rows = RequestInstitutionFigures
        query = (select(rows.institution_id, func.sum(rows.routed), func.sum(case((rows.offered, 1), else_=0)),
                        func.sum(rows.declined), func.sum(rows.financed), func.sum(rows.financed_amount))
                 .where(in_region(rows.region_code, bureau), _in_edges(rows.submitted_at, periods.edges))
                 .group_by(rows.institution_id))
        for institution_id, routed, offered, declined, financed, amount in db.session.execute(query):
            for field_name, n in (("routed", routed), ("offered", offered), ("declined", declined),
                                  ("financed", financed)):
                add(institution_id, field_name, int(n or 0))
            add(institution_id, "financed", 0, amount)
    if not tallies:
        return []
    organisations = db.session.execute(select(Organisation.id, Organisation.name, Organisation.kind)
                                       .where(Organisation.id.in_(tallies))).all()
    result = [InstitutionPerformance(institution_id=i, name=name, kind=kind, routed=int(tallies[i]["routed"]),
                                     offered=int(tallies[i]["offered"]), declined=int(tallies[i]["declined"]),
                                     financed=int(tallies[i]["financed"]),
                                     financed_amount=Decimal(tallies[i]["amount"]).quantize(Decimal("0.01")))
              for i, name, kind in organisations]
    return sorted(result, key=lambda p: (-p.financed_amount, p.name))


def _grade_distribution(bureau: Organisation) -> list[tuple[str, int]]:
    """All the region's enterprises (not only those with requests in the range: a grade is the
    enterprise's, not a request's) by their current grade, in GRADES order, zeros included. One
    query: per enterprise, the id of its latest grade row (max(id), an index lookup on
    ix_credit_grades_enterprise_latest, as marketplace.credit.models.latest_grade), then that
    row's grade; no row, or a NULL grade, is "ungraded"."""
    latest_id = (select(func.max(CreditGrade.id)).where(CreditGrade.enterprise_id == Enterprise.id)
                 .scalar_subquery())
    current = (select(Enterprise.id.label("enterprise_id"), latest_id.label("grade_id"))
               .where(in_region(Enterprise.region_code, bureau)).subquery("current_grades"))
    query = (select(CreditGrade.grade, func.count())
             .select_from(current).outerjoin(CreditGrade, CreditGrade.id == current.c.grade_id)
             .group_by(CreditGrade.grade))
    counts = {grade or "ungraded": int(count) for grade, count in db.session.execute(query)}
    return [(grade, counts.get(grade, 0)) for grade in GRADES]


def figures(bureau: Organisation, start: date, end: date) -> DashboardFigures:
    """The figures of the bureau's region for requests posted (submitted) from start to end
    (Beijing dates, inclusive); the financed-by-month series counts loans disbursed in the range.
    The grade distribution counts all the region's enterprises by their current credit grade,
    whatever the range. A fixed number of queries whatever the number of rows: aggregates are computed by the
    database."""
    request_figures.refresh_marked()
    periods = split(start, end)
    kept = (monthly_figures.read(region_prefix(bureau.region_code), periods.first_month, periods.last_month)
            if periods.first_month else {})
    funnel, mix = _funnel_and_mix(bureau, periods, kept)
    return DashboardFigures(
        start=start, end=end, funnel=funnel, classification_mix=mix, turnaround=_turnaround(bureau, start, end),
        decline_reasons=_decline_reasons(bureau, periods, kept),
        financed_by_month=_financed_by_month(bureau, periods, kept),
        institutions=_institutions(bureau, periods, kept), grade_distribution=_grade_distribution(bureau),
    )
