"""The dashboard's kept figures rows (marketplace.bureau.models: RequestFigures per request,
RequestInstitutionFigures per request and bank or guarantor), computed from the request's own
rows.

A transition (marketplace.events.request_transitioned) marks its request; before the
transaction commits, the marked requests' rows are computed again from the tables that define
each flag, in six statements whatever their number:

- verified: the timeline shows a transition into `verified` (whatever the class);
- routed: a bank or guarantor received it (a target with routed_at);
- offered: a bank's offer left the bank (approved: not waiting for approval, not withdrawn);
- financed: a loan exists (financed_on and financed_amount are the loan's).

The per-institution rows tally, for each bank and guarantor, its targets routed, whether an
offer of it left the bank, its declines and its loan; the per-reason rows count the request's
declines by reason.

Computing at commit rather than in the listener makes the rows right whatever order a service
writes the target, offer or loan and the transition in. The same SELECTs, for every submitted
request, are the rebuild (the migration c19a00000001, the demo and the benches use it), so the
kept rows and a rebuild agree by construction (tests/bureau/test_request_figures.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import (
    Integer,
    cast,
    delete,
    event,
    exists,
    func,
    insert,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from marketplace.bureau import monthly_figures
from marketplace.bureau.models import (
    RequestDeclineFigures,
    RequestFigures,
    RequestInstitutionFigures,
)
from marketplace.desks.models import Decline, Offer
from marketplace.enterprises.models import Enterprise
from marketplace.events import RequestTransitioned, request_transitioned
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest, WorkflowEvent
from marketplace.loans.models import Loan
from marketplace.supermarket.models import RequestTarget

MARKED = "bureau_figures_marked"
COLUMNS = ("request_id", "region_code", "submitted_at", "amount", "classification", "verified", "routed",
           "offered", "financed", "financed_on", "financed_amount")
INSTITUTION_COLUMNS = ("request_id", "institution_id", "region_code", "submitted_at", "routed", "offered",
                       "declined", "financed", "financed_amount")
DECLINE_COLUMNS = ("request_id", "reason_code", "region_code", "submitted_at", "n")
APPROVED_OFFER = Offer.status.not_in(("pending_approval", "withdrawn"))


def _rows():
    """SELECT of every submitted request's figures row, in COLUMNS order."""
    request = FinancingRequest
    return (select(
        request.id, Enterprise.region_code, request.submitted_at, request.amount, request.classification,
        exists().where(WorkflowEvent.request_id == request.id, WorkflowEvent.to_state == "verified"),
        exists().where(RequestTarget.request_id == request.id, RequestTarget.routed_at.is_not(None)),
        exists().where(Offer.request_id == request.id, APPROVED_OFFER),
        Loan.id.is_not(None), Loan.disbursed_on, Loan.amount)
        .join(Enterprise, Enterprise.id == request.enterprise_id)
        .outerjoin(Loan, Loan.request_id == request.id)
        .where(request.submitted_at.is_not(None)))


def _institution_rows(ids: list[int] | None = None):
    """SELECT of the (request, institution) rows, in INSTITUTION_COLUMNS order: the four tallies
    united, then summed per request and institution; `ids` limits it to these requests."""
    names = ("request_id", "institution_id", "routed", "offered", "declined", "financed", "amount")

    def part(request_id, institution_id, *tallies):
        values = [literal(value) if isinstance(value, int) else value for value in tallies]
        return select(*(column.label(name) for column, name in zip((request_id, institution_id, *values), names,
                                                                     strict=True)))

    parts = [
        part(RequestTarget.request_id, RequestTarget.institution_id, 1, 0, 0, 0, 0)
        .where(RequestTarget.routed_at.is_not(None)),
        part(Offer.request_id, Offer.institution_id, 0, 1, 0, 0, 0).where(APPROVED_OFFER),
        part(Decline.request_id, Decline.institution_id, 0, 0, 1, 0, 0),
        part(Loan.request_id, Loan.institution_id, 0, 0, 0, 1, Loan.amount),
    ]
    if ids is not None:
        parts = [query.where(query.selected_columns[0].in_(ids)) for query in parts]
    tallies = union_all(*parts).subquery("tallies")
    request_id, institution_id, routed, offered, declined, financed, amount = tallies.c
    return (select(request_id, institution_id, Enterprise.region_code, FinancingRequest.submitted_at,
                   cast(func.sum(routed), Integer), func.max(offered) > 0, cast(func.sum(declined), Integer),
                   cast(func.sum(financed), Integer), func.sum(amount))
            .join(FinancingRequest, FinancingRequest.id == request_id)
            .join(Enterprise, Enterprise.id == FinancingRequest.enterprise_id)
            .where(FinancingRequest.submitted_at.is_not(None))
            .group_by(request_id, institution_id, Enterprise.region_code, FinancingRequest.submitted_at))


