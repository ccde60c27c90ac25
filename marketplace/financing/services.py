"""Financing request verbs. Each asks workflows.financing whether the transition is allowed,
then changes the state and writes the timeline event and the audit event in the caller's
transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace import audit, events
from marketplace.db import utcnow
from marketplace.enterprises import profile as enterprise_profile
from marketplace.enterprises.services import current_signature
from marketplace.extensions import db
from marketplace.financing import targets
from marketplace.financing.models import FinancingRequest, RequestPledge, WorkflowEvent
from marketplace.receivables.models import Receivable
from marketplace.supermarket.matching import ranked_matches
from workflows.engine import SYSTEM, Reason, TransitionError
from workflows.financing import EDITABLE_STATES, FINANCING, TERMINAL_STATES, RequestFacts, State


class PledgeConflict(ValueError):
    """A receivable is already pledged to another active request."""


class StaleRequest(ValueError):
    """Someone changed the request since the form was loaded (optimistic lock)."""


def pledged_receivable_ids(enterprise_id: int) -> set[int]:
    """Receivables of the enterprise that back an active request."""
    return set(db.session.scalars(
        select(RequestPledge.receivable_id)
        .join(Receivable, Receivable.id == RequestPledge.receivable_id)
        .where(Receivable.enterprise_id == enterprise_id, RequestPledge.active)
    ))


def requests_holding_pledges(enterprise_id: int) -> list[FinancingRequest]:
    """The enterprise's requests that some of its receivables are pledged to, newest first."""
    return list(db.session.scalars(
        select(FinancingRequest).where(
            FinancingRequest.enterprise_id == enterprise_id,
            FinancingRequest.id.in_(select(RequestPledge.request_id).where(RequestPledge.active)),
        ).order_by(FinancingRequest.id.desc())
    ))


def is_pledged(receivable_id: int) -> bool:
    return db.session.scalar(
        select(RequestPledge.id).where(RequestPledge.receivable_id == receivable_id, RequestPledge.active).limit(1)
    ) is not None


def pledgeable_receivables(enterprise_id: int, request: FinancingRequest | None = None) -> list[Receivable]:
    """Receivables free to pledge, plus those already pledged to `request`."""
    taken = pledged_receivable_ids(enterprise_id)
    if request is not None:
        taken -= {p.receivable_id for p in request.active_pledges}
    rows = db.session.scalars(
        select(Receivable).where(Receivable.enterprise_id == enterprise_id).order_by(Receivable.due_date)
    )
    return [r for r in rows if r.id not in taken]


def request_facts(request: FinancingRequest) -> RequestFacts:
    """What the workflow guards look at, read from the rows."""
    return RequestFacts(
        state=request.state,
        amount=request.amount,
        term_days=request.term_days,
        pledged_count=len(request.active_pledges),
        pledged_total=request.pledged_total,
        commitment_signed=current_signature(request.enterprise) is not None,
        profile_complete=enterprise_profile.is_complete(request.enterprise),
    )


def apply_transition(request: FinancingRequest, name: str, user=None, note: str | None = None,
                     facts: dict | None = None, extra: dict | None = None, **audit_details) -> WorkflowEvent:
    """Check and apply one transition, then publish it (marketplace.events); the caller commits.

    `facts` supplies what the rows do not hold (e.g. the classification a verification report
    decided); the guards see them, and the audit event records them. `extra` travels with the
    published event only (e.g. submit_request asks for the verification to be queued).
    """
    actor = user.actor if user is not None else SYSTEM
    transition = FINANCING.check(name, replace(request_facts(request), **(facts or {})), actor)
    from_state = request.state
    request.state = transition.target
    request.state_changed_at = utcnow()
    if transition.target == State.SUBMITTED:
        request.submitted_at = request.state_changed_at
    if transition.target in TERMINAL_STATES:
        _release_pledges(request)
    event = WorkflowEvent(request=request, transition=name, from_state=from_state, to_state=request.state,
                          actor_user_id=getattr(user, "id", None), actor_org_id=getattr(user, "organisation_id", None),
                          note=note)
    db.session.add(event)
    db.session.flush()
    if facts:
        audit_details["facts"] = facts
    audit.record(f"financing.{name}", request, enterprise_id=request.enterprise_id, actor=user,
                 from_state=from_state, to_state=request.state, **audit_details)
    events.publish(events.RequestTransitioned(
        request=request, transition=name, from_state=from_state, to_state=request.state, actor=user, row=event,
        facts=MappingProxyType(dict(facts or {})), extra=MappingProxyType(dict(extra or {}))))
    return event


