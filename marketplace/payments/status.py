"""The payment statuses and the order they may move in. Pure: no Flask, no database.

Stripe delivers events at least once and in any order, so a status only moves up this ranking:
a late `payment_intent.succeeded` never undoes a refund, a late `payment_failed` never undoes a
success. Statuses of equal rank (processing, failed, cancelled: a customer may retry after a
failure) are ordered by the time Stripe created the event.
"""

from __future__ import annotations

from datetime import datetime

PENDING = "pending"
PROCESSING = "processing"
SUCCEEDED = "succeeded"
REFUNDED = "refunded"
FAILED = "failed"
CANCELLED = "cancelled"

STATUSES = (PENDING, PROCESSING, SUCCEEDED, REFUNDED, FAILED, CANCELLED)
RANK = {PENDING: 0, PROCESSING: 1, FAILED: 1, CANCELLED: 1, SUCCEEDED: 2, REFUNDED: 3}
# a fee in one of these is still owed or paid: a second fee for the same request and purpose is refused
OPEN_STATUSES = (PENDING, PROCESSING, FAILED, SUCCEEDED)
PAID_STATUSES = (SUCCEEDED, REFUNDED)

PURPOSES = ("guarantee_fee", "service_fee")

# a transfer the enterprise recorded (payments.models.FeeTransfer): waiting, confirmed or rejected by the payee
TRANSFER_RECORDED = "recorded"
TRANSFER_CONFIRMED = "confirmed"
TRANSFER_REJECTED = "rejected"
TRANSFER_STATUSES = (TRANSFER_RECORDED, TRANSFER_CONFIRMED, TRANSFER_REJECTED)
METHODS = ("stripe", "offline")

STATUS_LABELS = {
    PENDING: ("待支付", "Awaiting payment"),
    PROCESSING: ("支付处理中", "Processing"),
    SUCCEEDED: ("已支付", "Paid"),
    REFUNDED: ("已退款", "Refunded"),
    FAILED: ("支付失败", "Failed"),
    CANCELLED: ("已取消", "Cancelled"),
}
PURPOSE_LABELS = {
    "guarantee_fee": ("担保费", "Guarantee fee"),
    "service_fee": ("服务费", "Service fee"),
}
METHOD_LABELS = {
    "stripe": ("在线支付（银行卡、支付宝、微信支付）", "Online (card, Alipay, WeChat Pay)"),
    "offline": ("银行转账", "Bank transfer"),
}


def may_move(current: str, new: str, event_at: datetime | None = None,
             last_event_at: datetime | None = None) -> bool:
    """Whether an event saying `new` may change a payment that is `current`."""
    if new == current:
        return False
    if RANK[new] != RANK[current]:
        return RANK[new] > RANK[current]
    # equal rank: the newer event wins; without times, the change is applied
    return event_at is None or last_event_at is None or event_at >= last_event_at
