"""Each role's home page shows the day's work (issue 16, item 4): the bank's and guarantor's
officers their queue, their claims, what is due today and what breached; approvers the offers
waiting for them; enterprises what needs their action. Empty states say so, and the SQL
statement count does not grow with the rows."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace.accounts.roles import Role
from marketplace.db import utcnow
from marketplace.desks.models import InfoRequest, Offer
from marketplace.desks.queue import end_of_day_shanghai
from marketplace.enterprises.models import Consent
from marketplace.enterprises.services import sign_commitment
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.formatting import today_shanghai
from marketplace.onboarding.services import Step
from marketplace.payments import services as payments
from marketplace.supermarket.models import RequestTarget
from tests.desks.helpers import claimed, colleague, routed, target_of
from tests.factories import UserFactory, make_enterprise_user
from tests.test_page_queries import statements_of

# the user with its organisation; per queue section (4) its rows and its counts; the recorded transfers
OFFICER_STATEMENTS = 10
# the same and the offers waiting for approval
APPROVER_STATEMENTS = 11
# the user with its organisation and enterprise; the first application's checklist (the signature,
# consents 2, receivables, statement, request); questions, offers, guarantees, fees, consents
ENTERPRISE_STATEMENTS = 13


@pytest.fixture(autouse=True)
def fresh_counts(app, monkeypatch):
    """The queue's counts are cached for 30 s; here each page counts afresh."""
    monkeypatch.setitem(app.config, "QUEUE_COUNTS_SECONDS", 0)


def section(page: str, key: str) -> tuple[int, str]:
    """(count, html) of the home page's section `key`."""
    match = re.search(rf'<section class="card home-section" data-testid="home-{key}" data-count="(\d+)">(.*?)</section>',
                      page, re.S)
    assert match, f"no section {key}"
    return int(match.group(1)), match.group(2)


def more_requests(case, n: int, **request_values) -> list[FinancingRequest]:
    """`n` more requests of the case's enterprise in the bank's review, routed to its bank."""
    first = target_of(case)
    made = []
    for _ in range(n):
        req = FinancingRequest(enterprise_id=case.owner.enterprise.id, amount=Decimal("300000.00"), term_days=90,
                               purpose="采购原材料", state="bank_review", submitted_at=utcnow(),
                               created_by_id=case.owner.id, sla_due_at=utcnow() + timedelta(days=5),
                               **request_values)
        db.session.add(req)
        db.session.flush()
        db.session.add(RequestTarget(request_id=req.id, product_version_id=first.product_version_id,
                                     institution_id=first.institution_id, rank=1, chosen_by="enterprise",
                                     status="reviewing", routed_at=utcnow()))
        made.append(req)
    db.session.flush()
    return made


def test_an_officer_without_work_sees_empty_sections(app, client, login):
    login(UserFactory(role=Role.BANK_OFFICER))
    page = client.get("/dashboard").get_data(as_text=True)
    for key, text in (("waiting", "队列中暂无待处理的申请"), ("mine", "您目前没有认领的申请"),
                      ("due_today", "今天没有到期的申请"), ("breached", "没有超时的申请"),
                      ("transfers", "没有等待确认的费用转账")):
        count, html = section(page, key)
        assert count == 0 and text in html
    assert 'data-testid="home-approvals"' not in page  # officers approve nothing


def test_an_officer_sees_the_queue_claims_due_today_and_breached(app, client, login):
    case = routed(app)
    claimed(app, target_of(case), case.bank_staff)
    due_today, = more_requests(case, 1)
    due_today.sla_due_at = end_of_day_shanghai(utcnow()) - timedelta(seconds=1)
    late, = more_requests(case, 1, stuck=True)
    db.session.flush()

    login(case.bank_staff)
    page = client.get("/dashboard").get_data(as_text=True)
    waiting, html = section(page, "waiting")
    assert waiting == 3 and f"#{late.id}" in html and 'href="/institution/requests/"' in page
    mine, html = section(page, "mine")
    assert mine == 1 and f"#{case.request.id}" in html and "/institution/requests/?mine=1" in page
    today, html = section(page, "due_today")
    assert today == 1 and f"#{due_today.id}" in html and "sla=due_today" in page
    breached, html = section(page, "breached")
    assert breached == 1 and f"#{late.id}" in html and "已超时" in html

    # the section's link lists the same rows it counted
    listed = client.get("/institution/requests/?sla=due_today").get_data(as_text=True)
    assert f'data-request-id="{due_today.id}"' in listed and f'data-request-id="{late.id}"' not in listed


def test_a_guarantor_officer_sees_its_queue(app, client, login):
    case = routed(app, "mixed")
    login(case.guarantor_staff)
    count, html = section(client.get("/dashboard").get_data(as_text=True), "waiting")
    assert count == 1 and f"#{case.request.id}" in html


