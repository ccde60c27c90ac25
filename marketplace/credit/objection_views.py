"""Pages of objections (异议) and credit repair (信用修复): the enterprise files and follows them,
the data provider answers objections on its own records, the platform answers any objection and
decides any repair, the bureau follows escalated and overdue objections of its region and decides
its region's repair applications. Each view loads its object scoped to the user's organisation
(404 otherwise); reads by anyone but the enterprise are written to the enterprise's access log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace import audit
from marketplace.credit import objections, repairs
from marketplace.credit.models import (
    OBJECTION_OUTCOME_LABELS,
    POLARITY_LABELS,
    REPAIR_DECISION_LABELS,
    STATUS_LABELS,
    CreditEvidence,
    CreditObjection,
    CreditRecord,
    RepairApplication,
)
from marketplace.credit.objection_forms import (
    AnswerObjectionForm,
    ObjectionForm,
    RepairDecisionForm,
    RepairForm,
)
from marketplace.credit.objections import CreditRequestRefused
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.pagination import paginate
from marketplace.permissions import current_enterprise, require_owned
from workflows.credit_records import KINDS, SOURCE_LABELS

enterprise_bp = Blueprint("credit_objections", __name__, url_prefix="/enterprise/credit-file")
provider_bp = Blueprint("provider_objections", __name__, url_prefix="/provider/objections")
admin_bp = Blueprint("admin_objections", __name__, url_prefix="/admin")
bureau_bp = Blueprint("bureau_objections", __name__, url_prefix="/bureau")
BLUEPRINTS = (enterprise_bp, provider_bp, admin_bp, bureau_bp)

# A refused step has written nothing (the services check before they write), so a refusal simply
# re-renders the form; the request's teardown discards the session either way.
OBJECTION_PURPOSE = "objection_handling"
REPAIR_PURPOSE = "repair_review"


def _user():
    return current_user._get_current_object()


def _labels() -> dict:
    return {"kinds": KINDS, "source_labels": SOURCE_LABELS, "status_labels": STATUS_LABELS,
            "polarity_labels": POLARITY_LABELS, "outcome_labels": OBJECTION_OUTCOME_LABELS,
            "decision_labels": REPAIR_DECISION_LABELS, "today": today_shanghai()}


def _log_read(enterprise_id: int, what: str, purpose: str, **details) -> None:
    """A read of the enterprise's objection or repair by anyone else: in its access log."""
    audit.record_credit_read(enterprise_id, what, purpose=purpose, **details)
    db.session.commit()


def _evidence_of(evidence_id: int, *, objection: CreditObjection | None = None,
                 repair: RepairApplication | None = None) -> CreditEvidence:
    row = db.session.get(CreditEvidence, evidence_id)
    if row is None or (objection is not None and row.objection_id != objection.id) \
            or (repair is not None and row.repair_id != repair.id):
        abort(404)
    return row


# ---- the enterprise ------------------------------------------------------------------------------

def _own_record(record_id: int) -> CreditRecord:
    return require_owned(db.session.get(CreditRecord, record_id))


@enterprise_bp.route("/records/<int:record_id>/objection", methods=["GET", "POST"], endpoint="file_objection")
def enterprise_file_objection(record_id: int):
    record = _own_record(record_id)
    form, status = ObjectionForm(), 200
    if form.validate_on_submit():
        try:
            objection = objections.file_objection(record, _user(), form.reason.data, form.evidence.data or [])
        except CreditRequestRefused as refused:
            form.form_errors.append(str(refused))
            status = 422
        else:
            db.session.commit()
            flash(_("异议已提交，该记录已标注“异议处理中”。数据提供单位或平台将在20个自然日内书面答复。"), "success")
            return redirect(url_for("credit_objections.objection", objection_id=objection.id))
    elif form.is_submitted():
        status = 422
    return render_template("credit/objection_new.html", form=form, record=record,
                           open_objection=objections.open_objection(record.id), **_labels()), status


