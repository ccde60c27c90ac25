"""The region's requests for coordinators: the list and its export, the stuck list, one request's
progress, parties and timeline.

Coordinators only (rule BUREAU); every request is loaded scoped to the bureau's region, so one of
another region answers 404. The enterprise's credit data (the verification report's figures, the
bank statements) shows only under an active consent of the enterprise to the bureau, and each
such read is logged like the desks' (audit.record_credit_read).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager, selectinload
from wtforms import DateField, Form, SelectField, StringField
from wtforms.validators import Length, Optional

from marketplace import audit
from marketplace.accounts.models import Organisation
from marketplace.bureau import meetings
from marketplace.bureau.models import RequestStay
from marketplace.bureau.region import current_bureau, in_region, require_in_region
from marketplace.bureau.spreadsheets import (
    CSV_TYPE,
    DATETIME,
    INTEGER,
    MONEY,
    TEXT,
    XLSX_TYPE,
    Column,
    Sheet,
    to_csv,
    to_xlsx,
)
from marketplace.bureau.stuck import (
    STUCK_KINDS,
    StuckEntry,
    cached_calendar,
    duration_text,
    kind_label,
    stuck_entries,
    stuck_page,
    thresholds,
    working_time_stuck,
)
from marketplace.db import utcnow
from marketplace.downloads import file_headers
from marketplace.enterprises.consents import ROUTING_SCOPE, reading_purpose
from marketplace.enterprises.models import Consent, Enterprise
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest, RequestPledge, WorkflowEvent
from marketplace.formatting import SHANGHAI, today_shanghai
from marketplace.guarantees.models import Guarantee
from marketplace.i18n import is_english, pick
from marketplace.pagination import paginate, requested_page
from marketplace.sla.services import HOLDING_TARGET_STATUSES
from marketplace.statements.models import StatementFile
from marketplace.supermarket.models import RequestTarget
from marketplace.verification.services import reports_of
from workflows import sla
from workflows.financing import STATE_LABELS, State
from workflows.verification.policy import CLASS_LABELS

bp = Blueprint("bureau_requests", __name__, url_prefix="/bureau")

CREDIT_SCOPE = ROUTING_SCOPE  # the figures shown come from the enterprise's bank statements
TARGET_STATUS_LABELS = {
    "chosen": ("已选定", "Chosen"), "routed": ("已推送", "Routed"), "waiting": ("排队中", "Waiting"),
    "reviewing": ("审查中", "Reviewing"), "info_requested": ("待补充材料", "Information requested"),
    "offered": ("已报价", "Offered"), "declined": ("已拒绝", "Declined"), "accepted": ("已接受", "Accepted"),
    "closed": ("已关闭", "Closed"),
}
GUARANTEE_STATUS_LABELS = {"offered": ("已出方案", "Offered"), "accepted": ("已接受", "Accepted"),
                           "issued": ("已出函", "Issued"), "closed": ("已关闭", "Closed")}
CONFIRMATION_LABELS = {"pending": ("待确认", "Pending"), "confirmed": ("已确认", "Confirmed"),
                       "disputed": ("有异议", "Disputed")}
EXPORT_FORMATS = ("xlsx", "csv")


# ---- filters -------------------------------------------------------------------------------------

class RequestFilters(Form):
    """The list's filters, read from the query string (a GET form: no CSRF token)."""

    state = SelectField(_l("状态"), validate_choice=False, validators=[Optional()])
    submitted_from = DateField(_l("提交日期自"), validators=[Optional()])
    submitted_to = DateField(_l("提交日期至"), validators=[Optional()])
    q = StringField(_l("企业名称"), validators=[Optional(), Length(max=100)])

    def __init__(self, formdata):
        super().__init__(formdata)
        self.state.choices = [("", _("全部状态"))] + [(s.value, pick(STATE_LABELS[s])) for s in State
                                                        if s != State.DRAFT]

    def args(self) -> dict:
        """The filters as query arguments (for the pager and the export links)."""
        values = {"state": self.state.data, "q": (self.q.data or "").strip() or None,
                  "submitted_from": self.submitted_from.data.isoformat() if self.submitted_from.data else None,
                  "submitted_to": self.submitted_to.data.isoformat() if self.submitted_to.data else None}
        return {key: value for key, value in values.items() if value}


