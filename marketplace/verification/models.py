"""Versioned verification policies: the thresholds of design.md section 5, editable by the platform
admin, each version in force from its effective date (workflows.verification.policy is the engine)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import UTCDateTime, utcnow
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