def test_an_approver_sees_the_offers_waiting_for_them_but_not_their_own(app, client, login):
    case = routed(app)
    target = target_of(case)
    approver, other_approver = colleague(case.bank_staff, Role.BANK_APPROVER), colleague(case.bank_staff,
                                                                                          Role.BANK_APPROVER)
    login(approver)
    count, html = section(client.get("/dashboard").get_data(as_text=True), "approvals")
    assert count == 0 and "没有等待您审批的报价" in html
    db.session.add(Offer(target_id=target.id, request_id=case.request.id, institution_id=target.institution_id,
                         amount=Decimal("900000.00"), annual_rate=Decimal("3.85"), term_days=90,
                         expires_on=today_shanghai() + timedelta(days=10), status="pending_approval", four_eyes=True,
                         made_by_id=other_approver.id))
    db.session.flush()
    count, html = section(client.get("/dashboard").get_data(as_text=True), "approvals")
    assert count == 1 and f"#{case.request.id}" in html and other_approver.name in html
    client.post("/logout")
    login(other_approver)  # its maker does not approve it
    assert section(client.get("/dashboard").get_data(as_text=True), "approvals")[0] == 0


def test_an_enterprise_sees_what_needs_its_action(app, client, login):
    case = routed(app)
    owner, target = case.owner, target_of(case)
    login(owner)
    page = client.get("/dashboard").get_data(as_text=True)
    assert section(page, "commitment")[0] == (0 if "已签署现行版本" in page else 1)
    for key in ("questions", "decisions", "fees"):
        assert section(page, key)[0] == 0

    db.session.add(InfoRequest(target_id=target.id, request_id=case.request.id, asked_by_id=case.bank_staff.id,
                               question="请补充2024年的购销合同"))
    db.session.add(Offer(target_id=target.id, request_id=case.request.id, institution_id=target.institution_id,
                         amount=Decimal("200000.00"), annual_rate=Decimal("3.85"), term_days=90,
                         expires_on=today_shanghai() + timedelta(days=10), status="made",
                         made_by_id=case.bank_staff.id, approved_by_id=case.bank_staff.id, approved_at=utcnow()))
    consent = db.session.scalar(select(Consent).where(Consent.enterprise_id == owner.enterprise.id).limit(1))
    consent.valid_to = today_shanghai() + timedelta(days=10)
    with app.test_request_context():
        fee = payments.create_fee(case.request, target.institution, "service_fee", Decimal("500.00"))
    db.session.flush()

    page = client.get("/dashboard").get_data(as_text=True)
    count, html = section(page, "questions")
    assert count == 1 and "请补充2024年的购销合同" in html and f"/financing/{case.request.id}/questions" in html
    count, html = section(page, "decisions")
    assert count == 1 and f"/financing/{case.request.id}/offers" in html
    count, html = section(page, "fees")
    assert count == 1 and f"/payments/{fee.id}" in html
    count, html = section(page, "consents")
    assert count >= 1 and (today_shanghai() + timedelta(days=10)).isoformat() in html


def test_an_enterprise_with_nothing_to_do_is_told_so(app, client, login, monkeypatch):
    # its first application is done (tests/onboarding/test_wiring.py shows the checklist's item)
    monkeypatch.setattr("marketplace.onboarding.services.checklist_steps",
                        lambda enterprise: [Step("commitment", True)])
    owner = make_enterprise_user()
    with app.test_request_context():
        sign_commitment(owner.enterprise, owner, owner.name, "127.0.0.1")
    login(owner)
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="home-summary-empty"' in page and "目前没有需要您处理的事项" in page
    for key in ("checklist", "commitment", "questions", "decisions", "fees", "consents"):
        assert section(page, key)[0] == 0


def test_unsigned_commitment_is_the_first_thing_to_do(app, client, login):
    login(make_enterprise_user())
    count, html = section(client.get("/dashboard").get_data(as_text=True), "commitment")
    assert count == 1 and "/enterprise/commitment" in html


@pytest.mark.parametrize("role", [Role.BUREAU_COORDINATOR, Role.PLATFORM_ADMIN])
def test_the_bureau_and_the_admin_keep_their_own_first_page(app, client, login, role):
    login(UserFactory(role=role, organisation__region_code="320500" if role == Role.BUREAU_COORDINATOR else None))
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert client.get(response.headers["Location"]).status_code == 200


def test_the_officers_home_statements_do_not_grow_with_the_rows(app, client, login):
    case = routed(app)
    approver = colleague(case.bank_staff, Role.BANK_APPROVER)
    more_requests(case, 1, stuck=True)
    login(case.bank_staff)
    few = statements_of(app, client, "/dashboard")
    for req in more_requests(case, 8, stuck=True):
        claimed(app, db.session.scalar(select(RequestTarget).where(RequestTarget.request_id == req.id)),
                case.bank_staff)
    many = statements_of(app, client, "/dashboard")
    assert len(many) == len(few) == OFFICER_STATEMENTS, "\n".join(many)
    client.post("/logout")
    login(approver)
    assert len(statements_of(app, client, "/dashboard")) == APPROVER_STATEMENTS


def test_the_enterprise_home_statements_do_not_grow_with_the_rows(app, client, login):
    case = routed(app)
    target = target_of(case)
    login(case.owner)

    def grow(k: int) -> None:
        for i in range(k):
            db.session.add(InfoRequest(target_id=target.id, request_id=case.request.id,
                                       asked_by_id=case.bank_staff.id, question=f"问题{i}"))
        db.session.flush()

    grow(1)
    few = statements_of(app, client, "/dashboard")
    grow(8)
    many = statements_of(app, client, "/dashboard")
    assert len(many) == len(few) == ENTERPRISE_STATEMENTS, "\n".join(many)
