"""The daily objection clock, run by Celery beat: a thin front on objections.escalate_due, which
tells the bureau of the enterprise's region about each open objection reaching day 15."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import OperationalError

from marketplace.credit import objections
from marketplace.extensions import db


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3)
def escalate_objections(today: str | None = None) -> int:
    """Escalate the open objections that reached day 15 by today (Shanghai) or `today`
    (YYYY-MM-DD); returns how many were newly escalated.

    Idempotent: an objection is escalated only while escalated_at is empty, under a row lock, and
    the stamp commits with its audit event and notifications, so a redelivered or overlapping run
    adds nothing."""
    day = date.fromisoformat(today) if today else None
    base_url = current_app.config.get("PUBLIC_BASE_URL") or "http://localhost/"
    with current_app.test_request_context("/", base_url=base_url):  # links in the notifications
        escalated = objections.escalate_due(day)
        db.session.commit()
    return escalated
