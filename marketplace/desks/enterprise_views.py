"""The enterprise's side of the desks: the offers on its request side by side (accept one, the
others close), and the institutions' questions to answer with text and documents."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from marketplace.desks import decisions, info
from marketplace.desks.forms import AnswerForm
from marketplace.desks.models import InfoRequest, Offer
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.formatting import today_shanghai
from marketplace.i18n import sentences
from marketplace.permissions import require_owned
from marketplace.receivables.documents import DocumentRefused

bp = Blueprint("desk_enterprise", __name__, url_prefix="/financing")


def _owned(request_id: int) -> FinancingRequest:
    return require_owned(db.session.get(FinancingRequest, request_id))


@bp.get("/<int:request_id>/offers")
def offers(request_id: int):
    req = _owned(request_id)
    rows = db.session.scalars(select(Offer).where(Offer.request_id == req.id, Offer.status != "pending_approval",
                                                  Offer.status != "withdrawn")
                              .order_by(Offer.annual_rate, Offer.id)).all()
    return render_template("desks/offers.html", req=req, offers=rows, today=today_shanghai())


@bp.post("/<int:request_id>/offers/<int:offer_id>/accept")
def accept(request_id: int, offer_id: int):
    req = _owned(request_id)
    offer = db.session.get(Offer, offer_id)
    if offer is None or offer.request_id != req.id:
        abort(404)
    try:
        decisions.accept_offer(offer, current_user._get_current_object())
        db.session.commit()
    except decisions.DecisionConflict as error:  # someone acted first: the offers as they are now
        db.session.rollback()
        flash(str(error), "danger")
        return offers(request_id), 409
    except decisions.DecisionRefused as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("desk_enterprise.offers", request_id=request_id))
    flash(_("已接受%(bank)s的报价，其他报价已关闭", bank=offer.institution.name), "success")
    return redirect(url_for("financing.detail", request_id=request_id))


@bp.get("/<int:request_id>/questions")
def questions(request_id: int):
    req = _owned(request_id)
    rows = db.session.scalars(select(InfoRequest).where(InfoRequest.request_id == req.id)
                              .order_by(InfoRequest.answered_at.is_not(None), InfoRequest.id.desc())).all()
    return render_template("desks/questions.html", req=req, questions=rows, form=AnswerForm(formdata=None))


@bp.post("/<int:request_id>/questions/<int:question_id>")
def answer(request_id: int, question_id: int):
    req = _owned(request_id)
    question = db.session.get(InfoRequest, question_id)
    if question is None or question.request_id != req.id:
        abort(404)
    form = AnswerForm()
    if not form.validate():
        flash(sentences(e for errors in form.errors.values() for e in errors), "danger")
        return redirect(url_for("desk_enterprise.questions", request_id=request_id))
    try:
        info.answer(question, current_user._get_current_object(), form.answer.data, form.attachments.data or [])
        db.session.commit()
    except (decisions.DecisionRefused, DocumentRefused) as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("desk_enterprise.questions", request_id=request_id))
    flash(_("回复已提交，机构将继续审查"), "success")
    return redirect(url_for("desk_enterprise.questions", request_id=request_id))
