"""After an offer is accepted: the disbursement, the repayment schedule and the repayments.
Overdue instalments (when they fell overdue, when they were cured) are facts for the
enterprise's credit file. An early repayment or a restructuring supersedes the lines it
replaces: they stay, stamped `superseded_at`, so the history shows the schedule as it was."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, text
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
    # the accepted offer's term, copied when the loan is disbursed and its schedule recorded: an
    # instalment due on a day off is due on the next working day
    roll_to_working_day: Mapped[bool] = mapped_column(default=False, server_default=text("false"))

    instalments: Mapped[list[Instalment]] = relationship(back_populates="loan", order_by="Instalment.due_on")
    repayments: Mapped[list[Repayment]] = relationship(back_populates="loan", order_by="Repayment.paid_on")
    offer = relationship("Offer")
    request = relationship("FinancingRequest")

    @property
    def schedule(self) -> list[Instalment]:
        """The current schedule (lines not superseded by an early repayment), in payment order."""
        return sorted((i for i in self.instalments if i.superseded_at is None),
                      key=lambda i: (i.due_on, 1 if i.kind == "prepayment" else 0))

    @property
    def superseded(self) -> list[Instalment]:
        return sorted((i for i in self.instalments if i.superseded_at is not None),
                      key=lambda i: (i.superseded_at, i.due_on))


class Instalment(db.Model):
    """One line of the repayment schedule: what is due on a day."""

    __tablename__ = "instalments"
    __table_args__ = (
        # one current line per day and kind; superseded lines are kept beside their successors
        Index("uq_instalments_current_due_on", "loan_id", "due_on", "kind", unique=True,
              postgresql_where=text("superseded_at IS NULL"), sqlite_where=text("superseded_at IS NULL")),
        CheckConstraint("principal >= 0 AND interest >= 0 AND principal + interest > 0", name="amounts"),
        CheckConstraint("kind IN ('scheduled', 'prepayment', 'restructured')", name="kind"),
        CheckConstraint("cured_on IS NULL OR overdue_since IS NOT NULL", name="cured_after_overdue"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    principal: Mapped[Decimal] = mapped_column(Money)
    interest: Mapped[Decimal] = mapped_column(Money)
    # scheduled; prepayment (what an early repayment settled); restructured (a new schedule agreed in arrears)
    kind: Mapped[str] = mapped_column(String(12), default="scheduled", server_default="scheduled")
    overdue_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # reported to the credit file
    overdue_since: Mapped[date | None] = mapped_column(Date)  # the first day it was past due
    cured_on: Mapped[date | None] = mapped_column(Date)  # the day a past-due instalment was paid in full
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # replaced by an early repayment

    loan: Mapped[Loan] = relationship(back_populates="instalments")


class Repayment(db.Model):
    """Money the enterprise paid back, as the bank recorded it."""

    __tablename__ = "repayments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("kind IN ('regular', 'prepayment', 'payoff')", name="kind"),
        CheckConstraint("fee >= 0", name="fee_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    reference: Mapped[str] = mapped_column(String(64))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # regular, or an early repayment (prepayment of part of the principal, payoff of all of it)
    kind: Mapped[str] = mapped_column(String(12), default="regular", server_default="regular")
    fee: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"), server_default="0")  # on top of amount

    loan: Mapped[Loan] = relationship(back_populates="repayments")
