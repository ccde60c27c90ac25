"""Credit records: facts about an enterprise reported by a data provider (design.md section 3).

A record is stored whatever the enterprise has consented to share: the provider has the right to
report it, and the enterprise sees its whole file. Outward views (institutions' pages, API
answers, reports) must filter with `marketplace.credit.access.visible_to(org)`, which admits a
record only under an active consent to that institution covering the source's scope.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Money, UTCDateTime, sql_values, utcnow
from marketplace.extensions import db
from workflows.credit_records import KINDS, POLARITIES, SOURCES

# only `active` is set now; objections (异议), repair (信用修复) and retention set the others
RECORD_STATUSES = ("active", "objected", "repaired", "removed")
STATUS_LABELS = {
    "active": ("有效", "Active"),
    "objected": ("异议处理中", "Under objection"),
    "repaired": ("已信用修复", "Repaired"),
    "removed": ("已删除", "Removed"),
}
POLARITY_LABELS = {
    "positive": ("正面", "Positive"),
    "negative": ("负面", "Negative"),
    "neutral": ("中性", "Neutral"),
}


class CreditRecord(db.Model):
    """One fact from a data provider, idempotent by (provider, provider_record_id)."""

    __tablename__ = "credit_records"
    __table_args__ = (
        UniqueConstraint("provider_org_id", "provider_record_id"),
        CheckConstraint(f"source IN ({sql_values(SOURCES)})", name="source"),
        CheckConstraint(f"kind IN ({sql_values(sorted(KINDS))})", name="kind"),
        CheckConstraint(f"polarity IN ({sql_values(POLARITIES)})", name="polarity"),
        CheckConstraint(f"status IN ({sql_values(RECORD_STATUSES)})", name="status"),
        CheckConstraint("ended_on IS NULL OR ended_on >= occurred_on", name="ended_after_occurred"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_not_negative"),
        Index("ix_credit_records_enterprise_source", "enterprise_id", "source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    provider_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    source: Mapped[str] = mapped_column(String(32))
    provider_record_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    polarity: Mapped[str] = mapped_column(String(8))  # from workflows.credit_records.KINDS, never from input
    title: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal | None] = mapped_column(Money)
    occurred_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)  # when the matter ended: retention counts from it
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload_digest: Mapped[str] = mapped_column(String(64))  # sha256 of the content: tells a repeat from a conflict
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")

    enterprise = relationship("Enterprise")
    provider = relationship("Organisation")


GRADE_TRIGGER_MAX = 64


class CreditGrade(db.Model):
    """One result of the grade model (workflows.credit_model) for an enterprise: a history, a
    new row only when the result or the model version changed. The latest row is the enterprise's
    current grade; `grade` NULL is ungraded (no data). `reasons` are the model's explained points,
    [{code, points, zh, en, factor}]; `inputs_digest` is the sha256 of the inputs it read."""

    __tablename__ = "credit_grades"
    __table_args__ = (
        CheckConstraint("grade IS NULL OR grade IN ('A', 'B', 'C', 'D')", name="grade"),
        CheckConstraint("colour IS NULL OR colour IN ('green', 'yellow', 'red', 'black')", name="colour"),
        CheckConstraint("(grade IS NULL) = (score IS NULL) AND (grade IS NULL) = (colour IS NULL)",
                        name="graded_together"),
        Index("ix_credit_grades_enterprise_latest", "enterprise_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    score: Mapped[int | None] = mapped_column()
    grade: Mapped[str | None] = mapped_column(String(1))
    colour: Mapped[str | None] = mapped_column(String(8))
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    model_version: Mapped[str] = mapped_column(String(20))
    evaluated_on: Mapped[date] = mapped_column(Date)
    inputs_digest: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    trigger: Mapped[str] = mapped_column(String(GRADE_TRIGGER_MAX))  # what caused it: "credit_records", "cli", ...

    enterprise = relationship("Enterprise")

    @property
    def graded(self) -> bool:
        return self.grade is not None


def latest_grade(enterprise_id: int) -> CreditGrade | None:
    """The enterprise's current grade row (None: never computed, i.e. ungraded)."""
    return db.session.scalar(select(CreditGrade).where(CreditGrade.enterprise_id == enterprise_id)
                             .order_by(CreditGrade.id.desc()).limit(1))
