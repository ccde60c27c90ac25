"""Bank statements an enterprise uploaded: the file's summary and its parsed rows.

The file itself is not kept: its hash recognises a second upload, and the rows are what the
verification needs.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Money, UTCDateTime, utcnow
from marketplace.extensions import db


class StatementFile(db.Model):
    __tablename__ = "statement_files"
    __table_args__ = (UniqueConstraint("enterprise_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    bank: Mapped[str] = mapped_column(String(100), default="")
    account_no: Mapped[str] = mapped_column(String(64), default="")
    account_name: Mapped[str] = mapped_column(String(200), default="")
    first_date: Mapped[date] = mapped_column(Date)
    last_date: Mapped[date] = mapped_column(Date)
    row_count: Mapped[int] = mapped_column(Integer)
    inflow_total: Mapped[Decimal] = mapped_column(Money)
    outflow_total: Mapped[Decimal] = mapped_column(Money)  # a positive number
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the importer noticed without refusing the file: [{"line", "zh", "en"}, ...]
    parse_warnings: Mapped[list[dict] | None] = mapped_column(JSON)

    enterprise = relationship("Enterprise")
    uploaded_by = relationship("User")


class StatementTransaction(db.Model):
    __tablename__ = "statement_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statement_files.id", ondelete="CASCADE"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    date: Mapped[date] = mapped_column(Date, index=True)
    amount: Mapped[Decimal] = mapped_column(Money)  # + money in, - money out
    balance: Mapped[Decimal | None] = mapped_column(Money)
    counterparty: Mapped[str] = mapped_column(String(200), default="")
    counterparty_account: Mapped[str] = mapped_column(String(64), default="")
    summary: Mapped[str] = mapped_column(String(200), default="")
