"""What a verified Stripe event does to a fee.

The event id is inserted under a unique constraint in the same transaction as the effect: a
redelivered event (or five copies racing each other) fails that insert in its savepoint and is
acknowledged without doing anything. Events may arrive in any order; the status ranking in
marketplace.payments.status keeps a late success from undoing a refund.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace import audit
from marketplace.extensions import db
from marketplace.payments.gateway import to_fen
from marketplace.payments.models import Payment, StripeEvent
from marketplace.payments.status import CANCELLED, FAILED, PROCESSING, REFUNDED, SUCCEEDED
from marketplace.payments.transitions import lock, move

# event type -> the status it reports
INTENT_EVENTS = {
    "payment_intent.processing": PROCESSING,
    "payment_intent.succeeded": SUCCEEDED,
    "payment_intent.payment_failed": FAILED,
    "payment_intent.canceled": CANCELLED,
}
CHARGE_EVENTS = {"charge.refunded": REFUNDED}
HANDLED = {**INTENT_EVENTS, **CHARGE_EVENTS}

DUPLICATE = "duplicate"


def handle_event(event) -> str:
    """Apply one verified event (a stripe.Event or the same shape as a dict); say what happened:
    applied | stale | partial_refund | mismatch | unrelated | ignored | duplicate."""
    event_type = event["type"]
    if event_type not in HANDLED:
        return "ignored"
    obj = event["data"]["object"]
    created = datetime.fromtimestamp(int(event["created"]), UTC)
    record = StripeEvent(event_id=event["id"], type=event_type, outcome="received", event_created_at=created)
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError:
        return DUPLICATE  # handled before (or right now, by a twin that committed first)

    payment = _payment_for(event_type, obj)
    record.payment_id = payment.id if payment else None
    record.outcome = _apply(payment, event_type, obj, created) if payment else "unrelated"
    db.session.flush()
    return record.outcome


def _apply(payment: Payment, event_type: str, obj, created: datetime) -> str:
    intent_id = _intent_id(event_type, obj)
    problem = _mismatch(payment, intent_id, obj)
    if problem:
        current_app.logger.error("Stripe event for payment %s does not match it: %s", payment.id, problem)
        audit.record("payment.stripe_mismatch", payment, enterprise_id=payment.enterprise_id,
                     event_type=event_type, payment_intent=intent_id, problem=problem)
        return "mismatch"
    if payment.stripe_payment_intent_id is None:  # the intent was created but its id never stored
        payment.stripe_payment_intent_id = intent_id
    status = HANDLED[event_type]
    details = {"payment_intent": intent_id, "stripe_event": event_type}
    if status == REFUNDED:
        details["amount_refunded_fen"] = obj.get("amount_refunded")
        if not obj.get("refunded"):  # a partial refund: the fee stays paid; staff see it in the audit log
            audit.record("payment.partially_refunded", payment, enterprise_id=payment.enterprise_id, **details)
            return "partial_refund"
    failure = None
    if status == FAILED:
        failure = (obj.get("last_payment_error") or {}).get("message")
    return "applied" if move(payment, status, event_at=created, failure_message=failure, **details) else "stale"


def _payment_for(event_type: str, obj) -> Payment | None:
    """The fee the event is about, row-locked: by its PaymentIntent id, else by the metadata
    written on the intent (payment_id and the fee's idempotency key, which must both match):
    that covers an intent id lost between the API call and the commit."""
    intent_id = _intent_id(event_type, obj)
    payment = None
    if intent_id:
        payment = db.session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == intent_id))
    metadata = obj.get("metadata") or {}
    payment_id = str(metadata.get("payment_id") or "")
    if payment is None and payment_id.isdigit():
        payment = db.session.get(Payment, int(payment_id))
        if payment is not None and (payment.method != "stripe"
                                    or metadata.get("idempotency_key") != payment.idempotency_key):
            payment = None
    return lock(payment) if payment is not None else None


def _intent_id(event_type: str, obj) -> str | None:
    if event_type in INTENT_EVENTS:
        return obj.get("id")
    intent = obj.get("payment_intent")
    return intent if isinstance(intent, str) or intent is None else intent.get("id")


def _mismatch(payment: Payment, intent_id: str | None, obj) -> str | None:
    """Why the event cannot be about this fee, or None when it is."""
    if payment.stripe_payment_intent_id and intent_id and payment.stripe_payment_intent_id != intent_id:
        return f"another PaymentIntent ({intent_id}) for a fee paid through {payment.stripe_payment_intent_id}"
    if (obj.get("currency") or "").lower() != payment.currency:
        return f"currency {obj.get('currency')!r}"
    if obj.get("amount") != to_fen(payment.amount):
        return f"amount {obj.get('amount')} fen, expected {to_fen(payment.amount)}"
    return None
