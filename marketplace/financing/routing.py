"""Where a verified request goes: excellent to banks, mixed to a guarantor first, poor (or a
request no institution of the right kind can take) back to the enterprise with the reasons.

Targets: the products the enterprise chose at submission, of the kind the class calls for;
otherwise the top matches of the financing supermarket among institutions of that kind, at
most 3. Banks all receive the request at once; guarantors are asked one at a time, the others
wait their turn. Each routed target keeps why its product matched, for the institution to see.

Only institutions holding the enterprise's valid consent to read its bank statements are
targets (enterprises.consents). When institutions of the right kind fit but none holds one, the
request goes back to the enterprise, which is told which institutions to grant it to: nothing
is routed blind.
"""

from __future__ import annotations

from flask import url_for
from sqlalchemy import delete, select

from marketplace.accounts.models import Organisation, User
from marketplace.accounts.people import enterprise_users
from marketplace.accounts.roles import Role
from marketplace.db import utcnow
from marketplace.enterprises.consents import consenting_institutions
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest, WorkflowEvent
from marketplace.financing.services import apply_transition
from marketplace.notifications.messages import later, listing
from marketplace.notifications.services import notify
from marketplace.supermarket import pushes
from marketplace.supermarket.matching import ranked_matches
from marketplace.supermarket.models import RequestTarget
from workflows.financing import MAX_TARGETS
from workflows.matching import Match, top_institutions
from workflows.verification.policy import CLASS_LABELS

# The kind of institution each class goes to first; poor goes back to the enterprise.
ROUTE_KIND = {"excellent": "bank", "mixed": "guarantor"}
ROUTE_TRANSITION = {"bank": "route_to_bank", "guarantor": "route_to_guarantor"}
OFFICER_ROLES = {"bank": Role.BANK_OFFICER, "guarantor": Role.GUARANTOR_OFFICER}


def explanation(match: Match) -> list[dict]:
    """The match's criteria as stored on the target (JSON)."""
    return [{"code": c.code, "hard": c.hard, "passed": c.passed, "value": c.value, "expected": c.expected,
             "zh": c.zh, "en": c.en} for c in match.criteria]


def _kinds(institution_ids) -> dict[int, str]:
    ids = set(institution_ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(Organisation.id, Organisation.kind).where(Organisation.id.in_(ids))).all())


def routing_targets(request: FinancingRequest, kind: str, matches: list[Match] | None = None) -> list[RequestTarget]:
    """The targets of `kind` the request goes to, best first (created from the top matches when
    the enterprise chose none of that kind). Only institutions holding the enterprise's consent
    count: an enterprise's pick without it stays unrouted, matches without it are passed over.
    Unrouted targets of other kinds picked by matching are dropped; the enterprise's own picks
    stay for a later stage (a bank after the guarantee)."""
    matches = ranked_matches(request) if matches is None else matches
    by_version = {m.version_id: m for m in matches}
    existing = list(db.session.scalars(
        select(RequestTarget).where(RequestTarget.request_id == request.id).order_by(RequestTarget.rank)))
    candidates = [t.institution_id for t in existing] + [m.institution_id for m in matches]
    kinds = _kinds(candidates)
    consenting = consenting_institutions(request.enterprise_id, candidates)
    chosen = [t for t in existing if t.chosen_by == "enterprise" and t.status == "chosen"
              and kinds.get(t.institution_id) == kind and t.institution_id in consenting][:MAX_TARGETS]
    if not chosen:
        db.session.execute(delete(RequestTarget).where(
            RequestTarget.request_id == request.id, RequestTarget.chosen_by == "match",
            RequestTarget.status == "chosen"))
        taken = {t.institution_id for t in existing if t.chosen_by == "enterprise" or t.status != "chosen"}
        best = top_institutions(
            (m for m in matches if kinds.get(m.institution_id) == kind and m.institution_id not in taken
             and m.institution_id in consenting),
            limit=MAX_TARGETS)
        next_rank = max((t.rank for t in existing if t.chosen_by == "enterprise" or t.status != "chosen"),
                        default=0) + 1
        chosen = [RequestTarget(request_id=request.id, product_version_id=m.version_id,
                                institution_id=m.institution_id, rank=next_rank + i, chosen_by="match")
                  for i, m in enumerate(best)]
        db.session.add_all(chosen)
    for target in chosen:
        match = by_version.get(target.product_version_id)
        target.explanation = explanation(match) if match is not None else None
    db.session.flush()
    return chosen


def awaiting_consent(request: FinancingRequest, kind: str, matches: list[Match] | None = None) -> list[Organisation]:
    """Institutions of `kind` that could take the request but lack the enterprise's consent: its
    own unrouted picks first, then the best eligible matches not yet tried (at most 3)."""
    matches = ranked_matches(request) if matches is None else matches
    existing = list(db.session.scalars(
        select(RequestTarget).where(RequestTarget.request_id == request.id).order_by(RequestTarget.rank)))
    candidates = [t.institution_id for t in existing] + [m.institution_id for m in matches]
    kinds = _kinds(candidates)
    consenting = consenting_institutions(request.enterprise_id, candidates)
    tried = {t.institution_id for t in existing if t.status != "chosen"}
    picked = [t.institution_id for t in existing if t.chosen_by == "enterprise" and t.status == "chosen"]
    fitting = [m.institution_id for m in top_institutions(
        (m for m in matches if kinds.get(m.institution_id) == kind and m.institution_id not in consenting
         and m.institution_id not in tried), limit=MAX_TARGETS)]
    ids = [i for i in dict.fromkeys(picked + fitting)
           if kinds.get(i) == kind and i not in consenting and i not in tried][:MAX_TARGETS]
    return [db.session.get(Organisation, i) for i in ids]


