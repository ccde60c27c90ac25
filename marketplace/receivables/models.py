"""Receivables, their documents and the debtor's confirmation links."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Money, UTCDateTime, utcnow
from marketplace.extensions import db

CONFIRMATION_STATES = ("pending", "confirmed", "disputed")
CONFIRMATION_LABELS = {
    "pending": ("待确认", "Pending"),
    "confirmed": ("已确认", "Confirmed"),
    "disputed": ("有异议", "Disputed"),
}
# The debtor's own acts, the only ways a receivable becomes confirmed or disputed.
ANSWER_SOURCES = ("link", "account")
# What the enterprise may state about its own receivable (an import's 确认状态 column): kept and
# shown as its declaration, never taken for the debtor's answer.
DECLARATIONS = ("confirmed", "disputed")


class Receivable(db.Model):
    __tablename__ = "receivables"
    __table_args__ = (
        # One debtor's invoice is registered once, by whichever enterprise: a second enterprise
        # claiming the same invoice is refused (a fraud signal, not a second receivable).
        UniqueConstraint("debtor_uscc", "invoice_no"),
        CheckConstraint("face_amount > 0", name="amount_positive"),
        CheckConstraint("due_date >= issue_date", name="due_after_issue"),
        CheckConstraint("confirmation IN ('pending', 'confirmed', 'disputed')", name="confirmation"),
        CheckConstraint("confirmation != 'disputed' OR dispute_reason IS NOT NULL", name="dispute_reason"),
        CheckConstraint("confirmed_via IS NULL OR confirmed_via IN ('link', 'account')", name="confirmed_via"),
        CheckConstraint("(confirmation = 'pending' AND confirmed_via IS NULL AND confirmed_at IS NULL) OR "
                        "(confirmation != 'pending' AND confirmed_via IS NOT NULL AND confirmed_at IS NOT NULL)",
                        name="debtor_answer"),
        CheckConstraint("declared_confirmation IS NULL OR declared_confirmation IN ('confirmed', 'disputed')",
                        name="declared_confirmation"),
        CheckConstraint("(declared_confirmation IS NULL) = (declared_at IS NULL)", name="declared_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    debtor_name: Mapped[str] = mapped_column(String(200))
    debtor_uscc: Mapped[str] = mapped_column(String(18), index=True)
    invoice_no: Mapped[str] = mapped_column(String(64))
    contract_no: Mapped[str | None] = mapped_column(String(64))
    face_amount: Mapped[Decimal] = mapped_column(Money)
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    # The debtor's answer, set only by the debtor's own act (confirmed_via: link or account).
    confirmation: Mapped[str] = mapped_column(String(16), default="pending")
    confirmed_via: Mapped[str | None] = mapped_column(String(16))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_ip: Mapped[str | None] = mapped_column(String(64))
    confirmed_by_name: Mapped[str | None] = mapped_column(String(100))
    confirmed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    dispute_reason: Mapped[str | None] = mapped_column(String(500))
    # The enterprise's own statement of the debtor's answer (from its import), with when and by whom.
    declared_confirmation: Mapped[str | None] = mapped_column(String(16))
    declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    declared_reason: Mapped[str | None] = mapped_column(String(500))
    # When someone was last reminded that the debtor has not answered (at most every N days).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    enterprise = relationship("Enterprise")
    documents: Mapped[list[ReceivableDocument]] = relationship(
        back_populates="receivable", cascade="all, delete-orphan", order_by="ReceivableDocument.id"
    )
    links: Mapped[list[ConfirmationLink]] = relationship(
        back_populates="receivable", cascade="all, delete-orphan", order_by="ConfirmationLink.id"
    )


class ReceivableDocument(db.Model):
    """An invoice, contract or delivery note; kept under a generated name, typed by content."""

    __tablename__ = "receivable_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    receivable_id: Mapped[int] = mapped_column(ForeignKey("receivables.id"), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    receivable: Mapped[Receivable] = relationship(back_populates="documents")


class ConfirmationLink(db.Model):
    """A signed, expiring link a debtor uses once to confirm or dispute a receivable."""

    __tablename__ = "confirmation_links"
    __table_args__ = (
        # the bureau's stuck list: links that expired with no answer
        Index("ix_confirmation_links_unused_expires_at", "expires_at",
              sqlite_where=text("used_at IS NULL AND revoked_at IS NULL"),
              postgresql_where=text("used_at IS NULL AND revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    receivable_id: Mapped[int] = mapped_column(ForeignKey("receivables.id"), index=True)
    nonce: Mapped[str] = mapped_column(String(32), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    receivable: Mapped[Receivable] = relationship(back_populates="links")
