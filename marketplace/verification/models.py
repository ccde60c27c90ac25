"""Versioned verification policies (the thresholds of design.md section 5, editable by the platform
admin, each version in force from its effective date) and the immutable reports made with them
(workflows.verification.policy is the engine)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Money, UTCDateTime, utcnow
from marketplace.extensions import db


class PolicyVersion(db.Model):
    __tablename__ = "policy_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(20), unique=True)
    effective_from: Mapped[date] = mapped_column(Date, index=True)
    thresholds: Mapped[dict] = mapped_column(JSON)  # Thresholds.as_dict(): ints, ratios as strings
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by = relationship("User")


CLASSIFICATIONS = ("excellent", "mixed", "poor")


class VerificationReport(db.Model):
    """One verification of one submission of a request: immutable once written (the database
    refuses UPDATE and DELETE). `payload` is workflows.verification.policy.Report.to_dict(); the
    columns beside it are what lists and guards need without opening it.

    One report per (request, submission): a redelivered task finds it and does nothing more; a
    resubmission is a new submission and gets its own report, the old ones kept.
    """

    __tablename__ = "verification_reports"
    __table_args__ = (
        UniqueConstraint("request_id", "submission_no"),
        CheckConstraint(f"classification IN ({', '.join(repr(c) for c in CLASSIFICATIONS)})",
                        name="classification"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("financing_requests.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    submission_no: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[date] = mapped_column(Date)
    classification: Mapped[str] = mapped_column(String(16))
    policy_version: Mapped[str] = mapped_column(String(20))
    policy_effective_from: Mapped[date] = mapped_column(Date)
    thresholds: Mapped[dict] = mapped_column(JSON)
    inputs_sha256: Mapped[str] = mapped_column(String(64))  # one digest of every input below
    statement_sha256s: Mapped[list] = mapped_column(JSON)
    receivables_sha256: Mapped[str] = mapped_column(String(64))
    requested_amount: Mapped[Decimal] = mapped_column(Money)
    pledged_amount: Mapped[Decimal] = mapped_column(Money)
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request = relationship("FinancingRequest")
