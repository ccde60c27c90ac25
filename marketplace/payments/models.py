"""A fee the enterprise owes an institution, the transfers the enterprise records for it, and the
Stripe events already handled."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Money, UTCDateTime, sql_values, utcnow
from marketplace.extensions import db
from marketplace.payments.status import (
    METHODS,
    OPEN_STATUSES,
    PENDING,
    PURPOSES,
    STATUSES,
    TRANSFER_RECORDED,
    TRANSFER_STATUSES,
)


class Payment(db.Model):
    """One fee: who pays whom, how much, how, and where it stands.

    The idempotency key is written with the fee, so it is committed before any call to Stripe;
    a retried call sends the same key and Stripe answers with the same PaymentIntent.
    """

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_values(STATUSES)})", name="status"),
        CheckConstraint(f"purpose IN ({sql_values(PURPOSES)})", name="purpose"),
        CheckConstraint(f"method IN ({sql_values(METHODS)})", name="method"),
        CheckConstraint("currency = 'cny'", name="currency"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status <> 'succeeded' OR paid_at IS NOT NULL", name="succeeded_with_paid_at"),
        CheckConstraint("status <> 'refunded' OR refunded_at IS NOT NULL", name="refunded_with_refunded_at"),
        CheckConstraint("method = 'stripe' OR (stripe_payment_intent_id IS NULL AND status <> 'processing')",
                        name="stripe_fields"),
        CheckConstraint("method = 'offline' OR confirmed_by_id IS NULL", name="offline_fields"),
        CheckConstraint("(confirmed_by_id IS NULL) = (confirmed_at IS NULL) "
                        "AND (confirmed_by_id IS NULL) = (offline_reference IS NULL)", name="confirmed_together"),
        # one open fee per request and purpose (a cancelled or refunded one does not count)
        Index("uq_payments_open_request_purpose", "request_id", "purpose", unique=True,
              sqlite_where=text(f"status IN ({sql_values(OPEN_STATUSES)})"),
              postgresql_where=text(f"status IN ({sql_values(OPEN_STATUSES)})")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("financing_requests.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)  # the payer
    payee_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Money)  # yuan
    currency: Mapped[str] = mapped_column(String(3), default="cny")
    method: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Stripe's creation time of the last event applied, to order events of equal rank
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure_message: Mapped[str | None] = mapped_column(String(500))
    offline_reference: Mapped[str | None] = mapped_column(String(64))  # the payee's bank transaction no.
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    request = relationship("FinancingRequest")
    enterprise = relationship("Enterprise")
    payee = relationship("Organisation")
    confirmed_by = relationship("User")
    transfers: Mapped[list[FeeTransfer]] = relationship(back_populates="payment", order_by="FeeTransfer.id.desc()")

    @property
    def waiting_transfer(self) -> FeeTransfer | None:
        """The transfer the enterprise recorded that the payee has not decided yet."""
        return next((t for t in self.transfers if t.status == TRANSFER_RECORDED), None)

    @property
    def transfer_code(self) -> str:
        """What the enterprise writes in the transfer's remark (附言) so the payee can match it."""
        return f"FEE{self.id:08d}"


class FeeTransfer(db.Model):
    """A bank transfer the enterprise says it made for a fee: its reference (流水号), the receipt,
    and the account it was sent to as shown then. The payee's staff confirm it (the fee is paid)
    or reject it with a reason (the enterprise may record another). At most one waits at a time."""

    __tablename__ = "fee_transfers"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_values(TRANSFER_STATUSES)})", name="status"),
        CheckConstraint("(status = 'recorded') = (decided_at IS NULL) "
                        "AND (decided_at IS NULL) = (decided_by_id IS NULL)", name="decided_together"),
        CheckConstraint("(status = 'rejected') = (reject_reason IS NOT NULL)", name="rejected_with_reason"),
        Index("uq_fee_transfers_recorded_payment", "payment_id", unique=True,
              sqlite_where=text(f"status = '{TRANSFER_RECORDED}'"),
              postgresql_where=text(f"status = '{TRANSFER_RECORDED}'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    reference: Mapped[str] = mapped_column(String(64))  # the payer's bank transaction number (流水号)
    # the payee account shown to the enterprise when it recorded the transfer
    account_name: Mapped[str] = mapped_column(String(100))
    bank_name: Mapped[str] = mapped_column(String(100))
    account_number: Mapped[str] = mapped_column(String(32))
    # the receipt (回单), checked and stored like receivables' documents
    receipt_name: Mapped[str] = mapped_column(String(255))
    receipt_stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    receipt_content_type: Mapped[str] = mapped_column(String(64))
    receipt_size: Mapped[int] = mapped_column(Integer)
    receipt_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=TRANSFER_RECORDED, index=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reject_reason: Mapped[str | None] = mapped_column(String(500))

    payment = relationship("Payment", back_populates="transfers")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])


class StripeEvent(db.Model):
    """A Stripe event id, inserted in the same transaction as the event's effect: the unique
    constraint turns a redelivery (or five concurrent ones) into a no-op."""

    __tablename__ = "stripe_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(32))  # applied | stale | unrelated | mismatch
    event_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
