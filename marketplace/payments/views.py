"""Fee pages: the enterprise's fees (pay online, or transfer to the payee's account and record
the transfer with its receipt), the payee's list of fees and recorded transfers to confirm or
reject, and Stripe's webhook (public, signed, CSRF-exempt)."""

from __future__ import annotations

import stripe
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from marketplace.accounts.payee_account import payee_account_of
from marketplace.extensions import csrf, db
from marketplace.formatting import capitals, yuan
from marketplace.i18n import sentences
from marketplace.payments import gateway, services, transfers
from marketplace.payments.forms import ConfirmTransferForm, RecordTransferForm, RejectTransferForm
from marketplace.payments.models import FeeTransfer, Payment
from marketplace.permissions import current_enterprise, require_owned

bp = Blueprint("payments", __name__, url_prefix="/payments")
WEBHOOK_TOLERANCE_SECONDS = 300
# Stripe's PaymentIntent statuses, as the enterprise reads them
INTENT_STATUS_LABELS = {
    "requires_payment_method": _l("等待付款"),
    "requires_confirmation": _l("等待确认"),
    "requires_action": _l("等待您在支付页面完成验证"),
    "processing": _l("支付处理中"),
    "requires_capture": _l("已授权，等待扣款"),
    "succeeded": _l("支付成功"),
    "canceled": _l("已取消"),
}


def _own_payment(payment_id: int) -> Payment:
    return require_owned(db.session.get(Payment, payment_id))


def _payee_payment(payment_id: int) -> Payment:
    """404 unless the fee is payable to the signed-in staff member's institution."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.payee_org_id != current_user.organisation_id:
        abort(404)
    return payment


@bp.get("/")
def index():
    enterprise = current_enterprise()
    return render_template("payments/index.html", payments=services.payments_of_enterprise(enterprise.id))


@bp.get("/<int:payment_id>")
def detail(payment_id: int):
    payment = _own_payment(payment_id)
    intent, intent_error = None, None
    if payment.stripe_payment_intent_id and payment.status in ("pending", "processing", "failed"):
        try:
            intent = gateway.retrieve_intent(payment.stripe_payment_intent_id)
        except gateway.GatewayError as error:
            intent_error = str(error)
    return render_template("payments/detail.html", payment=payment, capitals=capitals(payment.amount),
                           intent=intent, intent_error=intent_error, intent_labels=INTENT_STATUS_LABELS,
                           stripe_on=current_app.config.get("PAYMENTS") == "stripe",
                           account=payee_account_of(payment.payee), transfer_form=RecordTransferForm(formdata=None))


@bp.post("/<int:payment_id>/transfer")
def record_transfer(payment_id: int):
    """The enterprise records the transfer it made: reference and receipt; nothing stored if refused."""
    payment = _own_payment(payment_id)
    form = RecordTransferForm()
    back = redirect(url_for("payments.detail", payment_id=payment.id))
    if not form.validate():
        flash(sentences(e for errors in form.errors.values() for e in errors), "danger")
        return back
    try:
        transfers.record_transfer(payment, current_user._get_current_object(), form.reference.data, form.receipt.data)
        db.session.commit()
    except services.PaymentRefused as error:
        db.session.rollback()
        flash(str(error), "danger")
        return back
    flash(_("转账已登记，收款机构核实到账后确认"), "success")
    return back


@bp.get("/transfers/<int:transfer_id>/receipt")
def receipt(transfer_id: int):
    """The receipt, for the paying enterprise."""
    transfer = db.session.get(FeeTransfer, transfer_id)
    require_owned(transfer.payment if transfer is not None else None)
    return transfers.receipt_response(transfer)


@bp.post("/<int:payment_id>/pay")
def pay(payment_id: int):
    payment = _own_payment(payment_id)
    if current_app.config.get("PAYMENTS") != "stripe":
        flash(_("在线支付未开通，请按页面说明通过银行转账支付"), "danger")
        return redirect(url_for("payments.detail", payment_id=payment.id))
    try:
        services.start_stripe_payment(payment, actor=current_user._get_current_object())
        db.session.commit()
    except (services.PaymentRefused, gateway.GatewayError) as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("payments.detail", payment_id=payment_id))
    flash(_("支付单已生成，请在支付页面完成付款"), "success")
    return redirect(url_for("payments.detail", payment_id=payment.id))


@bp.get("/received")
def received():
    org = current_user.organisation
    return render_template("payments/received.html", form=ConfirmTransferForm(formdata=None),
                           reject_form=RejectTransferForm(formdata=None), account=payee_account_of(org),
                           payments=services.payments_to_institution(org.id))


def _payee_transfer(transfer_id: int) -> FeeTransfer:
    """404 unless the transfer is for a fee payable to the signed-in staff member's institution."""
    transfer = db.session.get(FeeTransfer, transfer_id)
    if transfer is None or transfer.payment.payee_org_id != current_user.organisation_id:
        abort(404)
    return transfer


@bp.get("/received/transfers/<int:transfer_id>/receipt")
def received_receipt(transfer_id: int):
    """The receipt, for the payee's staff."""
    return transfers.receipt_response(_payee_transfer(transfer_id))


def _payee_acts(action, form=None):
    """Run a payee's decision (`action()`, a service call returning the success message) after
    its form validates; commit, or roll back and say why; back to the received fees either way."""
    if form is not None and not form.validate():
        flash(sentences(e for errors in form.errors.values() for e in errors), "danger")
        return redirect(url_for("payments.received"))
    try:
        message = action()
        db.session.commit()
    except services.PaymentRefused as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("payments.received"))
    flash(message, "success")
    return redirect(url_for("payments.received"))


@bp.post("/received/transfers/<int:transfer_id>/confirm")
def confirm_recorded_transfer(transfer_id: int):
    transfer = _payee_transfer(transfer_id)

    def confirm():
        payment = transfers.confirm_transfer(transfer, current_user._get_current_object())
        return _("已确认收到 %(amount)s", amount=yuan(payment.amount))
    return _payee_acts(confirm)


@bp.post("/received/transfers/<int:transfer_id>/reject")
def reject_transfer(transfer_id: int):
    transfer = _payee_transfer(transfer_id)
    form = RejectTransferForm()

    def reject():
        transfers.reject_transfer(transfer, current_user._get_current_object(), form.reason.data)
        return _("已退回该转账记录，企业可重新登记")
    return _payee_acts(reject, form)


@bp.post("/<int:payment_id>/confirm-transfer")
def confirm_transfer(payment_id: int):
    payment = _payee_payment(payment_id)
    form = ConfirmTransferForm()

    def confirm():
        services.confirm_offline_transfer(payment, current_user._get_current_object(), form.reference.data)
        return _("已确认收到 %(amount)s", amount=yuan(payment.amount))
    return _payee_acts(confirm, form)


@bp.post("/stripe/webhook")
@csrf.exempt
def stripe_webhook():
    """Stripe's events: 400 with nothing changed unless signed with our secret in the last 300 s."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        return jsonify(error="stripe webhooks are not configured"), 404
    try:
        event = stripe.Webhook.construct_event(request.get_data(), request.headers.get("Stripe-Signature", ""),
                                               secret, tolerance=WEBHOOK_TOLERANCE_SECONDS)
    except (ValueError, stripe.SignatureVerificationError) as error:
        current_app.logger.warning("Stripe webhook refused: %s", error)
        return jsonify(error="invalid signature or payload"), 400
    outcome = services.handle_event(event)
    db.session.commit()
    return jsonify(received=True, outcome=outcome)
