"""Objections (异议): an enterprise disputes one of its credit records (issue 14, item 6).

Filing marks the record `objected` at once, so every page, API answer and PDF that shows the
record's status label shows 异议处理中. The clock runs in calendar days (Asia/Shanghai): the
answer is due OBJECTION_DAYS (20) after the filing day; on day OBJECTION_ESCALATION_DAY (15) the
daily task (objection_tasks.escalate_objections) tells the coordinators of the bureau whose region
covers the enterprise. The record's provider or a platform admin answers in writing with an
outcome (corrected / removed / cannot_confirm); the grade is recomputed. Nothing about an
objection is ever charged: no Payment, no fee, anywhere in this module.

The evidence helpers here (store, serve) are shared with credit repair (marketplace.credit.repairs);
files are checked and stored like receivables' documents (marketplace.receivables.documents).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask import abort, current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from marketplace import audit
from marketplace.accounts.models import Organisation, User
from marketplace.accounts.roles import OrgKind, Role
from marketplace.after_commit import after_rollback
from marketplace.bureau.region import in_region
from marketplace.credit import grading
from marketplace.credit.models import (
    OBJECTION_DAYS,
    OBJECTION_ESCALATION_DAY,
    OBJECTION_OUTCOMES,
    CreditEvidence,
    CreditObjection,
    CreditRecord,
)
from marketplace.db import utcnow
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.formatting import local, today_shanghai
from marketplace.notifications.messages import later
from marketplace.notifications.services import notify
from marketplace.receivables.documents import (
    ALLOWED_TYPES,
    DocumentRefused,
    detect_type,
    original_name,
    read_limited,
    storage_dir,
    stored_file_response,
)
from marketplace.reference.regions import region_covers

REASON_MAX = 2000
REPLY_MAX = 4000
MAX_EVIDENCE = 5
TITLE_MAX = 200
CORRECTABLE_FIELDS = ("title", "amount", "occurred_on", "ended_on")


class CreditRequestRefused(ValueError):
    """An objection or repair step is refused; the message says why, in Chinese. Nothing is stored."""


# ---- evidence (shared with repairs) -------------------------------------------------------------

def read_evidence(uploads) -> list[tuple[str, str, bytes, str]]:
    """Check every upload before anything is stored: (original name, content type, bytes, stored
    name) each, or CreditRequestRefused (too many, empty, too large, not PDF/JPG/PNG)."""
    uploads = [u for u in (uploads or ()) if isinstance(u, FileStorage) and u.filename]
    if len(uploads) > MAX_EVIDENCE:
        raise CreditRequestRefused(_("最多上传%(n)s个证明材料", n=MAX_EVIDENCE))
    limit = current_app.config["DOCUMENT_MAX_BYTES"]
    checked = []
    for upload in uploads:
        try:
            data = read_limited(upload, limit)
            mime = detect_type(data)
        except DocumentRefused as refused:
            raise CreditRequestRefused(f"{original_name(upload.filename)}：{refused}") from None
        checked.append((original_name(upload.filename), mime, data, f"{uuid.uuid4().hex}.{ALLOWED_TYPES[mime]}"))
    return checked


def store_evidence(checked, user, *, objection: CreditObjection | None = None, repair=None) -> list[CreditEvidence]:
    """Rows for the checked files, then the files themselves (removed again on a rollback)."""
    rows = [CreditEvidence(objection=objection, repair=repair, original_name=name, stored_name=stored,
                           content_type=mime, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                           uploaded_by_id=user.id)
            for name, mime, data, stored in checked]
    db.session.add_all(rows)
    db.session.flush()
    folder = storage_dir()

    def remove() -> None:
        for _name, _mime, _data, stored in checked:
            (folder / stored).unlink(missing_ok=True)

    after_rollback(remove)
    for _name, _mime, data, stored in checked:
        (folder / stored).write_bytes(data)
    return rows


def evidence_response(evidence: CreditEvidence):
    """The stored file, typed as checked at upload, never sniffed, not cached; 404 if missing."""
    return stored_file_response(evidence.stored_name, evidence.content_type, evidence.original_name,
                                f"evidence-{evidence.id}")


# ---- who is who ---------------------------------------------------------------------------------

def own_enterprise_id(user) -> int | None:
    enterprise = getattr(user, "enterprise", None)
    return enterprise.id if enterprise is not None else None


def region_coordinators(enterprise: Enterprise) -> list[User]:
    """Active coordinators of active bureaus whose region covers the enterprise's division code."""
    users = db.session.scalars(
        select(User).join(Organisation, Organisation.id == User.organisation_id)
        .where(User.role == Role.BUREAU_COORDINATOR, User.active, Organisation.active,
               Organisation.kind == OrgKind.BUREAU).order_by(User.id))
    return [user for user in users if region_covers(user.organisation.region_code, enterprise.region_code)]


