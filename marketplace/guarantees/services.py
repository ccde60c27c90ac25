"""The guarantor's path of a mixed request: a guarantee offered on the desk, accepted by the
enterprise, its fee paid, the guarantee issued with a letter (担保函) and the request routed to
banks; or a decline, after which the next waiting guarantor gets the request, or none is left
and it goes back to the enterprise.

Each verb flushes and leaves the commit to the caller; transitions go through apply_transition
(workflow and audit events), everything else writes its own audit event.
"""

from __future__ import annotations

from decimal import Decimal

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from marketplace import audit
from marketplace.accounts.models import User
from marketplace.accounts.people import enterprise_users, institution_staff
from marketplace.accounts.roles import Role
from marketplace.db import utcnow
from marketplace.desks import claims
from marketplace.desks.models import Decline
from marketplace.desks.reasons import DecisionRefused, decline_reasons
from marketplace.enterprises.consents import valid_consent
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.financing.routing import awaiting_consent, routing_targets
from marketplace.financing.services import apply_transition
from marketplace.formatting import local, today_shanghai, yuan
from marketplace.guarantees.models import Guarantee
from marketplace.i18n import pick, sentences
from marketplace.notifications.messages import later, listing
from marketplace.notifications.services import notify
from marketplace.payments import services as payments
from marketplace.payments.hooks import on_paid
from marketplace.supermarket.models import RequestTarget
from workflows.financing import State
from workflows.guarantees import CENT, guarantee_amounts, letter_number, term_problems

FEE_PURPOSE = "guarantee_fee"
LIVE_STATUSES = ("offered", "accepted", "issued")
GUARANTOR_STAFF = (Role.GUARANTOR_OFFICER, Role.GUARANTOR_APPROVER)


class GuaranteeRefused(DecisionRefused):
    """The guarantee step cannot be taken; the message says why (Chinese)."""


def live_guarantee(request_id: int) -> Guarantee | None:
    """The request's guarantee that is offered, accepted or issued (at most one: a unique index)."""
    return db.session.scalar(select(Guarantee).where(Guarantee.request_id == request_id,
                                                     Guarantee.status.in_(LIVE_STATUSES)))


def issued_guarantee(request_id: int) -> Guarantee | None:
    return db.session.scalar(select(Guarantee).where(Guarantee.request_id == request_id,
                                                     Guarantee.status == "issued"))


def guarantee_of_target(target: RequestTarget) -> Guarantee | None:
    """The latest guarantee the target's institution offered on the request."""
    return db.session.scalar(select(Guarantee).where(Guarantee.target_id == target.id)
                             .order_by(Guarantee.id.desc()).limit(1))


# ---- the guarantor offers ---------------------------------------------------------------------

def offer_guarantee(target: RequestTarget, user, coverage_ratio: Decimal, fee_rate: Decimal) -> Guarantee:
    """The guarantor's offer: coverage (% of the amount) and fee rate (% a year) -> the fee.

    Needs the user's claim on the target; refused, with nothing changed, when the terms are out
    of range or the request is not in the guarantor's review."""
    claims.touch(claims.held_by(target, user))
    if target.institution.kind != "guarantor":
        raise GuaranteeRefused(_("只有担保机构可以出具担保方案"))
    request = target.request
    if request.state != State.GUARANTOR_REVIEW or target.status not in ("reviewing", "info_requested"):
        raise GuaranteeRefused(_("当前状态下不能出具担保方案"))
    problems = term_problems(coverage_ratio, fee_rate)
    if problems:
        raise GuaranteeRefused(sentences(pick(problem) for problem in problems))
    if live_guarantee(request.id) is not None:
        raise GuaranteeRefused(_("该申请已有有效的担保方案"))
    coverage_ratio, fee_rate = coverage_ratio.quantize(CENT), fee_rate.quantize(CENT)  # as stored: 80.00
    amounts = guarantee_amounts(request.amount, coverage_ratio, fee_rate, request.term_days)
    if amounts.fee <= 0:
        raise GuaranteeRefused(_("按此比例和费率计算的担保费不足一分钱，请调整"))
    guarantee = Guarantee(target_id=target.id, request_id=request.id, institution_id=target.institution_id,
                          coverage_ratio=coverage_ratio, fee_rate=fee_rate,
                          guaranteed_amount=amounts.guaranteed_amount, fee=amounts.fee,
                          term_days=request.term_days, status="offered", offered_by_id=user.id)
    db.session.add(guarantee)
    db.session.flush()
    target.status = "offered"
    audit.record("guarantee.offered", guarantee, enterprise_id=request.enterprise_id, actor=user,
                 request_id=request.id, coverage_ratio=coverage_ratio, fee_rate=fee_rate,
                 guaranteed_amount=amounts.guaranteed_amount, fee=amounts.fee, term_days=request.term_days)
    apply_transition(request, "offer_guarantee", user, guarantee_id=guarantee.id)
    notify(enterprise_users(request), "guarantee.offered", later("融资申请 #%(id)s 收到担保方案", id=request.id),
           later("%(guarantor)s 提供担保：担保比例 %(coverage)s%%，担保金额 %(amount)s，年费率 %(rate)s%%，"
             "担保费 %(fee)s。请确认。", guarantor=target.institution.name, coverage=coverage_ratio,
             amount=yuan(amounts.guaranteed_amount), rate=fee_rate, fee=yuan(amounts.fee)),
           url_for("guarantees.enterprise_guarantee", request_id=request.id))
    return guarantee


