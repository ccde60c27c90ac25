"""The platform's audit log page and its XLSX export: events in words, with people's and
organisations' names, filtered by organisation, user, object, action and date."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, or_, select

from marketplace.accounts.models import Organisation, User
from marketplace.audit import AuditEvent
from marketplace.enterprises.access_log import PURPOSE_LABELS, READ_LABELS
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.formatting import SHANGHAI, ymd_hm
from workflows.financing import TRANSITIONS

EXPORT_MAX_ROWS = 50_000  # an export is a report, not a backup: narrow the filters for more

# Actions in words (zh, en); an action not listed is described by its domain and shown as stored.
ACTION_LABELS = {
    "auth.login": ("登录", "Signed in"),
    "auth.login_failed": ("登录失败", "Sign-in failed"),
    "auth.logout": ("退出登录", "Signed out"),
    "auth.password_changed": ("修改密码", "Password changed"),
    "auth.totp_enrolled": ("绑定动态验证码", "Authenticator enrolled"),
    "access.denied": ("越权访问被拒绝", "Access refused"),
    "audit_log.exported": ("导出审计日志", "Audit log exported"),
    "credit_data.read": ("查看信用数据", "Read credit data"),
    "credit_data.denied": ("查看信用数据被拒绝（无授权）", "Credit data read refused (no consent)"),
    "enterprise.registered": ("企业注册", "Enterprise registered"),
    "commitment.signed": ("签署信用承诺书", "Credit commitment signed"),
    "consent.granted": ("授权数据查询", "Consent granted"),
    "consent.revoked": ("撤销授权", "Consent revoked"),
    "institution.created": ("创建机构", "Institution created"),
    "user.created": ("创建用户", "User created"),
    "user.disabled": ("停用用户", "User disabled"),
    "user.enabled": ("启用用户", "User enabled"),
    "user.role_changed": ("变更用户角色", "User role changed"),
    "user.totp_reset": ("重置动态验证码", "Authenticator reset"),
    "api_token.created": ("创建接口令牌", "API token created"),
    "api_token.revoked": ("吊销接口令牌", "API token revoked"),
    "receivable.created": ("登记应收账款", "Receivable registered"),
    "receivable.updated": ("修改应收账款", "Receivable changed"),
    "receivable.deleted": ("删除应收账款", "Receivable deleted"),
    "receivable.confirmed": ("债务人确认应收账款", "Debtor confirmed a receivable"),
    "receivable.disputed": ("债务人对应收账款提出异议", "Debtor disputed a receivable"),
    "receivable.link_issued": ("发送债务人确认链接", "Confirmation link sent"),
    "receivable.document_uploaded": ("上传应收账款材料", "Receivable document uploaded"),
    "receivable.document_deleted": ("删除应收账款材料", "Receivable document deleted"),
    "receivables.imported": ("批量导入应收账款", "Receivables imported"),
    "statement.imported": ("上传银行流水", "Bank statement uploaded"),
    "financing.create": ("创建融资申请", "Financing request created"),
    "financing.update": ("修改融资申请", "Financing request changed"),
    "financing.sla_breached": ("融资申请超时", "Request past its deadline"),
    "financing.sla_cleared": ("融资申请超时解除", "Request back within its deadline"),
    "verification.report": ("生成核验报告", "Verification report made"),
    "verification.stalled": ("核验停滞", "Verification stalled"),
    "desk.claimed": ("认领申请", "Request claimed"),
    "desk.claim_expired": ("认领过期", "Claim expired"),
    "desk.declined": ("拒绝申请", "Request declined"),
    "desk.info_requested": ("要求补充材料", "Information requested"),
    "desk.info_answered": ("补充材料", "Information supplied"),
    "desk.consent_ended": ("授权终止，机构退出审查", "Consent ended: institution left the review"),
    "offer.proposed": ("提出报价（待审批）", "Offer proposed (awaiting approval)"),
    "offer.made": ("报价", "Offer made"),
    "guarantee.offered": ("出具担保方案", "Guarantee offered"),
    "guarantee.accepted": ("接受担保方案", "Guarantee accepted"),
    "guarantee.issued": ("出具保函", "Guarantee issued"),
    "loan.repayment": ("记录还款", "Repayment recorded"),
    "loan.overdue": ("贷款逾期", "Loan overdue"),
    "payment.created": ("创建付款", "Payment created"),
    "policy.created": ("新建核验政策", "Verification policy created"),
    "product.created": ("新建产品", "Product created"),
    "product.updated": ("修改产品", "Product changed"),
    "product.published": ("上架产品", "Product published"),
    "product.retired": ("下架产品", "Product retired"),
    **{f"financing.{t.name}": (f"融资申请：{t.label_zh}", f"Financing request: {t.label_en}") for t in TRANSITIONS},
}
DOMAIN_LABELS = {
    "auth": ("账户", "Account"), "access": ("访问控制", "Access"), "credit_data": ("信用数据", "Credit data"),
    "enterprise": ("企业", "Enterprise"), "consent": ("授权", "Consent"), "user": ("用户", "User"),
    "receivable": ("应收账款", "Receivable"), "financing": ("融资申请", "Financing request"),
    "desk": ("机构工作台", "Desk"), "offer": ("报价", "Offer"), "guarantee": ("担保", "Guarantee"),
    "loan": ("贷款", "Loan"), "payment": ("付款", "Payment"), "product": ("产品", "Product"),
    "verification": ("核验", "Verification"), "registration": ("注册", "Registration"),
}
# The objects events name (object_type), in words (the credit data read, as the access log names them).
OBJECT_LABELS = {
    **READ_LABELS,
    "financing_requests": ("融资申请", "Financing request"), "financing_request": ("融资申请", "Financing request"),
    "financing_lead": ("融资线索（申请）", "Financing lead (request)"), "request": ("融资申请", "Financing request"),
    "verification_reports": ("核验报告", "Verification report"),
    "verification_report": ("核验报告", "Verification report"),
    "receivables": ("应收账款", "Receivable"), "receivable": ("应收账款", "Receivable"),
    "receivable_documents": ("应收账款材料", "Receivable document"),
    "receivable_document": ("应收账款材料", "Receivable document"),
    "info_attachments": ("补充材料附件", "Attachment"), "info_attachment": ("补充材料附件", "Attachment"),
    "enterprises": ("企业", "Enterprise"), "enterprise_profile": ("企业信息", "Enterprise profile"),
    "consents": ("授权", "Consent"), "consent": ("授权", "Consent"),
    "users": ("用户", "User"), "user": ("用户", "User"), "organisations": ("机构", "Organisation"),
    "offers": ("报价", "Offer"), "offer": ("报价", "Offer"), "guarantees": ("担保", "Guarantee"),
    "loans": ("贷款", "Loan"), "payments": ("付款", "Payment"), "products": ("产品", "Product"),
    "assignments": ("认领", "Claim"), "declines": ("拒绝", "Decline"), "info_requests": ("补充材料要求", "Information request"),
    "statement_files": ("银行流水", "Bank statement"), "api_tokens": ("接口令牌", "API token"),
    "bank_statements": ("银行流水", "Bank statements"), "commitment_signatures": ("信用承诺书", "Credit commitment"),
}


def action_words(action: str) -> tuple[str, str]:
    """The action in words (zh, en): its own label, else its domain's with the code."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    domain, _, verb = action.partition(".")
    zh, en = DOMAIN_LABELS.get(domain, (domain, domain))
    return f"{zh}：{verb or action}", f"{en}: {verb or action}"


