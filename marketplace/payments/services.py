"""Fees: create one, pay it through Stripe, confirm a bank transfer, cancel one.

Services flush; the caller commits. One exception, on purpose: start_stripe_payment commits the
fee (and so its idempotency key) before it calls Stripe, so a retry after any failure sends the
same key and Stripe answers with the same PaymentIntent rather than a second charge.
"""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from marketplace import audit
from marketplace.accounts.people import institution_staff
from marketplace.accounts.roles import OrgKind
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.i18n import pick
from marketplace.notifications.messages import later
from marketplace.notifications.services import notify
from marketplace.payments import gateway
from marketplace.payments.events import handle_event  # noqa: F401  (the webhook's service)
from marketplace.payments.models import Payment
from marketplace.payments.status import (
    CANCELLED,
    OPEN_STATUSES,
    PAID_STATUSES,
    PROCESSING,
    PURPOSE_LABELS,
    PURPOSES,
    SUCCEEDED,
    TRANSFER_CONFIRMED,
    TRANSFER_REJECTED,
)
from marketplace.payments.transitions import lock, move

PAYEE_KINDS = (OrgKind.BANK, OrgKind.GUARANTOR)
CENT = Decimal("0.01")


class PaymentRefused(ValueError):
    """The action is refused and nothing changed; the message says why (in the user's language)."""


def new_idempotency_key() -> str:
    return f"fee_{secrets.token_hex(16)}"


def create_fee(request, payee_org, purpose: str, amount, *, actor=None) -> Payment:
    """A fee the request's enterprise owes `payee_org`, paid online when Stripe is configured
    (and the amount is within Stripe's limit), else by bank transfer."""
    if purpose not in PURPOSES:
        raise PaymentRefused(_("未知的费用类型"))
    amount = _valid_amount(amount)
    if payee_org is None or payee_org.kind not in PAYEE_KINDS or not payee_org.active:
        raise PaymentRefused(_("收款机构须为有效的银行或担保公司"))
    duplicate = _("该申请已有一笔未取消的%(fee)s，不能重复收取", fee=pick(PURPOSE_LABELS[purpose]))
    if _open_fee(request.id, purpose) is not None:
        raise PaymentRefused(duplicate)
    online = current_app.config.get("PAYMENTS") == "stripe" and gateway.fits_online(amount)
    payment = Payment(request_id=request.id, enterprise_id=request.enterprise_id, payee_org_id=payee_org.id,
                      purpose=purpose, amount=amount, currency="cny", method="stripe" if online else "offline",
                      idempotency_key=new_idempotency_key())
    try:
        with db.session.begin_nested():  # a concurrent twin trips the partial unique index
            db.session.add(payment)
    except IntegrityError:
        raise PaymentRefused(duplicate) from None
    audit.record("payment.created", payment, enterprise_id=payment.enterprise_id, actor=actor,
                 amount=str(amount), purpose=purpose, method=payment.method, payee_org_id=payee_org.id)
    return payment


def start_stripe_payment(payment: Payment, *, actor=None) -> gateway.Intent:
    """The fee's PaymentIntent: created once (key committed first), then reused on every call."""
    if payment.method != "stripe":
        raise PaymentRefused(_("该笔费用须通过银行转账支付"))
    _refuse_unless_payable(payment)
    db.session.commit()  # the key is durable before Stripe hears of it
    if payment.stripe_payment_intent_id:
        return gateway.retrieve_intent(payment.stripe_payment_intent_id)
    intent = gateway.create_intent(payment)
    lock(payment)
    if payment.stripe_payment_intent_id is None:
        payment.stripe_payment_intent_id = intent.id
        audit.record("payment.stripe_intent_created", payment, enterprise_id=payment.enterprise_id,
                     actor=actor, payment_intent=intent.id, amount_fen=intent.amount_fen)
        db.session.flush()
    elif payment.stripe_payment_intent_id != intent.id:
        # only without idempotency (a fake API): a concurrent call stored its intent first
        current_app.logger.warning("payment %s: second intent %s not stored", payment.id, intent.id)
        return gateway.retrieve_intent(payment.stripe_payment_intent_id)
    return intent