def _filters() -> RequestFilters:
    form = RequestFilters(request.args)
    form.validate()
    for name in ("submitted_from", "submitted_to"):  # an unreadable date is no filter
        if getattr(form, name).errors:
            getattr(form, name).data = None
    if form.state.data not in {value for value, _label in form.state.choices}:
        form.state.data = ""
    return form


def _start_of(day) -> datetime:
    return datetime.combine(day, time(), tzinfo=SHANGHAI)


def region_requests(bureau: Organisation, filters: RequestFilters) -> Select:
    """The region's submitted requests matching the filters, newest first, enterprises loaded."""
    query = (select(FinancingRequest).join(Enterprise, Enterprise.id == FinancingRequest.enterprise_id)
             .options(contains_eager(FinancingRequest.enterprise))
             .where(in_region(Enterprise.region_code, bureau), FinancingRequest.submitted_at.is_not(None)))
    if filters.state.data:
        query = query.where(FinancingRequest.state == filters.state.data)
    if filters.submitted_from.data:
        query = query.where(FinancingRequest.submitted_at >= _start_of(filters.submitted_from.data))
    if filters.submitted_to.data:
        query = query.where(FinancingRequest.submitted_at < _start_of(filters.submitted_to.data + timedelta(days=1)))
    name = (filters.q.data or "").strip()
    if name:
        query = query.where(Enterprise.name.contains(name, autoescape=True))
    return query.order_by(FinancingRequest.submitted_at.desc(), FinancingRequest.id.desc())


def current_holders(requests: list[FinancingRequest], ids_query: Select | None = None) -> dict[int, str]:
    """Who must act on each request now (the parties of its state, workflows.sla.PARTIES): the
    holding banks or guarantors by name, the enterprise, or the platform. One query: the holding
    targets of the requests (of `ids_query` when given, else of `requests`)."""
    ids = [r.id for r in requests]
    if not ids:
        return {}
    wanted = RequestTarget.request_id.in_(ids_query if ids_query is not None else ids)
    rows = db.session.execute(
        select(RequestTarget.request_id, Organisation.kind, Organisation.name)
        .join(Organisation, Organisation.id == RequestTarget.institution_id)
        .where(wanted, RequestTarget.status.in_(HOLDING_TARGET_STATUSES))
        .order_by(RequestTarget.request_id, RequestTarget.rank, RequestTarget.id))
    institutions: dict[int, list[tuple[str, str]]] = {}
    for request_id, kind, name in rows:
        institutions.setdefault(request_id, []).append((kind, name))
    holders = {}
    for req in requests:
        parties = sla.PARTIES[State(req.state)]
        names = [name for kind, name in institutions.get(req.id, ()) if kind in parties]
        if sla.ENTERPRISE in parties:
            names.append(req.enterprise.name)
        if sla.PLATFORM in parties:
            names.append(_("平台运营方"))
        holders[req.id] = "、".join(names)
    return holders


def _class_label(value: str | None) -> str:
    return pick(CLASS_LABELS[value]) if value in CLASS_LABELS else ""


def _state_label(value: str) -> str:
    return pick(STATE_LABELS[State(value)])


def _export_format() -> str:
    kind = (request.args.get("format") or "xlsx").lower()
    if kind not in EXPORT_FORMATS:
        abort(400)
    return kind


def _spreadsheet(sheet: Sheet, kind: str, original: str, fallback: str) -> Response:
    data, mimetype = (to_xlsx([sheet]), XLSX_TYPE) if kind == "xlsx" else (to_csv(sheet), CSV_TYPE)
    return Response(data, mimetype=mimetype, headers=file_headers(f"{original}.{kind}", f"{fallback}.{kind}"))


# ---- the list ---------------------------------------------------------------------------------------

@bp.get("/requests")
def index():
    bureau = current_bureau()
    filters = _filters()
    page = paginate(region_requests(bureau, filters))
    return render_template("bureau/requests_index.html", page=page, filters=filters,
                           holders=current_holders(page.items), class_label=_class_label)


