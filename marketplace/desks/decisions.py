"""A bank's decisions on a request it holds: an offer (four eyes above the configured amount),
a decline with a reason code, and what follows for the request when the enterprise accepts one
offer among several, or when the last bank holding it says no.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from marketplace import audit
from marketplace.accounts.people import enterprise_users, institution_staff
from marketplace.accounts.roles import Role
from marketplace.db import utcnow
from marketplace.desks import claims
from marketplace.desks.models import Decline, Offer
from marketplace.desks.reasons import DecisionConflict, DecisionRefused, decline_reasons
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.financing.routing import routing_targets
from marketplace.financing.services import apply_transition
from marketplace.formatting import today_shanghai
from marketplace.guarantees import services as guarantees
from marketplace.i18n import sentences
from marketplace.notifications.messages import later
from marketplace.notifications.services import notify
from marketplace.supermarket.models import RequestTarget
from workflows.financing import State
from workflows.loans import PREPAYMENT_FEE_RATE_MAX

ACTIVE_BANK_STATUSES = ("routed", "reviewing", "info_requested", "offered")
RATE_MIN, RATE_MAX = Decimal("0.01"), Decimal("35.99")


@dataclass(frozen=True)
class OfferTerms:
    amount: Decimal
    annual_rate: Decimal  # percent
    term_days: int
    expires_on: date
    conditions: str = ""
    prepayment_fee_rate: Decimal = Decimal("0.00")  # percent of the principal repaid early; 0: no fee
    roll_to_working_day: bool = True  # an instalment due on a day off is due on the next working day


def four_eyes_amount() -> Decimal:
    return Decimal(str(current_app.config["FOUR_EYES_AMOUNT"]))


def needs_second_approver(amount: Decimal) -> bool:
    return amount > four_eyes_amount()


def check_terms(request: FinancingRequest, terms: OfferTerms) -> list[str]:
    """Every problem with the terms, in the user's language (empty when they are acceptable)."""
    problems = []
    if terms.amount <= 0:
        problems.append(_("报价金额必须大于零"))
    elif terms.amount > request.amount:
        problems.append(_("报价金额不能超过申请金额（¥%(amount)s）", amount=f"{request.amount:,.2f}"))
    if not RATE_MIN <= terms.annual_rate <= RATE_MAX:
        problems.append(_("年化利率须在 %(low)s%% 与 %(high)s%% 之间", low=RATE_MIN, high=RATE_MAX))
    if not 1 <= terms.term_days <= 1825:
        problems.append(_("期限须在 1 至 1825 天之间"))
    fee_rate = terms.prepayment_fee_rate
    if fee_rate is None or not Decimal("0") <= fee_rate <= PREPAYMENT_FEE_RATE_MAX \
            or fee_rate != fee_rate.quantize(Decimal("0.01")):
        problems.append(_("提前还款手续费率须在 0 至 %(high)s%% 之间，最多两位小数", high=PREPAYMENT_FEE_RATE_MAX))
    today = today_shanghai()
    latest = today + timedelta(days=current_app.config["OFFER_VALID_DAYS_MAX"])
    if terms.expires_on < today:
        problems.append(_("报价有效期不能早于今天"))
    elif terms.expires_on > latest:
        problems.append(_("报价有效期不能晚于 %(day)s", day=latest.isoformat()))
    return problems


def make_offer(target: RequestTarget, user, terms: OfferTerms) -> Offer:
    """Record an offer: made at once up to the four-eyes amount, else waiting for an approver."""
    claims.touch(claims.held_by(target, user))
    if target.institution.kind != "bank":
        raise DecisionRefused(_("只有银行可以报价"))
    request = target.request
    problems = check_terms(request, terms)
    if problems:
        raise DecisionRefused(sentences(problems))
    if db.session.scalar(select(Offer.id).where(Offer.target_id == target.id,
                                                Offer.status.in_(("pending_approval", "made")))):
        raise DecisionRefused(_("本机构对该申请已有有效报价或待审批的报价"))
    offer = Offer(target_id=target.id, request_id=request.id, institution_id=target.institution_id,
                  amount=terms.amount, annual_rate=terms.annual_rate, term_days=terms.term_days,
                  conditions=terms.conditions.strip(), prepayment_fee_rate=terms.prepayment_fee_rate,
                  roll_to_working_day=bool(terms.roll_to_working_day), expires_on=terms.expires_on, made_by_id=user.id,
                  status="pending_approval", four_eyes=needs_second_approver(terms.amount))
    db.session.add(offer)
    db.session.flush()
    audit.record("offer.proposed", offer, enterprise_id=request.enterprise_id, actor=user, request_id=request.id,
                 amount=terms.amount, annual_rate=terms.annual_rate, four_eyes=offer.four_eyes,
                 prepayment_fee_rate=terms.prepayment_fee_rate, roll_to_working_day=offer.roll_to_working_day)
    if offer.four_eyes:
        _ask_approvers(offer, user)
    else:
        _publish(offer, user)
    return offer


