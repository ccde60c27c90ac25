"""The one place a payment's status changes: the ranking is checked, the timestamps set, the
paid hooks run (first success only) and the audit event written, all in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from marketplace import audit
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.payments.hooks import run_paid_handlers
from marketplace.payments.status import FAILED, REFUNDED, SUCCEEDED, may_move


def lock(payment):
    """Reload `payment` under a row lock (PostgreSQL; SQLite serialises writers anyway)."""
    db.session.refresh(payment, with_for_update=True)
    return payment


def move(payment, new_status: str, *, event_at: datetime | None = None, actor=None,
         failure_message: str | None = None, **details) -> bool:
    """Move `payment` to `new_status` if the ranking allows; False (nothing changed) otherwise."""
    if not may_move(payment.status, new_status, event_at, payment.last_event_at):
        return False
    old_status = payment.status
    at = event_at or utcnow()
    payment.status = new_status
    if event_at is not None and (payment.last_event_at is None or event_at > payment.last_event_at):
        payment.last_event_at = event_at
    first_success = new_status == SUCCEEDED and payment.paid_at is None
    if new_status == SUCCEEDED:
        payment.paid_at = payment.paid_at or at
    elif new_status == REFUNDED:
        payment.refunded_at = at
    elif new_status == FAILED:
        payment.failure_message = (failure_message or "")[:500] or None
    db.session.flush()
    if first_success:
        # before our own audit event: a handler that locks its rows and then audits takes its
        # locks in the same order as everywhere else (row, then the audit chain)
        run_paid_handlers(payment)
    audit.record(f"payment.{new_status}", payment, enterprise_id=payment.enterprise_id, actor=actor,
                 from_status=old_status, amount=str(payment.amount), purpose=payment.purpose, **details)
    return True
