"""A guarantor's guarantee for a request with mixed assets: offered (coverage, fee rate, the
fee), accepted by the enterprise, issued with a letter (担保函) once the fee is paid."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Money, UTCDateTime, utcnow
from marketplace.extensions import db

GUARANTEE_STATUSES = ("offered", "accepted", "issued", "closed")


class Guarantee(db.Model):
    __tablename__ = "guarantees"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in GUARANTEE_STATUSES)})", name="status"),
        CheckConstraint("coverage_ratio > 0 AND coverage_ratio <= 100", name="coverage_range"),
        CheckConstraint("fee_rate > 0 AND fee_rate <= 10", name="fee_rate_range"),
        CheckConstraint("fee > 0", name="fee_positive"),
        CheckConstraint("status <> 'issued' OR (letter_no IS NOT NULL AND issued_at IS NOT NULL)",
                        name="issued_with_letter"),
        # one live guarantee per request (a closed one, e.g. after a withdrawal, does not count)
        Index("uq_guarantees_live_request", "request_id", unique=True,
              sqlite_where=text("status <> 'closed'"), postgresql_where=text("status <> 'closed'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("request_targets.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("financing_requests.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    coverage_ratio: Mapped[Decimal] = mapped_column(Numeric(5, 2))  # percent of the amount
    fee_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))  # percent a year
    guaranteed_amount: Mapped[Decimal] = mapped_column(Money)
    fee: Mapped[Decimal] = mapped_column(Money)
    term_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="offered", index=True)
    offered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    letter_no: Mapped[str | None] = mapped_column(String(32), unique=True)

    institution = relationship("Organisation")
    request = relationship("FinancingRequest")
    offered_by = relationship("User")
