"""Claims idle past CLAIM_IDLE_WORKING_DAYS go back to the queue (Celery beat, every 10 minutes)."""

from __future__ import annotations

from celery import shared_task
from sqlalchemy.exc import OperationalError

from marketplace.desks import claims
from marketplace.extensions import db


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3)
def expire_idle_claims() -> int:
    """End idle claims; returns how many. Idempotent: each claim is ended by a conditional
    update, so an overlapping or redelivered run ends nothing twice."""
    expired = claims.expire_idle()
    db.session.commit()
    return expired
