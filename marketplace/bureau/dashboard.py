"""The regional dashboard's figures, computed in SQL for a bureau and a date range.
(Interface fixed by the lead: fields may be added, not renamed or removed.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import case, func, select, true

from marketplace.accounts.models import Organisation
from marketplace.bureau import request_figures, stay_lengths
from marketplace.bureau.models import RequestFigures, RequestInstitutionFigures
from marketplace.bureau.region import in_region
from marketplace.credit.models import CreditGrade
from marketplace.desks.models import Decline
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.formatting import SHANGHAI
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
    low = datetime.combine(start, time.min, tzinfo=SHANGHAI).astimezone(UTC)
    high = datetime.combine(end + timedelta(days=1), time.min, tzinfo=SHANGHAI).astimezone(UTC)
    return low, high


def _region_requests(bureau: Organisation, start: date, end: date):
    """The region's requests posted (submitted) from start to end, as a CTE of their kept
    figures rows (marketplace.bureau.request_figures): one range scan of
    ix_request_figures_region_submitted."""
    low, high = _utc_bounds(start, end)
    return (select(RequestFigures.request_id.label("id"), RequestFigures.amount, RequestFigures.classification,
                   RequestFigures.verified, RequestFigures.routed, RequestFigures.offered, RequestFigures.financed)
            .where(in_region(RequestFigures.region_code, bureau), RequestFigures.submitted_at >= low,
                   RequestFigures.submitted_at < high)
            .cte("region_requests"))


def _funnel_and_mix(scope) -> tuple[list[Stage], dict[str, tuple[int, Decimal]]]:
    """One query: each funnel stage and each class as a count and a sum, over the scope's kept
    flags. Stages, of the requests posted (submitted) in the range in the region: posted: all of
    them; verified: the timeline shows a transition into `verified` (verification done, whatever
    its class); routed: at least one bank or guarantor received it; offered: a bank's offer left
    the bank (approved); financed: a loan exists."""
    conditions = {"posted": true()} | {name: scope.c[name] for name in FUNNEL_STAGES[1:]}
    conditions |= {name: scope.c.classification == name for name in CLASSES}
    columns = []
    for condition in conditions.values():
        columns.append(func.count(case((condition, 1))))
        columns.append(func.coalesce(func.sum(case((condition, scope.c.amount))), 0))
    row = db.session.execute(select(*columns).select_from(scope)).one()
    values = {name: (int(row[2 * i]), Decimal(row[2 * i + 1])) for i, name in enumerate(conditions)}
    funnel = [Stage(stage, *values[stage]) for stage in FUNNEL_STAGES]
    return funnel, {name: values[name] for name in CLASSES}


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


def _decline_reasons(scope) -> list[tuple[str, int]]:
    query = (select(Decline.reason_code, func.count()).join(scope, scope.c.id == Decline.request_id)
             .group_by(Decline.reason_code).order_by(func.count().desc(), Decline.reason_code))
    return [(code, int(count)) for code, count in db.session.execute(query)]


def _financed_by_month(bureau: Organisation, start: date, end: date) -> list[tuple[str, int, Decimal]]:
    """Loans of the region disbursed from start to end, per month of disbursed_on (a Beijing
    date), from the kept figures rows (ix_request_figures_region_financed). Summed per day in
    SQL (a few hundred rows; no per-row date formatting), per month here."""
    query = (select(RequestFigures.financed_on, func.count(), func.coalesce(func.sum(RequestFigures.financed_amount), 0))
             .where(in_region(RequestFigures.region_code, bureau), RequestFigures.financed_on.is_not(None),
                    RequestFigures.financed_on >= start, RequestFigures.financed_on <= end)
             .group_by(RequestFigures.financed_on))
    months: dict[str, tuple[int, Decimal]] = {}
    for day, n, amount in db.session.execute(query):
        count, total = months.get(day.strftime("%Y-%m"), (0, Decimal(0)))
        months[day.strftime("%Y-%m")] = (count + int(n), total + Decimal(amount))
    return [(month, n, amount) for month, (n, amount) in sorted(months.items())]


def _institutions(bureau: Organisation, start: date, end: date) -> list[InstitutionPerformance]:
    """Per bank and guarantor, on the range's requests: targets routed to it, requests it made an
    offer on, its declines, its loans (count and amount). One query over the kept
    (request, institution) rows (marketplace.bureau.request_figures)."""
    low, high = _utc_bounds(start, end)
    rows = RequestInstitutionFigures
    query = (select(Organisation.id, Organisation.name, Organisation.kind, func.sum(rows.routed),
                    func.sum(case((rows.offered, 1), else_=0)), func.sum(rows.declined), func.sum(rows.financed),
                    func.sum(rows.financed_amount))
             .join(rows, rows.institution_id == Organisation.id)
             .where(in_region(rows.region_code, bureau), rows.submitted_at >= low, rows.submitted_at < high)
             .group_by(Organisation.id, Organisation.name, Organisation.kind)
             .order_by(func.sum(rows.financed_amount).desc(), Organisation.name))
    return [InstitutionPerformance(institution_id=i, name=n, kind=k, routed=int(r), offered=int(o), declined=int(d),
                                   financed=int(f), financed_amount=Decimal(a or 0).quantize(Decimal("0.01")))
            for i, n, k, r, o, d, f, a in db.session.execute(query)]


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
    whatever the range. Seven queries whatever the number of rows: aggregates are computed by the
    database."""
    request_figures.refresh_marked()
    scope = _region_requests(bureau, start, end)
    funnel, mix = _funnel_and_mix(scope)
    return DashboardFigures(
        start=start, end=end, funnel=funnel, classification_mix=mix, turnaround=_turnaround(bureau, start, end),
        decline_reasons=_decline_reasons(scope), financed_by_month=_financed_by_month(bureau, start, end),
        institutions=_institutions(bureau, start, end), grade_distribution=_grade_distribution(bureau),
    )
