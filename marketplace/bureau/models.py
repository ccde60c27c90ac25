"""The finance bureau's records: the state stays the dashboard measures, dispatch meetings
(调度会) with their agenda, minutes and action items, and the kept summary reports.

A bureau sees its region: the enterprises whose division code its own code prefixes once the
trailing 00s are dropped (marketplace.bureau.region).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Money, UTCDateTime, sql_values, utcnow
from marketplace.extensions import db

MEETING_STATES = ("scheduled", "closed")
ACTION_STATES = ("open", "done")  # "overdue" is open past its due date (ActionItem.status)
REPORT_PERIODS = ("H1", "H2", "Y")
REPORT_STATES = ("queued", "running", "done", "failed")


class RequestStay(db.Model):
    """One stay of a request in one state: entered, left, and the institution whose action ended
    it (a bank or guarantor; None when the enterprise, the platform or the system moved it on).
    Kept by a listener of the request's transition event; the dashboard's turnaround figures
    (median and p90 time in each state per institution) read these rows, not the timeline."""

    __tablename__ = "request_stays"
    __table_args__ = (
        Index("ix_request_stays_region_state", "region_code", "state", "entered_at"),
        # the dashboard's turnaround reads the finished stays of a range's edge months from here
        Index("ix_request_stays_entered_finished", "entered_at",
              postgresql_include=["region_code", "state", "institution_id", "seconds"],
              postgresql_where=text("seconds IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("financing_requests.id"), index=True)
    state: Mapped[str] = mapped_column(String(32))
    region_code: Mapped[str] = mapped_column(String(6))  # the enterprise's, copied for the region filter
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seconds: Mapped[int | None] = mapped_column(Integer)  # left_at - entered_at, once left


class RequestFigures(db.Model):
    """One row per submitted request: what the dashboard's funnel, mix and monthly volume count,
    kept by marketplace.bureau.request_figures (refreshed from the request's own rows before each
    commit that transitioned it; rebuilt whole by its backfill). The dashboard reads a region's
    rows with one range scan of the first index instead of probing four tables per request."""

    __tablename__ = "request_figures"
    __table_args__ = (
        Index("ix_request_figures_region_submitted", "region_code", "submitted_at",
              postgresql_ops={"region_code": "varchar_pattern_ops"},
              postgresql_include=["amount", "classification", "verified", "routed", "offered", "financed"]),
        Index("ix_request_figures_region_financed", "region_code", "financed_on",
              postgresql_ops={"region_code": "varchar_pattern_ops"}, postgresql_include=["financed_amount"],
              postgresql_where=text("financed_on IS NOT NULL")),
        # a range's edge months for a wide region (a province: the region-first index would walk
        # all its rows to find a few weeks'): by date first, the region filtered in the index
        Index("ix_request_figures_submitted", "submitted_at",
              postgresql_include=["region_code", "amount", "classification", "verified", "routed", "offered",
                                  "financed"]),
        Index("ix_request_figures_financed", "financed_on", postgresql_include=["region_code", "financed_amount"],
              postgresql_where=text("financed_on IS NOT NULL")),
    )

    request_id: Mapped[int] = mapped_column(ForeignKey("financing_requests.id", ondelete="CASCADE"),
                                            primary_key=True, autoincrement=False)
    region_code: Mapped[str] = mapped_column(String(6))  # the enterprise's
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    amount: Mapped[Decimal] = mapped_column(Money)
    classification: Mapped[str | None] = mapped_column(String(16))
    verified: Mapped[bool] = mapped_column(Boolean)  # the timeline went into `verified`
    routed: Mapped[bool] = mapped_column(Boolean)  # a bank or guarantor received it
    offered: Mapped[bool] = mapped_column(Boolean)  # a bank's offer left the bank (approved)
    financed: Mapped[bool] = mapped_column(Boolean)  # a loan exists
    financed_on: Mapped[date | None] = mapped_column(Date)  # the loan's disbursement date
    financed_amount: Mapped[Decimal | None] = mapped_column(Money)


class RequestInstitutionFigures(db.Model):
    """One row per submitted request and bank or guarantor that took part in it: targets routed
    to it, whether it made an offer that left the bank, its declines, its loan. Kept with
    RequestFigures (marketplace.bureau.request_figures); the dashboard's table of institutions
    sums a region's rows in one range scan instead of joining four tables to the requests."""

    __tablename__ = "request_institution_figures"
    __table_args__ = (
        Index("ix_request_institution_figures_region_submitted", "region_code", "submitted_at",
              postgresql_ops={"region_code": "varchar_pattern_ops"},
              postgresql_include=["institution_id", "routed", "offered", "declined", "financed", "financed_amount"]),
        Index("ix_request_institution_figures_submitted", "submitted_at",
              postgresql_include=["region_code", "institution_id", "routed", "offered", "declined", "financed",
                                  "financed_amount"]),
    )

    request_id: Mapped[int] = mapped_column(ForeignKey("financing_requests.id", ondelete="CASCADE"),
                                            primary_key=True, autoincrement=False)
    institution_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True,
                                                autoincrement=False)
    region_code: Mapped[str] = mapped_column(String(6))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    routed: Mapped[int] = mapped_column(Integer)  # its targets with routed_at
    offered: Mapped[bool] = mapped_column(Boolean)  # an offer of it left the bank
    declined: Mapped[int] = mapped_column(Integer)  # its declines
    financed: Mapped[int] = mapped_column(Integer)  # its loans (0 or 1)
    financed_amount: Mapped[Decimal] = mapped_column(Money)  # 0 without a loan