def provider_staff(provider_org_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(User.organisation_id == provider_org_id, User.active,
                                                      User.role == Role.PROVIDER_STAFF).order_by(User.id)))


def enterprise_users(enterprise: Enterprise) -> list[User]:
    return [user for user in enterprise.organisation.users if user.active]


def may_answer(user, objection: CreditObjection) -> bool:
    """The record's provider staff, or a platform admin."""
    if user.role == Role.PLATFORM_ADMIN:
        return True
    return user.role == Role.PROVIDER_STAFF and user.organisation_id == objection.record.provider_org_id


def notification_link(endpoint: str, **values) -> str | None:
    from flask import url_for

    try:
        return url_for(endpoint, **values)
    except RuntimeError:  # no request context: the notification goes without a link
        return None


def required_text(value: str | None, required: str, limit: int, too_long: str) -> str:
    value = (value or "").strip()
    if not value:
        raise CreditRequestRefused(required)
    if len(value) > limit:
        raise CreditRequestRefused(too_long)
    return value


def _lock_record(record: CreditRecord) -> None:
    """Serialise the steps on one record (a double click, two users at once)."""
    db.session.refresh(record, with_for_update=True)


# ---- filing -------------------------------------------------------------------------------------

def file_objection(record: CreditRecord, user, reason: str, evidence=(), now: datetime | None = None) -> CreditObjection:
    """The enterprise's objection against one of its own records; the record is marked at once.
    CreditRequestRefused (nothing stored) for another enterprise's record, a record with an open
    objection, a record no longer shown, an empty reason or bad evidence. Free of charge."""
    if own_enterprise_id(user) is None or record.enterprise_id != own_enterprise_id(user):
        raise CreditRequestRefused(_("只能对本企业的信用记录提出异议"))
    reason = required_text(reason, _("请填写异议理由"), REASON_MAX, _("异议理由不能超过%(n)s个字", n=REASON_MAX))
    checked = read_evidence(evidence)
    _lock_record(record)
    if open_objection(record.id) is not None:
        raise CreditRequestRefused(_("该记录已有处理中的异议，请等待答复后再提出"))
    if record.status not in ("active",):
        raise CreditRequestRefused(_("该记录已删除或已信用修复，不能再提出异议"))
    now = now or utcnow()
    filed_on = local(now).date()
    objection = CreditObjection(record_id=record.id, enterprise_id=record.enterprise_id, filed_by_id=user.id,
                                reason=reason, filed_at=now, filed_on=filed_on,
                                due_on=filed_on + timedelta(days=OBJECTION_DAYS))
    try:
        with db.session.begin_nested():
            db.session.add(objection)
            db.session.flush()
    except IntegrityError:  # the partial unique index: another objection was filed at the same moment
        raise CreditRequestRefused(_("该记录已有处理中的异议，请等待答复后再提出")) from None
    record.status = "objected"
    store_evidence(checked, user, objection=objection)
    db.session.flush()
    audit.record("credit.objection_filed", objection, enterprise_id=record.enterprise_id, actor=user,
                 record_id=record.id, due_on=objection.due_on.isoformat(), evidence=len(checked))
    grading.schedule_recompute(record.enterprise_id, "objection")
    notify(provider_staff(record.provider_org_id), "credit.objection_filed",
           later("企业对信用记录提出异议：%(title)s", title=record.title),
           later("%(enterprise)s 对记录 %(ref)s 提出异议，请在 %(due)s 前书面答复。", enterprise=record.enterprise.name,
             ref=record.provider_record_id, due=objection.due_on.isoformat()),
           notification_link("provider_objections.detail", objection_id=objection.id))
    return objection


# ---- answering ----------------------------------------------------------------------------------

