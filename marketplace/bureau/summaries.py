"""Half-year and full-year summary reports of a region: the Celery task that builds the PDF.

`request_report` checks the period and records the report (queued) with the intent to build it
in the same transaction (marketplace.outbox); `build_summary_report` gathers the dashboard's
figures (marketplace.bureau.dashboard.figures) and the recurring problems of the bureau's dispatch
meetings, renders templates/pdf/summary_report.html through marketplace.pdf, keeps the file under
UPLOAD_FOLDER/summary-reports and marks the report done. It commits its progress between steps so
the reports page can poll it; run twice (acks_late), a done report is left as it is.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from celery import shared_task
from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select
from sqlalchemy.exc import OperationalError

from marketplace import audit, outbox
from marketplace.accounts.models import Organisation, User
from marketplace.bureau.dashboard import DashboardFigures, _utc_bounds, figures
from marketplace.bureau.models import REPORT_PERIODS, ActionItem, AgendaItem, Meeting, SummaryReport
from marketplace.db import utcnow
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.formatting import SHANGHAI, today_shanghai

log = logging.getLogger(__name__)

FOLDER = "summary-reports"  # under UPLOAD_FOLDER
MIN_YEAR = 2000
PENDING_STATES = ("queued", "running")
DECISIONS_SHOWN = 60  # the PDF lists this many decisions and counts the rest
RECURRING_SHOWN = 20
STALE_AFTER = timedelta(hours=1)  # a report queued or running this long is given up on a new request
SOFT_TIME_LIMIT = 300  # seconds for one build: the figures' queries and the rendering

PERIOD_LABELS = {"H1": _l("上半年"), "H2": _l("下半年"), "Y": _l("全年")}
STEP_LABELS = {
    "queued": _l("排队等候"),
    "figures": _l("统计业务数据"),
    "meetings": _l("整理调度会问题"),
    "rendering": _l("生成PDF"),
    "storing": _l("保存文件"),
    "done": _l("已完成"),
    "failed": _l("生成失败"),
}
STATE_LABELS = {"queued": _l("排队中"), "running": _l("生成中"), "done": _l("已完成"), "failed": _l("生成失败")}


class ReportRefused(ValueError):
    """The report cannot be requested; the message says why (in the user's language)."""


# ---- periods -------------------------------------------------------------------------------------

def period_bounds(year: int, period: str) -> tuple[date, date]:
    """The period's first and last day (Beijing dates, inclusive)."""
    if period == "H1":
        return date(year, 1, 1), date(year, 6, 30)
    if period == "H2":
        return date(year, 7, 1), date(year, 12, 31)
    return date(year, 1, 1), date(year, 12, 31)


def covered_range(year: int, period: str, today: date) -> tuple[date, date]:
    """What a report built today covers: the period, up to today while it is still running."""
    start, end = period_bounds(year, period)
    return start, min(end, today)


def period_label(period: str) -> str:
    return str(PERIOD_LABELS.get(period, period))


def step_label(step: str | None) -> str:
    return str(STEP_LABELS.get(step or "queued", step or ""))


def check_period(year: int | None, period: str | None, today: date) -> None:
    """Raise ReportRefused unless a report of `year`/`period` can be built on `today`."""
    if period not in REPORT_PERIODS:
        raise ReportRefused(_("报告期间无效，请选择上半年、下半年或全年"))
    if year is None or year < MIN_YEAR:
        raise ReportRefused(_("报告年度无效（%(min)s年起）", min=MIN_YEAR))
    if year > today.year:
        raise ReportRefused(_("%(year)s年尚未到来，不能生成该年度的总结报告", year=year))
    start, _end = period_bounds(year, period)
    if start > today:
        raise ReportRefused(_("%(year)s年%(period)s尚未开始（%(start)s起），不能生成总结报告",
                              year=year, period=period_label(period), start=start.isoformat()))


# ---- reading ----------------------------------------------------------------------------------------

def reports_of(bureau: Organisation):
    """The bureau's reports, newest first (a query to paginate)."""
    return (select(SummaryReport).where(SummaryReport.bureau_id == bureau.id)
            .order_by(SummaryReport.requested_at.desc(), SummaryReport.id.desc()))


def report_of(report_id: int, bureau: Organisation) -> SummaryReport | None:
    """The bureau's report, or None (another bureau's report is as if it did not exist)."""
    report = db.session.get(SummaryReport, report_id)
    if report is None or report.bureau_id != bureau.id:
        return None
    return report


def storage_dir() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def report_path(report: SummaryReport) -> Path | None:
    """Where a done report's PDF is kept (None before it is done)."""
    return storage_dir() / report.stored_name if report.stored_name else None


def download_name(report: SummaryReport) -> str:
    return _("%(bureau)s%(year)s年%(period)s应收账款融资总结报告.pdf", bureau=report.bureau.name,
             year=report.year, period=period_label(report.period))


# ---- requesting ---------------------------------------------------------------------------------------

def pending_report(bureau: Organisation, year: int, period: str) -> SummaryReport | None:
    """The bureau's report of the same year and period still queued or running, if any, and not
    stale (see request_report)."""
    return db.session.scalar(
        select(SummaryReport).where(SummaryReport.bureau_id == bureau.id, SummaryReport.year == year,
                                    SummaryReport.period == period, SummaryReport.state.in_(PENDING_STATES),
                                    SummaryReport.requested_at >= utcnow() - STALE_AFTER)
        .order_by(SummaryReport.id.desc()).limit(1))


def _give_up_stale(bureau: Organisation, year: int, period: str) -> None:
    """Reports of the same period still queued or running STALE_AFTER after their request (a
    worker killed past the task's hard time limit leaves one running) are marked failed, so a new
    request is not held up by them."""
    stale = db.session.scalars(
        select(SummaryReport).where(SummaryReport.bureau_id == bureau.id, SummaryReport.year == year,
                                    SummaryReport.period == period, SummaryReport.state.in_(PENDING_STATES),
                                    SummaryReport.requested_at < utcnow() - STALE_AFTER))
    for report in stale:
        report.state, report.step, report.finished_at = "failed", "failed", utcnow()
        report.error = f"not finished {STALE_AFTER} after its request"


def request_report(bureau: Organisation, year: int, period: str, user: User,
                   today: date | None = None) -> SummaryReport:
    """Queue a summary report of the bureau's region for `year` and `period` (H1, H2, Y), built
    by build_summary_report after the commit. The same report already queued or running is
    returned instead of a second one (unless it is stale). Raises ReportRefused for an unknown period, a future year
    or a period that has not started."""
    check_period(year, period, today or today_shanghai())
    # one request at a time per bureau, so two clicks cannot queue the same report twice
    db.session.execute(select(Organisation.id).where(Organisation.id == bureau.id).with_for_update())
    existing = pending_report(bureau, year, period)
    if existing is not None:
        return existing
    _give_up_stale(bureau, year, period)
    report = SummaryReport(bureau_id=bureau.id, year=year, period=period, state="queued", progress=0,
                           step="queued", requested_by_id=user.id, requested_at=utcnow())
    db.session.add(report)
    db.session.flush()
    outbox.enqueue(build_summary_report, report.id, key=f"summary-report:{report.id}")
    audit.record("summary_report.requested", report, actor=user, year=year, period=period)
    return report


# ---- the meetings' recurring problems ----------------------------------------------------------------------

@dataclass(frozen=True)
class RecurringRequest:
    request_id: int
    enterprise_name: str
    meetings: int  # how many of the period's meetings had it on the agenda


@dataclass(frozen=True)
class OwnerTally:
    """The action items of the period's meetings owned by one institution (directly or by one of
    its users): how many, and how they stand on the day the report is built."""

    name: str
    total: int
    done: int
    open: int
    overdue: int


@dataclass(frozen=True)
class Decision:
    meeting_day: date
    meeting_title: str
    item_title: str
    decision: str


@dataclass
class MeetingProblems:
    meetings_held: int = 0  # closed (minutes final)
    meetings_scheduled: int = 0  # in the period, not closed yet
    agenda_items: int = 0
    carried_over: int = 0  # agenda items that took up an open action item of an earlier meeting
    stuck_kinds: list[tuple[str, int]] = field(default_factory=list)  # (kind, agenda items), most first
    recurring: list[RecurringRequest] = field(default_factory=list)  # on two meetings' agendas or more
    owners: list[OwnerTally] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    decisions_total: int = 0


def meeting_problems(bureau: Organisation, start: date, end: date, today: date) -> MeetingProblems:
    """What the bureau's dispatch meetings held from start to end (Beijing dates) kept coming back
    to: the stuck kinds most often on the agenda, the requests discussed at more than one meeting,
    the action items per owner institution (done, open, overdue as of `today`) and the decisions."""
    low, high = _utc_bounds(start, end)
    in_period = and_(Meeting.bureau_id == bureau.id, Meeting.starts_at >= low, Meeting.starts_at < high)
    result = MeetingProblems()
    for state, count in db.session.execute(select(Meeting.state, func.count()).where(in_period)
                                           .group_by(Meeting.state)):
        if state == "closed":
            result.meetings_held = int(count)
        else:
            result.meetings_scheduled += int(count)
    agenda = select(AgendaItem).join(Meeting, Meeting.id == AgendaItem.meeting_id).where(in_period)
    result.agenda_items, result.carried_over = (int(v or 0) for v in db.session.execute(
        select(func.count(AgendaItem.id), func.count(AgendaItem.carried_action_id))
        .join(Meeting, Meeting.id == AgendaItem.meeting_id).where(in_period)).one())
    result.stuck_kinds = [(kind, int(n)) for kind, n in db.session.execute(
        agenda.with_only_columns(AgendaItem.stuck_kind, func.count())
        .where(AgendaItem.stuck_kind.is_not(None))
        .group_by(AgendaItem.stuck_kind).order_by(func.count().desc(), AgendaItem.stuck_kind))]
    times = func.count(func.distinct(AgendaItem.meeting_id))
    result.recurring = [RecurringRequest(request_id, name, int(n)) for request_id, name, n in db.session.execute(
        agenda.with_only_columns(AgendaItem.request_id, Enterprise.name, times)
        .join(FinancingRequest, FinancingRequest.id == AgendaItem.request_id)
        .join(Enterprise, Enterprise.id == FinancingRequest.enterprise_id)
        .group_by(AgendaItem.request_id, Enterprise.name).having(times >= 2)
        .order_by(times.desc(), AgendaItem.request_id).limit(RECURRING_SHOWN))]
    owner_org = func.coalesce(ActionItem.owner_org_id, User.organisation_id)
    is_open = ActionItem.state == "open"
    tallies = (select(owner_org.label("org"), func.count().label("total"),
                      func.count(case((ActionItem.state == "done", 1))).label("done"),
                      func.count(case((is_open & (ActionItem.due_on >= today), 1))).label("open"),
                      func.count(case((is_open & (ActionItem.due_on < today), 1))).label("overdue"))
               .join(Meeting, Meeting.id == ActionItem.meeting_id)
               .outerjoin(User, User.id == ActionItem.owner_user_id)
               .where(in_period).group_by(owner_org).subquery())
    result.owners = [OwnerTally(name, int(t), int(d), int(o), int(v)) for name, t, d, o, v in db.session.execute(
        select(Organisation.name, tallies.c.total, tallies.c.done, tallies.c.open, tallies.c.overdue)
        .join(tallies, tallies.c.org == Organisation.id)
        .order_by(tallies.c.overdue.desc(), tallies.c.total.desc(), Organisation.name))]
    decided = agenda.where(AgendaItem.decision.is_not(None))
    result.decisions_total = db.session.scalar(decided.with_only_columns(func.count())) or 0
    result.decisions = [Decision(starts_at.astimezone(SHANGHAI).date(), title, item_title, decision)
                        for starts_at, title, item_title, decision in db.session.execute(
                            decided.with_only_columns(Meeting.starts_at, Meeting.title, AgendaItem.title,
                                                      AgendaItem.decision)
                            .order_by(Meeting.starts_at, Meeting.id, AgendaItem.position)
                            .limit(DECISIONS_SHOWN))]
    return result


# ---- building ------------------------------------------------------------------------------------------------

def _progress(report_id: int, percent: int, step: str) -> SummaryReport:
    """Record how far the build is and commit, so the page polling the report sees it."""
    report = db.session.get(SummaryReport, report_id, populate_existing=True)
    report.progress, report.step = percent, step
    db.session.commit()
    return report


def _write(data: bytes) -> str:
    """Keep the PDF under a generated name, written whole or not at all; returns the name."""
    folder = storage_dir()
    stored_name = f"{uuid.uuid4().hex}.pdf"
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, folder / stored_name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return stored_name


def _html(report: SummaryReport, data: DashboardFigures, problems: MeetingProblems, start: date, end: date,
          today: date) -> str:
    from marketplace.accounts.roles import ORG_KIND_LABELS
    from marketplace.desks.reasons import decline_reasons
    from workflows.verification.policy import CLASS_LABELS

    _start, period_end = period_bounds(report.year, report.period)
    return render_template(
        "pdf/summary_report.html", report=report, bureau=report.bureau, period=period_label(report.period),
        start=start, end=end, partial=end < period_end, today=today, generated_at=utcnow(), figures=data,
        problems=problems, class_labels=CLASS_LABELS, kind_labels=ORG_KIND_LABELS, reasons=decline_reasons(),
        stuck_label=_stuck_label)


def _stuck_label(kind: str) -> str:
    """The stuck list's name of the kind (marketplace.bureau.stuck), or the kind itself."""
    from marketplace.bureau.stuck import STUCK_KINDS, kind_label

    return kind_label(kind) if kind in STUCK_KINDS else kind


def _pdf(html: str) -> bytes:
    """The PDF through marketplace.pdf (which renders in the worker itself under Celery's prefork
    pool, bounded by this task's time limits)."""
    from marketplace import pdf

    return pdf.write_pdf(html)


def build(report_id: int, today: date | None = None) -> str:
    """Build the report's PDF step by step (committing the progress), keep it, mark it done.
    A done report is left as it is; a failure marks it failed with the error and is raised."""
    report = db.session.get(SummaryReport, report_id, with_for_update=True, populate_existing=True)
    if report is None:
        log.warning("summary report %s does not exist", report_id)
        db.session.rollback()
        return "missing"
    if report.state == "done":
        db.session.rollback()
        return "done"
    report.state, report.progress, report.step, report.error, report.finished_at = "running", 5, "figures", None, None
    db.session.commit()
    stored_name = None
    try:
        today = today or today_shanghai()
        start, end = covered_range(report.year, report.period, today)
        data = figures(report.bureau, start, end)
        report = _progress(report_id, 35, "meetings")
        problems = meeting_problems(report.bureau, start, end, today)
        report = _progress(report_id, 55, "rendering")
        pdf = _pdf(_html(report, data, problems, start, end, today))
        report = _progress(report_id, 90, "storing")
        stored_name = _write(pdf)
        report = db.session.get(SummaryReport, report_id, with_for_update=True, populate_existing=True)
        if report.state == "done":  # another run of this task finished first: keep its file
            db.session.rollback()
            (storage_dir() / stored_name).unlink(missing_ok=True)
            return "done"
        report.state, report.progress, report.step = "done", 100, "done"
        report.stored_name, report.size, report.finished_at = stored_name, len(pdf), utcnow()
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        if stored_name:
            (storage_dir() / stored_name).unlink(missing_ok=True)
        _mark_failed(report_id, error)
        raise
    return "built"


def _mark_failed(report_id: int, error: Exception) -> None:
    """Record the failure on the report (best effort: the database may be what failed)."""
    try:
        report = db.session.get(SummaryReport, report_id, populate_existing=True)
        if report is not None and report.state != "done":
            report.state, report.step, report.finished_at = "failed", "failed", utcnow()
            report.error = f"{type(error).__name__}: {error}"[:2000]
            db.session.commit()
    except Exception:  # noqa: BLE001
        db.session.rollback()
        log.exception("summary report %s: the failure could not be recorded", report_id)


# The soft limit raises inside the task (the report is marked failed); the hard one kills the child.
@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3, soft_time_limit=SOFT_TIME_LIMIT, time_limit=SOFT_TIME_LIMIT + 60)
def build_summary_report(report_id: int) -> str:
    """Build one summary report's PDF. Safe to run twice: a done report is left as it is."""
    base_url = current_app.config.get("PUBLIC_BASE_URL") or "http://localhost/"
    with current_app.test_request_context("/", base_url=base_url):  # templates and gettext want one
        return build(report_id)
