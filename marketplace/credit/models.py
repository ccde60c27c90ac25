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
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Money, UTCDateTime, sql_values, utcnow
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from workflows.credit_records import KINDS, POLARITIES, SOURCES

# objected: an objection (异议) is open (marketplace.credit.objections); repaired: a credit repair
# (信用修复) was approved (marketplace.credit.repairs); removed: an objection's outcome
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
    # set by the daily retention task (marketplace.credit.retention): a negative record has left
    # every outward view CREDIT_NEGATIVE_RETENTION_YEARS after its event ended; the enterprise still sees it
    retention_expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

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


# ---- objections (异议) and credit repair (信用修复): issue 14, items 6 and 7 --------------------

OBJECTION_OUTCOMES = ("corrected", "removed", "cannot_confirm")
OBJECTION_OUTCOME_LABELS = {
    "corrected": ("已更正", "Corrected"),
    "removed": ("已删除", "Removed"),
    "cannot_confirm": ("无法核实，维持原记录", "Cannot be confirmed; record kept"),
}
OBJECTION_DAYS = 20  # calendar days (Asia/Shanghai) from the filing day to the written answer: due_on
OBJECTION_ESCALATION_DAY = 15  # filed_on + 15 days: the bureau of the enterprise's region is told
REPAIR_DECISIONS = ("approved", "rejected")
REPAIR_DECISION_LABELS = {"approved": ("已通过", "Approved"), "rejected": ("未通过", "Rejected")}


class CreditObjection(db.Model):
    """An enterprise's objection (异议) against one of its credit records, with a 20-calendar-day
    clock: `due_on` is the filing day (Shanghai) + OBJECTION_DAYS; `escalated_at` is set on day
    OBJECTION_ESCALATION_DAY when the bureau is told. Closed by a written reply from the record's
    provider or the platform with an outcome. At most one open objection per record (a partial
    unique index). Nothing about an objection is ever charged."""

    __tablename__ = "credit_objections"
    __table_args__ = (
        CheckConstraint(f"outcome IS NULL OR outcome IN ({sql_values(OBJECTION_OUTCOMES)})", name="outcome"),
        CheckConstraint("(outcome IS NULL) = (closed_at IS NULL)", name="closed_with_outcome"),
        CheckConstraint("outcome IS NULL OR (answered_by_id IS NOT NULL AND answering_org_id IS NOT NULL "
                        "AND reply IS NOT NULL)", name="answered_in_writing"),
        CheckConstraint("due_on > filed_on", name="due_after_filed"),
        Index("uq_credit_objections_open_record", "record_id", unique=True,
              sqlite_where=text("closed_at IS NULL"), postgresql_where=text("closed_at IS NULL")),
        Index("ix_credit_objections_enterprise_id", "enterprise_id"),
        Index("ix_credit_objections_record_id", "record_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("credit_records.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    filed_on: Mapped[date] = mapped_column(Date)  # the filing day in Shanghai: day 1 of the clock
    due_on: Mapped[date] = mapped_column(Date)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answering_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    reply: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(16))
    corrections: Mapped[dict | None] = mapped_column(JSON)  # {field: [before, after]} of a corrected record
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    record = relationship("CreditRecord")
    enterprise = relationship("Enterprise")
    filed_by = relationship("User", foreign_keys=[filed_by_id])
    answered_by = relationship("User", foreign_keys=[answered_by_id])
    answering_org = relationship("Organisation")
    evidence = relationship("CreditEvidence", back_populates="objection", order_by="CreditEvidence.id")

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def days_elapsed(self, today: date) -> int:
        """Calendar days since the filing day: day 15 (escalation) is filed_on + 15, the due day
        (day 20) is filed_on + 20."""
        return (today - self.filed_on).days

    def is_overdue(self, today: date) -> bool:
        """Open past its due day (day 20 has ended without an answer)."""
        return self.is_open and today > self.due_on

    def clock_state(self, today: date) -> str:
        """open / escalated / overdue / closed."""
        if not self.is_open:
            return "closed"
        if self.is_overdue(today):
            return "overdue"
        return "escalated" if self.escalated_at is not None else "open"

    @property
    def state(self) -> str:
        """clock_state today (Shanghai), for pages."""
        return self.clock_state(today_shanghai())

    @property
    def days_elapsed_today(self) -> int:
        return self.days_elapsed(today_shanghai())


class RepairApplication(db.Model):
    """A credit repair application (信用修复) on a negative record: a commitment (信用修复承诺) and
    evidence, decided by a bureau coordinator of the enterprise's region or a platform admin within
    CREDIT_REPAIR_REVIEW_DAYS calendar days (`due_on`). At most one undecided application per record."""

    __tablename__ = "credit_repairs"
    __table_args__ = (
        CheckConstraint(f"decision IS NULL OR decision IN ({sql_values(REPAIR_DECISIONS)})", name="decision"),
        CheckConstraint("(decision IS NULL) = (decided_at IS NULL) AND (decision IS NULL) = (reviewer_id IS NULL)",
                        name="decided_together"),
        Index("uq_credit_repairs_open_record", "record_id", unique=True,
              sqlite_where=text("decided_at IS NULL"), postgresql_where=text("decided_at IS NULL")),
        Index("ix_credit_repairs_enterprise_id", "enterprise_id"),
        Index("ix_credit_repairs_record_id", "record_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("credit_records.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    commitment: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_on: Mapped[date] = mapped_column(Date)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    record = relationship("CreditRecord")
    enterprise = relationship("Enterprise")
    applicant = relationship("User", foreign_keys=[applicant_id])
    reviewer = relationship("User", foreign_keys=[reviewer_id])
    evidence = relationship("CreditEvidence", back_populates="repair", order_by="CreditEvidence.id")

    @property
    def is_open(self) -> bool:
        return self.decided_at is None


class CreditEvidence(db.Model):
    """A document filed with an objection or a repair application: checked and stored like a
    receivable's documents (marketplace.receivables.documents: by content, under a generated name)."""

    __tablename__ = "credit_evidence"
    __table_args__ = (
        CheckConstraint("(objection_id IS NULL) <> (repair_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    objection_id: Mapped[int | None] = mapped_column(ForeignKey("credit_objections.id"), index=True)
    repair_id: Mapped[int | None] = mapped_column(ForeignKey("credit_repairs.id"), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    objection = relationship("CreditObjection", back_populates="evidence")
    repair = relationship("RepairApplication", back_populates="evidence")

    @property
    def enterprise_id(self) -> int:
        return (self.objection or self.repair).enterprise_id