def _parse_corrections(record: CreditRecord, corrections: dict | None) -> dict:
    """{field: new value} checked, only the fields that change; CreditRequestRefused otherwise."""
    corrections = corrections or {}
    unknown = set(corrections) - set(CORRECTABLE_FIELDS)
    if unknown:
        raise CreditRequestRefused(_("只能更正标题、金额、发生日期和结束日期"))
    values = {}
    if "title" in corrections and corrections["title"] is not None:
        values["title"] = required_text(str(corrections["title"]), _("标题不能为空"), TITLE_MAX,
                                _("标题不能超过%(n)s个字", n=TITLE_MAX))
    if "amount" in corrections:
        amount = corrections["amount"]
        if amount not in (None, ""):
            try:
                amount = Decimal(str(amount)).quantize(Decimal("0.01"))
            except (InvalidOperation, ValueError):
                raise CreditRequestRefused(_("金额格式不正确")) from None
            if not amount.is_finite() or amount < 0:
                raise CreditRequestRefused(_("金额不能为负数"))
            if amount >= Decimal("1e16"):
                raise CreditRequestRefused(_("金额超出范围"))
            values["amount"] = amount
    for field in ("occurred_on", "ended_on"):
        if field in corrections and corrections[field] not in (None, ""):
            value = corrections[field]
            if not isinstance(value, date):
                try:
                    value = date.fromisoformat(str(value))
                except ValueError:
                    raise CreditRequestRefused(_("日期格式应为YYYY-MM-DD")) from None
            values[field] = value
    occurred = values.get("occurred_on", record.occurred_on)
    ended = values.get("ended_on", record.ended_on)
    if occurred > today_shanghai():
        raise CreditRequestRefused(_("发生日期不能晚于今天"))
    if ended is not None and ended < occurred:
        raise CreditRequestRefused(_("结束日期不能早于发生日期"))
    changed = {field: value for field, value in values.items() if getattr(record, field) != value}
    if not changed:
        raise CreditRequestRefused(_("结果为“已更正”时，请至少更正一项内容"))
    return changed


def answer_objection(objection: CreditObjection, user, outcome: str, reply: str, corrections: dict | None = None,
                     now: datetime | None = None) -> CreditObjection:
    """The written answer of the record's provider staff or a platform admin, with the outcome:
    corrected (the fields applied, the record active again), removed (the record leaves every view)
    or cannot_confirm (the record active again, the outcome shown with it). Regrades."""
    if not may_answer(user, objection):
        raise CreditRequestRefused(_("只有该记录的数据提供单位或平台管理员可以答复异议"))
    if outcome not in OBJECTION_OUTCOMES:
        raise CreditRequestRefused(_("请选择处理结果"))
    reply = required_text(reply, _("请填写书面答复"), REPLY_MAX, _("答复不能超过%(n)s个字", n=REPLY_MAX))
    db.session.refresh(objection, with_for_update=True)
    if not objection.is_open:
        raise CreditRequestRefused(_("该异议已经答复过了"))
    record = objection.record
    _lock_record(record)
    changed = _parse_corrections(record, corrections) if outcome == "corrected" else {}
    if changed:
        objection.corrections = {field: [_plain(getattr(record, field)), _plain(value)]
                                 for field, value in changed.items()}
        for field, value in changed.items():
            setattr(record, field, value)
    if outcome == "removed":
        record.status = "removed"
    elif record.status == "objected":  # corrected or cannot_confirm: shown again, with the outcome
        record.status = "active"
    objection.outcome, objection.reply = outcome, reply
    objection.answered_by_id, objection.answering_org_id = user.id, user.organisation_id
    objection.closed_at = now or utcnow()
    db.session.flush()
    audit.record("credit.objection_answered", objection, enterprise_id=objection.enterprise_id, actor=user,
                 record_id=record.id, outcome=outcome, corrections=objection.corrections or {},
                 record_status=record.status)
    grading.schedule_recompute(objection.enterprise_id, "objection")
    notify(enterprise_users(objection.enterprise), "credit.objection_answered",
           later("您的异议已答复：%(title)s", title=record.title), reply[:200],
           notification_link("credit_objections.objection", objection_id=objection.id))
    return objection


def _plain(value):
    return value.isoformat() if isinstance(value, date) else (str(value) if value is not None else None)


# ---- the clock ----------------------------------------------------------------------------------

