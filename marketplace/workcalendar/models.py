"""A year's official arrangement of public holidays and make-up working days (调休上班), set by a
platform admin from the State Council's notice (issue 17)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import UTCDateTime, utcnow
from marketplace.extensions import db
from workflows.working_days import TABLE_YEARS


class CalendarYear(db.Model):
    """One year of the working-day table kept in the database: days as ISO strings or
    "YYYY-MM-DD..YYYY-MM-DD" ranges, exactly as WORKING_DAY_TABLE takes them."""

    __tablename__ = "calendar_years"
    __table_args__ = (
        CheckConstraint(f"year BETWEEN {TABLE_YEARS.start} AND {TABLE_YEARS.stop - 1}", name="year_in_range"),
    )

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)
    workdays: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_note: Mapped[str] = mapped_column(String(200), default="")  # e.g. 国办发明电〔2026〕x号
    set_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    set_by = relationship("User")

    def as_table_entry(self) -> dict:
        return {"holidays": list(self.holidays or ()), "workdays": list(self.workdays or ())}
