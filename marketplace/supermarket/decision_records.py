"""The matcher's institution records, kept as the desks decide.

An institution's record is the median days from routing to its first decision on a target and the
share of its decided targets it made an offer on (marketplace/supermarket/matching.py). Computed
from the offers and declines themselves it joined every decision of the province to its target on
each call (1.5-2 s at 240,000 decisions), and every new decision made every process compute it
again. Now each decided target has one row in target_decisions (whether offered, days to the
first decision), written in the flush that approves an offer, adds a decline or moves a target's
routing moment, so a record is one aggregate over an index (about 50 ms for all institutions at
that size, 4 ms for one).

The rule, as before: a target with an approved offer counts as offered, its days to the first
approval; otherwise its days to the first decline; targets never routed do not count.
`rebuild()` writes every row from the decisions, for data loaded without the ORM (the benches'
COPY, `flask --app wsgi bureau rebuild-figures` through marketplace.bureau.kept).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Float, case, cast, delete, event, func, insert, inspect, select
from sqlalchemy.orm import Session

from marketplace.extensions import db
from marketplace.supermarket.models import RequestTarget, TargetDecision

SECONDS_A_DAY = 86400


def _epoch(column):
    """SQL: a moment as seconds since 1970, so the database subtracts them."""
    return func.extract("epoch", column)


def decided_targets(target_ids: Iterable[int] | None = None):
    """SELECT target_id, institution_id, offered, days: the rows target_decisions holds, for
    every decided target or for these."""
    from marketplace.desks.models import Decline, Offer

    first_offer = (select(Offer.target_id, func.min(_epoch(Offer.approved_at)).label("at"))
                   .where(Offer.approved_at.is_not(None)).group_by(Offer.target_id))
    first_decline = select(Decline.target_id, func.min(_epoch(Decline.created_at)).label("at")).group_by(Decline.target_id)
    wanted = None if target_ids is None else sorted(set(target_ids))
    if wanted is not None:
        first_offer = first_offer.where(Offer.target_id.in_(wanted))
        first_decline = first_decline.where(Decline.target_id.in_(wanted))
    offer, decline = first_offer.subquery(), first_decline.subquery()
    # float division on both databases (SQLite's epoch is an integer), as float(seconds) / 86400 was
    days = cast(func.coalesce(offer.c.at, decline.c.at) - _epoch(RequestTarget.routed_at), Float) / SECONDS_A_DAY
    query = (select(RequestTarget.id, RequestTarget.institution_id, offer.c.at.is_not(None), case((days < 0, 0.0), else_=days))
             .outerjoin(offer, offer.c.target_id == RequestTarget.id)
             .outerjoin(decline, decline.c.target_id == RequestTarget.id)
             .where(RequestTarget.routed_at.is_not(None), (offer.c.at.is_not(None)) | (decline.c.at.is_not(None))))
    return query if wanted is None else query.where(RequestTarget.id.in_(wanted))


_COLUMNS = ("target_id", "institution_id", "offered", "days")


def refresh(connection, target_ids: Iterable[int]) -> None:
    """These targets' rows written anew from their decisions (a target without one has none)."""
    wanted = sorted(set(target_ids))
    if not wanted:
        return
    table = TargetDecision.__table__
    connection.execute(delete(table).where(table.c.target_id.in_(wanted)))
    connection.execute(insert(table).from_select(_COLUMNS, decided_targets(wanted)))


def rebuild(connection=None) -> int:
    """Every row written anew; returns how many. `connection`: a SQLAlchemy connection; else the
    app's session."""
    target = connection or db.session
    table = TargetDecision.__table__
    target.execute(delete(table))
    target.execute(insert(table).from_select(_COLUMNS, decided_targets()))
    return target.execute(select(func.count()).select_from(table)).scalar_one()  # rowcount: -1 for INSERT ... SELECT


def _routed_again(target: RequestTarget) -> bool:
    """Its routing moment moved from one moment to another: only a target routed before can hold
    decisions (one routed for the first time, as every verification routes, has none to count)."""
    history = inspect(target).attrs.routed_at.history
    return history.has_changes() and any(moment is not None for moment in history.deleted)


def _touched_targets(session: Session) -> set[int]:
    """Targets whose first decision this flush may have changed: a new decline, an offer new
    and approved or approved now, a target routed again."""
    from marketplace.desks.models import Decline, Offer

    touched = set()
    for instance in session.new:
        if isinstance(instance, Decline) or (isinstance(instance, Offer) and instance.approved_at is not None):
            touched.add(instance.target_id)
    for instance in session.dirty:
        if isinstance(instance, Offer) and inspect(instance).attrs.approved_at.history.has_changes():
            touched.add(instance.target_id)
        elif isinstance(instance, RequestTarget) and _routed_again(instance):
            touched.add(instance.id)
    return touched


@event.listens_for(Session, "after_flush")
def _keep_decisions(session: Session, _flush_context) -> None:
    touched = _touched_targets(session)
    if touched:
        refresh(session.connection(), touched)