class RequestDeclineFigures(db.Model):
    """One row per submitted request and decline reason: how many declines of the request gave
    that reason. Kept with RequestFigures (marketplace.bureau.request_figures); the dashboard's
    decline reasons read the whole months from their monthly sums and the edge months from here,
    instead of joining a region's range of requests to the declines."""

    __tablename__ = "request_decline_figures"
    __table_args__ = (
        Index("ix_request_decline_figures_region_submitted", "region_code", "submitted_at",
              postgresql_ops={"region_code": "varchar_pattern_ops"}, postgresql_include=["reason_code", "n"]),
        Index("ix_request_decline_figures_submitted", "submitted_at", postgresql_include=["region_code", "reason_code", "n"]),
    )

    request_id: Mapped[int] = mapped_column(ForeignKey("financing_requests.id", ondelete="CASCADE"),
                                            primary_key=True, autoincrement=False)
    reason_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    n: Mapped[int] = mapped_column(Integer)


class MonthlyFigures(db.Model):
    """The kept figures rows summed per region level (the region code cut to 0, 2, 4 and 6
    characters), month and metric: the funnel's stages and the classes (`key` 0; month of
    submission), the loans (month of disbursement), each institution's tallies (`key` the
    institution) and the declines per reason ("reason:<code>", month of submission). Kept by marketplace.bureau.monthly_figures from the changes the figures rows go
    through; a bureau's whole months are read from here, the partial months at a range's edges
    from the rows themselves."""

    __tablename__ = "request_figures_monthly"

    region_prefix: Mapped[str] = mapped_column(String(6), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2026-07", Beijing time
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)  # "posted", ..., "reason:<code>"
    key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Money)


class StayLength(db.Model):
    """How many finished stays of one length bucket a region prefix holds, per month the stays
    began (Beijing time), state and the institution that ended them (0: none); one row set per
    bureau level (the stay's region code cut to 0, 2, 4 and 6 characters). Kept by
    marketplace.bureau.stay_lengths when a stay closes; the dashboard's median and p90 come from
    these counts (each bucket 1/8 of a natural log unit wide: a value read at its middle is within
    6.5 % of the exact one)."""

    __tablename__ = "request_stay_lengths"
    __table_args__ = (
        # a bureau's months in one index-only range scan (the rows of a level and month lie apart)
        Index("ix_request_stay_lengths_read", "region_prefix", "month",
              postgresql_include=["state", "institution_id", "bucket", "n"]),
    )

    region_prefix: Mapped[str] = mapped_column(String(6), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2026-07"
    state: Mapped[str] = mapped_column(String(32), primary_key=True)
    institution_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer)


