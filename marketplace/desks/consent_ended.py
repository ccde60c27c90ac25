"""When the enterprise's consent to an institution ends (revoked, or past its validity dates),
the institution's part of every request it was still reviewing closes, as a decline would: its
open offers and unaccepted guarantee offer close, its claim ends, its target closes. When it was
the last institution of its kind holding the request, the request goes on to the next bank or
waiting guarantor that holds a consent, or back to the enterprise. The enterprise and the
institution's staff are told.

Parts the enterprise already accepted (an accepted offer or guarantee) are a contract, not a
review: they stay. Subscribed at app start to enterprises.signals.consent_revoked; the daily
beat task (desks.tasks) sweeps consents that expired.
"""

from __future__ import annotations

from collections import defaultdict

from flask import url_for
from sqlalchemy import select

from marketplace import audit
from marketplace.accounts.people import enterprise_users, institution_staff
from marketplace.db import utcnow
from marketplace.desks import claims
from marketplace.desks.decisions import ACTIVE_BANK_STATUSES
from marketplace.desks.models import Offer
from marketplace.enterprises.consents import ROUTING_SCOPE, valid_consent
from marketplace.enterprises.signals import consent_granted, consent_revoked
from marketplace.extensions import db
from marketplace.financing import routing
from marketplace.financing.models import FinancingRequest
from marketplace.financing.services import apply_transition
from marketplace.formatting import today_shanghai
from marketplace.guarantees import services as guarantees
from marketplace.guarantees.models import Guarantee
from marketplace.notifications.messages import later, listing
from marketplace.notifications.services import notify
from marketplace.supermarket.matching import ranked_matches
from marketplace.supermarket.models import RequestTarget
from workflows.financing import State

# a target in these statuses is still being reviewed (or waits its turn): consent must hold
UNDER_REVIEW = ("routed", "waiting", "reviewing", "info_requested", "offered")
BANK_HOLDING_STATES = (State.ROUTED_TO_BANK, State.BANK_REVIEW, State.INFO_REQUESTED, State.OFFER_MADE)
GUARANTOR_HOLDING_STATES = (State.ROUTED_TO_GUARANTOR, State.GUARANTOR_REVIEW, State.GUARANTEE_OFFERED)
GUARANTOR_ACTIVE = ("routed", "reviewing", "info_requested", "offered")
WHY = {"revoked": ("企业已撤销授权", "the enterprise revoked its consent"),
       "expired": ("企业的授权已过期", "the enterprise's consent expired")}


def parts_without_consent(enterprise_id: int | None = None, institution_id: int | None = None) -> list[RequestTarget]:
    """Targets under review whose institution no longer holds the enterprise's valid consent."""
    query = (select(RequestTarget).join(FinancingRequest, FinancingRequest.id == RequestTarget.request_id)
             .where(RequestTarget.status.in_(UNDER_REVIEW),
                    ~valid_consent(FinancingRequest.enterprise_id, RequestTarget.institution_id, today_shanghai()))
             .order_by(RequestTarget.request_id, RequestTarget.rank, RequestTarget.id))
    if enterprise_id is not None:
        query = query.where(FinancingRequest.enterprise_id == enterprise_id)
    if institution_id is not None:
        query = query.where(RequestTarget.institution_id == institution_id)
    return list(db.session.scalars(query))


def close_parts_without_consent(enterprise_id: int | None = None, institution_id: int | None = None,
                                why: str = "expired", actor=None) -> list[int]:
    """Close every part found by parts_without_consent; returns the requests concerned."""
    by_request: dict[int, list[RequestTarget]] = defaultdict(list)
    for target in parts_without_consent(enterprise_id, institution_id):
        by_request[target.request_id].append(target)
    for targets in by_request.values():
        request = targets[0].request
        seen = [t for t in targets if t.status != "waiting"]  # a waiting guarantor never saw it
        kinds = {t.institution.kind for t in seen}
        for target in targets:
            close_part(target, why, actor)
        outcome = _carry_on(request, kinds, why)
        _tell(request, seen, why, outcome)
    return list(by_request)


def close_part(target: RequestTarget, why: str, actor=None) -> None:
    """The institution's part: offers, a guarantee not yet accepted, its claim, its target. A
    guarantor still waiting its turn never had the request: its target simply goes."""
    if target.status == "waiting":
        audit.record("desk.consent_ended", target, enterprise_id=target.request.enterprise_id, actor=actor,
                     request_id=target.request_id, institution_id=target.institution_id, why=why,
                     target_status="waiting")
        db.session.delete(target)
        db.session.flush()
        return
    now = utcnow()
    for offer in db.session.scalars(select(Offer).where(Offer.target_id == target.id,
                                                        Offer.status.in_(("pending_approval", "made")))):
        offer.status, offer.decided_at = ("withdrawn" if offer.status == "pending_approval" else "closed"), now
    for guarantee in db.session.scalars(select(Guarantee).where(Guarantee.target_id == target.id,
                                                                Guarantee.status == "offered")):
        guarantee.status = "closed"
    held = claims.open_assignment(target.id)
    if held is not None:
        claims.end(held, "closed")
    previous, target.status = target.status, "closed"
    db.session.flush()
    audit.record("desk.consent_ended", target, enterprise_id=target.request.enterprise_id, actor=actor,
                 request_id=target.request_id, institution_id=target.institution_id, why=why,
                 target_status=previous)


