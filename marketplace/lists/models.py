"""The red/white/yellow lists and the monthly white-list push (issue 14 items 4 and 5).

A ListProposal is one computation of the lists for a bureau's region and a year (yearly by the
beat in January, or on demand); its ListMemberships are what workflows.credit_lists decided for
each enterprise, each included or excluded by the coordinator. Once a coordinator confirms the
proposal, its included memberships are the published lists (to banks and guarantors). A
WhitelistPush is the month's proposal of enterprises for banks to approach; confirmed, its
included entries appear in every bank's leads.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import UTCDateTime, sql_values, utcnow
from marketplace.extensions import db
from workflows.credit_lists import LIST_KINDS

PROPOSAL_STATES = ("proposed", "confirmed", "rejected", "superseded")
PROPOSAL_TRIGGERS = ("yearly", "on_demand")
DECISIONS = ("included", "excluded")
PUSH_STATES = ("proposed", "confirmed")
REASON_MAX = 500


class ListProposal(db.Model):
    """One computation of the lists for a region (the bureau's division code) and a year."""

    __tablename__ = "list_proposals"
    __table_args__ = (
        CheckConstraint(f"state IN ({sql_values(PROPOSAL_STATES)})", name="state"),
        CheckConstraint(f"trigger IN ({sql_values(PROPOSAL_TRIGGERS)})", name="trigger"),
        CheckConstraint("(state = 'confirmed') = (confirmed_at IS NOT NULL)", name="confirmed_with_time"),
        # the yearly computation runs once per region and year (the beat task is idempotent by it)
        Index("uq_list_proposals_yearly", "region_code", "year", unique=True,
              postgresql_where=text("trigger = 'yearly'"), sqlite_where=text("trigger = 'yearly'")),
        Index("ix_list_proposals_region_year", "region_code", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6))
    year: Mapped[int] = mapped_column()
    trigger: Mapped[str] = mapped_column(String(16))
    evaluation_date: Mapped[date] = mapped_column(Date)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    computed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the yearly task
    state: Mapped[str] = mapped_column(String(16), default="proposed", server_default="proposed")
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(REASON_MAX))

    memberships: Mapped[list[ListMembership]] = relationship(back_populates="proposal",
                                                             order_by="ListMembership.id")
    computed_by = relationship("User", foreign_keys=[computed_by_id])
    confirmed_by = relationship("User", foreign_keys=[confirmed_by_id])


class ListMembership(db.Model):
    """What the rules decided for one enterprise in a proposal, and the coordinator's decision."""

    __tablename__ = "list_memberships"
    __table_args__ = (
        UniqueConstraint("proposal_id", "enterprise_id"),
        CheckConstraint(f"list_kind IN ({sql_values(LIST_KINDS)})", name="list_kind"),
        CheckConstraint(f"decision IN ({sql_values(DECISIONS)})", name="decision"),
        CheckConstraint("decision = 'included' OR decision_reason IS NOT NULL", name="excluded_with_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("list_proposals.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    list_kind: Mapped[str] = mapped_column(String(8))
    year: Mapped[int] = mapped_column()
    code: Mapped[str] = mapped_column(String(32))
    reason_zh: Mapped[str] = mapped_column(String(REASON_MAX))
    reason_en: Mapped[str] = mapped_column(String(REASON_MAX))
    decision: Mapped[str] = mapped_column(String(16), default="included", server_default="included")
    decision_reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    proposal: Mapped[ListProposal] = relationship(back_populates="memberships")
    enterprise = relationship("Enterprise")
    decided_by = relationship("User", foreign_keys=[decided_by_id])


class WhitelistPush(db.Model):
    """The month's white-list push for a region: proposed by the beat (or a coordinator), confirmed."""

    __tablename__ = "whitelist_pushes"
    __table_args__ = (
        UniqueConstraint("region_code", "month"),
        CheckConstraint(f"state IN ({sql_values(PUSH_STATES)})", name="state"),
        CheckConstraint("(state = 'confirmed') = (confirmed_at IS NOT NULL)", name="confirmed_with_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6))
    month: Mapped[date] = mapped_column(Date)  # the month's first day
    state: Mapped[str] = mapped_column(String(16), default="proposed", server_default="proposed")
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    entries: Mapped[list[WhitelistPushEntry]] = relationship(back_populates="push", order_by="WhitelistPushEntry.id")
    confirmed_by = relationship("User", foreign_keys=[confirmed_by_id])


class WhitelistPushEntry(db.Model):
    """One enterprise proposed to banks in a month's push."""

    __tablename__ = "whitelist_push_entries"
    __table_args__ = (
        UniqueConstraint("push_id", "enterprise_id"),
        CheckConstraint("grade IN ('A', 'B')", name="grade"),
        CheckConstraint(f"decision IN ({sql_values(DECISIONS)})", name="decision"),
        CheckConstraint("decision = 'included' OR decision_reason IS NOT NULL", name="excluded_with_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    push_id: Mapped[int] = mapped_column(ForeignKey("whitelist_pushes.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    grade: Mapped[str] = mapped_column(String(1))
    score: Mapped[int | None] = mapped_column()
    reason_zh: Mapped[str] = mapped_column(String(REASON_MAX))
    reason_en: Mapped[str] = mapped_column(String(REASON_MAX))
    decision: Mapped[str] = mapped_column(String(16), default="included", server_default="included")
    decision_reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    push: Mapped[WhitelistPush] = relationship(back_populates="entries")
    enterprise = relationship("Enterprise")
