"""The stuck list: requests of a region that wait on someone past their time, each with how long,
who holds it and why.

Only open requests (not closed, not withdrawn) of enterprises in the bureau's region count; one
entry per request and kind, longest stuck first. Each kind is one SQL query that filters in the
database, read two ways: its keys (request, moment: `stuck_keys`), which order and count the
whole list, and its entries with the names of who holds them (`stuck_entries`, for the export and
a meeting's agenda, or for some requests only). The page (`stuck_page`) reads every kind's keys
and the entries of its own requests alone: at most 2 × len(STUCK_KINDS) queries, and Python work
for one page, whatever the number of requests (a province holds thousands of stuck entries).

Kinds, and the moment each became stuck (`since`):

- sla_breach: the current state's SLA clock (marketplace.sla, in working days) ran out:
  financing_requests.sla_due_at < now. Since: the due moment. Holder: the parties of the state
  (workflows.sla.PARTIES): the holding banks or guarantors, the enterprise, or the platform.
- debtor_unanswered: a receivable pledged to the request, still pending, whose confirmation
  link expired unused and unrevoked, with no live link sent since. Since: the latest such expiry
  (the earliest over the request's receivables). Holder: the debtor(s). Only while a lender's
  decision is still to come (submitted .. offer_made, not returned).
- idle_claim: a desk's open claim untouched for BUREAU_IDLE_CLAIM_WORKING_DAYS working days
  (default 1; the claim itself expires back to the queue after CLAIM_IDLE_WORKING_DAYS) while
  the institution has the next move (its target routed or reviewing; not while it waits for the
  enterprise's answer or its acceptance of an offer).
  Since: last touched + the threshold. Holder: the institution and the officer holding it.
- info_unanswered: an institution's question to the enterprise (desks InfoRequest) unanswered
  for BUREAU_INFO_UNANSWERED_WORKING_DAYS working days (default: the info_requested SLA, 5) while
  the institution still waits for it. Since: asked + the threshold. Holder: the enterprise.
- no_bank_for_guaranteed: the guarantee was issued BUREAU_NO_BANK_WORKING_DAYS working days ago
  (default: the guaranteed and routed_to_bank SLAs together, 1 + 2) and no bank has taken the
  request up (it is still guaranteed, routed_to_bank or bank_declined). Since: issued + the
  threshold. Holder: the banks it was routed to, or the platform when none fitted.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache, cached_property

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased

from marketplace.accounts.models import Organisation, User
from marketplace.bureau.region import in_region
from marketplace.db import as_utc, utcnow
from marketplace.desks.models import Assignment, InfoRequest
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest, RequestPledge
from marketplace.formatting import ymd, ymd_hm
from marketplace.guarantees.models import Guarantee
from marketplace.i18n import is_english
from marketplace.pagination import Page
from marketplace.receivables.models import ConfirmationLink, Receivable
from marketplace.sla.services import HOLDING_TARGET_STATUSES, sla_days
from marketplace.supermarket.models import RequestTarget
from marketplace.workcalendar.services import working_calendar
from workflows import sla
from workflows.financing import ACTIVE_STATES, State, state_label
from workflows.working_days import WorkingCalendar

STUCK_KINDS = ("sla_breach", "debtor_unanswered", "idle_claim", "info_unanswered", "no_bank_for_guaranteed")

# Where a debtor's silence still holds the decision up.
AWAITING_DECISION_STATES = tuple(sorted(
    ACTIVE_STATES - {State.DRAFT, State.RETURNED, State.OFFER_ACCEPTED, State.DISBURSED, State.REPAYING}))
# Guaranteed, and no bank has taken it up yet.
NO_BANK_STATES = (State.GUARANTEED, State.ROUTED_TO_BANK, State.BANK_DECLINED)
OPEN_STATES = tuple(sorted(ACTIVE_STATES))
# A claim is idle only while its institution has the next move (not when it waits for the
# enterprise's answer to a question or to an offer).
INSTITUTION_MOVES_STATUSES = ("routed", "reviewing")
SEP = "、"
MAX_ID = 2**31 - 1  # an INTEGER key's largest value


@dataclass(frozen=True)
class StuckEntry:
    request_id: int
    kind: str  # one of STUCK_KINDS
    since: datetime  # when it became stuck (UTC, aware)
    holder: str  # who holds it now: an institution's or the enterprise's name
    enterprise_name: str
    region_code: str
    amount: Decimal
    state: str  # the request's state
    detail: str  # one line saying what waits (translated)
    waiting_since: datetime | None = None  # when the wait began (state entered, asked, last touched ...)
    holders: tuple[str, ...] = field(default=())  # the holder's names one by one


def kind_label(kind: str) -> str:
    """The kind's name as the pages show it."""
    return {
        "sla_breach": _("超过处理时限"),
        "debtor_unanswered": _("债务人未确认"),
        "idle_claim": _("认领后未处理"),
        "info_unanswered": _("补充材料未答复"),
        "no_bank_for_guaranteed": _("已担保无银行受理"),
    }[kind]


