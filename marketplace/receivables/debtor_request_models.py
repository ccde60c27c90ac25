"""A confirmation request to one debtor covering several of the enterprise's receivables (issue 19).

The debtor opens one page through the request's link and confirms or disputes each line. The
link's token is random; only its SHA-256 finds the row (no id in the address, nothing to
enumerate), and an encrypted copy lets the enterprise reprint the letter and the reminder
carry the same link.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.crypto import EncryptedText
from marketplace.db import Money, UTCDateTime, utcnow
from marketplace.extensions import db

CHANNELS = ("email", "letter")
LINE_RESULTS = ("confirmed", "disputed", "skipped")


class DebtorRequest(db.Model):
    __tablename__ = "debtor_requests"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'letter')", name="channel"),
        CheckConstraint("channel != 'email' OR email IS NOT NULL", name="email_needed"),
        CheckConstraint("(answered_at IS NULL) = (answered_by_name IS NULL)", name="answered_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    debtor_uscc: Mapped[str] = mapped_column(String(18))
    debtor_name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the link's token
    token: Mapped[str] = mapped_column(EncryptedText)  # the token itself, for reprints and reminders
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the debtor's one submission
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_name: Mapped[str | None] = mapped_column(String(100))
    answered_ip: Mapped[str | None] = mapped_column(String(64))
    # delivery: the request email, and the one reminder before expiry (stamped when queued, then when sent)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    enterprise = relationship("Enterprise")
    lines: Mapped[list[DebtorRequestLine]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="DebtorRequestLine.id"
    )


class DebtorRequestLine(db.Model):
    """One receivable in a request, with the facts the debtor was shown and the debtor's result
    (skipped: answered another way, or changed, before the debtor submitted)."""

    __tablename__ = "debtor_request_lines"
    __table_args__ = (
        UniqueConstraint("request_id", "receivable_id"),
        CheckConstraint("result IS NULL OR result IN ('confirmed', 'disputed', 'skipped')", name="result"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("debtor_requests.id", ondelete="CASCADE"))  # led by the unique
    receivable_id: Mapped[int] = mapped_column(ForeignKey("receivables.id", ondelete="CASCADE"), index=True)
    invoice_no: Mapped[str] = mapped_column(String(64))
    face_amount: Mapped[Decimal] = mapped_column(Money)
    result: Mapped[str | None] = mapped_column(String(16))

    request: Mapped[DebtorRequest] = relationship(back_populates="lines")
    receivable = relationship("Receivable")