def _decline_rows():
    """SELECT of the (request, decline reason) rows, in DECLINE_COLUMNS order."""
    return (select(Decline.request_id, Decline.reason_code, Enterprise.region_code, FinancingRequest.submitted_at,
                   cast(func.count(), Integer))
            .join(FinancingRequest, FinancingRequest.id == Decline.request_id)
            .join(Enterprise, Enterprise.id == FinancingRequest.enterprise_id)
            .where(FinancingRequest.submitted_at.is_not(None))
            .group_by(Decline.request_id, Decline.reason_code, Enterprise.region_code, FinancingRequest.submitted_at))


KEPT = ((RequestFigures, COLUMNS, lambda ids: _rows().where(FinancingRequest.id.in_(ids))),
        (RequestInstitutionFigures, INSTITUTION_COLUMNS, _institution_rows),
        (RequestDeclineFigures, DECLINE_COLUMNS, lambda ids: _decline_rows().where(Decline.request_id.in_(ids))))


def refresh(request_ids: Iterable[int], session=None) -> None:
    """Compute the rows of these requests again (a request not submitted has none)."""
    session = session or db.session
    ids = sorted(set(request_ids))
    if not ids:
        return
    before = monthly_figures.snapshot(ids, session)
    for model, columns, rows in KEPT:
        table = model.__table__
        session.execute(delete(table).where(table.c.request_id.in_(ids)))
        session.execute(insert(table).from_select(columns, rows(ids)))
    monthly_figures.apply(before, monthly_figures.snapshot(ids, session), session)


def rebuild(connection=None) -> int:
    """Every submitted request's rows written anew; returns the requests' rows written.
    `connection`: a SQLAlchemy connection (the migration's); else the app's session."""
    target = connection or db.session
    table = RequestFigures.__table__
    for each in (RequestDeclineFigures, RequestInstitutionFigures, RequestFigures):
        target.execute(delete(each.__table__))
    target.execute(insert(RequestInstitutionFigures.__table__).from_select(INSTITUTION_COLUMNS, _institution_rows()))
    target.execute(insert(RequestDeclineFigures.__table__).from_select(DECLINE_COLUMNS, _decline_rows()))
    written = target.execute(insert(table).from_select(COLUMNS, _rows())).rowcount or 0
    monthly_figures.rebuild(connection)
    return written


def refresh_marked() -> None:
    """Bring the rows of the requests this transaction transitioned up to date now (a reader
    inside the same transaction, before its commit)."""
    marked = db.session.info.pop(MARKED, None)
    if marked:
        db.session.flush()
        refresh(marked)


@request_transitioned.connect
def _on_transitioned(_request, *, event: RequestTransitioned) -> None:
    """Subscribed at app start (marketplace/__init__.py imports this module)."""
    db.session.info.setdefault(MARKED, set()).add(event.request.id)


@event.listens_for(Session, "before_commit")
def _refresh_marked(session: Session) -> None:
    marked = session.info.pop(MARKED, None)
    if marked:
        session.flush()
        refresh(marked, session)


@event.listens_for(Session, "after_soft_rollback")
def _forget_marked(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(MARKED, None)