def thresholds() -> dict[str, float]:
    """The working days after which an idle claim, an unanswered question and a guaranteed
    request no bank took count as stuck (configuration, with defaults from the SLAs)."""
    days = sla_days()
    config = current_app.config
    return {
        "idle_claim": config.get("BUREAU_IDLE_CLAIM_WORKING_DAYS", 1),
        "info_unanswered": config.get("BUREAU_INFO_UNANSWERED_WORKING_DAYS", days.get(State.INFO_REQUESTED) or 5),
        "no_bank_for_guaranteed": config.get(
            "BUREAU_NO_BANK_WORKING_DAYS", (days.get(State.GUARANTEED) or 0) + (days.get(State.ROUTED_TO_BANK) or 0)),
    }


def working_days_before(now: datetime, days: float, calendar: WorkingCalendar) -> datetime:
    """The latest moment t with calendar.add_working_days(t, days) <= now: anything that started
    at or before it has waited `days` working days by now. Found by bisection on the calendar's
    own measure (working_time_between), so the working-day rules live in one place."""
    wanted = timedelta(days=days)
    low = now - wanted
    while calendar.working_time_between(low, now) < wanted:
        low -= timedelta(days=7)
    high = now - wanted  # working time never exceeds calendar time
    if calendar.working_time_between(high, now) >= wanted:
        return high
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if calendar.working_time_between(middle, now) >= wanted:
            low = middle
        else:
            high = middle
    return low.replace(microsecond=0)


def _base_columns():
    return (FinancingRequest.id, FinancingRequest.state, FinancingRequest.amount, Enterprise.name,
            Enterprise.region_code)


def _region_requests(bureau: Organisation, states, request_ids=None):
    """SELECT base columns FROM requests JOIN enterprises, open and in the region (and among
    `request_ids` when given)."""
    query = (select(*_base_columns())
             .join(Enterprise, Enterprise.id == FinancingRequest.enterprise_id)
             .where(FinancingRequest.state.in_([str(s) for s in states]), in_region(Enterprise.region_code, bureau)))
    if request_ids is not None:  # ids from a URL may be anything: only those a row could have
        query = query.where(FinancingRequest.id.in_(sorted(i for i in request_ids if 0 < i <= MAX_ID)))
    return query


class _Collector:
    """Gathers one entry per request from the rows of one kind's query."""

    def __init__(self, kind: str):
        self.kind = kind
        self.base: dict[int, tuple] = {}
        self.since: dict[int, datetime] = {}
        self.waiting: dict[int, datetime | None] = {}
        self.holders: dict[int, list[str]] = defaultdict(list)

    def add(self, row, since: datetime, waiting: datetime | None = None, holder: str | None = None,
            earliest: bool = True) -> None:
        request_id = row[0]
        self.base.setdefault(request_id, tuple(row[:5]))
        since = as_utc(since)
        current = self.since.get(request_id)
        if current is None or (since < current if earliest else since > current):
            self.since[request_id] = since
            self.waiting[request_id] = as_utc(waiting) if waiting else None
        if holder and holder not in self.holders[request_id]:
            self.holders[request_id].append(holder)

    def entries(self, detail, fallback_holder=None) -> list[StuckEntry]:
        result = []
        for request_id, (_id, state, amount, enterprise_name, region_code) in self.base.items():
            holders = self.holders.get(request_id) or ([fallback_holder(request_id)] if fallback_holder else [])
            result.append(StuckEntry(
                request_id=request_id, kind=self.kind, since=self.since[request_id], holder=SEP.join(holders),
                enterprise_name=enterprise_name, region_code=region_code, amount=amount, state=state,
                detail=detail(request_id), waiting_since=self.waiting.get(request_id), holders=tuple(holders)))
        return result


