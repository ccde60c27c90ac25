"""Credit repair (信用修复): an enterprise asks that a negative record leave the outward views
(issue 14, item 7).

The enterprise files a commitment (信用修复承诺) and evidence; a coordinator of the bureau whose
region covers the enterprise, or a platform admin, decides within CREDIT_REPAIR_REVIEW_DAYS
calendar days (Asia/Shanghai, from the filing day: `due_on`). Approved: the record becomes
`repaired`, which marketplace.credit.access.visible_to already keeps from every institution, and
the grade is recomputed. One undecided application per record (a partial unique index).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort, current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace import audit
from marketplace.accounts.models import Organisation
from marketplace.accounts.roles import OrgKind, Role
from marketplace.bureau.region import in_region
from marketplace.credit import grading
from marketplace.credit.models import CreditRecord, RepairApplication
from marketplace.credit.objections import (
    CreditRequestRefused,
    enterprise_users,
    notification_link,
    own_enterprise_id,
    read_evidence,
    region_coordinators,
    required_text,
    store_evidence,
)
from marketplace.db import utcnow
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.formatting import local
from marketplace.notifications.messages import later
from marketplace.notifications.services import notify
from marketplace.reference.regions import region_covers

COMMITMENT_MAX = 4000
REASON_MAX = 2000


def review_days() -> int:
    return int(current_app.config.get("CREDIT_REPAIR_REVIEW_DAYS", 15))


def open_repair(record_id: int) -> RepairApplication | None:
    return db.session.scalar(select(RepairApplication).where(RepairApplication.record_id == record_id,
                                                             RepairApplication.decided_at.is_(None)))


def apply_for_repair(record: CreditRecord, user, commitment: str, evidence=(), now: datetime | None = None
                     ) -> RepairApplication:
    """The enterprise's application on one of its own negative records; CreditRequestRefused
    (nothing stored) otherwise, or with an application already in review."""
    if own_enterprise_id(user) is None or record.enterprise_id != own_enterprise_id(user):
        raise CreditRequestRefused(_("只能对本企业的信用记录申请信用修复"))
    if record.polarity != "negative":
        raise CreditRequestRefused(_("只有负面记录可以申请信用修复"))
    commitment = required_text(commitment, _("请填写信用修复承诺"), COMMITMENT_MAX,
                       _("信用修复承诺不能超过%(n)s个字", n=COMMITMENT_MAX))
    checked = read_evidence(evidence)
    db.session.refresh(record, with_for_update=True)
    if open_repair(record.id) is not None:
        raise CreditRequestRefused(_("该记录已有审核中的信用修复申请"))
    if record.status not in ("active", "objected"):
        raise CreditRequestRefused(_("该记录已删除或已信用修复，无需再申请"))
    now = now or utcnow()
    application = RepairApplication(record_id=record.id, enterprise_id=record.enterprise_id, applicant_id=user.id,
                                    commitment=commitment, filed_at=now,
                                    due_on=local(now).date() + timedelta(days=review_days()))
    try:
        with db.session.begin_nested():
            db.session.add(application)
            db.session.flush()
    except IntegrityError:  # the partial unique index: filed twice at the same moment
        raise CreditRequestRefused(_("该记录已有审核中的信用修复申请")) from None
    store_evidence(checked, user, repair=application)
    audit.record("credit.repair_filed", application, enterprise_id=record.enterprise_id, actor=user,
                 record_id=record.id, due_on=application.due_on.isoformat(), evidence=len(checked))
    notify(region_coordinators(record.enterprise), "credit.repair_filed",
           later("信用修复申请待审核：%(enterprise)s", enterprise=record.enterprise.name),
           later("记录“%(title)s”，请在 %(due)s 前审核。", title=record.title, due=application.due_on.isoformat()),
           notification_link("bureau_objections.repair", repair_id=application.id))
    return application


def may_decide(user, application: RepairApplication) -> bool:
    """A platform admin, or a coordinator of a bureau whose region covers the enterprise."""
    if user.role == Role.PLATFORM_ADMIN:
        return True
    return (user.role == Role.BUREAU_COORDINATOR
            and region_covers(user.organisation.region_code, application.enterprise.region_code))


def decide_repair(application: RepairApplication, reviewer, approved: bool, reason: str,
                  now: datetime | None = None) -> RepairApplication:
    """Approve (the record becomes `repaired` and leaves outward views; regrade) or reject, with
    a reason the enterprise reads."""
    if not may_decide(reviewer, application):
        raise CreditRequestRefused(_("只有企业所在辖区的金融工作局协调员或平台管理员可以审核"))
    reason = required_text(reason, _("请填写审核意见"), REASON_MAX, _("审核意见不能超过%(n)s个字", n=REASON_MAX))
    db.session.refresh(application, with_for_update=True)
    if not application.is_open:
        raise CreditRequestRefused(_("该申请已经审核过了"))
    record = application.record
    db.session.refresh(record, with_for_update=True)
    if approved and record.status == "removed":
        raise CreditRequestRefused(_("该记录已删除，无需修复；请驳回并说明"))
    application.decision = "approved" if approved else "rejected"
    application.reviewer_id, application.reason, application.decided_at = reviewer.id, reason, now or utcnow()
    if approved:
        record.status = "repaired"
    db.session.flush()
    audit.record("credit.repair_decided", application, enterprise_id=application.enterprise_id, actor=reviewer,
                 record_id=record.id, decision=application.decision, record_status=record.status)
    if approved:
        grading.schedule_recompute(application.enterprise_id, "repair")
    notify(enterprise_users(application.enterprise), "credit.repair_decided",
           (later("信用修复申请已通过：%(title)s", title=record.title) if approved
            else later("信用修复申请未通过：%(title)s", title=record.title)),
           reason[:200], notification_link("credit_objections.repair", repair_id=application.id))
    return application


def repairs_for(enterprise_id: int) -> list[RepairApplication]:
    """The enterprise's repair applications, newest first."""
    return list(db.session.scalars(select(RepairApplication).where(RepairApplication.enterprise_id == enterprise_id)
                                   .order_by(RepairApplication.filed_at.desc(), RepairApplication.id.desc())))


def open_repairs_by_record(record_ids) -> dict[int, RepairApplication]:
    ids = list(record_ids)
    if not ids:
        return {}
    rows = db.session.scalars(select(RepairApplication).where(RepairApplication.record_id.in_(ids),
                                                              RepairApplication.decided_at.is_(None)))
    return {row.record_id: row for row in rows}


def all_repairs_query():
    return select(RepairApplication).order_by(RepairApplication.decided_at.is_not(None), RepairApplication.due_on,
                                              RepairApplication.id.desc())


def bureau_repairs_query(bureau: Organisation):
    """The repair applications of the bureau's region, undecided first, earliest due first."""
    return (select(RepairApplication).join(Enterprise, Enterprise.id == RepairApplication.enterprise_id)
            .where(in_region(Enterprise.region_code, bureau))
            .order_by(RepairApplication.decided_at.is_not(None), RepairApplication.due_on,
                      RepairApplication.id.desc()))


def load_for(user, repair_id: int) -> RepairApplication:
    """The application if `user`'s organisation may see it (its enterprise, the platform, the
    region's bureau); 404 otherwise. Data providers do not see repair applications."""
    application = db.session.get(RepairApplication, repair_id)
    if application is None:
        abort(404)
    role = Role(user.role)
    if role.kind == OrgKind.ENTERPRISE and application.enterprise_id == own_enterprise_id(user):
        return application
    if role == Role.PLATFORM_ADMIN or (role == Role.BUREAU_COORDINATOR and may_decide(user, application)):
        return application
    abort(404)
