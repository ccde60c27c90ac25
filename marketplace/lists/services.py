"""The lists and the white-list push, wired in: rows in, workflows.credit_lists out, stored as a
proposal a bureau coordinator reviews and confirms; what is confirmed is published.

Region scope: a proposal or push belongs to a region code (a bureau's); it covers the
enterprises whose division code starts with the code's prefix (reference.regions.region_prefix),
and only a coordinator whose bureau's region covers that code may review or confirm it.
Services flush; the caller commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask import g, has_app_context
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, bindparam, func, select, true
from sqlalchemy.orm import aliased, contains_eager, selectinload

from marketplace import audit
from marketplace.accounts.models import Organisation
from marketplace.accounts.roles import OrgKind, Role
from marketplace.bureau.region import LIKE_ESCAPE, like_prefix_pattern
from marketplace.credit.models import CreditGrade, CreditRecord
from marketplace.db import utcnow
from marketplace.enterprises.models import Enterprise
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.lists.models import (
    REASON_MAX,
    ListMembership,
    ListProposal,
    WhitelistPush,
    WhitelistPushEntry,
)
from marketplace.loans.models import Loan
from marketplace.loans.services import summary
from marketplace.reference.regions import region_covers, region_prefix
from workflows.credit_lists import (
    DISHONEST_DEBTOR,
    YELLOW,
    ListInputs,
    LoanFacts,
    RecordFacts,
    decide,
)

MIN_YEAR = 2000
PUSH_GRADES = ("A", "B")
_CHUNK = 1000
_YELLOW_CACHE = "lists_yellow_ids"
_YELLOW_REQUESTS_CACHE = "lists_yellow_request_ids"

PROPOSAL_STATE_LABELS = {
    "proposed": ("待确认", "Proposed"),
    "confirmed": ("已确认发布", "Confirmed"),
    "rejected": ("已驳回", "Rejected"),
    "superseded": ("已被取代", "Superseded"),
}
TRIGGER_LABELS = {"yearly": ("年度计算", "Yearly"), "on_demand": ("按需计算", "On demand")}
DECISION_LABELS = {"included": ("列入", "Included"), "excluded": ("不列入", "Excluded")}
PUSH_STATE_LABELS = {"proposed": ("待确认", "Proposed"), "confirmed": ("已确认推送", "Confirmed")}


class ListRefused(ValueError):
    """The list action cannot be done; the message says why (in the user's language)."""


# ---- region ------------------------------------------------------------------------------------

def in_region_code(column, region_code: str | None):
    """SQL: the division code in `column` lies in the region `region_code` (see bureau.region.in_region)."""
    prefix = region_prefix(region_code)
    if not prefix:
        return true()
    return column.like(bindparam(None, like_prefix_pattern(prefix), literal_execute=True), escape=LIKE_ESCAPE)


def covers(coordinator, region_code: str) -> bool:
    """Whether the coordinator's bureau's region holds the region `region_code`."""
    bureau = coordinator.organisation
    return (coordinator.role == Role.BUREAU_COORDINATOR and bureau is not None and bureau.kind == OrgKind.BUREAU
            and region_covers(bureau.region_code, region_code or ""))


def _require_coordinator(coordinator, region_code: str) -> None:
    if not covers(coordinator, region_code):
        raise ListRefused(_("只有辖区覆盖该地区的金融工作局协调员可以处理"))


def _enterprise_ids(region_code: str) -> list[int]:
    return list(db.session.scalars(select(Enterprise.id).where(in_region_code(Enterprise.region_code, region_code))
                                   .order_by(Enterprise.id)))


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


# ---- inputs ------------------------------------------------------------------------------------

def _loan_facts(loan: Loan, evaluation_date: date) -> LoanFacts:
    s = summary(loan, evaluation_date)
    paid = sorted(r.paid_on for r in loan.repayments if r.paid_on <= evaluation_date)
    worst = s.max_days_late
    for row in loan.superseded:  # lines replaced later keep the days they were late (as grading reads them)
        if row.overdue_since is not None and row.overdue_since <= evaluation_date:
            end = min(row.cured_on or evaluation_date, evaluation_date)
            worst = max(worst, (end - row.overdue_since).days + 1)
    closed = paid[-1] if s.status == "repaid" and paid else None
    return LoanFacts(ref=f"#{loan.id}", disbursed_on=loan.disbursed_on, closed_on=closed, repayments=len(paid),
                     last_repayment_on=paid[-1] if paid else None, max_days_late=worst,
                     days_past_due=s.days_past_due)


def list_inputs(enterprise_ids: list[int], evaluation_date: date) -> dict[int, ListInputs]:
    """What workflows.credit_lists reads, per enterprise: its platform loans and its court
    dishonest-debtor records."""
    loans: dict[int, list[LoanFacts]] = defaultdict(list)
    records: dict[int, list[RecordFacts]] = defaultdict(list)
    for chunk in _chunks(enterprise_ids):
        rows = db.session.execute(
            select(Loan, FinancingRequest.enterprise_id).join(FinancingRequest, FinancingRequest.id == Loan.request_id)
            .where(FinancingRequest.enterprise_id.in_(chunk), Loan.disbursed_on <= evaluation_date)
            .options(selectinload(Loan.instalments), selectinload(Loan.repayments)).order_by(Loan.id))
        for loan, enterprise_id in rows:
            loans[enterprise_id].append(_loan_facts(loan, evaluation_date))
        for record in db.session.scalars(select(CreditRecord).where(CreditRecord.enterprise_id.in_(chunk),
                                                                    CreditRecord.kind == DISHONEST_DEBTOR)):
            records[record.enterprise_id].append(RecordFacts(str(record.id), record.kind, record.status,
                                                             record.occurred_on, record.ended_on))
    return {eid: ListInputs(evaluation_date, tuple(loans[eid]), tuple(records[eid])) for eid in enterprise_ids}


# ---- proposals ---------------------------------------------------------------------------------

def evaluation_date_of(year: int, today: date) -> date:
    """The lists of a year are evaluated at its end, or today while it runs."""
    return min(today, date(year, 12, 31))


def yearly_proposal(region_code: str, year: int) -> ListProposal | None:
    return db.session.scalar(select(ListProposal).where(ListProposal.region_code == region_code,
                                                        ListProposal.year == year, ListProposal.trigger == "yearly"))


def compute_proposal(region_code: str, year: int, actor, today: date, trigger: str = "on_demand") -> ListProposal:
    """Compute the lists of `year` for the region's enterprises as a new proposal. Yearly: once per
    region and year (a repeat returns the stored proposal). On demand: an open proposal of the
    same region and year is superseded by the new one."""
    if not MIN_YEAR <= year <= today.year:
        raise ListRefused(_("年度无效：须在%(min)s年至%(max)s年之间", min=MIN_YEAR, max=today.year))
    if trigger == "yearly":
        existing = yearly_proposal(region_code, year)
        if existing is not None:
            return existing
    else:
        for open_one in db.session.scalars(select(ListProposal).where(
                ListProposal.region_code == region_code, ListProposal.year == year,
                ListProposal.state == "proposed").with_for_update()):
            open_one.state = "superseded"
            open_one.note = _("已被新的计算结果取代")
    evaluation_date = evaluation_date_of(year, today)
    proposal = ListProposal(region_code=region_code, year=year, trigger=trigger, evaluation_date=evaluation_date,
                            computed_at=utcnow(), computed_by_id=getattr(actor, "id", None), state="proposed")
    db.session.add(proposal)
    db.session.flush()
    counts = {"red": 0, "white": 0, "yellow": 0}
    for enterprise_id, inputs in list_inputs(_enterprise_ids(region_code), evaluation_date).items():
        result = decide(inputs)
        if result is None:
            continue
        counts[result.list_kind] += 1
        db.session.add(ListMembership(proposal_id=proposal.id, enterprise_id=enterprise_id,
                                      list_kind=result.list_kind, year=year, code=result.code,
                                      reason_zh=result.reason_zh[:REASON_MAX], reason_en=result.reason_en[:REASON_MAX],
                                      decision="included"))
    db.session.flush()
    audit.record("lists.proposal_computed", proposal, actor=actor, region_code=region_code, year=year,
                 trigger=trigger, evaluation_date=evaluation_date.isoformat(), **counts)
    return proposal


def _clean_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if len(text) > REASON_MAX:
        raise ListRefused(_("理由不能超过%(n)s个字", n=REASON_MAX))
    return text


def _require_open(proposal: ListProposal) -> None:
    if proposal.state != "proposed":
        raise ListRefused(_("该名单提议已处理，不能再修改"))


def decide_membership(membership: ListMembership, coordinator, include: bool, reason: str | None) -> ListMembership:
    """The coordinator includes or excludes one proposed entry; excluding needs a reason."""
    proposal = membership.proposal
    _require_coordinator(coordinator, proposal.region_code)
    _require_open(proposal)
    text = _clean_reason(reason)
    if not include and not text:
        raise ListRefused(_("不列入名单须填写理由"))
    membership.decision = "included" if include else "excluded"
    membership.decision_reason = text or None
    membership.decided_by_id = coordinator.id
    membership.decided_at = utcnow()
    db.session.flush()
    audit.record("lists.entry_decided", membership, actor=coordinator, enterprise_id=membership.enterprise_id,
                 decision=membership.decision, reason=text, list_kind=membership.list_kind, year=membership.year)
    return membership


def confirm_proposal(proposal: ListProposal, coordinator, note: str | None = None) -> ListProposal:
    """Publish the proposal's included entries; an earlier confirmed proposal of the same region
    and year is superseded."""
    _require_coordinator(coordinator, proposal.region_code)
    _require_open(proposal)
    now = utcnow()
    for earlier in db.session.scalars(select(ListProposal).where(
            ListProposal.region_code == proposal.region_code, ListProposal.year == proposal.year,
            ListProposal.state == "confirmed", ListProposal.id != proposal.id)):
        earlier.state, earlier.confirmed_at = "superseded", None
        earlier.note = _("已被新的确认结果取代")
    db.session.flush()
    proposal.state, proposal.confirmed_by_id, proposal.confirmed_at = "confirmed", coordinator.id, now
    proposal.note = _clean_reason(note) or proposal.note
    published = 0
    for membership in proposal.memberships:
        if membership.decision == "included":
            membership.published_at = now
            published += 1
    db.session.flush()
    audit.record("lists.proposal_confirmed", proposal, actor=coordinator, region_code=proposal.region_code,
                 year=proposal.year, published=published)
    return proposal


def reject_proposal(proposal: ListProposal, coordinator, note: str | None) -> ListProposal:
    _require_coordinator(coordinator, proposal.region_code)
    _require_open(proposal)
    text = _clean_reason(note)
    if not text:
        raise ListRefused(_("驳回须填写理由"))
    proposal.state, proposal.note = "rejected", text
    db.session.flush()
    audit.record("lists.proposal_rejected", proposal, actor=coordinator, reason=text)
    return proposal


def proposals_of(bureau: Organisation) -> Select:
    """The proposals of regions the bureau's region covers, newest first."""
    return (select(ListProposal).where(in_region_code(ListProposal.region_code, bureau.region_code))
            .order_by(ListProposal.year.desc(), ListProposal.id.desc()))


def proposal_for(proposal_id: int, coordinator) -> ListProposal | None:
    """The proposal, if the coordinator's region covers it (else None: the view answers 404)."""
    proposal = db.session.get(ListProposal, proposal_id)
    return proposal if proposal is not None and covers(coordinator, proposal.region_code) else None


def memberships_of(proposal: ListProposal) -> Select:
    return (select(ListMembership).join(Enterprise, Enterprise.id == ListMembership.enterprise_id)
            .options(contains_eager(ListMembership.enterprise))  # each row names its enterprise
            .where(ListMembership.proposal_id == proposal.id)
            .order_by(ListMembership.list_kind, Enterprise.name, ListMembership.id))


def list_counts(proposal: ListProposal) -> dict[tuple[str, str], int]:
    """(list kind, decision) -> how many entries."""
    rows = db.session.execute(select(ListMembership.list_kind, ListMembership.decision, func.count())
                              .where(ListMembership.proposal_id == proposal.id)
                              .group_by(ListMembership.list_kind, ListMembership.decision))
    return {(kind, decision): count for kind, decision, count in rows}


# ---- published lists ----------------------------------------------------------------------------

def published() -> Select:
    """Every published membership: included entries of confirmed proposals."""
    return (select(ListMembership).join(ListProposal, ListProposal.id == ListMembership.proposal_id)
            .where(ListProposal.state == "confirmed", ListMembership.decision == "included"))


def published_lists(list_kind: str | None = None, year: int | None = None) -> Select:
    query = (published().join(Enterprise, Enterprise.id == ListMembership.enterprise_id)
             .options(contains_eager(ListMembership.enterprise)))  # each row names its enterprise
    if list_kind:
        query = query.where(ListMembership.list_kind == list_kind)
    if year:
        query = query.where(ListMembership.year == year)
    return query.order_by(ListMembership.year.desc(), ListMembership.list_kind, Enterprise.name, ListMembership.id)


def memberships_for(enterprise_id: int) -> list[ListMembership]:
    """The enterprise's published list memberships, newest year first (the credit file shows them)."""
    return list(db.session.scalars(published().where(ListMembership.enterprise_id == enterprise_id)
                                   .order_by(ListMembership.year.desc(), ListMembership.id.desc())))


def _current_yellow() -> Select:
    """Enterprise ids on the yellow list of each region's latest confirmed year."""
    later = aliased(ListProposal)
    latest_year = (select(func.max(later.year)).where(later.region_code == ListProposal.region_code,
                                                      later.state == "confirmed").scalar_subquery())
    return (select(ListMembership.enterprise_id).join(ListProposal, ListProposal.id == ListMembership.proposal_id)
            .where(ListProposal.state == "confirmed", ListMembership.decision == "included",
                   ListMembership.list_kind == YELLOW, ListProposal.year == latest_year))


def yellow_listed(enterprise_ids: Iterable[int]) -> set[int]:
    """Which of the enterprises are on the current published yellow list."""
    ids = {int(i) for i in enterprise_ids if i is not None}
    if not ids:
        return set()
    found: set[int] = set()
    for chunk in _chunks(sorted(ids)):
        found.update(db.session.scalars(_current_yellow().where(ListMembership.enterprise_id.in_(chunk))))
    return found


def yellow_ids_for_request() -> frozenset[int]:
    """Every currently yellow-listed enterprise id, read once per request (flask.g): a page
    showing many enterprises costs one query. Outside an app context: read each time."""
    if not has_app_context():
        return frozenset(db.session.scalars(_current_yellow()))
    cached = g.get(_YELLOW_CACHE)
    if cached is None:
        cached = frozenset(db.session.scalars(_all_current_yellow()))
        setattr(g, _YELLOW_CACHE, cached)
    return cached


_all_yellow_statement: Select | None = None


def _all_current_yellow() -> Select:
    """The statement of every current yellow-listed id, built once: staff pages read it on every
    request, and building and hashing it cost more than running it (issue 15)."""
    global _all_yellow_statement
    if _all_yellow_statement is None:
        _all_yellow_statement = _current_yellow().distinct()
    return _all_yellow_statement


def yellow_listed_column(enterprise_id) -> ColumnElement[bool]:
    """Whether the enterprise of `enterprise_id` (a column) is on the current yellow list, as a
    column of another statement: a list that shows many enterprises reads the flag with its rows,
    without a round trip of its own (PostgreSQL evaluates it for the rows returned only)."""
    return enterprise_id.in_(_current_yellow())


def is_yellow_listed(enterprise_id: int | None) -> bool:
    return enterprise_id is not None and enterprise_id in yellow_ids_for_request()


def yellow_request_ids_for_request() -> frozenset[int]:
    """The ids of financing requests whose enterprise is currently yellow-listed, read once per
    request (for lists that carry a request id but not the enterprise's, e.g. the stuck list).
    The statement is built on a miss only: building it (an aliased subquery) took 2.5 ms, and the
    stuck list asks once per row shown."""
    in_context = has_app_context()
    cached = g.get(_YELLOW_REQUESTS_CACHE) if in_context else None
    if cached is None:
        cached = frozenset(db.session.scalars(
            select(FinancingRequest.id).where(FinancingRequest.enterprise_id.in_(_current_yellow()))))
        if in_context:
            setattr(g, _YELLOW_REQUESTS_CACHE, cached)
    return cached


# ---- recommendation consent ------------------------------------------------------------------------

def set_recommend_consent(enterprise: Enterprise, user, consent: bool) -> Enterprise:
    """The enterprise admin agrees (or no longer agrees) to be recommended to banks in the
    monthly white-list push."""
    if user.role != Role.ENTERPRISE_ADMIN or user.organisation_id != enterprise.organisation_id:
        raise ListRefused(_("只有企业管理员可以设置是否同意被推荐"))
    if consent == (enterprise.recommend_consent_at is not None):
        return enterprise
    enterprise.recommend_consent_at = utcnow() if consent else None
    enterprise.recommend_consent_by_id = user.id if consent else None
    db.session.flush()
    audit.record("enterprise.recommend_consent_granted" if consent else "enterprise.recommend_consent_withdrawn",
                 enterprise, actor=user, enterprise_id=enterprise.id)
    return enterprise


# ---- the monthly white-list push ---------------------------------------------------------------------

def month_start(day: date) -> date:
    return day.replace(day=1)


def _latest_grades(enterprise_ids: list[int]) -> dict[int, CreditGrade]:
    grades: dict[int, CreditGrade] = {}
    for chunk in _chunks(enterprise_ids):
        latest = (select(func.max(CreditGrade.id)).where(CreditGrade.enterprise_id.in_(chunk))
                  .group_by(CreditGrade.enterprise_id))
        for row in db.session.scalars(select(CreditGrade).where(CreditGrade.id.in_(latest))):
            grades[row.enterprise_id] = row
    return grades


def _with_negative_records(enterprise_ids: list[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(enterprise_ids):
        found.update(db.session.scalars(select(CreditRecord.enterprise_id).where(
            CreditRecord.enterprise_id.in_(chunk), CreditRecord.polarity == "negative",
            CreditRecord.status == "active").distinct()))
    return found


@dataclass(frozen=True)
class PushCandidate:
    enterprise_id: int
    grade: str
    score: int | None


def push_candidates(region_code: str) -> list[PushCandidate]:
    """Enterprises of the region that agreed to be recommended, graded A or B, with no active
    negative credit record and not on the current yellow list."""
    ids = list(db.session.scalars(select(Enterprise.id).where(in_region_code(Enterprise.region_code, region_code),
                                                              Enterprise.recommend_consent_at.is_not(None))
                                  .order_by(Enterprise.id)))
    grades = _latest_grades(ids)
    negative = _with_negative_records(ids)
    yellow = yellow_listed(ids)
    return [PushCandidate(eid, grades[eid].grade, grades[eid].score) for eid in ids
            if eid in grades and grades[eid].grade in PUSH_GRADES and eid not in negative and eid not in yellow]


def push_of_month(region_code: str, month: date) -> WhitelistPush | None:
    return db.session.scalar(select(WhitelistPush).where(WhitelistPush.region_code == region_code,
                                                         WhitelistPush.month == month_start(month)))


def propose_whitelist_push(region_code: str, month: date, today: date, actor=None) -> WhitelistPush:
    """The month's push for the region; once per region and month (a repeat returns the stored one)."""
    first = month_start(month)
    existing = push_of_month(region_code, first)
    if existing is not None:
        return existing
    if first > month_start(today):
        raise ListRefused(_("不能为未来的月份生成推送"))
    push = WhitelistPush(region_code=region_code, month=first, state="proposed", computed_at=utcnow())
    db.session.add(push)
    db.session.flush()
    for candidate in push_candidates(region_code):
        score = f"（{candidate.score}分）" if candidate.score is not None else ""
        score_en = f" (score {candidate.score})" if candidate.score is not None else ""
        db.session.add(WhitelistPushEntry(
            push_id=push.id, enterprise_id=candidate.enterprise_id, grade=candidate.grade, score=candidate.score,
            reason_zh=f"信用等级{candidate.grade}{score}，无有效负面信用记录，企业已同意被推荐",
            reason_en=f"Credit grade {candidate.grade}{score_en}, no active negative credit record, "
                      "the enterprise agreed to be recommended",
            decision="included"))
    db.session.flush()
    audit.record("lists.whitelist_push_proposed", push, actor=actor, region_code=region_code,
                 month=first.isoformat(), entries=len(push.entries))
    return push


def decide_push_entry(entry: WhitelistPushEntry, coordinator, include: bool, reason: str | None) -> WhitelistPushEntry:
    push = entry.push
    _require_coordinator(coordinator, push.region_code)
    if push.state != "proposed":
        raise ListRefused(_("该推送已确认，不能再修改"))
    text = _clean_reason(reason)
    if not include and not text:
        raise ListRefused(_("不推送须填写理由"))
    entry.decision = "included" if include else "excluded"
    entry.decision_reason = text or None
    entry.decided_by_id, entry.decided_at = coordinator.id, utcnow()
    db.session.flush()
    audit.record("lists.whitelist_entry_decided", entry, actor=coordinator, enterprise_id=entry.enterprise_id,
                 decision=entry.decision, reason=text)
    return entry


def confirm_push(push: WhitelistPush, coordinator) -> WhitelistPush:
    """Publish the push: its included entries appear in every bank's leads."""
    _require_coordinator(coordinator, push.region_code)
    if push.state != "proposed":
        raise ListRefused(_("该推送已确认"))
    push.state, push.confirmed_by_id, push.confirmed_at = "confirmed", coordinator.id, utcnow()
    db.session.flush()
    audit.record("lists.whitelist_push_confirmed", push, actor=coordinator, region_code=push.region_code,
                 month=push.month.isoformat(),
                 entries=sum(1 for e in push.entries if e.decision == "included"))
    return push


def pushes_of(bureau: Organisation) -> Select:
    return (select(WhitelistPush).where(in_region_code(WhitelistPush.region_code, bureau.region_code))
            .order_by(WhitelistPush.month.desc(), WhitelistPush.id.desc()))


def push_for(push_id: int, coordinator) -> WhitelistPush | None:
    push = db.session.get(WhitelistPush, push_id)
    return push if push is not None and covers(coordinator, push.region_code) else None


def latest_confirmed_month() -> date | None:
    return db.session.scalar(select(func.max(WhitelistPush.month)).where(WhitelistPush.state == "confirmed"))


def _push_entries() -> Select:
    """Push entries with their enterprises (each row names its enterprise), by grade then name."""
    return (select(WhitelistPushEntry).join(Enterprise, Enterprise.id == WhitelistPushEntry.enterprise_id)
            .options(contains_eager(WhitelistPushEntry.enterprise))
            .order_by(WhitelistPushEntry.grade, Enterprise.name, WhitelistPushEntry.id))


def push_entries(push: WhitelistPush) -> list[WhitelistPushEntry]:
    """Every entry of the push with its enterprise (one statement)."""
    return list(db.session.scalars(_push_entries().where(WhitelistPushEntry.push_id == push.id)))


def confirmed_push_entries(month: date | None = None) -> Select:
    """The included entries of the confirmed pushes of `month` (default: the latest confirmed)."""
    month = month or latest_confirmed_month()
    return (_push_entries().join(WhitelistPush, WhitelistPush.id == WhitelistPushEntry.push_id)
            .where(WhitelistPush.state == "confirmed", WhitelistPushEntry.decision == "included",
                   WhitelistPush.month == month))


def bureau_regions() -> list[str]:
    """The region codes of the active bureaus (the beat tasks compute one proposal per region)."""
    return sorted(set(db.session.scalars(select(Organisation.region_code).where(
        Organisation.kind == OrgKind.BUREAU, Organisation.active.is_(True), Organisation.region_code.is_not(None)))))
