"""The loan pages: the bank's (record the disbursement, the schedule, repayments, early
repayments) on a request
whose offer the enterprise accepted, and the enterprise's read-only view of its loan.

Object checks: the bank reaches only requests routed to it whose accepted offer is its own
(404 otherwise); the enterprise only its own requests (404 otherwise).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.formatting import today_shanghai
from marketplace.i18n import sentences
from marketplace.loans import services
from marketplace.loans.forms import (
    DisbursementForm,
    PrepaymentForm,
    RepaymentForm,
    RestructureForm,
    ScheduleForm,
)
from marketplace.pdf import pdf_response
from marketplace.permissions import require_owned
from marketplace.verification.routed import routed_target
from workflows.financing import State

bp = Blueprint("loans", __name__)

SPARE_ROWS = 3
# the schedule form's proposal: months between instalments (None: all at maturity)
INTERVALS = {"1": 1, "3": 3, "0": None}


def _user():
    return current_user._get_current_object()


@bp.app_template_global("loan_summary")
def loan_summary(request_id: int):
    """The request's loan and its totals, or None before the disbursement (for the desk page)."""
    loan = services.loan_of(request_id)
    return services.summary(loan) if loan is not None else None


def _accepted(request_id: int):
    """(request, offer) when the user's institution holds the request and its offer was accepted."""
    target = routed_target(request_id, current_user.organisation_id)
    offer = services.accepted_offer(request_id, current_user.organisation_id) if target is not None else None
    if offer is None:
        abort(404)
    return target.request, offer


def _bank_loan(request_id: int):
    req, offer = _accepted(request_id)
    loan = services.loan_of(req.id)
    if loan is None or loan.institution_id != offer.institution_id:
        flash(_("尚未登记放款"), "warning")
        return req, offer, None
    return req, offer, loan


def _errors(form) -> str:
    return sentences(e for errors in form.errors.values() for e in errors if not isinstance(e, (dict, list)))


def _back(request_id: int):
    return redirect(url_for("loans.institution_loan", request_id=request_id))


@bp.get("/institution/requests/<int:request_id>/loan")
def institution_loan(request_id: int):
    req, offer = _accepted(request_id)
    loan = services.loan_of(req.id)
    today = today_shanghai()
    return render_template(
        "loans/institution.html", req=req, offer=offer, loan=loan, today=today,
        summary=services.summary(loan, today) if loan else None, accepted_on=services.accepted_on(offer),
        disbursement_form=DisbursementForm(formdata=None, amount=f"{offer.amount:.2f}", disbursed_on=today),
        repayment_form=RepaymentForm(formdata=None, paid_on=today),
        prepayment_form=PrepaymentForm(formdata=None, paid_on=today),
        payoff=services.prepayment_quote(loan, today) if loan else None,
    )


@bp.post("/institution/requests/<int:request_id>/loan/disbursement")
def disburse(request_id: int):
    req, offer = _accepted(request_id)
    form = DisbursementForm()
    if not form.validate():
        flash(_errors(form), "danger")
        return _back(request_id)
    try:
        services.record_disbursement(offer, _user(), form.parsed_amount, form.disbursed_on.data, form.reference.data)
        db.session.commit()
    except services.LoanRefused as error:
        db.session.rollback()
        flash(str(error), "danger")
        return _back(request_id)
    flash(_("放款已登记，请登记还款计划"), "success")
    return redirect(url_for("loans.schedule", request_id=request_id))


def _prefilled(form_class, propose):
    """A schedule-rows form filled with the proposed lines and SPARE_ROWS empty rows; a proposal
    that cannot be made (e.g. an amount too small for that many instalments) leaves a warning
    (workflows.loans' messages, in runtime_msgids.py) and only the empty rows."""
    try:
        proposal = propose()
    except ValueError as error:
        flash(_(str(error)), "warning")
        proposal = []
    return form_class(formdata=None, data={"rows": [
        *({"due_on": line.due_on, "principal": f"{line.principal:.2f}", "interest": f"{line.interest:.2f}"}
          for line in proposal),
        *({"due_on": None, "principal": "", "interest": ""} for _ in range(SPARE_ROWS)),
    ]})


@bp.route("/institution/requests/<int:request_id>/loan/schedule", methods=["GET", "POST"])
def schedule(request_id: int):
    req, offer, loan = _bank_loan(request_id)
    if loan is None or req.state != State.DISBURSED:
        if loan is not None:
            flash(_("还款计划已登记"), "info")
        return _back(request_id)
    every = request.args.get("every", "1")
    months = INTERVALS.get(every, 1)
    form = ScheduleForm()
    if form.is_submitted():
        if form.validate():
            try:
                services.record_schedule(loan, _user(), form.parsed_rows)
                db.session.commit()
            except services.LoanRefused as error:
                db.session.rollback()
                flash(str(error), "danger")
            else:
                flash(_("还款计划已登记，借款进入还款阶段"), "success")
                return _back(request_id)
        else:
            flash(sentences(form.row_problems) or _errors(form), "danger")
        status = 422
    else:
        form = _prefilled(ScheduleForm, lambda: services.proposed_schedule(loan, months))
        status = 200
    return render_template("loans/schedule.html", req=req, offer=offer, loan=loan, form=form, every=every,
                           intervals=INTERVALS), status