def mark_routed(targets: list[RequestTarget], kind: str) -> None:
    """Banks all receive the request at once; guarantors are asked one at a time, best first,
    the others wait their turn."""
    now = utcnow()
    for position, target in enumerate(targets):
        sequential_wait = kind == "guarantor" and position > 0
        target.status = "waiting" if sequential_wait else "routed"
        target.routed_at = None if sequential_wait else now


def route_verified(request: FinancingRequest, report) -> WorkflowEvent:
    """Apply route_to_bank, route_to_guarantor or return_request, by the report's class."""
    classification = report.classification
    kind = ROUTE_KIND.get(classification)
    matches = ranked_matches(request)
    targets = routing_targets(request, kind, matches) if kind else []
    facts = {"classification": classification, "route_targets": len(targets)}
    waiting: list[Organisation] = []
    if targets:
        mark_routed(targets, kind)
        event = apply_transition(request, ROUTE_TRANSITION[kind], facts=facts, report_id=report.id,
                                 institutions=[t.institution_id for t in targets if t.status == "routed"])
        tell_institutions(request, [t for t in targets if t.status == "routed"], kind)
    else:
        waiting = awaiting_consent(request, kind, matches) if kind else []
        note = None if classification == "poor" else (consent_note(kind, waiting) if waiting
                                                      else _no_institution_note(kind))
        event = apply_transition(request, "return_request", note=note, facts=facts, report_id=report.id,
                                 awaiting_consent=[o.id for o in waiting])
    if waiting:
        ask_for_consent(request, kind, waiting)
    else:
        _tell_enterprise(request, report, targets, kind)
    pushes.on_request_verified(request)
    return event


def _no_institution_note(kind: str) -> str:
    return ("暂无符合条件的银行产品可以承接本申请，可调整金额或期限后重新提交" if kind == "bank"
            else "暂无符合条件的担保机构可以承接本申请，可调整金额或期限后重新提交")


KIND_NAMES = {"bank": ("银行", "banks"), "guarantor": ("担保机构", "guarantors")}


def consent_note(kind: str, waiting: list[Organisation]) -> str:
    """The timeline's note when fitting institutions lack consent (stored, so in Chinese)."""
    names = "、".join(o.name for o in waiting)
    return (f"符合条件的{KIND_NAMES[kind][0]}（{names}）尚未获得贵企业查询银行流水的授权，平台未推送。"
            "请企业管理员在申请页向其中一家授权后重新提交，或选择其他已授权的机构")


def ask_for_consent(request: FinancingRequest, kind: str, waiting: list[Organisation]) -> None:
    """Tell the enterprise that the request waits for its consent, and to whom."""
    notify(enterprise_users(request), "routing.consent_needed",
           later("融资申请 #%(id)s 需要您授权后才能推送", id=request.id),
           later("符合条件的%(kind)s（%(names)s）尚未获得贵企业查询银行流水的授权，平台没有推送您的申请。"
             "请企业管理员在申请页授权，或选择其他已授权的机构。",
             kind=KIND_NAMES[kind], names=listing(o.name for o in waiting)),
           url_for("financing.detail", request_id=request.id, _anchor="consents"))


def _tell_enterprise(request: FinancingRequest, report, targets: list[RequestTarget], kind: str | None) -> None:
    label = CLASS_LABELS[report.classification]  # (zh, en)
    link = url_for("reports.enterprise_report", request_id=request.id, report_id=report.id)
    if targets:
        names = listing(t.institution.name for t in targets if t.status == "routed")
        title = later("融资申请 #%(id)s 已通过核验", id=request.id)
        body = later("资产质量：%(label)s。已推送：%(names)s。", label=label, names=names)
    else:
        title = later("融资申请 #%(id)s 已退回", id=request.id)
        body = later("资产质量：%(label)s。请查看核验报告中的原因和改进建议，修改后可重新提交。", label=label)
    notify(enterprise_users(request), "verification.done", title, body, link)


def tell_institutions(request: FinancingRequest, targets: list[RequestTarget], kind: str) -> None:
    role = OFFICER_ROLES[kind]
    for target in targets:
        staff = db.session.scalars(select(User).where(User.organisation_id == target.institution_id,
                                                      User.role == role, User.active)).all()
        if not staff:
            continue
        notify(staff, "request.routed", later("新的融资申请 #%(id)s", id=request.id),
               later("%(enterprise)s 申请融资 %(amount)s 元，期限 %(term)s 天，已推送贵机构。",
                     enterprise=request.enterprise.name, amount=f"{request.amount:,.2f}", term=request.term_days),
               url_for("desk.detail", request_id=request.id))
