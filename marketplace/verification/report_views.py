"""Verification reports: the enterprise sees its own; a routed institution sees them within the
enterprise's consent, each view logged as a credit-data read. Page and PDF share one context
(report_document) and one loader per audience; each has its body (templates/verification/_report_body.html,
and the lighter templates/pdf/verification_report.html), both worded by verification/_report_labels.html."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
from flask_login import current_user

from marketplace import audit
from marketplace.enterprises.consents import reading_purpose
from marketplace.enterprises.services import has_consent
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.pdf import pdf_file_response
from marketplace.permissions import require_owned
from marketplace.verification.models import VerificationReport
from marketplace.verification.report_document import report_context, report_pdf
from marketplace.verification.routed import routed_target

bp = Blueprint("reports", __name__)

CONSENT_SCOPE = "bank_statements"


def _report(request: FinancingRequest, report_id: int) -> VerificationReport:
    report = db.session.get(VerificationReport, report_id)
    if report is None or report.request_id != request.id:
        abort(404)
    return report


def _enterprise_report(request_id: int, report_id: int) -> tuple[FinancingRequest, VerificationReport]:
    """The report, for users of the enterprise that made the request."""
    request = require_owned(db.session.get(FinancingRequest, request_id))
    return request, _report(request, report_id)


def _institution_report(request_id: int, report_id: int) -> tuple[FinancingRequest, VerificationReport]:
    """The report, for staff of an institution the request was routed to, within consent."""
    request = db.session.get(FinancingRequest, request_id)
    if request is None or routed_target(request.id, current_user.organisation_id) is None:
        abort(404)
    report = _report(request, report_id)
    purpose = reading_purpose(current_user.organisation.kind, request.state)
    if not has_consent(request.enterprise_id, current_user.organisation_id, CONSENT_SCOPE, purpose):
        db.session.commit()  # keep the logged refusal
        abort(403)
    audit.record_credit_read(request.enterprise_id, "verification_report", purpose=purpose,
                             request_id=request.id, report_id=report.id)
    db.session.commit()
    return request, report


def _page(request: FinancingRequest, report: VerificationReport, *, pdf_url: str, back_url: str):
    return render_template("verification/report.html", pdf_url=pdf_url, back_url=back_url,
                           **report_context(request, report))


def _pdf(request: FinancingRequest, report: VerificationReport):
    """Reports never change: the PDF is rendered once per report and language (perhaps ahead, by a
    worker), then read from the cache."""
    return pdf_file_response(lambda: report_pdf(request, report),
                             f"verification-report-{request.id}-{report.submission_no}.pdf")


@bp.get("/financing/<int:request_id>/reports/<int:report_id>")
def enterprise_report(request_id: int, report_id: int):
    request, report = _enterprise_report(request_id, report_id)
    return _page(request, report, back_url=url_for("financing.detail", request_id=request.id),
                 pdf_url=url_for("reports.enterprise_report_pdf", request_id=request.id, report_id=report.id))


@bp.get("/financing/<int:request_id>/reports/<int:report_id>.pdf")
def enterprise_report_pdf(request_id: int, report_id: int):
    return _pdf(*_enterprise_report(request_id, report_id))


@bp.get("/institution/requests/<int:request_id>/reports/<int:report_id>")
def institution_report(request_id: int, report_id: int):
    request, report = _institution_report(request_id, report_id)
    return _page(request, report, back_url=url_for("desk.detail", request_id=request.id),
                 pdf_url=url_for("reports.institution_report_pdf", request_id=request.id, report_id=report.id))


@bp.get("/institution/requests/<int:request_id>/reports/<int:report_id>.pdf")
def institution_report_pdf(request_id: int, report_id: int):
    return _pdf(*_institution_report(request_id, report_id))