def object_words(object_type: str) -> tuple[str, str]:
    return OBJECT_LABELS.get(object_type, (object_type, object_type))


@dataclass(frozen=True)
class AuditFilters:
    """What the page was asked to show; every field optional, all of them combined (AND)."""

    organisation: str = ""  # a name (part) or an id: events by its people or about it (an enterprise)
    user: str = ""  # a name, email (part) or id of the person who acted
    object_type: str = ""
    object_id: str = ""
    action: str = ""  # a prefix: auth. or credit_data.read
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_args(cls, args) -> AuditFilters:
        def text(name: str, length: int = 100) -> str:
            return (args.get(name) or "").strip()[:length]

        return cls(organisation=text("organisation"), user=text("user"), object_type=text("object_type", 64),
                   object_id=text("object_id", 64), action=text("action", 64),
                   date_from=_day(args.get("date_from")), date_to=_day(args.get("date_to")))

    def as_args(self) -> dict:
        """For links (pager, export): the filters that are set."""
        values = {"organisation": self.organisation, "user": self.user, "object_type": self.object_type,
                  "object_id": self.object_id, "action": self.action,
                  "date_from": self.date_from.isoformat() if self.date_from else "",
                  "date_to": self.date_to.isoformat() if self.date_to else ""}
        return {name: value for name, value in values.items() if value}


