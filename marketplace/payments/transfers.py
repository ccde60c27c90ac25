"""Fees paid by bank transfer: the enterprise records its transfer (reference and receipt) against
the payee account the institution registered; the payee's staff confirm it, which marks the fee
paid through marketplace.payments.services.confirm_offline_transfer (once, under the fee's row
lock), or reject it with a reason, after which the enterprise may record another.

The receipt is checked like every upload of the app (marketplace.receivables.documents: by its
bytes, PDF, JPEG or PNG, within DOCUMENT_MAX_BYTES) and written after the database steps,
removed again if the transaction rolls back.
"""

from __future__ import annotations

import hashlib
import unicodedata
import uuid

from flask import current_app, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from marketplace import audit
from marketplace.accounts.payee_account import payee_account_of
from marketplace.accounts.people import institution_staff
from marketplace.after_commit import after_rollback
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.notifications.messages import later
from marketplace.notifications.services import notify
from marketplace.payments.models import FeeTransfer, Payment
from marketplace.payments.services import PaymentRefused, confirm_offline_transfer
from marketplace.payments.status import (
    CANCELLED,
    PAID_STATUSES,
    PENDING,
    TRANSFER_RECORDED,
    TRANSFER_REJECTED,
)
from marketplace.payments.transitions import lock
from marketplace.receivables.documents import (
    ALLOWED_TYPES,
    DocumentRefused,
    detect_type,
    original_name,
    read_limited,
    storage_dir,
    stored_file_response,
)

REFERENCE_MAX = 64
REASON_MAX = 500


def clean_reference(value: str | None) -> str:
    """The transaction number as the bank prints it: full-width characters folded, spaces dropped."""
    return "".join(unicodedata.normalize("NFKC", value or "").split())


def record_transfer(payment: Payment, user, reference: str, receipt: FileStorage | None) -> FeeTransfer:
    """The enterprise says it paid the fee by transfer: refused, with nothing stored, unless the
    fee waits for a transfer to an account the payee registered, no other transfer waits for
    the payee, the reference is given and the receipt is a PDF, JPG or PNG within the limit."""
    lock(payment)
    if user.enterprise is None or user.enterprise.id != payment.enterprise_id:
        raise PaymentRefused(_("只有付款企业可以登记转账"))
    if payment.method != "offline":
        raise PaymentRefused(_("该笔费用为在线支付，无需登记转账"))
    _refuse_unless_pending(payment)
    if payment.waiting_transfer is not None:
        raise PaymentRefused(_("已登记的转账正在等待收款机构确认，请勿重复登记"))
    account = payee_account_of(payment.payee)
    if account is None:
        raise PaymentRefused(_("收款机构尚未登记收款账户，请先联系收款机构"))
    reference = clean_reference(reference)
    if not reference:
        raise PaymentRefused(_("请填写银行转账流水号"))
    if len(reference) > REFERENCE_MAX:
        raise PaymentRefused(_("流水号不超过64个字符"))
    if receipt is None or not receipt.filename:
        raise PaymentRefused(_("请上传转账回单（PDF、JPG或PNG）"))
    try:
        data = read_limited(receipt, current_app.config["DOCUMENT_MAX_BYTES"])
        mime = detect_type(data)
    except DocumentRefused as refused:
        raise PaymentRefused(_("转账回单：%(problem)s", problem=refused)) from None
    transfer = FeeTransfer(
        payment=payment, reference=reference, account_name=account.name, bank_name=account.bank,
        account_number=account.number, receipt_name=original_name(receipt.filename),
        receipt_stored_name=f"{uuid.uuid4().hex}.{ALLOWED_TYPES[mime]}", receipt_content_type=mime,
        receipt_size=len(data), receipt_sha256=hashlib.sha256(data).hexdigest(), recorded_by_id=user.id)
    db.session.add(transfer)
    db.session.flush()
    audit.record("payment.transfer_recorded", payment, enterprise_id=payment.enterprise_id, actor=user,
                 transfer_id=transfer.id, reference=reference, account_number=account.masked_number,
                 receipt_sha256=transfer.receipt_sha256, receipt_size=transfer.receipt_size)
    _write_receipt(transfer.receipt_stored_name, data)
    _tell_payee(payment, transfer)
    return transfer


def _tell_payee(payment: Payment, transfer: FeeTransfer) -> None:
    """The payee's staff are told a transfer waits for them to check it arrived."""
    notify(institution_staff(payment.payee_org_id), "payment.transfer_recorded",
           later("费用转账待确认：%(code)s", code=payment.transfer_code),
           later("%(enterprise)s 登记了一笔 %(amount)s 元的费用转账（流水号 %(reference)s），请核对到账后确认或退回。",
                 enterprise=payment.enterprise.name, amount=f"{payment.amount:,.2f}", reference=transfer.reference),
           url_for("payments.received"))


def confirm_transfer(transfer: FeeTransfer, user) -> Payment:
    """The payee's staff confirm the recorded transfer arrived: the fee is paid, once (a second
    confirmation finds the fee paid and is refused with nothing changed)."""
    payment = lock(transfer.payment)
    db.session.refresh(transfer)
    if transfer.status != TRANSFER_RECORDED:
        if payment.status in PAID_STATUSES:
            raise PaymentRefused(_("该笔费用已支付，不能重复确认"))
        raise PaymentRefused(_("该转账记录已处理"))
    return confirm_offline_transfer(payment, user, transfer.reference)


def reject_transfer(transfer: FeeTransfer, user, reason: str) -> FeeTransfer:
    """The payee's staff found no such transfer (or a wrong amount): the enterprise is told why
    and may record its transfer again."""
    payment = lock(transfer.payment)
    db.session.refresh(transfer)
    if not (user.is_staff and user.organisation_id == payment.payee_org_id):
        raise PaymentRefused(_("只有收款机构的工作人员可以处理转账记录"))
    if transfer.status != TRANSFER_RECORDED:
        raise PaymentRefused(_("该转账记录已处理"))
    reason = " ".join((reason or "").split())
    if not reason:
        raise PaymentRefused(_("请填写退回原因"))
    if len(reason) > REASON_MAX:
        raise PaymentRefused(_("退回原因不超过500个字"))
    transfer.status = TRANSFER_REJECTED
    transfer.reject_reason = reason
    transfer.decided_by_id, transfer.decided_at = user.id, utcnow()
    db.session.flush()
    audit.record("payment.transfer_rejected", payment, enterprise_id=payment.enterprise_id, actor=user,
                 transfer_id=transfer.id, reference=transfer.reference, reason=reason)
    return transfer


def receipt_response(transfer: FeeTransfer):
    """The receipt as stored: its checked type, never sniffed, not cached; 404 if missing on disk."""
    return stored_file_response(transfer.receipt_stored_name, transfer.receipt_content_type, transfer.receipt_name,
                                f"receipt-{transfer.id}")


def _refuse_unless_pending(payment: Payment) -> None:
    if payment.status in PAID_STATUSES:
        raise PaymentRefused(_("该笔费用已支付"))
    if payment.status == CANCELLED:
        raise PaymentRefused(_("该笔费用已取消"))
    if payment.status != PENDING:
        raise PaymentRefused(_("该笔费用当前不能登记转账"))


def _write_receipt(stored_name: str, data: bytes) -> None:
    path = storage_dir() / stored_name
    after_rollback(lambda: path.unlink(missing_ok=True))
    path.write_bytes(data)
