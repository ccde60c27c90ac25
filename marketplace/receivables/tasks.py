"""The daily reminder to debtors who have not answered, run by Celery beat: a thin front on
reminders.send_reminders."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import OperationalError

from marketplace.extensions import db
from marketplace.receivables import reminders


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3)
def remind_unanswered_debtors(now: str | None = None) -> int:
    """Send the reminders due now (or at `now`, an ISO date-time); returns how many receivables
    were reminded about. Idempotent: see reminders.py."""
    moment = datetime.fromisoformat(now) if now else None
    base_url = current_app.config.get("PUBLIC_BASE_URL") or "http://localhost/"
    with current_app.test_request_context("/", base_url=base_url):  # links in the notifications
        count = reminders.send_reminders(moment)
        db.session.commit()
    return count