def approve_offer(offer: Offer, approver) -> Offer:
    """The second pair of eyes: an approver of the same bank who did not propose the offer."""
    if offer.status != "pending_approval":
        raise DecisionRefused(_("该报价不在待审批状态"))
    if approver.organisation_id != offer.institution_id or approver.role != Role.BANK_APPROVER:
        raise DecisionRefused(_("只有本机构的审批人可以审批报价"))
    if approver.id == offer.made_by_id:
        raise DecisionRefused(_("四眼原则：报价人不能审批自己的报价，请由另一位审批人审批"))
    problems = check_terms(offer.request, OfferTerms(offer.amount, offer.annual_rate, offer.term_days,
                                                     offer.expires_on, offer.conditions, offer.prepayment_fee_rate,
                                                     offer.roll_to_working_day))
    if problems:
        raise DecisionRefused(sentences(problems))
    _publish(offer, approver)
    return offer


def _publish(offer: Offer, approver) -> None:
    """The offer reaches the enterprise; the request shows an offer."""
    offer.status = "made"
    offer.approved_by_id = approver.id
    offer.approved_at = utcnow()
    offer.target.status = "offered"
    request = offer.request
    audit.record("offer.made", offer, enterprise_id=request.enterprise_id, actor=approver, request_id=request.id,
                 amount=offer.amount, made_by_id=offer.made_by_id, approved_by_id=approver.id)
    if request.state in (State.BANK_REVIEW, State.INFO_REQUESTED):
        apply_transition(request, "make_offer", approver, offer_id=offer.id)
    notify(enterprise_users(request), "offer.made", later("融资申请 #%(id)s 收到新的报价", id=request.id),
           later("%(bank)s 报价 ¥%(amount)s，年化利率 %(rate)s%%，期限 %(term)s 天，有效期至 %(until)s。",
             bank=offer.institution.name, amount=f"{offer.amount:,.2f}", rate=offer.annual_rate,
             term=offer.term_days, until=offer.expires_on.isoformat()),
           url_for("desk_enterprise.offers", request_id=request.id))


def _ask_approvers(offer: Offer, maker) -> None:
    approvers = [u for u in institution_staff(offer.institution_id, (Role.BANK_APPROVER,)) if u.id != maker.id]
    if approvers:
        notify(approvers, "offer.approval", later("报价待审批：申请 #%(id)s", id=offer.request_id),
               later("%(maker)s 提交了 ¥%(amount)s 的报价，超过四眼审批金额，需要您审批。",
                 maker=maker.name, amount=f"{offer.amount:,.2f}"),
               url_for("desk.detail", request_id=offer.request_id))


def decline_refusal(target: RequestTarget) -> str | None:
    """Why the institution can no longer decline the request (None: it still may); the desk page
    shows the decline form only when this is None."""
    if db.session.scalar(select(Offer.id).where(Offer.target_id == target.id, Offer.status.in_(("made", "accepted")))):
        return _("本机构已向企业报价，不能再拒绝；如需撤回请联系平台")
    if target.institution.kind == "guarantor":
        guarantee = guarantees.guarantee_of_target(target)
        if guarantee is not None and guarantee.status in guarantees.LIVE_STATUSES:
            return _("本机构已出具担保方案，不能再拒绝；如需撤回请联系平台")
    return None


def decline(target: RequestTarget, user, reason_code: str, note: str) -> Decline:
    """The institution says no. When no bank is left holding the request it goes to the next
    bank the matching finds, or back to the enterprise."""
    claims.held_by(target, user)
    if reason_code not in decline_reasons():
        raise DecisionRefused(_("请选择拒绝原因"))
    if reason_code == "other" and not note.strip():
        raise DecisionRefused(_("选择“其他原因”时请填写说明"))
    refusal = decline_refusal(target)
    if refusal:
        raise DecisionRefused(refusal)
    request = target.request
    row = Decline(target_id=target.id, request_id=request.id, institution_id=target.institution_id,
                  reason_code=reason_code, note=note.strip(), decided_by_id=user.id)
    db.session.add(row)
    target.status = "declined"
    for pending in db.session.scalars(select(Offer).where(Offer.target_id == target.id,
                                                          Offer.status == "pending_approval")):
        pending.status = "withdrawn"
    claims.end(claims.open_assignment(target.id), "decided", actor=user)
    db.session.flush()
    audit.record("desk.declined", row, enterprise_id=request.enterprise_id, actor=user, request_id=request.id,
                 reason_code=reason_code)
    if target.institution.kind == "bank":
        _after_bank_decline(request, user, row)
    elif target.institution.kind == "guarantor":
        guarantees.after_guarantor_decline(request, user, row)
    return row


