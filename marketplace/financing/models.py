"""Financing requests, the receivables they pledge, and their timeline."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Money, UTCDateTime, utcnow
from marketplace.extensions import db
from workflows.financing import State

_STATES = ", ".join(f"'{s.value}'" for s in State)


class FinancingRequest(db.Model):
    __tablename__ = "financing_requests"
    __table_args__ = (
        CheckConstraint(f"state IN ({_STATES})", name="state"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("term_days > 0", name="term_positive"),
        # every state past draft was reached through submit, except a draft withdrawn unsubmitted
        CheckConstraint("state IN ('draft', 'withdrawn') OR submitted_at IS NOT NULL", name="submitted_at_set"),
        # the bureau's stuck list: requests whose clock ran out (only clocked states have a due moment)
        Index("ix_financing_requests_sla_due_at", "sla_due_at",
              sqlite_where=text("sla_due_at IS NOT NULL"), postgresql_where=text("sla_due_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    term_days: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(32), default=State.DRAFT, index=True)
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stuck: Mapped[bool] = mapped_column(default=False)
    # the latest verification report's class (excellent | mixed | poor), for queues and filters
    classification: Mapped[str | None] = mapped_column(String(16), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    enterprise = relationship("Enterprise")
    pledges: Mapped[list[RequestPledge]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RequestPledge.id"
    )
    events: Mapped[list[WorkflowEvent]] = relationship(
        back_populates="request", order_by="WorkflowEvent.id", cascade="all, delete-orphan"
    )

    @property
    def active_pledges(self) -> list[RequestPledge]:
        return [p for p in self.pledges if p.active]

    @property
    def pledged_total(self) -> Decimal:
        return sum((p.receivable.face_amount for p in self.active_pledges), Decimal("0.00"))


class RequestPledge(db.Model):
    """A receivable backing a request. One receivable backs at most one active request:
    the partial unique index below enforces it in the database, whatever the form did."""

    __tablename__ = "request_pledges"
    __table_args__ = (
        UniqueConstraint("request_id", "receivable_id"),
        Index(
            "uq_request_pledges_active_receivable",
            "receivable_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("financing_requests.id"), index=True)
    receivable_id: Mapped[int] = mapped_column(ForeignKey("receivables.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[FinancingRequest] = relationship(back_populates="pledges")
    # a pledge is read for its receivable (the total, the matcher's debtors, every page that lists
    # them): loaded in the pledges' own statement rather than one statement a pledge
    receivable = relationship("Receivable", lazy="joined", innerjoin=True)


class WorkflowEvent(db.Model):
    """One line of a request's timeline: a transition that happened, who did it, and a note."""

    __tablename__ = "workflow_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("financing_requests.id"), index=True)
    transition: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    note: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[FinancingRequest] = relationship(back_populates="events")
    actor = relationship("User")