def _release_pledges(request: FinancingRequest) -> None:
    now = utcnow()
    for pledge in request.active_pledges:
        pledge.active = False
        pledge.released_at = now


def _set_pledges(request: FinancingRequest, receivable_ids: Iterable[int]) -> None:
    """Make the request's active pledges exactly `receivable_ids`, relying on the database's
    partial unique index as the last word on double pledging.

    The savepoint opens before any change (begin_nested flushes what is pending first), so a
    refusal rolls back only these pledge changes.
    """
    wanted = set(receivable_ids)
    owned = {
        r.id for r in db.session.scalars(
            select(Receivable).where(Receivable.id.in_(wanted), Receivable.enterprise_id == request.enterprise_id)
        )
    }
    if owned != wanted:
        raise PledgeConflict("所选应收账款不存在或不属于本企业")
    try:
        with db.session.begin_nested():
            for pledge in list(request.pledges):
                if pledge.receivable_id not in wanted:
                    request.pledges.remove(pledge)
            present = {p.receivable_id for p in request.pledges}
            for pledge in request.pledges:
                pledge.active = True
            for receivable_id in sorted(wanted - present):
                request.pledges.append(RequestPledge(receivable_id=receivable_id, active=True))
            db.session.flush()
    except IntegrityError as error:
        raise PledgeConflict("所选应收账款中有已被其他有效融资申请质押的，同一笔应收账款只能支持一笔融资申请") from error


def create_request(enterprise, user, *, amount: Decimal, term_days: int, purpose: str,
                   receivable_ids: Iterable[int]) -> FinancingRequest:
    request = FinancingRequest(enterprise_id=enterprise.id, amount=amount, term_days=term_days,
                               purpose=purpose.strip(), state=State.DRAFT, created_by_id=user.id)
    db.session.add(request)
    db.session.flush()
    _set_pledges(request, receivable_ids)
    db.session.add(WorkflowEvent(request=request, transition="create", from_state=None, to_state=State.DRAFT,
                                 actor_user_id=user.id, actor_org_id=user.organisation_id))
    audit.record("financing.create", request, enterprise_id=enterprise.id, actor=user, amount=amount,
                 term_days=term_days)
    return request


def check_version(request: FinancingRequest, version: int | None) -> None:
    """The optimistic lock: a change must name the version it was made from; a missing version
    is refused like a stale one (a form without it would overwrite newer data unseen)."""
    if version is None or version != request.version:
        raise StaleRequest("该申请已被修改（可能是您在另一个窗口中的操作），请刷新页面后重试")


def update_request(request: FinancingRequest, user, *, amount: Decimal, term_days: int, purpose: str,
                   receivable_ids: Iterable[int]) -> None:
    if request.state not in EDITABLE_STATES:
        raise TransitionError("edit", [Reason("not_editable", "当前状态下不能修改申请", "The request cannot be edited now")])
    request.amount = amount
    request.term_days = term_days
    request.purpose = purpose.strip()
    _set_pledges(request, receivable_ids)
    audit.record("financing.update", request, enterprise_id=request.enterprise_id, actor=user, amount=amount,
                 term_days=term_days)


def blocking_reasons(request: FinancingRequest, name: str, user) -> list[Reason]:
    """Why `user` cannot apply `name` now (empty when they can)."""
    try:
        FINANCING.check(name, request_facts(request), user.actor)
    except TransitionError as error:
        return error.reasons
    return []


def submit_request(request: FinancingRequest, user, product_ids=None) -> WorkflowEvent:
    """Submit with the products the enterprise picked (or none: the top matches), and queue the
    verification once the transaction commits (the verification package hears the published
    event; a bare apply_transition("submit") queues nothing)."""
    ranked = ranked_matches(request)
    chosen = targets.choose_targets(request, product_ids, ranked)
    event = apply_transition(request, "submit", user, extra={"queue_verification": True},
                             targets=[t.institution_id for t in chosen])
    targets.record_submission_statistics(ranked, chosen)
    return event
