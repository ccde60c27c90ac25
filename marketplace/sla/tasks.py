"""The SLA sweep, run by Celery beat every 15 minutes: a thin front on services.sweep_breaches."""

from __future__ import annotations

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import OperationalError

from marketplace.extensions import db
from marketplace.sla import services
from marketplace.workcalendar.services import working_calendar, years_without_makeup_days

SWEEP_EVERY_SECONDS = 15 * 60


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3)
def sweep_sla_breaches() -> int:
    """Mark late requests stuck and notify; returns how many became stuck.

    Idempotent: a request is marked (and its people told) only while it is not yet stuck, and
    the marking commits with the notifications, so a redelivered or overlapping run adds nothing.
    """
    for year in years_without_makeup_days():
        current_app.logger.warning(
            "SLA clocks: the official make-up working days of %s are not known (decided by %s); a platform "
            "admin sets them at /admin/calendar/%s", year, working_calendar().source(year), year)
    base_url = current_app.config.get("PUBLIC_BASE_URL") or "http://localhost/"
    with current_app.test_request_context("/", base_url=base_url):  # links in the notifications
        stuck = services.sweep_breaches()
        db.session.commit()
    return len(stuck)
