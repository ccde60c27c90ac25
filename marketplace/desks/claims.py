"""Claims: a staff member takes a routed request before working it, alone.

A claim is one open Assignment row per target; the partial unique index lets exactly one of two
racing INSERTs commit, on PostgreSQL and SQLite alike, whatever the connections. "Take the next
one" picks a free target with SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, so two officers
pressing it together get different requests. An idle claim expires back to the queue after
CLAIM_IDLE_WORKING_DAYS working days (the beat task expire_idle_claims).
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from marketplace import audit
from marketplace.accounts.roles import Role
from marketplace.db import utcnow
from marketplace.desks.models import Assignment
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.financing.services import apply_transition
from marketplace.formatting import today_shanghai
from marketplace.supermarket.models import RequestTarget
from marketplace.verification.routed import visible_to_institution
from marketplace.workcalendar.services import working_calendar
from workflows.financing import State

# Target statuses a desk works (routed: in the queue, not yet started).
WORKABLE_STATUSES = ("routed", "reviewing", "info_requested", "offered")
START_REVIEW = {State.ROUTED_TO_BANK: "start_bank_review", State.ROUTED_TO_GUARANTOR: "start_guarantor_review"}
STAFF_ROLES = {"bank": (Role.BANK_OFFICER, Role.BANK_APPROVER),
               "guarantor": (Role.GUARANTOR_OFFICER, Role.GUARANTOR_APPROVER)}


class ClaimRefused(ValueError):
    """The claim cannot be made; the message says why (in the user's language)."""


class ClaimLost(ClaimRefused):
    """Someone else holds the request."""


def open_assignment(target_id: int) -> Assignment | None:
    return db.session.scalar(select(Assignment).where(Assignment.target_id == target_id,
                                                      Assignment.ended_at.is_(None)))


def idle_deadline(moment: datetime) -> datetime:
    days = current_app.config["CLAIM_IDLE_WORKING_DAYS"]
    return working_calendar().add_working_days(moment, days)


def can_work(target: RequestTarget, user) -> bool:
    """Whether `user` is staff of the target's institution."""
    return user.organisation_id == target.institution_id and user.role in STAFF_ROLES.get(
        target.institution.kind, ())


def claim(target: RequestTarget, user) -> Assignment:
    """Claim the target for `user` or raise ClaimRefused / ClaimLost; the caller commits."""
    if not can_work(target, user):
        raise ClaimRefused(_("只能认领推送给本机构的申请"))
    if target.status not in WORKABLE_STATUSES:
        raise ClaimRefused(_("该申请已处理完毕，不能认领"))
    now = utcnow()
    assignment = Assignment(target_id=target.id, request_id=target.request_id, institution_id=target.institution_id,
                            user_id=user.id, claimed_at=now, touched_at=now, expires_at=idle_deadline(now))
    try:
        with db.session.begin_nested():
            db.session.add(assignment)
            db.session.flush()
    except IntegrityError:
        holder = open_assignment(target.id)
        name = holder.user.name if holder is not None else _("其他同事")
        if holder is not None and holder.user_id == user.id:
            raise ClaimLost(_("您已认领该申请")) from None
        raise ClaimLost(_("该申请已由%(name)s认领，请处理其他申请", name=name)) from None
    audit.record("desk.claimed", assignment, enterprise_id=target.request.enterprise_id, actor=user,
                 request_id=target.request_id, target_id=target.id)
    _start_review(target, user)
    return assignment


def _start_review(target: RequestTarget, user) -> None:
    """The first claim starts the institution's review (and the request's, if it is the first)."""
    if target.status == "routed":
        target.status = "reviewing"
    request = target.request
    transition = START_REVIEW.get(request.state)
    if transition is not None:
        apply_transition(request, transition, user, target_id=target.id)


def release(target: RequestTarget, user, reason: str = "released") -> Assignment:
    """End the open claim (the holder releasing it, or the work being decided)."""
    assignment = open_assignment(target.id)
    if assignment is None:
        raise ClaimRefused(_("该申请当前没有人认领"))
    if reason == "released" and assignment.user_id != user.id:
        raise ClaimRefused(_("只能释放自己认领的申请"))
    end(assignment, reason, actor=user)
    return assignment


def end(assignment: Assignment, reason: str, actor=None) -> None:
    assignment.ended_at = utcnow()
    assignment.end_reason = reason
    audit.record(f"desk.claim_{reason}", assignment, actor=actor, request_id=assignment.request_id,
                 target_id=assignment.target_id, user_id=assignment.user_id)


def end_all(request_id: int, reason: str) -> None:
    """End every open claim on the request (it was decided, accepted elsewhere or withdrawn)."""
    for assignment in db.session.scalars(select(Assignment).where(Assignment.request_id == request_id,
                                                                  Assignment.ended_at.is_(None))):
        end(assignment, reason)


def held_by(target: RequestTarget, user) -> Assignment:
    """The open claim, which must be `user`'s: work on a request needs the claim."""
    assignment = open_assignment(target.id)
    if assignment is None or assignment.user_id != user.id:
        raise ClaimRefused(_("请先认领该申请再处理") if assignment is None
                           else _("该申请已由%(name)s认领", name=assignment.user.name))
    return assignment


def touch(assignment: Assignment) -> None:
    """Work on the claim keeps it: the idle clock starts again."""
    now = utcnow()
    assignment.touched_at = now
    assignment.expires_at = idle_deadline(now)


def claim_next(user) -> Assignment | None:
    """Claim the oldest unclaimed request in the user's institution's queue (those it may still
    see: within the enterprise's consent), skipping rows that another transaction is claiming at
    this moment (FOR UPDATE SKIP LOCKED on PostgreSQL).

    A target another officer claimed and committed just after this query's snapshot is neither
    locked nor seen as taken, so the claim can still lose: then the next free one is tried, until
    one is claimed or none is left (each query sees the claims committed before it)."""
    taken = select(Assignment.target_id).where(Assignment.ended_at.is_(None))
    lost: list[int] = []
    while True:
        query = (select(RequestTarget)
                 .join(FinancingRequest, FinancingRequest.id == RequestTarget.request_id)
                 .where(RequestTarget.institution_id == user.organisation_id,
                        RequestTarget.status.in_(WORKABLE_STATUSES), RequestTarget.id.not_in(taken),
                        visible_to_institution(user.organisation_id, today_shanghai()))
                 .order_by(RequestTarget.routed_at, RequestTarget.id)
                 .limit(1)
                 .with_for_update(skip_locked=True, of=RequestTarget))
        if lost:
            query = query.where(RequestTarget.id.not_in(lost))
        target = db.session.scalar(query)
        if target is None:
            return None
        try:
            return claim(target, user)
        except ClaimLost:
            lost.append(target.id)


def expire_idle(now: datetime | None = None) -> int:
    """Return idle claims to the queue; returns how many expired."""
    now = now or utcnow()
    expired = list(db.session.scalars(select(Assignment).where(Assignment.ended_at.is_(None),
                                                               Assignment.expires_at <= now)))
    for assignment in expired:
        ended = db.session.execute(
            update(Assignment).where(Assignment.id == assignment.id, Assignment.ended_at.is_(None))
            .values(ended_at=now, end_reason="expired")).rowcount
        if ended:
            db.session.refresh(assignment)
            audit.record("desk.claim_expired", assignment, request_id=assignment.request_id,
                         target_id=assignment.target_id, user_id=assignment.user_id)
    return len(expired)