@enterprise_bp.route("/records/<int:record_id>/repair", methods=["GET", "POST"], endpoint="apply_repair")
def enterprise_apply_repair(record_id: int):
    record = _own_record(record_id)
    form, status = RepairForm(), 200
    if form.validate_on_submit():
        try:
            application = repairs.apply_for_repair(record, _user(), form.commitment.data, form.evidence.data or [])
        except CreditRequestRefused as refused:
            form.form_errors.append(str(refused))
            status = 422
        else:
            db.session.commit()
            flash(_("信用修复申请已提交，请等待审核。"), "success")
            return redirect(url_for("credit_objections.repair", repair_id=application.id))
    elif form.is_submitted():
        status = 422
    return render_template("credit/repair_new.html", form=form, record=record,
                           open_repair=repairs.open_repair(record.id), **_labels()), status


@enterprise_bp.get("/objections", endpoint="index")
def enterprise_index():
    enterprise = current_enterprise()
    return render_template("credit/objections_mine.html", objections=objections.objections_for(enterprise.id),
                           repairs=repairs.repairs_for(enterprise.id), **_labels())


@enterprise_bp.get("/objections/<int:objection_id>", endpoint="objection")
def enterprise_objection(objection_id: int):
    row = require_owned(db.session.get(CreditObjection, objection_id))
    return render_template("credit/objection_detail.html", objection=row, form=None, viewer="enterprise",
                           **_labels())


@enterprise_bp.get("/repairs/<int:repair_id>", endpoint="repair")
def enterprise_repair(repair_id: int):
    row = require_owned(db.session.get(RepairApplication, repair_id))
    return render_template("credit/repair_detail.html", application=row, form=None, viewer="enterprise",
                           **_labels())


@enterprise_bp.get("/evidence/<int:evidence_id>", endpoint="evidence")
def enterprise_evidence(evidence_id: int):
    row = db.session.get(CreditEvidence, evidence_id)
    if row is None:
        abort(404)
    require_owned(row)
    return objections.evidence_response(row)


# ---- answering objections: the provider and the platform ------------------------------------------

def _answer(objection: CreditObjection, endpoint: str, viewer: str):
    form, status = AnswerObjectionForm(), 200
    if objection.is_open and form.validate_on_submit():
        try:
            corrections = form.corrections() if form.outcome.data == "corrected" else None
            objections.answer_objection(objection, _user(), form.outcome.data, form.reply.data, corrections)
        except CreditRequestRefused as refused:
            form.form_errors.append(str(refused))
            status = 422
        else:
            db.session.commit()
            flash(_("已书面答复该异议，企业将收到通知。"), "success")
            return redirect(url_for(endpoint, objection_id=objection.id))
    elif form.is_submitted():
        status = 422 if objection.is_open else 409
        if not objection.is_open:
            form.form_errors.append(_("该异议已经答复过了"))
    else:
        _log_read(objection.enterprise_id, "credit_objection", OBJECTION_PURPOSE, objection_id=objection.id,
                  record_id=objection.record_id)
    return render_template("credit/objection_detail.html", objection=objection, form=form, viewer=viewer,
                           **_labels()), status


@provider_bp.get("", endpoint="index")
def provider_index():
    page = paginate(objections.provider_objections_query(current_user.organisation))
    return render_template("credit/objections_list.html", page=page, endpoint="provider_objections.index",
                           detail_endpoint="provider_objections.detail", viewer="provider", **_labels())


@provider_bp.route("/<int:objection_id>", methods=["GET", "POST"], endpoint="detail")
def provider_detail(objection_id: int):
    return _answer(objections.load_for(_user(), objection_id), "provider_objections.detail", "provider")


@provider_bp.get("/<int:objection_id>/evidence/<int:evidence_id>", endpoint="evidence")
def provider_evidence(objection_id: int, evidence_id: int):
    objection = objections.load_for(_user(), objection_id)
    row = _evidence_of(evidence_id, objection=objection)
    _log_read(objection.enterprise_id, "credit_evidence", OBJECTION_PURPOSE, objection_id=objection.id,
              evidence_id=row.id)
    return objections.evidence_response(row)


@admin_bp.get("/objections", endpoint="objections_list")
def admin_objections_list():
    page = paginate(objections.all_objections_query())
    return render_template("credit/objections_list.html", page=page, endpoint="admin_objections.objections_list",
                           detail_endpoint="admin_objections.objection", viewer="platform", **_labels())


