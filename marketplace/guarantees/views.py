"""The enterprise's side of the guarantee (see the offer, accept it, go on to pay the fee) and
the guarantee letter (担保函) PDF, for the enterprise and for the guarantor's staff."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.formatting import ymd
from marketplace.guarantees import services
from marketplace.guarantees.models import Guarantee
from marketplace.payments.models import Payment
from marketplace.pdf import pdf_response
from marketplace.permissions import require_owned

bp = Blueprint("guarantees", __name__)


def _owned(request_id: int) -> FinancingRequest:
    return require_owned(db.session.get(FinancingRequest, request_id))


def _fee_payment(guarantee: Guarantee) -> Payment | None:
    """The guarantee fee the enterprise owes (or paid) the guarantor for this request."""
    return db.session.scalar(select(Payment).where(
        Payment.request_id == guarantee.request_id, Payment.payee_org_id == guarantee.institution_id,
        Payment.purpose == services.FEE_PURPOSE).order_by(Payment.id.desc()).limit(1))


@bp.get("/financing/<int:request_id>/guarantee")
def enterprise_guarantee(request_id: int):
    req = _owned(request_id)
    guarantee = services.live_guarantee(req.id)
    payment = _fee_payment(guarantee) if guarantee is not None else None
    return render_template("guarantees/enterprise.html", req=req, guarantee=guarantee, payment=payment)


@bp.post("/financing/<int:request_id>/guarantee/accept")
def accept(request_id: int):
    req = _owned(request_id)
    guarantee = services.live_guarantee(req.id)
    if guarantee is None:
        abort(404)
    try:
        payment = services.accept_guarantee(guarantee, current_user._get_current_object())
        db.session.commit()
    except services.GuaranteeRefused as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("guarantees.enterprise_guarantee", request_id=request_id))
    flash(_("已接受%(name)s的担保方案，请缴纳担保费", name=guarantee.institution.name), "success")
    return redirect(url_for("payments.detail", payment_id=payment.id))


def _letter(guarantee: Guarantee):
    return pdf_response("pdf/guarantee_letter.html", f"{guarantee.letter_no}.pdf", guarantee=guarantee,
                        req=guarantee.request, ent=guarantee.request.enterprise, guarantor=guarantee.institution,
                        issued_on=ymd(guarantee.issued_at))


@bp.get("/financing/<int:request_id>/guarantee/letter.pdf")
def letter_pdf(request_id: int):
    req = _owned(request_id)
    guarantee = services.issued_guarantee(req.id)
    if guarantee is None:
        abort(404)
    return _letter(guarantee)


@bp.get("/institution/requests/<int:request_id>/guarantee/letter.pdf")
def institution_letter_pdf(request_id: int):
    """Only the guarantor that issued the letter."""
    guarantee = services.issued_guarantee(request_id)
    if guarantee is None or guarantee.institution_id != current_user.organisation_id:
        abort(404)
    return _letter(guarantee)
