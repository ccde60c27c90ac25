"""The beat's list work: the yearly red/white/yellow proposal (in January, for the year just
ended) and the monthly white-list push proposal (on the first of the month), one per bureau
region. Idempotent by construction: a region and year (or month) already proposed is left as it is."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import OperationalError

from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.lists import services


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3)
def compute_yearly_lists(year: int | None = None) -> int:
    """Propose the lists of `year` (default: last year) for every bureau region; returns how many
    proposals were new."""
    today = today_shanghai()
    year = year or today.year - 1
    created = 0
    with current_app.test_request_context("/"):  # gettext and the audit log want one
        for region in services.bureau_regions():
            before = services.yearly_proposal(region, year)
            proposal = services.compute_proposal(region, year, None, today, trigger="yearly")
            created += before is None and proposal is not None
            db.session.commit()
    return created


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3)
def propose_monthly_pushes(month: str | None = None) -> int:
    """Propose the white-list push of `month` (YYYY-MM-DD of any day in it; default: this month)
    for every bureau region; returns how many pushes were new."""
    today = today_shanghai()
    first = services.month_start(date.fromisoformat(month) if month else today)
    created = 0
    with current_app.test_request_context("/"):
        for region in services.bureau_regions():
            existing = services.push_of_month(region, first)
            services.propose_whitelist_push(region, first, today)
            created += existing is None
            db.session.commit()
    return created
