"""What bank and guarantor staff do with a routed request: claim it, note, ask, offer, decline.

A request reaches an institution as a RequestTarget (supermarket.models); everything here hangs
on that target, so up to 3 banks work one request side by side without seeing each other's work.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Money, UTCDateTime, sql_values, utcnow
from marketplace.extensions import db

ASSIGNMENT_END_REASONS = ("released", "expired", "decided", "closed")
OFFER_STATUSES = ("pending_approval", "made", "accepted", "closed", "expired", "withdrawn")


class Assignment(db.Model):
    """A staff member's claim on a target. At most one open claim per target: the partial unique
    index decides a race, whoever's INSERT commits first (PostgreSQL and SQLite alike)."""

    __tablename__ = "assignments"
    __table_args__ = (
        Index("uq_assignments_open_target", "target_id", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
        CheckConstraint(f"end_reason IS NULL OR end_reason IN ({sql_values(ASSIGNMENT_END_REASONS)})", name="end_reason"),
        CheckConstraint("(ended_at IS NULL) = (end_reason IS NULL)", name="ended_with_reason"),
        # the bureau's stuck list: open claims untouched for long
        Index("ix_assignments_open_touched_at", "touched_at",
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("request_targets.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("financing_requests.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    touched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(16))

    user = relationship("User")
    target = relationship("RequestTarget")


class InternalNote(db.Model):
    """A note the institution's staff keep on a request; never shown to the enterprise."""

    __tablename__ = "internal_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("request_targets.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author = relationship("User")


class InfoRequest(db.Model):
    """A question to the enterprise ("request more information"); the SLA clock stops until the
    enterprise answers with text and documents."""

    __tablename__ = "info_requests"
    __table_args__ = (
        CheckConstraint("(answered_at IS NULL) = (answer IS NULL)", name="answered_with_text"),
        # the bureau's stuck list: questions left unanswered
        Index("ix_info_requests_unanswered_asked_at", "asked_at",
              sqlite_where=text("answered_at IS NULL"), postgresql_where=text("answered_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("request_targets.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("financing_requests.id"), index=True)
    asked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    question: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    asked_by = relationship("User", foreign_keys=[asked_by_id])
    target = relationship("RequestTarget")
    attachments: Mapped[list[InfoAttachment]] = relationship(back_populates="info_request",
                                                              order_by="InfoAttachment.id")


class InfoAttachment(db.Model):
    """A document the enterprise uploaded with its answer (checked and stored like receivables'
    documents: by content, under a generated name)."""

    __tablename__ = "info_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    info_request_id: Mapped[int] = mapped_column(ForeignKey("info_requests.id"), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    info_request: Mapped[InfoRequest] = relationship(back_populates="attachments")


class Offer(db.Model):
    """A bank's offer. Above the four-eyes amount it waits for a second, different approver."""

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_values(OFFER_STATUSES)})", name="status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("annual_rate > 0 AND annual_rate < 36", name="rate_range"),
        CheckConstraint("term_days > 0", name="term_positive"),
        CheckConstraint("prepayment_fee_rate >= 0 AND prepayment_fee_rate <= 5", name="prepayment_fee_rate_range"),
        # Out of the bank (made, accepted, closed, expired): approved, by someone named; above the
        # four-eyes amount, by someone other than its maker.
        CheckConstraint("NOT four_eyes OR (approved_by_id IS NULL AND status IN ('pending_approval', 'withdrawn')) "
                        "OR approved_by_id <> made_by_id", name="four_eyes"),
        CheckConstraint("status IN ('pending_approval', 'withdrawn') OR "
                        "(approved_at IS NOT NULL AND approved_by_id IS NOT NULL)", name="approved_when_made"),
        # the latest approval: part of what the matcher's institution records are kept by
        Index("ix_offers_approved_at", "approved_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("request_targets.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("financing_requests.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    annual_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))  # percent
    term_days: Mapped[int] = mapped_column(Integer)
    conditions: Mapped[str] = mapped_column(Text, default="")
    # The early repayment terms: a fee of this percent of the principal repaid early (0: none).
    prepayment_fee_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0.00"),
                                                         server_default="0")
    # An instalment due on a weekend or public holiday is due on the next working day (the common
    # practice of Chinese banks, hence the default; offers made before the term existed: false).
    roll_to_working_day: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    expires_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="pending_approval", index=True)
    four_eyes: Mapped[bool] = mapped_column(default=False)  # above the four-eyes amount when made
    made_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # accepted, closed or expired

    institution = relationship("Organisation")
    made_by = relationship("User", foreign_keys=[made_by_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])
    target = relationship("RequestTarget")
    request = relationship("FinancingRequest")


class Decline(db.Model):
    """An institution's no, with a reason code from the configured list and a text."""

    __tablename__ = "declines"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("request_targets.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("financing_requests.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    reason_code: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    institution = relationship("Organisation")
