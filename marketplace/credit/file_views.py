"""The credit file (一企一档) pages and the credit report PDF (企业信用报告), for the enterprise
itself, an institution under the enterprise's consent, and the bureau of its region. Who sees
what, and the logging of each read and refusal: marketplace/credit/file.py."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from marketplace.credit import file as credit_file
from marketplace.credit.models import POLARITY_LABELS, STATUS_LABELS
from marketplace.enterprises.access_log import PURPOSE_LABELS, WHAT_LABELS
from marketplace.enterprises.models import CONSENT_PURPOSE_LABELS, SCOPE_LABELS, Enterprise
from marketplace.extensions import db
from marketplace.pdf import pdf_response
from marketplace.permissions import current_enterprise
from workflows.credit_model import COLOUR_LABELS
from workflows.credit_records import KINDS, SOURCE_LABELS
from workflows.financing import STATE_LABELS

bp = Blueprint("credit_file", __name__)

REFUSALS = {
    "no valid consent": _l("该企业未授权本机构查询其信用档案，或授权已过期、已撤销。本次查询已记入企业的数据访问记录。"),
    "purpose not consented": _l("该企业的授权不涵盖本次查询的用途。本次查询已记入企业的数据访问记录。"),
}
REFUSED = _l("您无权查看该企业的信用档案。")


def _labels() -> dict:
    return {"source_labels": SOURCE_LABELS, "kinds": KINDS, "status_labels": STATUS_LABELS,
            "polarity_labels": POLARITY_LABELS, "colour_labels": COLOUR_LABELS, "scope_labels": SCOPE_LABELS,
            "consent_purpose_labels": CONSENT_PURPOSE_LABELS, "state_labels": STATE_LABELS,
            "what_labels": WHAT_LABELS, "purpose_labels": PURPOSE_LABELS}


def _open(enterprise: Enterprise | None, what: str):
    """(viewer, None) or (None, the refusal response); the read or refusal is logged and committed."""
    user = current_user._get_current_object()
    try:
        viewer = credit_file.open_file(enterprise, user, what)
    except credit_file.FileRefused as refused:
        db.session.commit()  # keep the logged refusal
        if refused.status == 404:
            abort(404)
        message = REFUSALS.get(refused.reason, REFUSED)
        return None, (render_template("credit/file.html", refused=message, enterprise=enterprise, **_labels()), 403)
    db.session.commit()
    return viewer, None


def _page(enterprise: Enterprise | None, endpoint: str, **url_args):
    """The file's page; `endpoint` names this page (its pager), `endpoint` + report its PDF."""
    viewer, refusal = _open(enterprise, "credit_file")
    if refusal:
        return refusal
    cf = credit_file.assemble(enterprise, viewer)
    return render_template("credit/file.html", cf=cf, page_endpoint=endpoint, page_args=url_args,
                           report_url=url_for(endpoint.removesuffix("_file") + "_report", **url_args), **_labels())


def _report(enterprise: Enterprise | None):
    viewer, refusal = _open(enterprise, "credit_report")
    if refusal:
        return refusal
    cf = credit_file.assemble(enterprise, viewer, with_access_log=False)
    return pdf_response("pdf/credit_report.html", f"credit-report-{enterprise.uscc}.pdf", cf=cf,
                        stamp=viewer.stamp(cf.generated_at), **_labels())


@bp.get("/enterprise/credit-file")
def enterprise_file():
    return _page(current_enterprise(), "credit_file.enterprise_file")


@bp.get("/enterprise/credit-file/report.pdf")
def enterprise_report():
    return _report(current_enterprise())


@bp.get("/institution/enterprises/<int:enterprise_id>/credit-file")
def institution_file(enterprise_id: int):
    return _page(db.session.get(Enterprise, enterprise_id), "credit_file.institution_file", enterprise_id=enterprise_id)


@bp.get("/institution/enterprises/<int:enterprise_id>/credit-file/report.pdf")
def institution_report(enterprise_id: int):
    return _report(db.session.get(Enterprise, enterprise_id))


@bp.get("/bureau/enterprises/<int:enterprise_id>/credit-file")
def bureau_file(enterprise_id: int):
    return _page(db.session.get(Enterprise, enterprise_id), "credit_file.bureau_file", enterprise_id=enterprise_id)


@bp.get("/bureau/enterprises/<int:enterprise_id>/credit-file/report.pdf")
def bureau_report(enterprise_id: int):
    return _report(db.session.get(Enterprise, enterprise_id))