def _labeller():
    """state -> its label in the page's language (looked up once per state, not per row)."""
    locale = "en" if is_english() else "zh"
    return cache(lambda state: state_label(state, locale))


def cached_calendar(calendar: WorkingCalendar | None = None) -> WorkingCalendar:
    """The same calendar, remembering which days are working days: the kinds with a threshold ask
    it for thousands of rows that fall on a few dozen days."""
    calendar = calendar or working_calendar()
    cached = WorkingCalendar.__new__(WorkingCalendar)
    cached.__dict__.update(calendar.__dict__)
    cached.is_working_day = cache(calendar.is_working_day)
    return cached


def _platform() -> str:
    return str(_("平台运营方"))


# ---- the kinds ---------------------------------------------------------------------------------
# Each kind is a query of the region's requests stuck that way (`_<kind>_rows`: the request's base
# columns, filtered, and the moment its wait is measured from), read two ways: its keys alone
# (request, earliest moment: `_keys`), which order and count the whole list, and its entries
# (`_<kind>`: who holds it and why, with names), read for the requests of one page.

@dataclass(frozen=True)
class _Scope:
    """What one reading of the list asks: the bureau, the moment, the thresholds' cut-offs."""

    bureau: Organisation
    now: datetime
    calendar: WorkingCalendar
    limits: dict[str, float]

    @cached_property
    def cutoffs(self) -> dict[str, datetime]:
        return {kind: working_days_before(self.now, days, self.calendar) for kind, days in self.limits.items()}

    def since(self, kind: str, moment: datetime) -> datetime:
        """When a request became stuck, from the moment its wait is measured from."""
        moment = as_utc(moment)
        return self.calendar.add_working_days(moment, self.limits[kind]) if kind in self.limits else moment


def _sla_breach_rows(scope: _Scope, request_ids=None):
    return (_region_requests(scope.bureau, OPEN_STATES, request_ids)
            .where(FinancingRequest.sla_due_at.is_not(None), FinancingRequest.sla_due_at < scope.now),
            FinancingRequest.sla_due_at)


def _debtor_unanswered_rows(scope: _Scope, request_ids=None):
    live = aliased(ConfirmationLink)
    no_live_link = ~exists().where(live.receivable_id == Receivable.id, live.used_at.is_(None),
                                   live.revoked_at.is_(None), live.expires_at >= scope.now)
    return (_region_requests(scope.bureau, AWAITING_DECISION_STATES, request_ids)
            .join(RequestPledge, and_(RequestPledge.request_id == FinancingRequest.id, RequestPledge.active))
            .join(Receivable, Receivable.id == RequestPledge.receivable_id)
            .join(ConfirmationLink, ConfirmationLink.receivable_id == Receivable.id)
            .where(Receivable.confirmation == "pending", ConfirmationLink.used_at.is_(None),
                   ConfirmationLink.revoked_at.is_(None), ConfirmationLink.expires_at < scope.now, no_live_link),
            ConfirmationLink.expires_at)


def _idle_claim_rows(scope: _Scope, request_ids=None):
    return (_region_requests(scope.bureau, OPEN_STATES, request_ids)
            .join(Assignment, Assignment.request_id == FinancingRequest.id)
            .join(RequestTarget, RequestTarget.id == Assignment.target_id)
            .where(Assignment.ended_at.is_(None), Assignment.touched_at <= scope.cutoffs["idle_claim"],
                   RequestTarget.status.in_(INSTITUTION_MOVES_STATUSES)),
            Assignment.touched_at)


