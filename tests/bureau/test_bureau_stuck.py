"""The stuck list (marketplace.bureau.stuck): each kind shows up with who holds it and a request
that waits on nobody does not; another region's coordinator sees none of it; the list costs the
same number of queries however many requests there are; a meeting's agenda takes it up."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from marketplace.accounts.models import Organisation, User
from marketplace.accounts.roles import OrgKind, Role
from marketplace.bureau import meetings
from marketplace.bureau.stuck import (
    STUCK_KINDS,
    stuck_entries,
    stuck_keys,
    stuck_page,
    working_days_before,
)
from marketplace.db import utcnow
from marketplace.desks.models import Assignment, InfoRequest
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest, RequestPledge
from marketplace.guarantees.models import Guarantee
from marketplace.receivables.models import ConfirmationLink
from marketplace.supermarket.models import RequestTarget
from marketplace.workcalendar.services import working_calendar
from tests.factories import EnterpriseFactory, ReceivableFactory, UserFactory, make_enterprise_user
from tests.sla.helpers import bank_product
from tests.sql_log import statements_run

_serial = itertools.count(1)


@dataclass
class World:
    """A Suzhou bureau (and a Beijing one), a bank, a guarantor and an enterprise of Suzhou."""

    coordinator: User
    distant: User
    officer: User
    guarantor_officer: User
    owner: User
    versions: dict

    @property
    def bureau(self) -> Organisation:
        return self.coordinator.organisation

    @property
    def bank(self) -> Organisation:
        return self.officer.organisation

    @property
    def guarantor(self) -> Organisation:
        return self.guarantor_officer.organisation

    def version_of(self, staff: User) -> int:
        if staff.organisation_id not in self.versions:
            self.versions[staff.organisation_id] = bank_product(staff).current_version_id
        return self.versions[staff.organisation_id]


def make_world() -> World:
    """Call in a request context."""
    return World(
        coordinator=UserFactory(role=Role.BUREAU_COORDINATOR, organisation__region_code="320500",
                                organisation__name="苏州市地方金融管理局"),
        distant=UserFactory(role=Role.BUREAU_COORDINATOR, organisation__region_code="110000",
                            organisation__name="北京市地方金融管理局"),
        officer=UserFactory(role=Role.BANK_OFFICER, organisation__name="苏州测试银行", name="王经理"),
        guarantor_officer=UserFactory(role=Role.GUARANTOR_OFFICER, organisation__name="苏州测试担保公司"),
        owner=make_enterprise_user(), versions={},
    )


def make_request(owner: User, state: str, *, due_in: timedelta | None = None, age: timedelta = timedelta(days=20),
                 amount: str = "500000.00") -> FinancingRequest:
    """A submitted request of the owner's enterprise, directly in `state`; its SLA clock due
    `due_in` from now (None: no clock)."""
    now = utcnow()
    request = FinancingRequest(enterprise_id=owner.enterprise.id, amount=Decimal(amount), term_days=90,
                               purpose="补充流动资金", state=state, created_by_id=owner.id,
                               submitted_at=now - age, state_changed_at=now - age,
                               sla_due_at=None if due_in is None else now + due_in)
    db.session.add(request)
    db.session.flush()
    return request


def make_target(world: World, request: FinancingRequest, staff: User, status: str) -> RequestTarget:
    target = RequestTarget(request_id=request.id, product_version_id=world.version_of(staff),
                           institution_id=staff.organisation_id, rank=1, chosen_by="match", status=status,
                           routed_at=utcnow() - timedelta(days=20))
    db.session.add(target)
    db.session.flush()
    return target


# One builder per kind: a request stuck that way (and nothing else makes it stuck).

def sla_breach(world: World, owner: User | None = None) -> FinancingRequest:
    request = make_request(owner or world.owner, "bank_review", due_in=-timedelta(days=2))
    make_target(world, request, world.officer, "reviewing")
    return request


def debtor_unanswered(world: World, owner: User | None = None) -> FinancingRequest:
    owner = owner or world.owner
    request = make_request(owner, "bank_review", due_in=timedelta(days=3))
    receivable = ReceivableFactory(enterprise=owner.enterprise, debtor_name=f"上海沉默债务人{next(_serial)}有限公司")
    db.session.add(RequestPledge(request_id=request.id, receivable_id=receivable.id, active=True))
    db.session.add(ConfirmationLink(receivable_id=receivable.id, nonce=f"n{next(_serial):031d}",
                                    created_by_id=owner.id, created_at=utcnow() - timedelta(days=9),
                                    expires_at=utcnow() - timedelta(days=2)))
    db.session.flush()
    return request


def idle_claim(world: World, owner: User | None = None, touched: timedelta = timedelta(days=10)) -> FinancingRequest:
    request = make_request(owner or world.owner, "bank_review", due_in=timedelta(days=3))
    target = make_target(world, request, world.officer, "reviewing")
    moment = utcnow() - touched
    db.session.add(Assignment(target_id=target.id, request_id=request.id, institution_id=world.bank.id,
                              user_id=world.officer.id, claimed_at=moment, touched_at=moment,
                              expires_at=utcnow() + timedelta(days=1)))
    db.session.flush()
    return request


def info_unanswered(world: World, owner: User | None = None, asked: timedelta = timedelta(days=20)) -> FinancingRequest:
    request = make_request(owner or world.owner, "info_requested", due_in=timedelta(days=3))
    target = make_target(world, request, world.officer, "info_requested")
    db.session.add(InfoRequest(target_id=target.id, request_id=request.id, asked_by_id=world.officer.id,
                               question="请补充近三个月的销售合同", asked_at=utcnow() - asked))
    db.session.flush()
    return request


def no_bank_for_guaranteed(world: World, owner: User | None = None) -> FinancingRequest:
    request = make_request(owner or world.owner, "guaranteed", due_in=timedelta(days=3))
    target = make_target(world, request, world.guarantor_officer, "accepted")
    issued = utcnow() - timedelta(days=20)
    db.session.add(Guarantee(target_id=target.id, request_id=request.id, institution_id=world.guarantor.id,
                             coverage_ratio=Decimal("80"), fee_rate=Decimal("1.5"),
                             guaranteed_amount=Decimal("400000.00"), fee=Decimal("3000.00"), term_days=90,
                             status="issued", offered_by_id=world.guarantor_officer.id, issued_at=issued,
                             accepted_at=issued, letter_no=f"DB{next(_serial):010d}"))
    db.session.flush()
    return request


BUILDERS = {"sla_breach": sla_breach, "debtor_unanswered": debtor_unanswered, "idle_claim": idle_claim,
            "info_unanswered": info_unanswered, "no_bank_for_guaranteed": no_bank_for_guaranteed}


@pytest.fixture
def world(ctx) -> World:
    return make_world()


def kinds_of(entries, request_id: int) -> set[str]:
    return {e.kind for e in entries if e.request_id == request_id}


@pytest.mark.parametrize("kind", STUCK_KINDS)
def test_each_kind_of_stuck_request_is_listed_once_with_its_holder(world, kind):
    request = BUILDERS[kind](world)
    entries = [e for e in stuck_entries(world.bureau) if e.request_id == request.id]
    assert [e.kind for e in entries] == [kind]
    entry = entries[0]
    expected_holder = {
        "sla_breach": "苏州测试银行",
        "debtor_unanswered": "上海沉默债务人",
        "idle_claim": "苏州测试银行（王经理）",
        "info_unanswered": world.owner.enterprise.name,
        "no_bank_for_guaranteed": "平台运营方",
    }[kind]
    assert expected_holder in entry.holder
    assert entry.enterprise_name == world.owner.enterprise.name and entry.region_code == "320505"
    assert entry.amount == Decimal("500000.00") and entry.detail
    assert entry.since <= utcnow()


def test_requests_waiting_on_nobody_are_not_listed(world):
    calm = make_request(world.owner, "bank_review", due_in=timedelta(days=2))
    make_target(world, calm, world.officer, "reviewing")
    fresh_claim = idle_claim(world, touched=timedelta(minutes=5))
    fresh_question = info_unanswered(world, asked=timedelta(minutes=5))
    answered = debtor_unanswered(world)
    link = db.session.scalars(db.select(ConfirmationLink).join(
        RequestPledge, RequestPledge.receivable_id == ConfirmationLink.receivable_id)
        .where(RequestPledge.request_id == answered.id)).one()
    db.session.add(ConfirmationLink(receivable_id=link.receivable_id, nonce=f"n{next(_serial):031d}",
                                    created_by_id=world.owner.id, expires_at=utcnow() + timedelta(days=5)))
    waiting_on_enterprise = idle_claim(world)
    db.session.scalars(db.select(RequestTarget).where(RequestTarget.request_id == waiting_on_enterprise.id)
                       ).one().status = "offered"  # the bank made its offer: the enterprise moves next
    closed = make_request(world.owner, "closed")
    closed_target = make_target(world, closed, world.officer, "reviewing")
    db.session.add(Assignment(target_id=closed_target.id, request_id=closed.id, institution_id=world.bank.id,
                              user_id=world.officer.id, claimed_at=utcnow() - timedelta(days=30),
                              touched_at=utcnow() - timedelta(days=30), expires_at=utcnow(),
                              ended_at=utcnow() - timedelta(days=29), end_reason="expired"))
    db.session.flush()
    listed = {e.request_id for e in stuck_entries(world.bureau)}
    assert listed.isdisjoint({calm.id, fresh_claim.id, fresh_question.id, answered.id, closed.id,
                              waiting_on_enterprise.id})


def test_one_request_stuck_several_ways_has_one_entry_per_kind_longest_first(world):
    request = info_unanswered(world)
    request.sla_due_at = utcnow() - timedelta(hours=3)  # the enterprise's own clock ran out too
    db.session.flush()
    entries = stuck_entries(world.bureau)
    assert sorted(e.kind for e in entries if e.request_id == request.id) == ["info_unanswered", "sla_breach"]
    assert [e.since for e in entries] == sorted(e.since for e in entries)


def test_another_regions_coordinator_sees_nothing_and_requests_of_other_regions_stay_out(world):
    for build in BUILDERS.values():
        build(world)
    beijing = make_enterprise_user(enterprise=EnterpriseFactory(region_code="110105"))
    elsewhere = sla_breach(world, owner=beijing)
    assert {e.request_id for e in stuck_entries(world.distant.organisation)} == {elsewhere.id}
    assert elsewhere.id not in {e.request_id for e in stuck_entries(world.bureau)}
    assert {e.kind for e in stuck_entries(world.bureau)} == set(STUCK_KINDS)


def test_the_stuck_list_costs_the_same_queries_however_many_requests(app, world):
    def queries() -> tuple[int, int]:
        with statements_run() as statements:
            entries = stuck_entries(world.bureau)
            for entry in entries:  # what the page and the agenda read
                _ = (entry.holder, entry.enterprise_name, entry.amount, entry.detail, entry.state)
        return len(statements), len(entries)

    for build in BUILDERS.values():
        build(world)
    few, listed = queries()
    assert listed == len(STUCK_KINDS)
    assert few <= len(STUCK_KINDS)
    for _ in range(3):
        other = make_enterprise_user()
        for build in BUILDERS.values():
            build(world, owner=other)
    many, listed = queries()
    assert listed == 4 * len(STUCK_KINDS)
    assert many == few


def test_a_page_of_the_stuck_list_is_the_whole_lists_slice_and_costs_the_same_however_long(app, world):
    for _ in range(4):
        owner = make_enterprise_user()
        for build in BUILDERS.values():
            build(world, owner=owner)
    whole = stuck_entries(world.bureau)
    keys = stuck_keys(world.bureau)
    assert [(k.request_id, k.kind, k.since) for k in keys] == [(e.request_id, e.kind, e.since) for e in whole]
    with statements_run() as statements:
        first, counts = stuck_page(world.bureau, per_page=3)
    few = len(statements)
    assert first.items == whole[:3] and first.total == len(whole) and first.pages == -(-len(whole) // 3)
    assert counts == {kind: 4 for kind in STUCK_KINDS}
    assert few <= 2 * len(STUCK_KINDS)
    last, _counts = stuck_page(world.bureau, page=99, per_page=3)  # past the end: the last page
    assert last.page == first.pages and last.items == whole[(last.page - 1) * 3:]
    only, _counts = stuck_page(world.bureau, kind="idle_claim", per_page=3)
    assert only.items == [e for e in whole if e.kind == "idle_claim"][:3] and only.total == 4
    for build in BUILDERS.values():
        build(world, owner=make_enterprise_user())
    with statements_run() as statements:
        again, _counts = stuck_page(world.bureau, per_page=3)
    many = len(statements)
    assert again.total == len(whole) + len(STUCK_KINDS)
    assert many == few


def test_working_days_before_agrees_with_the_calendar(app, ctx):
    calendar = working_calendar()
    now = utcnow()
    for days in (1, 2.5, 5):
        cutoff = working_days_before(now, days, calendar)
        assert calendar.add_working_days(cutoff, days) <= now
        assert calendar.add_working_days(cutoff + timedelta(seconds=2), days) > now


def test_a_meeting_scheduled_now_puts_the_stuck_requests_on_its_agenda(world):
    request = sla_breach(world)
    meeting = meetings.schedule_meeting(world.bureau, world.coordinator, title="吴中区调度会",
                                        starts_at=utcnow() + timedelta(days=2), place="区政府三楼会议室",
                                        host=world.coordinator, attendee_ids=[world.bank.id])
    assert [(i.request_id, i.stuck_kind) for i in meeting.agenda] == [(request.id, "sla_breach")]
    assert OrgKind.BANK == world.bank.kind
