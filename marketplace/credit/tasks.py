"""The grade's recomputation, queued through the outbox when an input of the grade changes: a
thin front on grading.recompute."""

from __future__ import annotations

from celery import shared_task
from sqlalchemy.exc import OperationalError

from marketplace.credit import grading
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
