"""The enterprise's access log: who read its credit data, when, what and for what purpose (the
audit events credit_data.read and credit_data.denied naming the enterprise). Shared by the
/enterprise/access-log page and the credit file's access-log section.

The audit log is append-only and HMAC-chained (marketplace/audit.py): nothing deletes these
entries, so the log is kept at least CREDIT_ACCESS_LOG_RETENTION_YEARS (marketplace/config.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time

from sqlalchemy import Select, select

from marketplace.accounts.models import Organisation, User
from marketplace.audit import AuditEvent
from marketplace.enterprises.models import CONSENT_PURPOSE_LABELS, SCOPE_LABELS
from marketplace.extensions import db
from marketplace.formatting import SHANGHAI

ACCESS_ACTIONS = ("credit_data.read", "credit_data.denied")

# What an institution read, and why, as the access log and the audit log name them (zh, en): every
# object type passed to audit.record_credit_read and every purpose of a read (tests/test_access_labels.py
# checks the calls); a code not listed shows as stored, and the stored code is shown on hover.
READ_LABELS = {
    "financing_request": ("融资申请", "Financing request"),
    "verification_report": ("核验报告", "Verification report"),
    "receivable_document": ("应收账款材料（发票、合同）", "Receivable document (invoice, contract)"),
    "info_attachment": ("补充材料附件", "Attachment to an answer"),
    "financing_lead": ("融资线索", "Financing lead"),
    "enterprise_profile": ("企业信息", "Enterprise profile"),
    "credit_file": ("信用档案", "Credit file"),
    "credit_report": ("企业信用报告（PDF）", "Credit report (PDF)"),
    "credit_objection": ("信用异议", "Credit objection"),
    "credit_repair": ("信用修复申请", "Credit repair application"),
    "credit_evidence": ("异议或修复的证明材料", "Evidence of an objection or repair"),
    "credit_list": ("信用名单（红、白、黄名单）", "Credit lists (red, white, yellow)"),
    "whitelist_push": ("白名单推送", "White-list push to banks"),
}
PURPOSE_LABELS = {
    **CONSENT_PURPOSE_LABELS,
    "purpose not consented": ("授权未涵盖该用途", "Purpose not covered by the consent"),
    "financing review": ("融资审查", "Financing review"),
    "lead review": ("融资线索查看", "Lead review"),
    "platform administration": ("平台管理", "Platform administration"),
    "no valid consent": ("无有效授权", "No valid consent"),
    "objection_handling": ("处理异议", "Handling an objection"),
    "repair_review": ("审核信用修复", "Reviewing a credit repair"),
    "credit file": ("信用档案记录", "Credit file record"),
    "published credit lists": ("公示信用名单", "Publishing the credit lists"),
    "white-list push review": ("审核白名单推送", "Reviewing a white-list push"),
    "white-list push download": ("下载白名单推送", "Downloading a white-list push"),
}
WHAT_LABELS = {**READ_LABELS, **SCOPE_LABELS}


def access_log_query(enterprise_id: int, since: date | None = None) -> Select:
    """The enterprise's access-log events, newest first; from `since` (Shanghai day) when given."""
    query = select(AuditEvent).where(AuditEvent.enterprise_id == enterprise_id,
                                     AuditEvent.action.in_(ACCESS_ACTIONS))
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= datetime.combine(since, time(), tzinfo=SHANGHAI))
    return query.order_by(AuditEvent.id.desc())


def actor_names(events: Iterable[AuditEvent]) -> tuple[dict[int, str], dict[int, str]]:
    """The names of the organisations and users acting in `events` (two queries at most)."""
    events = list(events)
    org_ids = {e.actor_org_id for e in events if e.actor_org_id}
    user_ids = {e.actor_user_id for e in events if e.actor_user_id}
    org_names = dict(db.session.execute(select(Organisation.id, Organisation.name)
                                        .where(Organisation.id.in_(org_ids))).all()) if org_ids else {}
    user_names = dict(db.session.execute(select(User.id, User.name)
                                         .where(User.id.in_(user_ids))).all()) if user_ids else {}
    return org_names, user_names
