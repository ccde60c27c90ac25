"""The daily overdue sweep, run by Celery beat: a thin front on services.flag_overdue, which
records the first day each instalment fell overdue, the day a late payment cured it, and reports
each overdue instalment once to the enterprise's credit file."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import OperationalError

from marketplace.extensions import db
from marketplace.loans import services


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3)
def flag_overdue_instalments(today: str | None = None) -> int:
    """Bring the overdue history up to today (Shanghai) or `today` (YYYY-MM-DD); returns how many
    instalments were newly reported overdue.

    Idempotent: each date and report is recorded only while its column is empty, each loan
    under a row lock, and they commit with the audit events and notifications, so a
    redelivered or overlapping run adds nothing.
    """
    day = date.fromisoformat(today) if today else None
    base_url = current_app.config.get("PUBLIC_BASE_URL") or "http://localhost/"
    with current_app.test_request_context("/", base_url=base_url):  # links in the notifications
        flagged = services.flag_overdue(day)
        db.session.commit()
    return len(flagged)