def _after_bank_decline(request: FinancingRequest, user, row: Decline) -> None:

    still_holding = db.session.scalar(select(RequestTarget.id).where(
        RequestTarget.request_id == request.id, RequestTarget.status.in_(ACTIVE_BANK_STATUSES)).limit(1))
    reason = decline_reasons()[row.reason_code]  # (zh, en)
    label = reason[0]
    if still_holding is not None or request.state not in (State.BANK_REVIEW, State.INFO_REQUESTED):
        notify(enterprise_users(request), "offer.declined", later("一家银行拒绝了融资申请 #%(id)s", id=request.id),
               later("原因：%(reason)s。其他机构仍在处理您的申请。", reason=reason),
               url_for("financing.detail", request_id=request.id))
        return
    apply_transition(request, "decline", user, note=f"{label}。{row.note}".rstrip("。") + "。", decline_id=row.id)
    targets = routing_targets(request, "bank")
    if targets:
        now = utcnow()
        for target in targets:
            target.status, target.routed_at = "routed", now
        apply_transition(request, "reroute_to_bank", facts={"has_next_bank": True},
                         institutions=[t.institution_id for t in targets])
    else:
        apply_transition(request, "return_after_bank", note="没有其他可推送的银行，请根据拒绝原因调整后重新提交")
    notify(enterprise_users(request), "offer.declined", later("银行拒绝了融资申请 #%(id)s", id=request.id),
           (later("原因：%(reason)s。已推送给下一家银行。", reason=reason) if targets
            else later("原因：%(reason)s。申请已退回。", reason=reason)),
           url_for("financing.detail", request_id=request.id))


def accept_offer(offer: Offer, user) -> Offer:
    """The enterprise takes one offer; the others close and their banks are told."""
    request, offer = _lock_for_acceptance(offer)
    if offer.status == "accepted":
        raise DecisionConflict(_("该报价已被接受，无需重复操作"))
    if request.state != State.OFFER_MADE and db.session.scalar(
            select(Offer.id).where(Offer.request_id == request.id, Offer.status == "accepted").limit(1)):
        raise DecisionConflict(_("该申请已接受了其他机构的报价，本报价已关闭"))
    if offer.status != "made":
        raise DecisionConflict(_("该报价已失效，不能接受"))
    if offer.expires_on < today_shanghai():
        raise DecisionRefused(_("该报价已于 %(day)s 过期，不能接受", day=offer.expires_on.isoformat()))
    if request.state != State.OFFER_MADE:
        raise DecisionConflict(_("当前状态下不能接受报价"))
    now = utcnow()
    offer.status, offer.decided_at = "accepted", now
    offer.target.status = "accepted"
    apply_transition(request, "accept_offer", user, offer_id=offer.id, amount=offer.amount)
    close_other_offers(request, keep=offer, reason=later("企业已接受其他机构的报价"))
    notify(institution_staff(offer.institution_id), "offer.accepted", later("报价已被接受：申请 #%(id)s", id=request.id),
           later("%(enterprise)s 接受了贵机构 ¥%(amount)s 的报价，请安排放款。",
             enterprise=request.enterprise.name, amount=f"{offer.amount:,.2f}"),
           url_for("desk.detail", request_id=request.id))
    return offer


def _lock_for_acceptance(offer: Offer) -> tuple[FinancingRequest, Offer]:
    """Lock the request row, then the offer, always in that order, and read both afresh: two
    acceptances of the same request queue on the request row instead of deadlocking on each
    other's offers, and the second sees what the first did."""
    request = db.session.scalar(select(FinancingRequest).where(FinancingRequest.id == offer.request_id)
                                .with_for_update().execution_options(populate_existing=True))
    offer = db.session.scalar(select(Offer).where(Offer.id == offer.id).with_for_update()
                              .execution_options(populate_existing=True))
    return request, offer


def close_other_offers(request: FinancingRequest, keep: Offer | None, reason: dict) -> None:
    """Close every other offer and target of the request, ending their claims, with a notice."""
    now = utcnow()
    told: set[int] = set()
    for other in db.session.scalars(select(Offer).where(Offer.request_id == request.id,
                                                        Offer.status.in_(("pending_approval", "made")))):
        if keep is not None and other.id == keep.id:
            continue
        other.status, other.decided_at = "closed", now
    for target in db.session.scalars(select(RequestTarget).where(
            RequestTarget.request_id == request.id, RequestTarget.status.in_(ACTIVE_BANK_STATUSES))):
        if keep is not None and target.id == keep.target_id:
            continue
        target.status = "closed"
        told.add(target.institution_id)
        held = claims.open_assignment(target.id)
        if held is not None:
            claims.end(held, "closed")
    for institution_id in told:
        notify(institution_staff(institution_id), "offer.closed", later("融资申请 #%(id)s 已关闭", id=request.id), reason,
               url_for("desk.detail", request_id=request.id))