@admin_bp.route("/objections/<int:objection_id>", methods=["GET", "POST"], endpoint="objection")
def admin_objection(objection_id: int):
    return _answer(objections.load_for(_user(), objection_id), "admin_objections.objection", "platform")


@admin_bp.get("/repairs", endpoint="repairs_list")
def admin_repairs_list():
    page = paginate(repairs.all_repairs_query())
    return render_template("credit/repairs_list.html", page=page, endpoint="admin_objections.repairs_list",
                           detail_endpoint="admin_objections.repair", viewer="platform", **_labels())


@admin_bp.route("/repairs/<int:repair_id>", methods=["GET", "POST"], endpoint="repair")
def admin_repair(repair_id: int):
    return _decide(repairs.load_for(_user(), repair_id), "admin_objections.repair", "platform")


@admin_bp.get("/credit-evidence/<int:evidence_id>", endpoint="evidence")
def admin_evidence(evidence_id: int):
    row = _evidence_of(evidence_id)
    _log_read(row.enterprise_id, "credit_evidence", OBJECTION_PURPOSE if row.objection_id else REPAIR_PURPOSE,
              evidence_id=row.id)
    return objections.evidence_response(row)


# ---- the bureau ---------------------------------------------------------------------------------

def _decide(application: RepairApplication, endpoint: str, viewer: str):
    form, status = RepairDecisionForm(), 200
    if application.is_open and form.validate_on_submit():
        try:
            repairs.decide_repair(application, _user(), form.decision.data == "approved", form.reason.data)
        except CreditRequestRefused as refused:
            form.form_errors.append(str(refused))
            status = 422
        else:
            db.session.commit()
            flash(_("已作出审核决定，企业将收到通知。"), "success")
            return redirect(url_for(endpoint, repair_id=application.id))
    elif form.is_submitted():
        status = 422 if application.is_open else 409
        if not application.is_open:
            form.form_errors.append(_("该申请已经审核过了"))
    else:
        _log_read(application.enterprise_id, "credit_repair", REPAIR_PURPOSE, repair_id=application.id,
                  record_id=application.record_id)
    return render_template("credit/repair_detail.html", application=application, form=form, viewer=viewer,
                           **_labels()), status


@bureau_bp.get("/objections", endpoint="objections_list")
def bureau_objections_list():
    page = paginate(objections.bureau_objections_query(current_user.organisation))
    return render_template("credit/objections_list.html", page=page, endpoint="bureau_objections.objections_list",
                           detail_endpoint="bureau_objections.objection", viewer="bureau", **_labels())


@bureau_bp.get("/objections/<int:objection_id>", endpoint="objection")
def bureau_objection(objection_id: int):
    row = objections.load_for(_user(), objection_id)
    _log_read(row.enterprise_id, "credit_objection", OBJECTION_PURPOSE, objection_id=row.id, record_id=row.record_id)
    return render_template("credit/objection_detail.html", objection=row, form=None, viewer="bureau", **_labels())


@bureau_bp.get("/repairs", endpoint="repairs_list")
def bureau_repairs_list():
    page = paginate(repairs.bureau_repairs_query(current_user.organisation))
    return render_template("credit/repairs_list.html", page=page, endpoint="bureau_objections.repairs_list",
                           detail_endpoint="bureau_objections.repair", viewer="bureau", **_labels())


@bureau_bp.route("/repairs/<int:repair_id>", methods=["GET", "POST"], endpoint="repair")
def bureau_repair(repair_id: int):
    return _decide(repairs.load_for(_user(), repair_id), "bureau_objections.repair", "bureau")


@bureau_bp.get("/credit-evidence/<int:evidence_id>", endpoint="evidence")
def bureau_evidence(evidence_id: int):
    row = _evidence_of(evidence_id)
    if row.objection_id is not None:
        owner = objections.load_for(_user(), row.objection_id)
    else:
        owner = repairs.load_for(_user(), row.repair_id)
    _log_read(owner.enterprise_id, "credit_evidence", OBJECTION_PURPOSE if row.objection_id else REPAIR_PURPOSE,
              evidence_id=row.id)
    return objections.evidence_response(row)