def confirm_offline_transfer(payment: Payment, user, reference: str) -> Payment:
    """The payee's staff confirm the bank transfer arrived; the fee is paid, and the transfer the
    enterprise recorded for it (marketplace.payments.transfers), if one waits, is confirmed."""
    lock(payment)
    if not (user.is_staff and user.organisation_id == payment.payee_org_id):
        raise PaymentRefused(_("只有收款机构的工作人员可以确认收款"))
    if payment.method != "offline":
        raise PaymentRefused(_("该笔费用为在线支付，到账由支付结果自动确认"))
    if payment.status in PAID_STATUSES:
        raise PaymentRefused(_("该笔费用已支付，不能重复确认"))
    if payment.status == CANCELLED:
        raise PaymentRefused(_("该笔费用已取消，不能确认收款"))
    reference = (reference or "").strip()
    if not reference or len(reference) > 64:
        raise PaymentRefused(_("请填写银行转账流水号（不超过64个字符）"))
    payment.offline_reference = reference
    payment.confirmed_by_id = user.id
    payment.confirmed_at = utcnow()
    transfer = payment.waiting_transfer
    if transfer is not None:
        transfer.status = TRANSFER_CONFIRMED
        transfer.decided_by_id, transfer.decided_at = user.id, payment.confirmed_at
    move(payment, SUCCEEDED, actor=user, offline_reference=reference,
         transfer_id=transfer.id if transfer is not None else None)
    return payment


def cancel_fee(payment: Payment, *, actor=None, reason: str = "") -> Payment:
    """Withdraw a fee nobody has paid (e.g. the request was withdrawn); cancels its PaymentIntent.
    A bank transfer the enterprise recorded and the payee has not yet confirmed closes with the
    fee, its reason saying so, and the payee's staff are asked to refund it if the money came (the
    enterprise said it paid). Without an actor to close it in the name of, the fee stays."""
    lock(payment)
    _refuse_unless_payable(payment)
    if payment.status == PROCESSING:
        raise PaymentRefused(_("支付正在处理中，暂不能取消"))
    transfer = payment.waiting_transfer
    if transfer is not None and actor is None:
        raise PaymentRefused(_("企业已登记转账，正在等待收款机构确认，暂不能取消"))
    if payment.stripe_payment_intent_id:
        gateway.cancel_intent(payment.stripe_payment_intent_id)
    move(payment, CANCELLED, actor=actor, reason=reason)
    if transfer is not None:
        _close_waiting_transfer(payment, transfer, actor)
    return payment


def _close_waiting_transfer(payment: Payment, transfer, actor) -> None:
    transfer.status = TRANSFER_REJECTED
    transfer.reject_reason = "费用已取消，转账记录随之关闭；如款项已到账，请收款机构退回"
    transfer.decided_by_id, transfer.decided_at = actor.id, utcnow()
    db.session.flush()
    audit.record("payment.transfer_closed", payment, enterprise_id=payment.enterprise_id, actor=actor,
                 transfer_id=transfer.id, reference=transfer.reference)
    notify(institution_staff(payment.payee_org_id), "payment.transfer_closed",
           later("费用已取消：%(code)s", code=payment.transfer_code),
           later("企业登记的转账（流水号 %(reference)s）随费用取消而关闭。如款项已到账，请退回付款企业。",
                 reference=transfer.reference),
           url_for("payments.received"))


def payments_of_enterprise(enterprise_id: int) -> list[Payment]:
    return list(db.session.scalars(select(Payment).where(Payment.enterprise_id == enterprise_id)
                                   .order_by(Payment.id.desc())))


def payments_to_institution(org_id: int) -> list[Payment]:
    """The fees owed to the institution, waiting ones first, with their payers and recorded transfers."""
    return list(db.session.scalars(select(Payment).where(Payment.payee_org_id == org_id)
                                   .options(joinedload(Payment.enterprise), selectinload(Payment.transfers))
                                   .order_by(Payment.status != "pending", Payment.id.desc())))


def _refuse_unless_payable(payment: Payment) -> None:
    if payment.status in PAID_STATUSES:
        raise PaymentRefused(_("该笔费用已支付，不能重复支付"))
    if payment.status == CANCELLED:
        raise PaymentRefused(_("该笔费用已取消"))


def _open_fee(request_id: int, purpose: str) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.request_id == request_id, Payment.purpose == purpose,
                                                   Payment.status.in_(OPEN_STATUSES)))


def _valid_amount(amount) -> Decimal:
    try:
        value = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
    except (InvalidOperation, ValueError):
        raise PaymentRefused(_("金额格式不正确")) from None
    if not value.is_finite() or value <= 0:
        raise PaymentRefused(_("金额必须大于零"))
    if value != value.quantize(CENT):
        raise PaymentRefused(_("金额最多两位小数"))
    return value.quantize(CENT)