def _carry_on(request: FinancingRequest, kinds: set[str], why: str) -> str:
    """What becomes of the request once the parts closed: "holding" (others still hold it),
    "rerouted", "returned" or "unchanged" (no part of the current stage closed)."""
    note = f"{WHY[why][0]}，该机构退出审查"
    if "bank" in kinds and request.state in BANK_HOLDING_STATES:
        return _carry_on_banks(request, note)
    if "guarantor" in kinds and request.state in GUARANTOR_HOLDING_STATES:
        return _carry_on_guarantors(request, note)
    return "unchanged"


def _carry_on_banks(request: FinancingRequest, note: str) -> str:
    holding = db.session.scalar(select(RequestTarget.id).where(
        RequestTarget.request_id == request.id, RequestTarget.status.in_(ACTIVE_BANK_STATUSES)).limit(1))
    if holding is not None:
        live_offer = db.session.scalar(select(Offer.id).where(Offer.request_id == request.id,
                                                              Offer.status == "made").limit(1))
        if request.state == State.OFFER_MADE and live_offer is None:
            apply_transition(request, "resume_bank_review", note=note)
        return "holding"
    apply_transition(request, "consent_ended_bank", note=note)
    targets = routing.routing_targets(request, "bank")
    if targets:
        routing.mark_routed(targets, "bank")
        apply_transition(request, "reroute_to_bank", facts={"has_next_bank": True},
                         institutions=[t.institution_id for t in targets])
        routing.tell_institutions(request, targets, "bank")
        return "rerouted"
    waiting = routing.awaiting_consent(request, "bank")
    apply_transition(request, "return_after_bank", note=routing.consent_note("bank", waiting) if waiting
                     else "没有其他可推送的银行，请调整后重新提交", awaiting_consent=[o.id for o in waiting])
    return "returned"


def _carry_on_guarantors(request: FinancingRequest, note: str) -> str:
    holding = db.session.scalar(select(RequestTarget.id).where(
        RequestTarget.request_id == request.id, RequestTarget.status.in_(GUARANTOR_ACTIVE),
        RequestTarget.institution.has(kind="guarantor")).limit(1))
    if holding is not None:
        return "holding"
    apply_transition(request, "consent_ended_guarantor", note=note)
    following = guarantees.next_waiting_guarantor(request)
    if following is not None:
        following.status, following.routed_at = "routed", utcnow()
        apply_transition(request, "reroute_to_guarantor", facts={"has_next_guarantor": True},
                         institutions=[following.institution_id], target_id=following.id)
        routing.tell_institutions(request, [following], "guarantor")
        return "rerouted"
    apply_transition(request, "return_after_guarantor", note="没有其他可推送的担保机构，请调整后重新提交")
    return "returned"


def _tell(request: FinancingRequest, closed: list[RequestTarget], why: str, outcome: str) -> None:
    if not closed:
        return
    names = listing(t.institution.name for t in closed)
    follow = {"holding": later("其他机构仍在处理您的申请。"), "rerouted": later("申请已推送给下一家机构。"),
              "returned": later("没有其他已授权的机构可以推送，申请已退回；可授权其他机构后重新提交。"),
              "unchanged": ""}[outcome]
    reason = later("您已撤销授权") if why == "revoked" else later("您的授权已过期")
    notify(enterprise_users(request), "consent.review_closed",
           later("融资申请 #%(id)s：%(names)s 已停止审查", id=request.id, names=names),
           later("%(reason)s，%(names)s 对该申请的审查已终止，其报价或担保方案随之关闭。%(follow)s", reason=reason,
                 names=names, follow=follow),
           url_for("financing.detail", request_id=request.id))
    for target in closed:
        notify(institution_staff(target.institution_id), "consent.review_closed",
               later("融资申请 #%(id)s 已关闭：企业授权已终止", id=request.id),
               later("%(enterprise)s %(reason)s，贵机构不能再查看该申请及其材料，对该申请的审查、报价或担保方案已关闭。",
                     enterprise=request.enterprise.name,
                     reason=later("撤销了授权") if why == "revoked" else later("的授权已过期")),
               url_for("desk.index"))


@consent_revoked.connect
def on_consent_revoked(consent, actor=None, **_kwargs) -> list[int]:
    """The revoked consent's institution stops reviewing the enterprise's requests (unless another
    valid consent of the enterprise still covers it)."""
    return close_parts_without_consent(consent.enterprise_id, consent.grantee_org_id, "revoked", actor)


@consent_granted.connect
def on_consent_granted(consent, actor=None, **_kwargs) -> list[int]:
    """Guaranteed requests that waited for a bank holding a consent go to this bank now, when
    one of its products fits them."""
    if consent.grantee.kind != "bank" or not consent.covers(ROUTING_SCOPE, today_shanghai()):
        return []
    waiting = db.session.scalars(select(FinancingRequest).where(
        FinancingRequest.enterprise_id == consent.enterprise_id, FinancingRequest.state == State.GUARANTEED))
    routed = []
    for request in waiting:
        guarantee = guarantees.issued_guarantee(request.id)
        fits = any(m.eligible and m.institution_id == consent.grantee_org_id for m in ranked_matches(request))
        if guarantee is not None and fits and guarantees.route_to_banks(request, guarantee):
            routed.append(request.id)
    return routed