@bp.get("/requests/export")
def export():
    kind = _export_format()
    bureau = current_bureau()
    filters = _filters()
    query = region_requests(bureau, filters)
    rows = list(db.session.scalars(query))
    ids = query.with_only_columns(FinancingRequest.id).order_by(None)
    holders = current_holders(rows, ids)
    columns = [Column(_("申请编号"), INTEGER, 10), Column(_("企业名称"), TEXT, 32), Column(_("统一社会信用代码"), TEXT, 22),
               Column(_("地区代码"), TEXT, 10), Column(_("申请金额（元）"), MONEY, 18), Column(_("期限（天）"), INTEGER, 10),
               Column(_("资产质量"), TEXT, 10), Column(_("状态"), TEXT, 14), Column(_("提交时间"), DATETIME, 18),
               Column(_("当前处理方"), TEXT, 30)]
    data = [(r.id, r.enterprise.name, r.enterprise.uscc, r.enterprise.region_code, r.amount, r.term_days,
             _class_label(r.classification), _state_label(r.state), r.submitted_at, holders.get(r.id, ""))
            for r in rows]
    stamp = f"{today_shanghai():%Y%m%d}"
    sheet = Sheet(_("融资申请"), columns, data)
    return _spreadsheet(sheet, kind, _("融资申请-%(region)s-%(day)s", region=bureau.region_code or "", day=stamp),
                        f"bureau-requests-{bureau.region_code or 'all'}-{stamp}")


# ---- the stuck list --------------------------------------------------------------------------------

@dataclass(frozen=True)
class StuckRow:
    """A stuck entry with how long it has been stuck, as the page and the export show it."""

    entry: StuckEntry
    stuck_for: timedelta  # working time since it became stuck

    @property
    def stuck_text(self) -> str:
        return duration_text(self.stuck_for)

    @property
    def working_days(self) -> float:
        return round(self.stuck_for / timedelta(days=1), 1)


def _stuck_rows(entries, now=None) -> list[StuckRow]:
    now = now or utcnow()
    calendar = cached_calendar()
    return [StuckRow(e, working_time_stuck(e, now, calendar)) for e in entries]


def _stuck_kind() -> str | None:
    kind = request.args.get("kind") or None
    return kind if kind in STUCK_KINDS else None


@bp.get("/stuck")
def stuck():
    kind = _stuck_kind()
    now = utcnow()
    page, counts = stuck_page(current_bureau(), kind, requested_page(), now)
    rows = _stuck_rows(page.items, now)
    request_ids = list(dict.fromkeys(row.entry.request_id for row in rows))
    return render_template("bureau/stuck.html", rows=rows, page=page, counts=counts, kind=kind, kinds=STUCK_KINDS,
                           kind_label=kind_label, request_ids=request_ids, thresholds=thresholds(),
                           state_label=_state_label)


@bp.get("/stuck/export")
def stuck_export():
    kind_format = _export_format()
    kind = _stuck_kind()
    now = utcnow()
    rows = _stuck_rows([e for e in stuck_entries(current_bureau(), now) if not kind or e.kind == kind], now)
    columns = [Column(_("申请编号"), INTEGER, 10), Column(_("滞留类型"), TEXT, 18), Column(_("企业名称"), TEXT, 32),
               Column(_("地区代码"), TEXT, 10), Column(_("申请金额（元）"), MONEY, 18), Column(_("状态"), TEXT, 14),
               Column(_("滞留起始"), DATETIME, 18), Column(_("已滞留（工作日）"), "decimal", 14),
               Column(_("当前处理方"), TEXT, 30), Column(_("说明"), TEXT, 60)]
    data = [(r.entry.request_id, kind_label(r.entry.kind), r.entry.enterprise_name, r.entry.region_code,
             r.entry.amount, _state_label(r.entry.state), r.entry.since, r.working_days, r.entry.holder,
             r.entry.detail) for r in rows]
    stamp = f"{today_shanghai():%Y%m%d}"
    bureau = current_bureau()
    return _spreadsheet(Sheet(_("滞留清单"), columns, data), kind_format,
                        _("滞留清单-%(region)s-%(day)s", region=bureau.region_code or "", day=stamp),
                        f"bureau-stuck-{bureau.region_code or 'all'}-{stamp}")


# ---- one request ------------------------------------------------------------------------------------

def _region_request(request_id: int) -> FinancingRequest:
    req = db.session.get(FinancingRequest, request_id)
    if req is None or req.submitted_at is None:
        abort(404)
    require_in_region(req.enterprise.region_code, current_bureau())
    return req


