"""The grade's recomputation, queued through the outbox when an input of the grade changes: a
thin front on grading.recompute; and the daily retention of negative records (credit.retention)."""

from __future__ import annotations

from celery import shared_task
from sqlalchemy.exc import OperationalError

from marketplace.credit import grading, retention
from marketplace.extensions import db


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3)
def recompute_grade(enterprise_id: int, trigger: str = "task") -> str:
    """Regrade the enterprise; returns its grade letter or "ungraded". Idempotent by
    construction: a run that finds the same result stores nothing (and the enterprise row is
    locked while it grades, so two runs at once store one row)."""
    row = grading.recompute(enterprise_id, trigger)
    letter = row.grade or "ungraded"
    db.session.commit()
    return letter


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3)
def expire_negative_records() -> int:
    """Daily (BEAT_SCHEDULE "credit-retention"): negative records past CREDIT_NEGATIVE_RETENTION_YEARS
    leave every outward view (credit.retention); returns how many were marked. Idempotent: a
    repeat the same day marks nothing."""
    marked = retention.expire_negative_records()
    db.session.commit()
    return len(marked)
