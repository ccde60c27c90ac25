"""Financing products (金融超市): a product is a stable identity; its terms live in versions.

Editing a published product makes a new version; requests (and later offers) keep the version
they were made under, so terms never change under anyone's feet.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Money, UTCDateTime, utcnow
from marketplace.extensions import db
from workflows.identifiers import DEBTOR_KINDS
from workflows.matching import (
    PRODUCT_TYPES,  # noqa: F401  (one table of product types, re-exported)
    accepted_debtor_kinds,
    needs_contract_numbers,
    needs_debtor_confirmation,
)

PRODUCT_STATES = {
    "draft": ("草稿", "Draft"),
    "published": ("已上架", "Published"),
    "retired": ("已下架", "Retired"),
}
GRADES = ("A", "B", "C", "D")
RATE_CEILING = Decimal("24.00")  # annual %, the upper bound a product may state


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (CheckConstraint("state IN ('draft', 'published', 'retired')", name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("product_versions.id", use_alter=True, name="fk_products_current_version_id_product_versions")
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    institution = relationship("Organisation")
    current_version: Mapped[ProductVersion | None] = relationship(foreign_keys=[current_version_id], post_update=True)
    versions: Mapped[list[ProductVersion]] = relationship(
        back_populates="product", foreign_keys="ProductVersion.product_id", order_by="ProductVersion.number"
    )


class ProductVersion(db.Model):
    """The terms of a product at one time. Published versions are never edited."""

    __tablename__ = "product_versions"
    __table_args__ = (
        UniqueConstraint("product_id", "number"),
        CheckConstraint("amount_min > 0 AND amount_min <= amount_max", name="amount_range"),
        CheckConstraint("term_min_days > 0 AND term_min_days <= term_max_days", name="term_range"),
        CheckConstraint("rate_min > 0 AND rate_min <= rate_max AND rate_max <= 24", name="rate_range"),
        CheckConstraint("min_grade IS NULL OR min_grade IN ('A', 'B', 'C', 'D')", name="min_grade"),
        # Chinese search: trigram GIN indexes on PostgreSQL (pg_trgm), plain indexes on SQLite
        Index("ix_product_versions_name_trgm", "name", postgresql_using="gin",
              postgresql_ops={"name": "gin_trgm_ops"}),
        Index("ix_product_versions_description_trgm", "description", postgresql_using="gin",
              postgresql_ops={"description": "gin_trgm_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    product_type: Mapped[str] = mapped_column(String(32), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    amount_min: Mapped[Decimal] = mapped_column(Money)
    amount_max: Mapped[Decimal] = mapped_column(Money)
    term_min_days: Mapped[int] = mapped_column(Integer)
    term_max_days: Mapped[int] = mapped_column(Integer)
    rate_min: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    rate_max: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    min_grade: Mapped[str | None] = mapped_column(String(1))
    accepts_ungraded: Mapped[bool] = mapped_column(default=True)
    industries: Mapped[list[str]] = mapped_column(JSON, default=list)  # GB/T 4754 divisions; [] = all
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)  # division-code prefixes; [] = all
    requires_guarantee: Mapped[bool] = mapped_column(default=False)
    requires_debtor_confirmation: Mapped[bool] = mapped_column(default=False)
    # keys of DEBTOR_KINDS the institution accepts; [] = the type's default (政采贷: public bodies; else all)
    debtor_kinds: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    product: Mapped[Product] = relationship(back_populates="versions", foreign_keys=[product_id])

    # What the terms ask of the pledged receivables, the product's type included (workflows.matching).

    @property
    def accepted_debtor_kinds(self) -> list[str]:
        """The debtor kinds accepted, in DEBTOR_KINDS order; [] = every kind."""
        accepted = accepted_debtor_kinds(self.product_type, self.debtor_kinds or ())
        return [kind for kind in DEBTOR_KINDS if kind in accepted]

    @property
    def needs_debtor_confirmation(self) -> bool:
        return needs_debtor_confirmation(self.product_type, self.requires_debtor_confirmation)

    @property
    def needs_contract_numbers(self) -> bool:
        return needs_contract_numbers(self.product_type)


class ProductStat(db.Model):
    """Daily counters per product: page views, eligible matches, applications."""

    __tablename__ = "product_stats"
    __table_args__ = (UniqueConstraint("product_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    views: Mapped[int] = mapped_column(Integer, default=0)
    matches: Mapped[int] = mapped_column(Integer, default=0)
    applications: Mapped[int] = mapped_column(Integer, default=0)


# Where a target stands: chosen at submission; routed (in the institution's queue) or waiting
# behind another guarantor; then worked by the institution's desk (the desks capability).
TARGET_STATUSES = ("chosen", "routed", "waiting", "reviewing", "info_requested", "offered", "declined",
                   "accepted", "closed")
_TARGET_STATUSES = ", ".join(f"'{s}'" for s in TARGET_STATUSES)


class RequestTarget(db.Model):
    """An institution (through one of its products) that a request is to be routed to.

    At most 3 per kind of institution (bank, guarantor); chosen by the enterprise at submission or
    taken from the top matches when the request is routed. `explanation` keeps, criterion by
    criterion, why the product matched when the request was routed, for the institution to see.
    """

    __tablename__ = "request_targets"
    __table_args__ = (
        UniqueConstraint("request_id", "institution_id"),
        CheckConstraint("rank >= 1", name="rank"),
        CheckConstraint("chosen_by IN ('enterprise', 'match')", name="chosen_by"),
        CheckConstraint(f"status IN ({_TARGET_STATUSES})", name="status"),
        CheckConstraint("status IN ('chosen', 'waiting') OR routed_at IS NOT NULL", name="routed_at_set"),
        Index("ix_request_targets_queue", "institution_id", "routed_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("financing_requests.id"), index=True)
    product_version_id: Mapped[int] = mapped_column(ForeignKey("product_versions.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    chosen_by: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="chosen", server_default="chosen", index=True)
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    explanation: Mapped[list | None] = mapped_column(JSON)  # [{code, hard, passed, zh, en}] at routing
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product_version = relationship("ProductVersion")
    institution = relationship("Organisation")
    request = relationship("FinancingRequest")


class TargetDecision(db.Model):
    """A target's first decision, kept for the matcher's institution records
    (marketplace/supermarket/decision_records.py): whether the institution offered (an approved
    offer; else it declined) and the days from routing to the first such decision, never
    negative. One row per decided target; kept as offers are approved and declines made."""

    __tablename__ = "target_decisions"
    __table_args__ = (
        Index("ix_target_decisions_institution_days", "institution_id", "days", postgresql_include=["offered"]),
    )

    target_id: Mapped[int] = mapped_column(ForeignKey("request_targets.id", ondelete="CASCADE"), primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    offered: Mapped[bool] = mapped_column(Boolean)
    days: Mapped[float] = mapped_column(Float)