# ---- the enterprise accepts ---------------------------------------------------------------------

def accept_guarantee(guarantee: Guarantee, enterprise_user):
    """The enterprise takes the guarantee: the request waits for the fee, which is created as a
    payment to the guarantor. Returns the Payment."""

    request = guarantee.request
    if enterprise_user.organisation_id != request.enterprise.organisation_id:
        raise GuaranteeRefused(_("只能接受本企业申请的担保方案"))
    if guarantee.status != "offered" or request.state != State.GUARANTEE_OFFERED:
        raise GuaranteeRefused(_("该担保方案当前不能接受"))
    try:  # first, so that a refused fee leaves the guarantee and the request as they were
        payment = payments.create_fee(request, guarantee.institution, FEE_PURPOSE, guarantee.fee,
                                      actor=enterprise_user)
    except payments.PaymentRefused as error:
        raise GuaranteeRefused(str(error)) from None
    guarantee.status, guarantee.accepted_at = "accepted", utcnow()
    target = db.session.get(RequestTarget, guarantee.target_id)
    target.status = "accepted"
    apply_transition(request, "accept_guarantee", enterprise_user, guarantee_id=guarantee.id,
                     fee=guarantee.fee, payment_id=payment.id)
    audit.record("guarantee.accepted", guarantee, enterprise_id=request.enterprise_id, actor=enterprise_user,
                 request_id=request.id, payment_id=payment.id, fee=guarantee.fee)
    notify(institution_staff(guarantee.institution_id, GUARANTOR_STAFF), "guarantee.accepted",
           later("担保方案已被接受：申请 #%(id)s", id=request.id),
           later("%(enterprise)s 接受了贵机构的担保方案，担保费 %(fee)s 待缴纳；收到转账后请在平台确认。",
             enterprise=request.enterprise.name, fee=yuan(guarantee.fee)),
           url_for("desk.detail", request_id=request.id))
    return payment


# ---- the fee is paid: issue, then route to banks -------------------------------------------

@on_paid(FEE_PURPOSE)
def guarantee_fee_paid(payment) -> Guarantee | None:
    """Runs once, inside the transaction that marks the fee paid: confirm the fee, issue the
    guarantee with its letter number, and route the request to banks (or keep it guaranteed
    and say so when no bank product fits)."""
    request = db.session.get(FinancingRequest, payment.request_id)
    guarantee = db.session.scalar(select(Guarantee).where(
        Guarantee.request_id == payment.request_id, Guarantee.institution_id == payment.payee_org_id,
        Guarantee.status.in_(("accepted", "issued"))))
    if guarantee is None or guarantee.status == "issued" or request.state != State.FEE_PENDING:
        # a fee paid again, or for a guarantee no longer waiting for it: nothing more to do
        audit.record("guarantee.fee_paid_ignored", payment, enterprise_id=request.enterprise_id,
                     request_id=request.id, state=request.state,
                     guarantee_status=getattr(guarantee, "status", None))
        return guarantee
    confirmer = db.session.get(User, payment.confirmed_by_id) if payment.confirmed_by_id is not None else None
    if confirmer is not None and confirmer.organisation_id != guarantee.institution_id:
        confirmer = None
    apply_transition(request, "confirm_fee", confirmer, facts={"fee_paid": True}, payment_id=payment.id,
                     guarantee_id=guarantee.id, amount=payment.amount)
    issue(guarantee, payment)
    route_to_banks(request, guarantee)
    return guarantee


def issue(guarantee: Guarantee, payment=None) -> None:
    now = utcnow()
    guarantee.status, guarantee.issued_at = "issued", now
    guarantee.letter_no = letter_number(guarantee.id, local(now).year)
    db.session.flush()
    audit.record("guarantee.issued", guarantee, enterprise_id=guarantee.request.enterprise_id,
                 request_id=guarantee.request_id, letter_no=guarantee.letter_no,
                 payment_id=getattr(payment, "id", None), guaranteed_amount=guarantee.guaranteed_amount)


