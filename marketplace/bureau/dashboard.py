"""The regional dashboard's figures, computed in SQL for a bureau and a date range.
(Interface fixed by the lead: fields may be added, not renamed or removed.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import case, func, literal, select, true, union_all

from marketplace.accounts.models import Organisation
from marketplace.bureau.models import RequestStay
from marketplace.bureau.region import in_region
from marketplace.credit.models import CreditGrade
from marketplace.desks.models import Decline, Offer
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest, WorkflowEvent
from marketplace.formatting import SHANGHAI
from marketplace.loans.models import Loan
from marketplace.supermarket.models import RequestTarget
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
    """The ids of the region's requests posted (submitted) from start to end, as a CTE."""
    low, high = _utc_bounds(start, end)
    return (select(FinancingRequest.id.label("id"), FinancingRequest.amount.label("amount"),
                   FinancingRequest.classification.label("classification"))
            .join(Enterprise, Enterprise.id == FinancingRequest.enterprise_id)
            .where(in_region(Enterprise.region_code, bureau), FinancingRequest.submitted_at >= low,
                   FinancingRequest.submitted_at < high)
            .cte("region_requests"))


def _funnel_and_mix(scope) -> tuple[list[Stage], dict[str, tuple[int, Decimal]]]:
    """One query: each funnel stage and each class as a count and a sum.

    Stages, of the requests posted (submitted) in the range in the region:
    posted: all of them; verified: the timeline shows a transition into `verified` (verification
    done, whatever its class); routed: at least one bank or guarantor received it (a target with
    routed_at); offered: a bank's offer left the bank (approved: made, accepted, closed or expired;
    not one still waiting for approval or withdrawn before approval); financed: a Loan exists.

    Each stage's flag is computed once per request, in a subquery (`flags`); the outer query
    counts and sums over the flags. The subquery's `OFFSET 0` keeps PostgreSQL from pulling it
    up into the aggregate, which would copy each flag's probe into both the count and the sum
    (eight probes per request instead of four). Each flag is a probe `(SELECT 1 ... LIMIT 1) IS
    NOT NULL` (one index lookup per request on the request_id indexes), which PostgreSQL runs
    per row; with `EXISTS` it may instead hash the whole table (a scan of all of
    workflow_events), slower for a city's scope (docs/performance.md, issue 13)."""

    def probe(*conditions):
        return select(literal(1)).where(*conditions).limit(1).scalar_subquery().is_not(None)

    stages = {
        "verified": probe(WorkflowEvent.request_id == scope.c.id, WorkflowEvent.to_state == "verified"),
        "routed": probe(RequestTarget.request_id == scope.c.id, RequestTarget.routed_at.is_not(None)),
        "offered": probe(Offer.request_id == scope.c.id, Offer.status.not_in(("pending_approval", "withdrawn"))),
        "financed": probe(Loan.request_id == scope.c.id),
    }
    flags = (select(scope.c.amount, scope.c.classification, *(flag.label(name) for name, flag in stages.items()))
             .select_from(scope).offset(0).subquery("flags"))
    conditions = {"posted": true()} | {name: flags.c[name] for name in stages}
    conditions |= {name: flags.c.classification == name for name in CLASSES}
    columns = []
    for condition in conditions.values():
        columns.append(func.count(case((condition, 1))))
        columns.append(func.coalesce(func.sum(case((condition, flags.c.amount))), 0))
    row = db.session.execute(select(*columns).select_from(flags)).one()
    values = {name: (int(row[2 * i]), Decimal(row[2 * i + 1])) for i, name in enumerate(conditions)}
    funnel = [Stage(stage, *values[stage]) for stage in FUNNEL_STAGES]
    return funnel, {name: values[name] for name in CLASSES}