class Meeting(db.Model):
    """A dispatch meeting (调度会) held by a bureau. Closed once its minutes are final: nothing in
    it changes after that, but its action items are still worked and closed by their owners."""

    __tablename__ = "dispatch_meetings"
    __table_args__ = (
        CheckConstraint(f"state IN ({sql_values(MEETING_STATES)})", name="state"),
        CheckConstraint("(state = 'closed') = (closed_at IS NOT NULL)", name="closed_at_set"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bureau_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    place: Mapped[str] = mapped_column(String(200))
    host_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(16), default="scheduled")
    summary: Mapped[str | None] = mapped_column(Text)  # the minutes' general part
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the reminder before it

    bureau = relationship("Organisation", foreign_keys=[bureau_id])
    host = relationship("User", foreign_keys=[host_user_id])
    attendees: Mapped[list[MeetingAttendee]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="MeetingAttendee.id")
    agenda: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="AgendaItem.position")
    action_items: Mapped[list[ActionItem]] = relationship(
        back_populates="meeting", order_by="ActionItem.id", foreign_keys="ActionItem.meeting_id")


class MeetingAttendee(db.Model):
    """An institution invited to a meeting (a bank, a guarantor, an enterprise, another bureau)."""

    __tablename__ = "meeting_attendees"
    __table_args__ = (UniqueConstraint("meeting_id", "institution_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("dispatch_meetings.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)

    meeting: Mapped[Meeting] = relationship(back_populates="attendees")
    institution = relationship("Organisation")


class AgendaItem(db.Model):
    """One point of a meeting's agenda: a stuck request, an open action item of an earlier
    meeting carried over, or a free topic; with the minutes and the decision taken on it."""

    __tablename__ = "agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("dispatch_meetings.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("financing_requests.id"), index=True)
    # use_alter: the two tables refer to each other, so this key is added after both exist
    carried_action_id: Mapped[int | None] = mapped_column(ForeignKey("action_items.id", use_alter=True))
    stuck_kind: Mapped[str | None] = mapped_column(String(32))  # why the stuck list held it
    minutes: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(Text)

    meeting: Mapped[Meeting] = relationship(back_populates="agenda")
    request = relationship("FinancingRequest")
    carried_action = relationship("ActionItem", foreign_keys=[carried_action_id])


class ActionItem(db.Model):
    """A task a meeting gave an owner (an institution, or one user), due on a date, tracked to
    closure by its owner with a note."""

    __tablename__ = "action_items"
    __table_args__ = (
        CheckConstraint(f"state IN ({sql_values(ACTION_STATES)})", name="state"),
        CheckConstraint("owner_org_id IS NOT NULL OR owner_user_id IS NOT NULL", name="has_owner"),
        CheckConstraint("(state = 'done') = (closed_at IS NOT NULL)", name="closed_at_set"),
        Index("ix_action_items_owner_state", "owner_org_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("dispatch_meetings.id"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("financing_requests.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    owner_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    state: Mapped[str] = mapped_column(String(16), default="open")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    close_note: Mapped[str | None] = mapped_column(Text)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the reminder before it falls due

    meeting: Mapped[Meeting] = relationship(back_populates="action_items", foreign_keys=[meeting_id])
    agenda_item = relationship("AgendaItem", foreign_keys=[agenda_item_id])
    request = relationship("FinancingRequest")
    owner_org = relationship("Organisation", foreign_keys=[owner_org_id])
    owner_user = relationship("User", foreign_keys=[owner_user_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])

    def status(self, today: date) -> str:
        """open, done, or overdue (open past its due date), as shown."""
        if self.state == "open" and self.due_on < today:
            return "overdue"
        return self.state


class SummaryReport(db.Model):
    """A half-year (H1, H2) or full-year (Y) PDF report of a bureau's region, built by a Celery
    task that records its progress here, then kept for download."""

    __tablename__ = "summary_reports"
    __table_args__ = (
        CheckConstraint(f"period IN ({sql_values(REPORT_PERIODS)})", name="period"),
        CheckConstraint(f"state IN ({sql_values(REPORT_STATES)})", name="state"),
        CheckConstraint("state != 'done' OR stored_name IS NOT NULL", name="done_has_file"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bureau_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    step: Mapped[str | None] = mapped_column(String(100))  # what the task is doing now
    stored_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    size: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    bureau = relationship("Organisation")
    requested_by = relationship("User")