def escalate_due(today: date | None = None, now: datetime | None = None) -> int:
    """Open objections whose day OBJECTION_ESCALATION_DAY has come get escalated_at and a
    notification to the coordinators of their region's bureau; returns how many. Idempotent:
    an escalated objection is never picked again, and rows are locked while escalated."""
    today = today or today_shanghai()
    due = list(db.session.scalars(
        select(CreditObjection).where(CreditObjection.closed_at.is_(None), CreditObjection.escalated_at.is_(None),
                                      CreditObjection.filed_on <= today - timedelta(days=OBJECTION_ESCALATION_DAY))
        .order_by(CreditObjection.id).with_for_update(skip_locked=True)))
    for objection in due:
        objection.escalated_at = now or utcnow()
        record = objection.record
        days = objection.days_elapsed(today)
        audit.record("credit.objection_escalated", objection, enterprise_id=objection.enterprise_id,
                     record_id=record.id, days_elapsed=days, due_on=objection.due_on.isoformat())
        notify(region_coordinators(objection.enterprise), "credit.objection_escalated",
               later("异议已满%(n)s天未答复：%(enterprise)s", n=days, enterprise=objection.enterprise.name),
               later("记录“%(title)s”（%(provider)s）的异议将于 %(due)s 到期，请督办。", title=record.title,
                 provider=record.provider.name, due=objection.due_on.isoformat()),
               notification_link("bureau_objections.objection", objection_id=objection.id))
    db.session.flush()
    return len(due)


# ---- reading ------------------------------------------------------------------------------------

def open_objection(record_id: int) -> CreditObjection | None:
    return db.session.scalar(select(CreditObjection).where(CreditObjection.record_id == record_id,
                                                           CreditObjection.closed_at.is_(None)))


def objections_for(enterprise_id: int) -> list[CreditObjection]:
    """The enterprise's objections, newest first."""
    return list(db.session.scalars(select(CreditObjection).where(CreditObjection.enterprise_id == enterprise_id)
                                   .order_by(CreditObjection.filed_at.desc(), CreditObjection.id.desc())))


def open_objections_by_record(record_ids) -> dict[int, CreditObjection]:
    """The open objection of each record that has one, by record id."""
    ids = list(record_ids)
    if not ids:
        return {}
    rows = db.session.scalars(select(CreditObjection).where(CreditObjection.record_id.in_(ids),
                                                            CreditObjection.closed_at.is_(None)))
    return {row.record_id: row for row in rows}


def marks_for(record_ids) -> dict[int, CreditObjection]:
    """For record_mark(record, objection): each record's open objection, else its latest answered
    one (whose outcome stays visible with the record), by record id."""
    ids = list(record_ids)
    if not ids:
        return {}
    marks: dict[int, CreditObjection] = {}
    for row in db.session.scalars(select(CreditObjection).where(CreditObjection.record_id.in_(ids))
                                  .order_by(CreditObjection.id)):
        current = marks.get(row.record_id)
        if current is None or not current.is_open:
            marks[row.record_id] = row
    return marks


def provider_objections_query(provider: Organisation):
    """Objections on the provider's own records, open ones first, oldest due first."""
    return (select(CreditObjection).join(CreditRecord, CreditRecord.id == CreditObjection.record_id)
            .where(CreditRecord.provider_org_id == provider.id)
            .order_by(CreditObjection.closed_at.is_not(None), CreditObjection.due_on, CreditObjection.id.desc()))


def all_objections_query():
    return select(CreditObjection).order_by(CreditObjection.closed_at.is_not(None), CreditObjection.due_on,
                                            CreditObjection.id.desc())


def bureau_objections_query(bureau: Organisation, today: date | None = None):
    """The objections of the bureau's region it is to follow: escalated (at day 15) or overdue."""
    today = today or today_shanghai()
    return (select(CreditObjection).join(Enterprise, Enterprise.id == CreditObjection.enterprise_id)
            .where(in_region(Enterprise.region_code, bureau),
                   or_(CreditObjection.escalated_at.is_not(None),
                       CreditObjection.closed_at.is_(None) & (CreditObjection.due_on < today)))
            .order_by(CreditObjection.closed_at.is_not(None), CreditObjection.due_on, CreditObjection.id.desc()))


def load_for(user, objection_id: int) -> CreditObjection:
    """The objection if `user`'s organisation may see it (its enterprise, the record's provider,
    the platform, the region's bureau once escalated or overdue); 404 otherwise."""
    objection = db.session.get(CreditObjection, objection_id)
    if objection is None:
        abort(404)
    role = Role(user.role)
    if role.kind == OrgKind.ENTERPRISE and objection.enterprise_id == own_enterprise_id(user):
        return objection
    if role == Role.PROVIDER_STAFF and objection.record.provider_org_id == user.organisation_id:
        return objection
    if role == Role.PLATFORM_ADMIN:
        return objection
    if role == Role.BUREAU_COORDINATOR:
        query = bureau_objections_query(user.organisation).where(CreditObjection.id == objection_id)
        if db.session.scalar(query) is not None:
            return objection
    abort(404)