def _day(raw) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip()[:10])
    except ValueError:
        return None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def events_query(filters: AuditFilters) -> Select:
    """The events matching the filters, newest first."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if filters.organisation:
        orgs = _matching(Organisation.id, Organisation.name, filters.organisation)
        enterprises = select(Enterprise.id).where(Enterprise.organisation_id.in_(orgs))
        query = query.where(or_(AuditEvent.actor_org_id.in_(orgs), AuditEvent.enterprise_id.in_(enterprises)))
    if filters.user:
        users = _matching(User.id, User.name, filters.user, User.email)
        query = query.where(AuditEvent.actor_user_id.in_(users))
    if filters.object_type:
        query = query.where(AuditEvent.object_type == filters.object_type)
    if filters.object_id:
        query = query.where(AuditEvent.object_id == filters.object_id)
    if filters.action:
        query = query.where(AuditEvent.action.startswith(filters.action, autoescape=True))
    if filters.date_from:
        query = query.where(AuditEvent.occurred_at >= _start_of(filters.date_from))
    if filters.date_to:
        query = query.where(AuditEvent.occurred_at < _start_of(filters.date_to + timedelta(days=1)))
    return query


def _matching(id_column, name_column, term: str, *other_columns) -> Select:
    """Ids whose name (or another column) contains `term`; a number also matches the id itself."""
    conditions = [name_column.contains(term, autoescape=True)]
    conditions += [column.contains(term.lower(), autoescape=True) for column in other_columns]
    if term.isascii() and term.isdigit() and len(term) < 10:
        conditions.append(id_column == int(term))
    return select(id_column).where(or_(*conditions))


def object_types() -> list[str]:
    """The object types present in the log, for the filter's choices."""
    return sorted(t for t in db.session.scalars(select(AuditEvent.object_type).distinct()) if t)


@dataclass(frozen=True)
class Names:
    """The names of the people, organisations and enterprises a set of events mentions."""

    users: dict
    organisations: dict
    enterprises: dict

    @classmethod
    def of(cls, events) -> Names:
        user_ids = {e.actor_user_id for e in events if e.actor_user_id}
        org_ids = {e.actor_org_id for e in events if e.actor_org_id}
        enterprise_ids = {e.enterprise_id for e in events if e.enterprise_id}
        return cls(
            users=_names(select(User.id, User.name, User.email).where(User.id.in_(user_ids)), user_ids),
            organisations=_names(select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids)),
                                 org_ids),
            enterprises=_names(select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(enterprise_ids)),
                               enterprise_ids),
        )


def _names(query: Select, ids: set) -> dict:
    if not ids:
        return {}
    return {row[0]: " ".join(str(v) for v in row[1:] if v) for row in db.session.execute(query)}


def details_text(event: AuditEvent) -> str:
    return json.dumps(event.details or {}, ensure_ascii=False, sort_keys=True, default=str)


EXPORT_HEADERS = {
    "zh": ["编号", "时间（北京时间）", "操作", "操作代码", "对象", "对象类型代码", "对象编号", "相关企业", "操作人",
           "操作人机构", "用途", "IP", "详情"],
    "en": ["ID", "Time (Beijing)", "Action", "Action code", "Object", "Object type code", "Object ID", "Enterprise",
           "By", "Organisation", "Purpose", "IP", "Details"],
}


def export_xlsx(filters: AuditFilters, english: bool = False) -> tuple[bytes, bool]:
    """The matching events as an XLSX workbook, newest first; (bytes, whether it was cut at the cap)."""
    from openpyxl import Workbook  # ~0.15 s with numpy: imported by the export, not by every start

    pick = 1 if english else 0
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("audit")
    sheet.append(EXPORT_HEADERS["en" if english else "zh"])
    events = list(db.session.scalars(events_query(filters).limit(EXPORT_MAX_ROWS + 1)))
    truncated = len(events) > EXPORT_MAX_ROWS
    events = events[:EXPORT_MAX_ROWS]
    for start in range(0, len(events), 1000):
        chunk = events[start:start + 1000]
        names = Names.of(chunk)
        for e in chunk:
            sheet.append([_cell(value) if isinstance(value, str) else value for value in [
                e.id, ymd_hm(e.occurred_at), action_words(e.action)[pick], e.action,
                object_words(e.object_type)[pick], e.object_type or "", e.object_id or "",
                names.enterprises.get(e.enterprise_id, ""), names.users.get(e.actor_user_id, ""),
                names.organisations.get(e.actor_org_id, ""),
                PURPOSE_LABELS[e.purpose][pick] if e.purpose in PURPOSE_LABELS else (e.purpose or ""),
                e.ip or "", details_text(e),
            ]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), truncated


def _cell(text: str) -> str:
    """Text as a cell: never a formula (a value starting with = + - @ would run in Excel)."""
    text = text[:32000]
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
