"""Which requests an institution may see: those routed to it (a target past "chosen"/"waiting"),
while it holds the enterprise's valid consent to read its bank statements. A request whose offer
or guarantee the enterprise accepted stays visible to that institution (a contract binds them),
but what is read under the consent (report, statements, documents) still asks for it."""

from __future__ import annotations

from sqlalchemy import or_, select

from marketplace.enterprises.consents import consenting_enterprises
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.formatting import today_shanghai
from marketplace.supermarket.models import RequestTarget

VISIBLE_TARGET_STATUSES = ("routed", "reviewing", "info_requested", "offered", "declined", "accepted", "closed")


def visible_to_institution(institution_id, day):
    """SQL: the institution's targets whose request it may see on `day` (FinancingRequest joined;
    the institution is a value or a bound parameter)."""
    return or_(RequestTarget.status == "accepted",
               FinancingRequest.enterprise_id.in_(consenting_enterprises(institution_id, day)))


def routed_target(request_id: int, institution_id: int | None) -> RequestTarget | None:
    """The institution's target on the request, when the request was routed to it and the
    institution may still see it."""
    if institution_id is None:
        return None
    return db.session.scalar(
        select(RequestTarget).join(FinancingRequest, FinancingRequest.id == RequestTarget.request_id)
        .where(RequestTarget.request_id == request_id, RequestTarget.institution_id == institution_id,
               RequestTarget.status.in_(VISIBLE_TARGET_STATUSES),
               visible_to_institution(institution_id, today_shanghai())))
