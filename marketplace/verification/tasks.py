"""The verification task: a thin front on services.run_verification."""

from __future__ import annotations

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import OperationalError

from marketplace.verification import services, stalls


@shared_task(name=services.VERIFY_TASK, acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=5)
def verify_request(request_id: int, submission_no: int) -> str:
    """Verify one submission of a request and route it. Safe to run twice: see run_verification."""
    base_url = current_app.config.get("PUBLIC_BASE_URL") or "http://localhost/"
    with current_app.test_request_context("/", base_url=base_url):  # links in notifications need one
        return services.run_verification(request_id, submission_no)


@shared_task(name=services.RENDER_PDF_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def render_report_pdf(report_id: int) -> str:
    """Make a new report's PDF ahead of its first download (report_document.prerender). A failure
    loses nothing: the download renders it then."""
    from marketplace.verification.report_document import prerender

    base_url = current_app.config.get("PUBLIC_BASE_URL") or "http://localhost/"
    with current_app.test_request_context("/", base_url=base_url):
        return prerender(report_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def resend_stalled_verifications() -> dict:
    """Beat: send again the verifications that produced no report in time (see stalls.py)."""
    return stalls.resend_stalled()


@shared_task(name=stalls.REPORT_STALLED_TASK, acks_late=True, reject_on_worker_lost=True)
def report_stalled_verification(request_id: int, submission_no: int) -> bool:
    """Tell the platform admins once that a verification did not finish after every resend."""
    base_url = current_app.config.get("PUBLIC_BASE_URL") or "http://localhost/"
    with current_app.test_request_context("/", base_url=base_url):  # the audit row wants a request
        return stalls.report_stalled(request_id, submission_no)