def route_to_banks(request: FinancingRequest, guarantee: Guarantee) -> list[RequestTarget]:
    """guaranteed -> routed_to_bank when bank products fit the guaranteed request."""

    targets = routing_targets(request, "bank")
    link = url_for("financing.detail", request_id=request.id)
    if not targets:
        waiting = awaiting_consent(request, "bank")  # fitting banks the enterprise has not consented to
        audit.record("guarantee.no_bank", request, enterprise_id=request.enterprise_id, request_id=request.id,
                     guarantee_id=guarantee.id, awaiting_consent=[o.id for o in waiting])
        if waiting:
            notify(enterprise_users(request), "guarantee.issued", later("融资申请 #%(id)s 已获担保", id=request.id),
                   later("担保函 %(no)s 已出具。符合条件的银行（%(names)s）尚未获得贵企业查询银行流水的授权，"
                     "授权后平台即推送您的申请。", no=guarantee.letter_no, names=listing(o.name for o in waiting)),
                   url_for("enterprises.consents"))
            return []
        notify(enterprise_users(request), "guarantee.issued", later("融资申请 #%(id)s 已获担保", id=request.id),
               later("担保函 %(no)s 已出具，但暂无符合条件的银行产品，平台将继续为您匹配。", no=guarantee.letter_no),
               link)
        return []
    now = utcnow()
    for target in targets:
        target.status, target.routed_at = "routed", now
    apply_transition(request, "route_guaranteed_to_bank", guarantee_id=guarantee.id,
                     institutions=[t.institution_id for t in targets])
    names = listing(t.institution.name for t in targets)
    notify(enterprise_users(request), "guarantee.issued", later("融资申请 #%(id)s 已获担保", id=request.id),
           later("担保函 %(no)s 已出具，申请已推送：%(names)s。", no=guarantee.letter_no, names=names), link)
    for target in targets:
        notify(institution_staff(target.institution_id, (Role.BANK_OFFICER,)), "request.routed",
               later("新的融资申请 #%(id)s", id=request.id),
               later("%(enterprise)s 申请融资 %(amount)s，期限 %(term)s 天，已由 %(guarantor)s 担保（担保函 %(no)s）。",
                 enterprise=request.enterprise.name, amount=yuan(request.amount), term=request.term_days,
                 guarantor=guarantee.institution.name, no=guarantee.letter_no),
               url_for("desk.detail", request_id=request.id))
    return targets


# ---- the guarantor declines -------------------------------------------------------------------

def next_waiting_guarantor(request: FinancingRequest) -> RequestTarget | None:
    """The best-ranked guarantor waiting its turn that holds the enterprise's valid consent."""
    return db.session.scalar(select(RequestTarget).where(
        RequestTarget.request_id == request.id, RequestTarget.status == "waiting",
        RequestTarget.institution.has(kind="guarantor"),
        valid_consent(request.enterprise_id, RequestTarget.institution_id, today_shanghai()),
    ).order_by(RequestTarget.rank, RequestTarget.id).limit(1))


def after_guarantor_decline(request: FinancingRequest, user, row: Decline) -> RequestTarget | None:
    """After decisions.decline recorded a guarantor's no: guarantor_declined, then the next
    waiting guarantor (by rank) gets the request, or it goes back to the enterprise. Returns
    the next guarantor's target, if any."""
    reason = decline_reasons()[row.reason_code]  # (zh, en)
    label = reason[0]
    link = url_for("financing.detail", request_id=request.id)
    if request.state != State.GUARANTOR_REVIEW:
        notify(enterprise_users(request), "guarantee.declined", later("一家担保机构拒绝了融资申请 #%(id)s", id=request.id),
               later("原因：%(reason)s。", reason=reason), link)
        return None
    apply_transition(request, "decline_guarantee", user, note=f"{label}。{row.note}".rstrip("。") + "。",
                     decline_id=row.id)
    following = next_waiting_guarantor(request)
    if following is not None:
        following.status, following.routed_at = "routed", utcnow()
        apply_transition(request, "reroute_to_guarantor", facts={"has_next_guarantor": True},
                         institutions=[following.institution_id], target_id=following.id)
        notify(institution_staff(following.institution_id, (Role.GUARANTOR_OFFICER,)), "request.routed",
               later("新的融资申请 #%(id)s", id=request.id),
               later("%(enterprise)s 申请融资 %(amount)s，期限 %(term)s 天，已推送贵机构申请担保。",
                 enterprise=request.enterprise.name, amount=yuan(request.amount), term=request.term_days),
               url_for("desk.detail", request_id=request.id))
        body = later("原因：%(reason)s。已推送给下一家担保机构：%(name)s。", reason=reason, name=following.institution.name)
    else:
        apply_transition(request, "return_after_guarantor",
                         note="没有其他可推送的担保机构，请根据拒绝原因调整后重新提交")
        body = later("原因：%(reason)s。没有其他担保机构可以推送，申请已退回。", reason=reason)
    notify(enterprise_users(request), "guarantee.declined", later("担保机构拒绝了融资申请 #%(id)s", id=request.id),
           body, link)
    return following
