"""Claims idle past CLAIM_IDLE_WORKING_DAYS go back to the queue (Celery beat, every 10 minutes);
reviews whose consent expired close (daily, just after midnight in Shanghai)."""

from __future__ import annotations

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import OperationalError

from marketplace.desks import claims, consent_ended
from marketplace.extensions import db


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3)
def expire_idle_claims() -> int:
    """End idle claims; returns how many. Idempotent: each claim is ended by a conditional
    update, so an overlapping or redelivered run ends nothing twice."""
    expired = claims.expire_idle()
    db.session.commit()
    return expired


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3)
def close_reviews_without_consent() -> int:
    """Close the institutions' parts of requests whose consent expired; returns how many requests
    were concerned. Idempotent: a closed part is no longer under review, so a second run finds
    nothing. (Pages and the API refuse such an institution at once; this tidies up and tells.)"""
    base_url = current_app.config.get("PUBLIC_BASE_URL") or "http://localhost/"
    with current_app.test_request_context("/", base_url=base_url):  # links in the notifications
        closed = consent_ended.close_parts_without_consent(why="expired")
        db.session.commit()
    return len(closed)
