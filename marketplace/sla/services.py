"""SLA clocks on financing requests: the due moment of each state, and the sweep that marks
late requests stuck and tells the people concerned (the rules: workflows.sla).

Configuration: SLA_WORKING_DAYS overrides the default working days per state
(workflows.sla.DEFAULT_SLA_DAYS); WORKING_DAY_TABLE gives the public holidays and make-up
working days (marketplace.workcalendar: with the years a platform admin sets, over
chinese_calendar and the holidays package, workflows.working_days).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import select

from marketplace import audit
from marketplace.accounts.models import Organisation, User
from marketplace.accounts.people import enterprise_users
from marketplace.accounts.roles import OrgKind, Role
from marketplace.db import utcnow
from marketplace.events import RequestTransitioned, request_transitioned
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.formatting import ymd_hm
from marketplace.notifications.messages import later
from marketplace.notifications.services import notify
from marketplace.reference.regions import region_covers
from marketplace.supermarket.models import RequestTarget
from marketplace.workcalendar.services import working_calendar
from workflows import sla
from workflows.financing import ACTIVE_STATES, STATE_LABELS, State
from workflows.working_days import WorkingCalendar

# Target statuses of an institution that holds the request (its desk has it in hand).
HOLDING_TARGET_STATUSES = ("routed", "reviewing", "info_requested", "offered", "accepted")
STAFF_ROLES = {
    sla.BANK: (Role.BANK_OFFICER, Role.BANK_APPROVER),
    sla.GUARANTOR: (Role.GUARANTOR_OFFICER, Role.GUARANTOR_APPROVER),
}


def sla_days() -> dict[State, float | None]:
    return sla.sla_table(current_app.config.get("SLA_WORKING_DAYS") or {})


def timeline(request: FinancingRequest, without=None) -> list[sla.Entry]:
    """The request's workflow events as SLA timeline entries, in order (leaving out the row
    `without`: the transition being entered, whose clock starts at request.state_changed_at)."""
    with db.session.no_autoflush:
        events = [e for e in request.events if e is not without]
    return [sla.Entry(e.to_state, e.from_state, e.occurred_at or request.state_changed_at) for e in events]


def compute_due_at(request: FinancingRequest, calendar: WorkingCalendar | None = None,
                   entering=None) -> datetime | None:
    """When the request's current state becomes late, counted from request.state_changed_at.

    Entering bank_review back from info_requested resumes the review clock with the working
    time it had left when the bank asked its question.
    """
    calendar = calendar or working_calendar()
    state = State(request.state)
    entered = request.state_changed_at
    used = timedelta(0)
    if state in sla.PAUSES.values():
        used = sla.clock_used(state, timeline(request, without=entering), entered, calendar)
    return sla.due_at(state, entered, calendar, sla_days(), already_used=used)


def on_state_change(request: FinancingRequest, entering=None) -> None:
    """Start the clock of the state the request just entered (`entering`: the timeline row of
    that transition, counted from request.state_changed_at rather than as a past stay)."""
    request.stuck = False
    request.sla_due_at = compute_due_at(request, entering=entering)


@request_transitioned.connect
def _on_transitioned(_request, *, event: RequestTransitioned) -> None:
    """Every transition restarts the clock (subscribed at app start)."""
    on_state_change(event.request, entering=event.row)


def recompute(now: datetime | None = None) -> int:
    """Recompute the due moment of every active request (after a change of SLA_WORKING_DAYS or
    WORKING_DAY_TABLE); a stuck request whose new due moment lies ahead is no longer stuck.
    Returns how many due moments changed."""
    now = now or utcnow()
    calendar = working_calendar()
    changed = 0
    requests = db.session.scalars(select(FinancingRequest).where(FinancingRequest.state.in_(ACTIVE_STATES))
                                  .order_by(FinancingRequest.id).with_for_update(skip_locked=True)).all()
    for request in requests:
        due = compute_due_at(request, calendar)
        if due != request.sla_due_at:
            changed += 1
            request.sla_due_at = due
            if request.stuck and not sla.is_breached(due, now):
                request.stuck = False
                audit.record("financing.sla_cleared", request, enterprise_id=request.enterprise_id,
                             state=request.state, sla_due_at=due)
    db.session.flush()
    return changed


def sweep_breaches(now: datetime | None = None) -> list[int]:
    """Mark stuck every active request whose clock ran out, once, and tell who is concerned.

    Requests already stuck are left alone, so a second sweep does nothing more; rows another
    sweep holds are skipped (it is marking them). Returns the ids newly marked; the caller commits.
    """
    now = now or utcnow()
    late = db.session.scalars(
        select(FinancingRequest)
        .where(FinancingRequest.state.in_(ACTIVE_STATES), FinancingRequest.stuck.is_(False),
               FinancingRequest.sla_due_at.is_not(None), FinancingRequest.sla_due_at < now)
        .order_by(FinancingRequest.sla_due_at, FinancingRequest.id)
        .with_for_update(skip_locked=True)
    ).all()
    for request in late:
        request.stuck = True
        audit.record("financing.sla_breached", request, enterprise_id=request.enterprise_id,
                     state=request.state, sla_due_at=request.sla_due_at, swept_at=now)
        _tell_about_breach(request)
    db.session.flush()
    return [request.id for request in late]


# ---- who is told ---------------------------------------------------------------------------

def institution_staff(request: FinancingRequest, kind: str) -> list[User]:
    """Officers and approvers of the institutions of `kind` holding the request."""
    return list(db.session.scalars(
        select(User)
        .join(RequestTarget, RequestTarget.institution_id == User.organisation_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(RequestTarget.request_id == request.id, RequestTarget.status.in_(HOLDING_TARGET_STATUSES),
               Organisation.kind == kind, Organisation.active, User.active, User.role.in_(STAFF_ROLES[kind]))
        .order_by(User.id)
    ))


def bureau_coordinators(request: FinancingRequest) -> list[User]:
    """Coordinators of the bureaus whose region holds the enterprise (a bureau without a region:
    everywhere). A bureau's code covers the codes it prefixes once its trailing 00s are dropped:
    320500 (Suzhou) covers 320505; 320000 (Jiangsu) covers both."""
    region = request.enterprise.region_code or ""
    users = db.session.scalars(
        select(User).join(Organisation, Organisation.id == User.organisation_id)
        .where(User.role == Role.BUREAU_COORDINATOR, User.active, Organisation.active,
               Organisation.kind == OrgKind.BUREAU)
        .order_by(User.id)
    )
    return [user for user in users if region_covers(user.organisation.region_code, region)]


def platform_admins() -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.role == Role.PLATFORM_ADMIN, User.active).order_by(User.id)))



def _link(endpoint: str, **values) -> str | None:
    try:
        return url_for(endpoint, **values)
    except RuntimeError:  # no request context (a bare shell): the notification goes without a link
        return None


def _tell_about_breach(request: FinancingRequest) -> None:
    state = State(request.state)
    parties = sla.PARTIES[state]
    due = ymd_hm(request.sla_due_at)
    label = STATE_LABELS[state]  # (zh, en): each reader sees the state in their own language
    title = later("融资申请 #%(id)s 已超时：%(state)s", id=request.id, state=label)
    if sla.ENTERPRISE in parties:
        _send(enterprise_users(request), title,
              later("您的融资申请 #%(id)s 处于“%(state)s”状态，处理时限（%(due)s）已过，请尽快处理。",
                    id=request.id, state=label, due=due),
              _link("financing.detail", request_id=request.id))
    staff_body = later("%(enterprise)s 的融资申请 #%(id)s 处于“%(state)s”状态，处理时限（%(due)s）已过，"
                       "已标记为超时。", enterprise=request.enterprise.name, id=request.id, state=label, due=due)
    for kind in (sla.BANK, sla.GUARANTOR):
        if kind in parties:
            _send(institution_staff(request, kind), title, staff_body,
                  _link("desk.detail", request_id=request.id))
    if sla.PLATFORM in parties:
        _send(platform_admins(), title, staff_body, None)
    _send(bureau_coordinators(request), title, staff_body, None)


def _send(users: Iterable[User], title: dict, body: dict, link: str | None) -> None:
    users = list(users)
    if users:
        notify(users, "sla.breached", title, body, link)