def _info_unanswered_rows(scope: _Scope, request_ids=None):
    return (_region_requests(scope.bureau, OPEN_STATES, request_ids)
            .join(InfoRequest, InfoRequest.request_id == FinancingRequest.id)
            .join(RequestTarget, RequestTarget.id == InfoRequest.target_id)
            .where(InfoRequest.answered_at.is_(None), InfoRequest.asked_at <= scope.cutoffs["info_unanswered"],
                   RequestTarget.status == "info_requested"),
            InfoRequest.asked_at)


def _no_bank_rows(scope: _Scope, request_ids=None):
    taken = exists().where(RequestTarget.request_id == FinancingRequest.id,
                           RequestTarget.status.in_(("reviewing", "info_requested", "offered", "accepted")),
                           RequestTarget.institution.has(kind="bank"))
    return (_region_requests(scope.bureau, NO_BANK_STATES, request_ids)
            .join(Guarantee, and_(Guarantee.request_id == FinancingRequest.id, Guarantee.status == "issued"))
            .where(Guarantee.issued_at <= scope.cutoffs["no_bank_for_guaranteed"], ~taken),
            Guarantee.issued_at)


ROWS = {
    "sla_breach": _sla_breach_rows,
    "debtor_unanswered": _debtor_unanswered_rows,
    "idle_claim": _idle_claim_rows,
    "info_unanswered": _info_unanswered_rows,
    "no_bank_for_guaranteed": _no_bank_rows,
}


def _keys(scope: _Scope, kind: str):
    """SELECT request id, the earliest moment its wait is measured from, one row per request.
    A request's debtors count from each receivable's latest expired link, the earliest of those."""
    query, moment = ROWS[kind](scope)
    if kind == "debtor_unanswered":
        per_receivable = (query.with_only_columns(FinancingRequest.id.label("request_id"),
                                                  func.max(moment).label("moment"))
                          .group_by(FinancingRequest.id, Receivable.id).subquery())
        return (select(per_receivable.c.request_id, func.min(per_receivable.c.moment))
                .group_by(per_receivable.c.request_id))
    return query.with_only_columns(FinancingRequest.id, func.min(moment)).group_by(FinancingRequest.id)


def _sla_breaches(scope: _Scope, request_ids=None) -> list[StuckEntry]:
    holding = aliased(RequestTarget)
    holder_org = aliased(Organisation)
    query, _moment = _sla_breach_rows(scope, request_ids)
    query = (query.add_columns(FinancingRequest.sla_due_at, FinancingRequest.state_changed_at,
                               holder_org.kind, holder_org.name)
             .outerjoin(holding, and_(holding.request_id == FinancingRequest.id,
                                      holding.status.in_(HOLDING_TARGET_STATUSES)))
             .outerjoin(holder_org, holder_org.id == holding.institution_id)
             .order_by(FinancingRequest.id, holding.rank, holding.id))
    collector = _Collector("sla_breach")
    for row in db.session.execute(query):
        state, enterprise_name = row[1], row[3]
        due, entered, org_kind, org_name = row[5], row[6], row[7], row[8]
        parties = sla.PARTIES[State(state)]
        holder = None
        if org_kind in (sla.BANK, sla.GUARANTOR) and org_kind in parties:
            holder = org_name
        collector.add(row, due, entered, holder)
        if sla.ENTERPRISE in parties:
            collector.add(row, due, entered, enterprise_name)

    platform, a_bank, a_guarantor = _platform(), str(_("银行")), str(_("担保公司"))

    def fallback(request_id):
        parties = sla.PARTIES[State(collector.base[request_id][1])]
        if sla.PLATFORM in parties or not parties:
            return platform
        return a_bank if sla.BANK in parties else a_guarantor

    text, label = _("“%(state)s”已超过处理时限（%(due)s）"), _labeller()

    def detail(request_id):
        return text % {"state": label(collector.base[request_id][1]), "due": ymd_hm(collector.since[request_id])}

    for request_id, names in collector.holders.items():
        parties = sla.PARTIES[State(collector.base[request_id][1])]
        if sla.PLATFORM in parties and platform not in names:
            names.append(platform)
    return collector.entries(detail, fallback)


