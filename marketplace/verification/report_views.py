"""Verification reports: the enterprise sees its own; a routed institution sees them within the
enterprise's consent, each view logged as a credit-data read. Page and PDF share one body."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from marketplace import audit
from marketplace.enterprises.services import has_consent
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.permissions import require_owned
from marketplace.verification.models import VerificationReport
from marketplace.verification.routed import routed_target

bp = Blueprint("reports", __name__)

CONSENT_SCOPE = "bank_statements"


def _report(request: FinancingRequest, report_id: int) -> VerificationReport:
    report = db.session.get(VerificationReport, report_id)
    if report is None or report.request_id != request.id:
        abort(404)
    return report


@bp.get("/financing/<int:request_id>/reports/<int:report_id>")
def enterprise_report(request_id: int, report_id: int):
    request = require_owned(db.session.get(FinancingRequest, request_id))
    report = _report(request, report_id)
    return render_template("verification/report.html", req=request, report=report, payload=report.payload)


def _institution_report(request_id: int, report_id: int) -> tuple[FinancingRequest, VerificationReport]:
    """The report, for staff of an institution the request was routed to, within consent."""
    request = db.session.get(FinancingRequest, request_id)
    if request is None or routed_target(request.id, current_user.organisation_id) is None:
        abort(404)
    report = _report(request, report_id)
    if not has_consent(request.enterprise_id, current_user.organisation_id, CONSENT_SCOPE):
        db.session.commit()  # keep the logged refusal
        abort(403)
    audit.record_credit_read(request.enterprise_id, "verification_report", purpose="financing review",
                             request_id=request.id, report_id=report.id)
    db.session.commit()
    return request, report


@bp.get("/institution/requests/<int:request_id>/reports/<int:report_id>")
def institution_report(request_id: int, report_id: int):
    request, report = _institution_report(request_id, report_id)
    return render_template("verification/report.html", req=request, report=report, payload=report.payload)
