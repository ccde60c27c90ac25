"""Which requests an institution may see: those routed to it (a target past "chosen"/"waiting")."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.supermarket.models import RequestTarget

VISIBLE_TARGET_STATUSES = ("routed", "reviewing", "info_requested", "offered", "declined", "accepted", "closed")


def routed_target(request_id: int, institution_id: int | None) -> RequestTarget | None:
    """The institution's target on the request, when the request was routed to it."""
    if institution_id is None:
        return None
    return db.session.scalar(select(RequestTarget).where(
        RequestTarget.request_id == request_id, RequestTarget.institution_id == institution_id,
        RequestTarget.status.in_(VISIBLE_TARGET_STATUSES)))