def _debtors_unanswered(scope: _Scope, request_ids=None) -> list[StuckEntry]:
    query, _moment = _debtor_unanswered_rows(scope, request_ids)
    query = (query.add_columns(Receivable.id, Receivable.debtor_name, ConfirmationLink.expires_at,
                               ConfirmationLink.created_at)
             .order_by(FinancingRequest.id, Receivable.id, ConfirmationLink.expires_at))
    # each receivable's latest expired link; then the request's earliest over its receivables
    latest: dict[int, tuple] = {}
    for row in db.session.execute(query):
        latest[row[5]] = row
    collector = _Collector("debtor_unanswered")
    count: dict[int, int] = defaultdict(int)
    for row in latest.values():
        collector.add(row, row[7], row[8], row[6])
        count[row[0]] += 1

    text = _("%(n)s 笔应收账款的债务人确认链接已过期未答复")

    def detail(request_id):
        return text % {"n": count[request_id]}

    return collector.entries(detail)


def _idle_claims(scope: _Scope, request_ids=None) -> list[StuckEntry]:
    days = scope.limits["idle_claim"]
    institution = aliased(Organisation)
    query, _moment = _idle_claim_rows(scope, request_ids)
    query = (query.add_columns(Assignment.touched_at, institution.name, User.name)
             .join(institution, institution.id == Assignment.institution_id)
             .join(User, User.id == Assignment.user_id)
             .order_by(FinancingRequest.id, Assignment.touched_at))
    collector = _Collector("idle_claim")
    for row in db.session.execute(query):
        touched = as_utc(row[5])
        collector.add(row, scope.since("idle_claim", touched), touched, f"{row[6]}（{row[7]}）")

    text = _("认领后超过 %(days)s 个工作日未处理（最后操作于 %(at)s）")

    def detail(request_id):
        return text % {"days": _days_text(days), "at": ymd_hm(collector.waiting[request_id])}

    return collector.entries(detail)


def _info_unanswered(scope: _Scope, request_ids=None) -> list[StuckEntry]:
    days = scope.limits["info_unanswered"]
    asker = aliased(Organisation)
    query, _moment = _info_unanswered_rows(scope, request_ids)
    query = (query.add_columns(InfoRequest.asked_at, asker.name)
             .join(asker, asker.id == RequestTarget.institution_id)
             .order_by(FinancingRequest.id, InfoRequest.asked_at))
    collector = _Collector("info_unanswered")
    askers: dict[int, list[str]] = defaultdict(list)
    for row in db.session.execute(query):
        asked = as_utc(row[5])
        collector.add(row, scope.since("info_unanswered", asked), asked, row[3])
        if row[6] not in askers[row[0]]:
            askers[row[0]].append(row[6])

    text = _("%(institutions)s要求补充材料，企业超过 %(days)s 个工作日未答复（提出于 %(at)s）")

    def detail(request_id):
        return text % {"institutions": SEP.join(askers[request_id]), "days": _days_text(days),
                       "at": ymd(collector.waiting[request_id])}

    return collector.entries(detail)


def _no_bank_for_guaranteed(scope: _Scope, request_ids=None) -> list[StuckEntry]:
    days = scope.limits["no_bank_for_guaranteed"]
    routed = aliased(RequestTarget)
    bank = aliased(Organisation)
    guarantor = aliased(Organisation)
    query, _moment = _no_bank_rows(scope, request_ids)
    query = (query.add_columns(Guarantee.issued_at, guarantor.name, bank.name)
             .join(guarantor, guarantor.id == Guarantee.institution_id)
             .outerjoin(routed, and_(routed.request_id == FinancingRequest.id, routed.status == "routed"))
             .outerjoin(bank, and_(bank.id == routed.institution_id, bank.kind == "bank"))
             .order_by(FinancingRequest.id, routed.rank, routed.id))
    collector = _Collector("no_bank_for_guaranteed")
    guarantors: dict[int, str] = {}
    for row in db.session.execute(query):
        issued = as_utc(row[5])
        collector.add(row, scope.since("no_bank_for_guaranteed", issued), issued, row[7])
        guarantors[row[0]] = row[6]

    text = _("%(guarantor)s已出具担保（%(at)s），超过 %(days)s 个工作日仍无银行受理")

    def detail(request_id):
        return text % {"guarantor": guarantors[request_id], "at": ymd(collector.waiting[request_id]),
                       "days": _days_text(days)}

    platform = _platform()
    return collector.entries(detail, lambda _request_id: platform)


