"""Each request's stays in each state, kept from the request's transition events (a listener of
marketplace.events.request_transitioned); the dashboard's turnaround figures read them.

A stay is the time a request spent in one state: entered when a transition brought it there,
left when the next transition took it away. Its **institution** is whose action ended it: the
organisation of the user who made the leaving transition, when that organisation is a bank or a
guarantor; None when the enterprise, the platform, the bureau or the system (no actor) moved the
request on, and None while the stay is still open. So "median time in bank_review per
institution" reads as "how long a request waited in bank_review before that bank acted on it".

The backfill rebuilds the same rows from the timelines (workflow_events) of requests that have
no stays yet; the migration c13a00000001 and `flask --app wsgi bureau backfill-stays` run it.
It is plain SQL that works on PostgreSQL and SQLite: one INSERT ... SELECT pairing each timeline
row with the next row of the same request (the one that ended the stay).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text

from marketplace.bureau import stay_lengths
from marketplace.db import as_utc, utcnow
from marketplace.events import RequestTransitioned, request_transitioned
from marketplace.extensions import db

LENDER_KINDS = ("bank", "guarantor")


def record_transition(request, to_state: str, actor=None, at: datetime | None = None) -> None:
    """Close the request's open stay (ended by `actor`'s institution) and open one in `to_state`."""
    from marketplace.bureau.models import RequestStay
    from marketplace.enterprises.models import Enterprise

    at = at or utcnow()
    institution_id = None
    organisation = getattr(actor, "organisation", None) if actor is not None else None
    if organisation is not None and organisation.kind in LENDER_KINDS:
        institution_id = organisation.id
    open_stays = db.session.scalars(select(RequestStay).where(
        RequestStay.request_id == request.id, RequestStay.left_at.is_(None))).all()
    for stay in open_stays:
        stay.left_at = at
        stay.seconds = max(0, int((as_utc(at) - as_utc(stay.entered_at)).total_seconds()))
        stay.institution_id = institution_id
    stay_lengths.count(open_stays)
    region_code = db.session.scalar(select(Enterprise.region_code).where(Enterprise.id == request.enterprise_id))
    db.session.add(RequestStay(request_id=request.id, state=str(to_state), region_code=region_code or "",
                               entered_at=at))
    db.session.flush()


@request_transitioned.connect
def _on_transitioned(_request, *, event: RequestTransitioned) -> None:
    """Subscribed at app start (marketplace/__init__.py imports this module)."""
    at = getattr(event.row, "occurred_at", None) if event.row is not None else None
    record_transition(event.request, event.to_state, actor=event.actor, at=at)


# The timeline rows in order per request; each row opens a stay in its to_state, the next row
# (if any) closes it, and the next row's actor organisation, when a bank or guarantor, is the
# institution. Only requests that have no stay yet, so running it twice adds nothing.
_BACKFILL_SQL = """
INSERT INTO request_stays (request_id, state, region_code, institution_id, entered_at, left_at, seconds)
SELECT cur.request_id, cur.to_state, e.region_code,
       CASE WHEN nxt.id IS NOT NULL AND o.kind IN ('bank', 'guarantor') THEN o.id END,
       cur.occurred_at, nxt.occurred_at,
       CASE WHEN nxt.id IS NOT NULL THEN {seconds} END
FROM workflow_events cur
JOIN financing_requests r ON r.id = cur.request_id
JOIN enterprises e ON e.id = r.enterprise_id
LEFT JOIN workflow_events nxt ON nxt.id = (
    SELECT w.id FROM workflow_events w
    WHERE w.request_id = cur.request_id
      AND (w.occurred_at > cur.occurred_at OR (w.occurred_at = cur.occurred_at AND w.id > cur.id))
    ORDER BY w.occurred_at, w.id LIMIT 1)
LEFT JOIN users u ON u.id = nxt.actor_user_id
LEFT JOIN organisations o ON o.id = COALESCE(nxt.actor_org_id, u.organisation_id)
WHERE NOT EXISTS (SELECT 1 FROM request_stays s WHERE s.request_id = cur.request_id)
"""
_SECONDS = {
    "postgresql": "CAST(EXTRACT(EPOCH FROM (nxt.occurred_at - cur.occurred_at)) AS INTEGER)",
    "sqlite": "CAST(ROUND((julianday(nxt.occurred_at) - julianday(cur.occurred_at)) * 86400) AS INTEGER)",
}


def backfill_sql(dialect: str) -> str:
    """The backfill statement for a dialect (postgresql or sqlite)."""
    return _BACKFILL_SQL.format(seconds=_SECONDS["postgresql" if dialect.startswith("postgres") else "sqlite"])


def backfill(connection=None) -> int:
    """Build the stays of every request that has none from its timeline; returns rows added.
    `connection`: a SQLAlchemy connection (the migration's); else the app's session."""
    if connection is None:
        result = db.session.execute(text(backfill_sql(db.engine.dialect.name)))
        db.session.flush()
    else:
        result = connection.execute(text(backfill_sql(connection.dialect.name)))
    return result.rowcount or 0