def _percentile(sorted_values: list[int], fraction: float) -> float:
    """As PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    if not sorted_values:
        return 0.0
    position = fraction * (len(sorted_values) - 1)
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _turnaround(scope) -> list[Turnaround]:
    """Median and p90 of the finished stays, per state and per institution that ended them
    (marketplace.bureau.stays); percentile_cont on PostgreSQL, the same in Python elsewhere."""
    names = dict(db.session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.kind.in_(("bank", "guarantor")))).all())
    base = (select(RequestStay.state, RequestStay.institution_id)
            .join(scope, scope.c.id == RequestStay.request_id)
            .where(RequestStay.left_at.is_not(None), RequestStay.seconds.is_not(None)))
    rows: list[tuple[str, int | None, int, float, float]] = []
    if db.engine.dialect.name == "postgresql":
        query = (base.add_columns(func.count(),
                                  func.percentile_cont(0.5).within_group(RequestStay.seconds),
                                  func.percentile_cont(0.9).within_group(RequestStay.seconds))
                 .group_by(RequestStay.state, RequestStay.institution_id))
        rows = [(s, i, n, float(m), float(p)) for s, i, n, m, p in db.session.execute(query)]
    else:
        groups: dict[tuple[str, int | None], list[int]] = {}
        query = base.add_columns(RequestStay.seconds).order_by(RequestStay.seconds)
        for state, institution_id, seconds in db.session.execute(query):
            groups.setdefault((state, institution_id), []).append(int(seconds))
        rows = [(s, i, len(v), _percentile(v, 0.5), _percentile(v, 0.9)) for (s, i), v in groups.items()]
    result = [Turnaround(state=state, institution_id=institution_id,
                         institution_name=names.get(institution_id, "") if institution_id else "",
                         count=count, median_hours=round(median / 3600, 2), p90_hours=round(p90 / 3600, 2))
              for state, institution_id, count, median, p90 in rows]
    order = {state.value: index for index, state in enumerate(State)}
    return sorted(result, key=lambda t: (order.get(t.state, 99), t.institution_id is not None, t.institution_name))


def _decline_reasons(scope) -> list[tuple[str, int]]:
    query = (select(Decline.reason_code, func.count()).join(scope, scope.c.id == Decline.request_id)
             .group_by(Decline.reason_code).order_by(func.count().desc(), Decline.reason_code))
    return [(code, int(count)) for code, count in db.session.execute(query)]


def _financed_by_month(bureau: Organisation, start: date, end: date) -> list[tuple[str, int, Decimal]]:
    """Loans of the region disbursed from start to end, per month of disbursed_on (a Beijing date)."""
    if db.engine.dialect.name == "postgresql":
        month = func.to_char(Loan.disbursed_on, "YYYY-MM")
    else:
        month = func.strftime("%Y-%m", Loan.disbursed_on)
    query = (select(month.label("month"), func.count(), func.coalesce(func.sum(Loan.amount), 0))
             .join(FinancingRequest, FinancingRequest.id == Loan.request_id)
             .join(Enterprise, Enterprise.id == FinancingRequest.enterprise_id)
             .where(in_region(Enterprise.region_code, bureau), Loan.disbursed_on >= start, Loan.disbursed_on <= end)
             .group_by(month).order_by(month))
    return [(str(m), int(n), Decimal(a)) for m, n, a in db.session.execute(query)]


def _institutions(scope) -> list[InstitutionPerformance]:
    """Per bank and guarantor, on the range's requests: routed to it, offers out of it, its
    declines, its loans (count and amount). One query: the four tallies united, then summed."""
    zero = literal(0)
    parts = [
        select(RequestTarget.institution_id.label("org"), func.count().label("routed"), zero.label("offered"),
               zero.label("declined"), zero.label("financed"), zero.label("amount"))
        .join(scope, scope.c.id == RequestTarget.request_id).where(RequestTarget.routed_at.is_not(None))
        .group_by(RequestTarget.institution_id),
        select(Offer.institution_id, zero, func.count(func.distinct(Offer.request_id)), zero, zero, zero)
        .join(scope, scope.c.id == Offer.request_id)
        .where(Offer.status.not_in(("pending_approval", "withdrawn"))).group_by(Offer.institution_id),
        select(Decline.institution_id, zero, zero, func.count(), zero, zero)
        .join(scope, scope.c.id == Decline.request_id).group_by(Decline.institution_id),
        select(Loan.institution_id, zero, zero, zero, func.count(), func.sum(Loan.amount))
        .join(scope, scope.c.id == Loan.request_id).group_by(Loan.institution_id),
    ]
    tallies = union_all(*parts).subquery("tallies")
    query = (select(Organisation.id, Organisation.name, Organisation.kind, func.sum(tallies.c.routed),
                    func.sum(tallies.c.offered), func.sum(tallies.c.declined), func.sum(tallies.c.financed),
                    func.sum(tallies.c.amount))
             .join(tallies, tallies.c.org == Organisation.id)
             .group_by(Organisation.id, Organisation.name, Organisation.kind)
             .order_by(func.sum(tallies.c.amount).desc(), Organisation.name))
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
    scope = _region_requests(bureau, start, end)
    funnel, mix = _funnel_and_mix(scope)
    return DashboardFigures(
        start=start, end=end, funnel=funnel, classification_mix=mix, turnaround=_turnaround(scope),
        decline_reasons=_decline_reasons(scope), financed_by_month=_financed_by_month(bureau, start, end),
        institutions=_institutions(scope), grade_distribution=_grade_distribution(bureau),
    )
