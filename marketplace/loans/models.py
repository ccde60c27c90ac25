"""After an offer is accepted: the disbursement, the repayment schedule and the repayments.
Overdue instalments are facts for the enterprise's credit file."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Money, UTCDateTime, utcnow
from marketplace.extensions import db


class Loan(db.Model):
    """The money the bank paid out on an accepted offer (one per request)."""

    __tablename__ = "loans"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("financing_requests.id"), unique=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), unique=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    disbursed_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(64))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    instalments: Mapped[list[Instalment]] = relationship(back_populates="loan", order_by="Instalment.due_on")
    repayments: Mapped[list[Repayment]] = relationship(back_populates="loan", order_by="Repayment.paid_on")
    offer = relationship("Offer")
    request = relationship("FinancingRequest")


class Instalment(db.Model):
    """One line of the repayment schedule: what is due on a day."""

    __tablename__ = "instalments"
    __table_args__ = (
        UniqueConstraint("loan_id", "due_on"),
        CheckConstraint("principal >= 0 AND interest >= 0 AND principal + interest > 0", name="amounts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    principal: Mapped[Decimal] = mapped_column(Money)
    interest: Mapped[Decimal] = mapped_column(Money)
    overdue_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # reported to the credit file

    loan: Mapped[Loan] = relationship(back_populates="instalments")


class Repayment(db.Model):
    """Money the enterprise paid back, as the bank recorded it."""

    __tablename__ = "repayments"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    reference: Mapped[str] = mapped_column(String(64))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    loan: Mapped[Loan] = relationship(back_populates="repayments")