ENTRIES = {
    "sla_breach": _sla_breaches,
    "debtor_unanswered": _debtors_unanswered,
    "idle_claim": _idle_claims,
    "info_unanswered": _info_unanswered,
    "no_bank_for_guaranteed": _no_bank_for_guaranteed,
}


def _days_text(days: float) -> str:
    return f"{days:g}"


def _scope(bureau: Organisation, now: datetime | None) -> _Scope:
    return _Scope(bureau, now or utcnow(), cached_calendar(), thresholds())


def _order(entry) -> tuple:
    return entry.since, entry.request_id, STUCK_KINDS.index(entry.kind)


@dataclass(frozen=True)
class StuckKey:
    """One entry of the list as ordered and counted: which request, which kind, since when."""

    request_id: int
    kind: str
    since: datetime


def stuck_keys(bureau: Organisation, now: datetime | None = None,
               scope: _Scope | None = None) -> list[StuckKey]:
    """Every entry's key, longest stuck first: one light query per kind, no names."""
    scope = scope or _scope(bureau, now)
    keys = [StuckKey(request_id, kind, scope.since(kind, moment))
            for kind in STUCK_KINDS
            for request_id, moment in db.session.execute(_keys(scope, kind))]
    keys.sort(key=_order)
    return keys


def stuck_entries(bureau: Organisation, now: datetime | None = None,
                  request_ids=None) -> list[StuckEntry]:
    """Every stuck entry of the bureau's region (of `request_ids` only, when given), longest stuck
    first; one per request and kind."""
    scope = _scope(bureau, now)
    entries = [entry for kind in STUCK_KINDS for entry in ENTRIES[kind](scope, request_ids)]
    entries.sort(key=_order)
    return entries


STUCK_PAGE_SIZE = 50


def stuck_page(bureau: Organisation, kind: str | None = None, page: int = 1, now: datetime | None = None,
               per_page: int | None = None) -> tuple[Page, dict[str, int]]:
    """One page of the list (of one kind, when given), longest stuck first, and the count of each
    kind; `per_page` defaults to BUREAU_STUCK_PAGE_SIZE (50). The whole list is ordered and counted from its keys; names, holders and details are read
    for the page's requests alone, so what the page costs does not grow with the list: at most
    twice len(STUCK_KINDS) queries."""
    per_page = per_page or current_app.config.get("BUREAU_STUCK_PAGE_SIZE", STUCK_PAGE_SIZE)
    scope = _scope(bureau, now)
    keys = stuck_keys(bureau, scope=scope)
    counts = dict.fromkeys(STUCK_KINDS, 0)
    for key in keys:
        counts[key.kind] += 1
    if kind:
        keys = [key for key in keys if key.kind == kind]
    pages = max(1, -(-len(keys) // per_page))
    page = min(max(1, page), pages)
    shown = keys[(page - 1) * per_page: page * per_page]
    wanted: dict[str, set[int]] = defaultdict(set)
    for key in shown:
        wanted[key.kind].add(key.request_id)
    found = {(entry.request_id, entry.kind): entry
             for each_kind, request_ids in wanted.items()
             for entry in ENTRIES[each_kind](scope, request_ids)}
    entries = [found[key.request_id, key.kind] for key in shown if (key.request_id, key.kind) in found]
    return Page(entries, page, per_page, len(keys)), counts


def working_time_stuck(entry: StuckEntry, now: datetime | None = None,
                       calendar: WorkingCalendar | None = None) -> timedelta:
    """How long the entry has been stuck, in working time (the calendar's 24-hour working days)."""
    calendar = calendar or working_calendar()
    return max(calendar.working_time_between(entry.since, now or utcnow()), timedelta(0))


def duration_text(amount: timedelta) -> str:
    """"3 个工作日 5 小时" / "5 小时": how long, for the pages and exports."""
    days, rest = divmod(amount, timedelta(days=1))
    hours = int(rest.total_seconds() // 3600)
    if days:
        return _("%(days)s 个工作日 %(hours)s 小时", days=days, hours=hours)
    return _("%(hours)s 小时", hours=hours)
