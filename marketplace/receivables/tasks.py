"""The daily reminders to debtors who have not answered, run by Celery beat (thin fronts on
reminders.send_reminders and debtor_requests.send_reminders), and the debtor request's email."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import OperationalError

from marketplace.extensions import db
from marketplace.mail import send_mail
from marketplace.receivables import debtor_requests, reminders


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3)
def remind_unanswered_debtors(now: str | None = None) -> int:
    """Send the reminders due now (or at `now`, an ISO date-time); returns how many receivables
    were reminded about. Idempotent: see reminders.py."""
    return _send_with_links(reminders.send_reminders, now)


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OSError,), retry_backoff=True,
             max_retries=5)
def send_debtor_request_email(request_id: int, kind: str = "request") -> bool:
    """Email a debtor request ("request") or its reminder ("reminder") to the debtor's address;
    claims it first, so a redelivered task sends it once."""
    request = debtor_requests.claim_email(request_id, kind)
    if request is None:
        db.session.rollback()
        return False
    base_url = current_app.config.get("PUBLIC_BASE_URL") or "http://localhost/"
    with current_app.test_request_context("/", base_url=base_url):  # the link in the email
        subject, body = debtor_requests.email_text(request, kind)
    try:
        send_mail(request.email, subject, body)
    except OSError:
        db.session.rollback()  # release the claim so the retry can send it
        raise
    db.session.commit()
    return True


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3)
def remind_debtor_requests(now: str | None = None) -> int:
    """Beat: remind once about each debtor request close to expiry (see debtor_requests.send_reminders);
    returns how many requests were reminded about."""
    return _send_with_links(debtor_requests.send_reminders, now)


def _send_with_links(send, now: str | None) -> int:
    """Run a reminder round (`send(moment)`, at `now`, an ISO date-time, or now) in a request
    context on PUBLIC_BASE_URL, so the links in its notifications are absolute; commit."""
    moment = datetime.fromisoformat(now) if now else None
    base_url = current_app.config.get("PUBLIC_BASE_URL") or "http://localhost/"
    with current_app.test_request_context("/", base_url=base_url):
        count = send(moment)
        db.session.commit()
    return count