@bp.post("/institution/requests/<int:request_id>/loan/repayments")
def repay(request_id: int):
    req, offer, loan = _bank_loan(request_id)
    if loan is None:
        return _back(request_id)
    form = RepaymentForm()
    if not form.validate():
        flash(_errors(form), "danger")
        return _back(request_id)
    try:
        services.record_repayment(loan, _user(), form.paid_on.data, form.parsed_amount, form.reference.data)
        db.session.commit()
    except services.LoanRefused as error:
        db.session.rollback()
        flash(str(error), "danger")
        return _back(request_id)
    flash(_("借款已全部还清，申请已结清") if req.state == State.CLOSED else _("还款已登记"), "success")
    return _back(request_id)


@bp.route("/institution/requests/<int:request_id>/loan/restructure", methods=["GET", "POST"])
def restructure(request_id: int):
    """A new schedule for a loan in arrears (the old one is kept; the credit file is told)."""
    req, offer, loan = _bank_loan(request_id)
    if loan is None or req.state != State.REPAYING:
        return _back(request_id)
    today = today_shanghai()
    totals = services.summary(loan, today)
    if not totals.overdue:
        flash(_("只有逾期（有到期未还的一期）的借款才能重组还款计划"), "warning")
        return _back(request_id)
    form = RestructureForm()
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                services.record_restructuring(loan, _user(), form.parsed_rows, form.note.data)
                db.session.commit()
            except services.LoanRefused as error:
                db.session.rollback()
                flash(str(error), "danger")
            else:
                flash(_("新还款计划已登记，原计划与逾期记录已保留"), "success")
                return _back(request_id)
        else:
            flash(sentences(form.row_problems) or _errors(form), "danger")
        status = 422
    else:
        form = _prefilled(RestructureForm, lambda: services.proposed_restructuring(loan, today))
    return render_template("loans/restructure.html", req=req, offer=offer, loan=loan, form=form, summary=totals,
                           today=today), status


@bp.post("/institution/requests/<int:request_id>/loan/prepayments")
def prepay(request_id: int):
    req, offer, loan = _bank_loan(request_id)
    if loan is None:
        return _back(request_id)
    form = PrepaymentForm()
    if not form.validate():
        flash(_errors(form), "danger")
        return _back(request_id)
    try:
        repayment = services.record_prepayment(loan, _user(), form.paid_on.data, form.parsed_principal,
                                               form.reference.data)
        db.session.commit()
    except services.LoanRefused as error:
        db.session.rollback()
        flash(str(error), "danger")
        return _back(request_id)
    flash(_("借款已提前结清，申请已结清") if req.state == State.CLOSED
          else _("提前还款 ¥%(amount)s 已登记，剩余还款计划已重算", amount=f"{repayment.amount + repayment.fee:,.2f}"),
          "success")
    return _back(request_id)


@bp.get("/financing/<int:request_id>/loan")
def enterprise_loan(request_id: int):
    req = require_owned(db.session.get(FinancingRequest, request_id))
    loan = services.loan_of(req.id)
    if loan is None:
        abort(404)
    today = today_shanghai()
    return render_template("loans/enterprise.html", req=req, loan=loan, summary=services.summary(loan, today),
                           today=today)


def _statement(req, loan):
    today = today_shanghai()
    totals, repayments = services.statement(loan, today)
    return pdf_response("pdf/loan_statement.html", f"loan-statement-{req.id}-{today.isoformat()}.pdf", req=req,
                        loan=loan, summary=totals, repayments=repayments, today=today,
                        ent=req.enterprise, bank=loan.offer.institution)


@bp.get("/financing/<int:request_id>/loan/statement.pdf")
def enterprise_statement(request_id: int):
    """The statement of account (还款明细) of the enterprise's own loan."""
    req = require_owned(db.session.get(FinancingRequest, request_id))
    loan = services.loan_of(req.id)
    if loan is None:
        abort(404)
    return _statement(req, loan)


@bp.get("/institution/requests/<int:request_id>/loan/statement.pdf")
def institution_statement(request_id: int):
    """The statement of account of the loan the user's bank disbursed."""
    req, offer = _accepted(request_id)
    loan = services.loan_of(req.id)
    if loan is None or loan.institution_id != offer.institution_id:
        abort(404)
    return _statement(req, loan)
