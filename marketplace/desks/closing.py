"""When the enterprise withdraws, the institutions' work on the request closes with it: open
offers and unissued guarantees close, targets close, claims end, an unpaid fee is cancelled, and
the institutions holding the request are told. Subscribed at app start to
marketplace.events.request_transitioned (financing publishes the withdrawal, it does not call here)."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from marketplace import audit
from marketplace.accounts.people import institution_staff
from marketplace.db import utcnow
from marketplace.desks import claims
from marketplace.desks.models import Offer
from marketplace.events import RequestTransitioned, request_transitioned
from marketplace.extensions import db
from marketplace.guarantees.models import Guarantee
from marketplace.notifications.messages import later
from marketplace.notifications.services import notify
from marketplace.payments.models import Payment
from marketplace.payments.services import PaymentRefused, cancel_fee
from marketplace.supermarket.models import RequestTarget

HOLDING = ("routed", "waiting", "reviewing", "info_requested", "offered", "accepted")


def close_for_withdrawal(request, actor=None) -> None:
    """`actor`: who withdrew (a fee's recorded transfer closes in their name)."""
    now = utcnow()
    for offer in db.session.scalars(select(Offer).where(Offer.request_id == request.id,
                                                        Offer.status.in_(("pending_approval", "made")))):
        offer.status, offer.decided_at = "withdrawn" if offer.status == "pending_approval" else "closed", now
    for guarantee in db.session.scalars(select(Guarantee).where(Guarantee.request_id == request.id,
                                                                Guarantee.status.in_(("offered", "accepted")))):
        guarantee.status = "closed"
    for payment in db.session.scalars(select(Payment).where(Payment.request_id == request.id,
                                                            Payment.status == "pending")):
        try:
            cancel_fee(payment, actor=actor, reason="融资申请已撤回")
        except PaymentRefused as refused:  # paid or processing meanwhile: the payee settles it
            audit.record("payment.cancel_refused", payment, enterprise_id=request.enterprise_id, reason=str(refused))
    told = set()
    for target in db.session.scalars(select(RequestTarget).where(RequestTarget.request_id == request.id,
                                                                 RequestTarget.status.in_(HOLDING))):
        if target.status == "waiting":  # never reached its institution (and a closed target was routed)
            db.session.delete(target)
            continue
        told.add(target.institution_id)
        target.status = "closed"
    claims.end_all(request.id, "closed")
    for institution_id in told:
        notify(institution_staff(institution_id), "request.withdrawn", later("融资申请 #%(id)s 已撤回", id=request.id),
               later("企业已撤回该申请，贵机构无需继续处理。"), url_for("desk.detail", request_id=request.id))


@request_transitioned.connect
def _on_transitioned(_request, *, event: RequestTransitioned) -> None:
    if event.to_state == "withdrawn":
        close_for_withdrawal(event.request, event.actor)