def _calendar_duration(seconds: int | None) -> str:
    """A stay's length in calendar days and hours (stays are measured in wall time)."""
    if seconds is None:
        return ""
    days, rest = divmod(int(seconds), 86400)
    if days:
        return _("%(days)s 天 %(hours)s 小时", days=days, hours=rest // 3600)
    return _("%(hours)s 小时 %(minutes)s 分", hours=rest // 3600, minutes=rest % 3600 // 60)


def bureau_consent(enterprise_id: int, bureau: Organisation, purpose: str) -> bool:
    """Whether the enterprise's consent lets the bureau read its bank statements' figures today
    for `purpose` (asked silently, as the desks' request page asks: the page shows the progress
    either way; only a read is logged)."""
    today = today_shanghai()
    consents = db.session.scalars(select(Consent).where(Consent.enterprise_id == enterprise_id,
                                                        Consent.grantee_org_id == bureau.id))
    return any(c.covers(CREDIT_SCOPE, today, purpose) for c in consents)


@bp.get("/requests/<int:request_id>")
def detail(request_id: int):
    bureau = current_bureau()
    req = _region_request(request_id)
    events = list(db.session.scalars(
        select(WorkflowEvent).where(WorkflowEvent.request_id == req.id)
        .options(selectinload(WorkflowEvent.actor)).order_by(WorkflowEvent.occurred_at, WorkflowEvent.id)))
    actor_orgs = {e.actor_org_id for e in events if e.actor_org_id}
    org_names = dict(db.session.execute(select(Organisation.id, Organisation.name)
                                        .where(Organisation.id.in_(actor_orgs))).all()) if actor_orgs else {}
    stays = list(db.session.scalars(select(RequestStay).where(RequestStay.request_id == req.id)
                                    .order_by(RequestStay.entered_at, RequestStay.id)))
    stay_orgs = {s.institution_id for s in stays if s.institution_id} - set(org_names)
    if stay_orgs:
        org_names.update(db.session.execute(select(Organisation.id, Organisation.name)
                                            .where(Organisation.id.in_(stay_orgs))).all())
    pledges = list(db.session.scalars(select(RequestPledge).where(RequestPledge.request_id == req.id,
                                                                  RequestPledge.active)
                                      .options(selectinload(RequestPledge.receivable)).order_by(RequestPledge.id)))
    targets = list(db.session.scalars(select(RequestTarget).where(RequestTarget.request_id == req.id)
                                      .options(selectinload(RequestTarget.institution))
                                      .order_by(RequestTarget.rank, RequestTarget.id)))
    guarantees = list(db.session.scalars(select(Guarantee).where(Guarantee.request_id == req.id)
                                         .options(selectinload(Guarantee.institution)).order_by(Guarantee.id)))
    purpose = reading_purpose(bureau.kind, req.state)
    consented = bureau_consent(req.enterprise_id, bureau, purpose)
    credit = None
    if consented:
        reports = reports_of(req.id)
        statements = list(db.session.scalars(select(StatementFile).where(StatementFile.enterprise_id == req.enterprise_id)
                                             .order_by(StatementFile.first_date)))
        report = reports[0] if reports else None
        credit = {"report": report, "statements": statements,
                  "reasons": (report.payload.get("reasons_en" if is_english() else "reasons_zh") or []) if report else [],
                  "metrics": (report.payload.get("metrics") or {}) if report else {}}
        audit.record_credit_read(req.enterprise_id, "financing_request", purpose=purpose, request_id=req.id,
                                 sections=[CREDIT_SCOPE], reader="bureau")
        db.session.commit()
    now = utcnow()
    return render_template(
        "bureau/requests_detail.html", req=req, events=events, org_names=org_names, stays=stays,
        pledges=pledges, targets=targets, guarantees=guarantees, consented=consented, credit=credit,
        discussions=meetings.discussions(req.id), holder=current_holders([req]).get(req.id, ""),
        state_label=_state_label, class_label=_class_label, target_labels=TARGET_STATUS_LABELS,
        guarantee_labels=GUARANTEE_STATUS_LABELS, confirmation_labels=CONFIRMATION_LABELS,
        breached=req.sla_due_at is not None and req.sla_due_at < now, today=today_shanghai(),
        stay_text=_calendar_duration,
        schedule_url=url_for("meetings.new", request=req.id))
