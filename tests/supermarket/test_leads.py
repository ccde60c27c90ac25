"""An institution's leads (issue 15): the database hands over only the requests that could be
leads, the matcher decides on those; the result is the one the former whole-region ranking gave
(held here to that ranking, kept as the reference); the page shows PAGE_SIZE leads at a time in
a stable order, logs a credit-data read for each lead it shows and for no other, in one INSERT,
and runs the same number of statements for 3 leads as for 30."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketplace import audit
from marketplace.accounts.roles import Role
from marketplace.audit import AuditEvent, verify_chain
from marketplace.credit.models import CreditGrade
from marketplace.db import utcnow
from marketplace.desks.models import Decline
from marketplace.enterprises.consents import ROUTING_SCOPE
from marketplace.enterprises.models import Consent
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest, RequestPledge
from marketplace.formatting import today_shanghai
from marketplace.supermarket import matching, pushes
from marketplace.supermarket.matching import institution_records, published_terms, request_profile
from marketplace.supermarket.models import Product, RequestTarget
from tests.factories import EnterpriseFactory, ReceivableFactory, grant_consent_to, make_uscc
from tests.sql_log import statements_run
from tests.supermarket.products import lender, make_product
from tests.test_page_queries import statements_of
from workflows.matching import rank

# the page's statements, whatever the number of leads shown: the user; the published products;
# the candidate requests' figures with their enterprise's industry and region; their pledged
# receivables; the enterprises' grades; the issued guarantees; the decisions' state and this
# institution's record (its decided targets); the page's requests with their enterprises; the
# products named; the yellow list; the white-list push; the audit log's lock, chain head and one INSERT
LEADS_STATEMENTS = 15


def reference_leads(institution_id: int) -> list[tuple[int, int, float]]:
    """(request, product, score) of every lead as leads_for found them before issue 15: every open
    request of the region ranked against the institution's products, consent checked in Python;
    requests once routed to the institution left out."""
    terms = [t for t in published_terms() if t.institution_id == institution_id]
    if not terms:
        return []
    today = today_shanghai()
    consenting = {c.enterprise_id for c in db.session.scalars(select(Consent).where(Consent.grantee_org_id == institution_id))
                  if c.covers(ROUTING_SCOPE, today)}
    records = institution_records()
    reached = set(db.session.scalars(select(RequestTarget.request_id).where(
        RequestTarget.institution_id == institution_id, RequestTarget.routed_at.is_not(None))))
    leads = []
    for request in db.session.scalars(select(FinancingRequest).where(FinancingRequest.state.in_(pushes.LEAD_STATES))):
        if request.enterprise_id not in consenting or request.id in reached:
            continue
        best = next((m for m in rank(terms, request_profile(request), records) if m.eligible), None)
        if best is not None:
            leads.append((request.id, best.product_id, best.score))
    return sorted(leads, key=lambda lead: (-lead[2], lead[0]))


def found(institution_id: int) -> list[tuple[int, int, float]]:
    return [(lead.request.id, lead.match.product_id, lead.match.score) for lead in pushes.leads_for(institution_id)]


def open_request(enterprise, amount="1000000.00", term_days=180, state="verified", receivables=()) -> FinancingRequest:
    """A request in `state` (rows only: no transition), pledging `receivables`."""
    admin = enterprise.organisation.users[0] if enterprise.organisation.users else None
    creator = admin or lender(Role.ENTERPRISE_ADMIN, organisation=enterprise.organisation)
    request = FinancingRequest(enterprise_id=enterprise.id, amount=Decimal(amount), term_days=term_days,
                               purpose="采购原材料", state=state, created_by_id=creator.id,
                               submitted_at=None if state == "draft" else utcnow(), version=1)
    db.session.add(request)
    db.session.flush()
    db.session.add_all(RequestPledge(request_id=request.id, receivable_id=r.id) for r in receivables)
    db.session.flush()
    return request


def grade(enterprise, letter: str | None) -> None:
    colours = {"A": "green", "B": "yellow", "C": "red", "D": "black", None: None}
    db.session.add(CreditGrade(enterprise_id=enterprise.id, grade=letter, colour=colours[letter],
                               score=None if letter is None else 70, reasons=[], model_version="test",
                               evaluated_on=today_shanghai(), inputs_digest="0" * 64, trigger="test"))
    db.session.flush()


def simple_leads(app, bank, n: int, start: int = 0) -> list[int]:
    """`n` verified requests of new consenting enterprises that the bank's product fits."""
    ids = []
    for i in range(n):
        enterprise = EnterpriseFactory()
        grant_consent_to(enterprise, bank.organisation_id)
        ids.append(open_request(enterprise, amount=f"{200000 + 1000 * (start + i)}.00").id)
    return ids


@pytest.fixture
def varied(app):
    """A bank with five published products (and a draft and a retired one), another bank, and 80
    requests that vary every fact a lead depends on: state, consent, amount, term, region,
    industry, grade, the pledged receivables' confirmation, debtor kind and contract number."""
    rng = random.Random(15)
    bank = lender(name="线索银行")
    other = lender(name="另一家银行")
    common = {"amount_min": Decimal("100000.00"), "amount_max": Decimal("5000000.00"), "term_min_days": 30,
              "term_max_days": 360}
    make_product(app, bank, name="苏州质押贷", rate_min=Decimal("3.45"), regions=["3205"], industries=["39"],
                 min_grade="B", accepts_ungraded=False, **common)
    make_product(app, bank, name="保理", product_type="factoring", rate_min=Decimal("4.20"),
                 amount_min=Decimal("50000.00"), amount_max=Decimal("2000000.00"), term_min_days=30, term_max_days=720)
    make_product(app, bank, name="订单贷", product_type="order_loan", rate_min=Decimal("5.00"),
                 regions=["320506", "31"], industries=["13"], **common)
    make_product(app, bank, name="需担保", rate_min=Decimal("3.00"), requires_guarantee=True, **common)
    make_product(app, bank, name="政采贷", product_type="gov_procurement_loan", rate_min=Decimal("3.80"), **common)
    make_product(app, bank, state="draft", name="草稿", rate_min=Decimal("2.60"), **common)
    make_product(app, bank, state="retired", name="已下架", rate_min=Decimal("2.70"), **common)
    make_product(app, other, name="他行产品", rate_min=Decimal("2.80"), **common)
    today = today_shanghai()
    states = [*sorted(pushes.LEAD_STATES)] * 3 + ["submitted", "offer_made", "closed", "draft"]
    for i in range(80):
        enterprise = EnterpriseFactory(region_code=rng.choice(["320505", "320506", "310115", "330106"]),
                                       industry_code=rng.choice(["39", "C391", "13", "3913", "1339", "26"]))
        for letter in rng.sample([None, "A", "B", "C", "D"], rng.choice([0, 1, 2])):
            grade(enterprise, letter)
        consent = rng.choice(["valid"] * 5 + ["expired", "revoked", "tax", "none", "other"])
        if consent == "valid":
            grant_consent_to(enterprise, bank.organisation_id)
        elif consent == "expired":
            grant_consent_to(enterprise, bank.organisation_id, valid_from=today - timedelta(days=30),
                             valid_to=today - timedelta(days=1))
        elif consent == "revoked":
            (revoked,) = grant_consent_to(enterprise, bank.organisation_id)
            revoked.revoked_at = utcnow()
        elif consent == "tax":
            grant_consent_to(enterprise, bank.organisation_id, scopes=("tax",))
        elif consent == "other":
            grant_consent_to(enterprise, other.organisation_id)
        receivables = [ReceivableFactory(enterprise=enterprise, confirmation=rng.choice(["confirmed", "pending"]),
                                         contract_no=rng.choice(["HT-1", "", None]),
                                         debtor_uscc=make_uscc(1000 * i + k, prefix=rng.choice(["11320505", "91310115"])))
                       for k in range(rng.choice([0, 1, 1, 2]))]
        open_request(enterprise, amount=rng.choice(["40000.00", "100000.00", "1500000.00", "1500000.00", "2000000.01",
                                                    "5000000.00", "5000000.01"]),
                     term_days=rng.choice([20, 30, 180, 180, 360, 361, 720]), state=rng.choice(states),
                     receivables=receivables)
    return bank, other


def test_leads_are_those_the_whole_region_ranking_found(app, varied):
    bank, other = varied
    expected = reference_leads(bank.organisation_id)
    assert len(expected) >= 8  # the data holds leads of several products, and many requests that are not
    assert len({product for _request, product, _score in expected}) >= 2
    assert found(bank.organisation_id) == expected
    assert found(other.organisation_id) == reference_leads(other.organisation_id)


def test_a_request_once_routed_to_the_institution_is_no_lead_of_it_but_stays_one_of_others(app):
    bank = lender(name="已推送银行")
    other = lender(name="未推送银行")
    for institution in (bank, other):
        make_product(app, institution, name=f"{institution.organisation.name}产品")
    ids = simple_leads(app, bank, 3)
    for request_id in ids:
        grant_consent_to(db.session.get(FinancingRequest, request_id).enterprise, other.organisation_id)
    version = db.session.scalar(select(Product).where(Product.institution_id == bank.organisation_id)).current_version_id
    for request_id, status in zip(ids[:2], ("reviewing", "declined"), strict=True):
        db.session.get(FinancingRequest, request_id).state = "bank_declined" if status == "declined" else "routed_to_bank"
        db.session.add(RequestTarget(request_id=request_id, product_version_id=version, institution_id=bank.organisation_id,
                                     rank=1, chosen_by="enterprise", status=status, routed_at=utcnow()))
    db.session.flush()
    assert [lead.request.id for lead in pushes.leads_for(bank.organisation_id)] == [ids[2]]
    assert sorted(lead.request.id for lead in pushes.leads_for(other.organisation_id)) == sorted(ids)
    assert found(bank.organisation_id) == reference_leads(bank.organisation_id)


def test_the_database_keeps_every_lead_of_a_product_for_some_industries_and_regions(app):
    bank = lender(name="行业银行")
    make_product(app, bank, name="限行业地区", regions=["3205", "310115"], industries=["39", "13"])
    cases = {("320505", "C391"): True, ("320505", "3913"): True, ("320505", "1339"): True, ("320505", "2613"): False,
             ("310115", "39"): True, ("310116", "39"): False, ("320605", "39"): False, ("320505", "26"): False}
    expected = []
    for (region, industry), lead in cases.items():
        enterprise = EnterpriseFactory(region_code=region, industry_code=industry)
        grant_consent_to(enterprise, bank.organisation_id)
        request = open_request(enterprise)
        if lead:
            expected.append(request.id)
    assert [request for request, _product, _score in found(bank.organisation_id)] == expected
    assert found(bank.organisation_id) == reference_leads(bank.organisation_id)


def test_records_of_some_institutions_are_those_of_all(app):
    from marketplace.desks import decisions
    from tests.desks.helpers import claimed, routed, target_of
    from tests.desks.test_decisions import competing, offer

    case = routed(app)
    other, other_target = competing(app, case)
    offer(app, claimed(app, target_of(case), case.bank_staff), case.bank_staff)
    with app.test_request_context():
        decisions.decline(claimed(app, other_target, other), other, "policy", "")
    everyone = institution_records()
    for institution_id in (case.bank_staff.organisation_id, other.organisation_id):
        assert institution_records([institution_id]) == {institution_id: everyone[institution_id]}
    assert institution_records([case.bank_staff.organisation_id, other.organisation_id]) == {
        i: everyone[i] for i in (case.bank_staff.organisation_id, other.organisation_id)}
    assert institution_records([]) == {}


def test_institution_records_are_kept_until_a_decision_is_added_or_approved(app, varied):
    bank, _other = varied
    matching._records_kept.clear()
    first = matching.institution_records()
    with statements_run() as statements:
        kept = matching.institution_records()
    assert kept is first and len(statements) == 1  # the decisions' state alone
    request_id = simple_leads(app, bank, 1)[0]
    version = db.session.scalar(select(Product).where(Product.institution_id == bank.organisation_id)).current_version_id
    target = RequestTarget(request_id=request_id, product_version_id=version, institution_id=bank.organisation_id,
                           rank=1, chosen_by="enterprise", status="declined", routed_at=utcnow() - timedelta(days=4))
    db.session.add(target)
    db.session.flush()
    db.session.add(Decline(target_id=target.id, request_id=request_id, institution_id=bank.organisation_id,
                           reason_code="policy", decided_by_id=bank.id))
    db.session.flush()
    after = matching.institution_records()
    assert after is not first and after[bank.organisation_id].median_turnaround_days >= 3.9


def test_the_leads_page_pages_through_the_leads_in_a_stable_order(app, client, login, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 4)
    bank = lender(name="翻页银行")
    make_product(app, bank, name="翻页质押贷")
    simple_leads(app, bank, 10)
    everything = [lead.request.id for lead in pushes.leads_for(bank.organisation_id)]
    login(bank)
    shown = []
    for number in (1, 2, 3):
        page = client.get(f"/institution/leads/?page={number}").get_data(as_text=True)
        shown += [int(i) for i in _row_ids(page)]
        assert f"第 {number} / 3 页，共 10 条" in page
    assert shown == everything and len(set(shown)) == 10
    assert _row_ids(client.get("/institution/leads/?page=99").get_data(as_text=True)) == _row_ids(
        client.get("/institution/leads/?page=3").get_data(as_text=True))  # past the end: the last page
    assert _row_ids(client.get("/institution/leads/?page=abc").get_data(as_text=True)) == [
        str(i) for i in everything[:4]]


def _row_ids(page: str) -> list[str]:
    import re

    return re.findall(r'data-testid="lead-row">\s*<td[^>]*>#(\d+)', page)


def test_only_the_leads_shown_are_logged_as_read_one_event_each(app, client, login, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 4)
    bank = lender(name="记录银行")
    make_product(app, bank, name="记录质押贷")
    simple_leads(app, bank, 6)
    second_page = [lead.request for lead in pushes.leads_for(bank.organisation_id)][4:]
    last = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    login(bank)
    client.get("/institution/leads/?page=2")
    reads = list(db.session.scalars(select(AuditEvent).where(AuditEvent.id > last,
                                                             AuditEvent.action == "credit_data.read")
                                    .order_by(AuditEvent.id)))
    assert [(e.object_type, e.object_id, e.enterprise_id, e.purpose, e.details, e.actor_org_id) for e in reads] == [
        ("financing_lead", str(r.id), r.enterprise_id, "lead review", {"request_id": r.id}, bank.organisation_id)
        for r in second_page]
    assert verify_chain(app.config["AUDIT_KEY"])[2] is None


def test_reads_logged_together_are_chained_in_order_with_their_checkpoint(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_EVERY", 3)
    enterprises = [EnterpriseFactory() for _ in range(5)]
    checkpoints = db.session.scalar(select(func.count(audit.AuditCheckpoint.id)))
    events = audit.record_credit_reads("financing_lead", "lead review",
                                       [(e.id, {"request_id": 100 + n}) for n, e in enumerate(enterprises)])
    audit.flush_pending()  # chained as the commit would chain them
    assert [e.enterprise_id for e in events] == [e.id for e in enterprises]
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert [e.prev_hmac for e in events[1:]] == [e.hmac for e in events[:-1]]
    assert [e.object_id for e in events] == [str(100 + n) for n in range(5)]
    assert db.session.scalar(select(func.count(audit.AuditCheckpoint.id))) == checkpoints + 1  # 5 ids hold a multiple of 3
    assert verify_chain(app.config["AUDIT_KEY"])[2] is None
    assert audit.record_credit_reads("financing_lead", "lead review", []) == []


def test_leads_page_statements_do_not_grow_with_the_leads_shown(app, client, login, monkeypatch):
    """/institution/leads/ runs LEADS_STATEMENTS statements whether it shows 3 leads or a page of
    20 out of 30 (each of its own enterprise, each with a pledged receivable), while three other
    banks publish products."""
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_EVERY", 0)  # a checkpoint now and then is one more
    bank = lender(name="计数银行")
    make_product(app, bank, name="计数质押贷")
    for n in range(3):  # other institutions' products are read too, with their institutions
        make_product(app, lender(name=f"其他银行{n}"), name=f"其他产品{n}")
    for request_id in simple_leads(app, bank, 3):
        _pledge_one(request_id)
    login(bank)
    matching._records_kept.clear()  # both measured with the institution's record computed (not kept)
    few = statements_of(app, client, "/institution/leads/")
    assert len(_row_ids(client.get("/institution/leads/").get_data(as_text=True))) == 3
    for request_id in simple_leads(app, bank, 27, start=3):
        _pledge_one(request_id)
    matching._records_kept.clear()
    many = statements_of(app, client, "/institution/leads/")
    assert len(_row_ids(client.get("/institution/leads/").get_data(as_text=True))) == 20
    assert len(many) == len(few), "\n".join(many)
    assert len(few) == LEADS_STATEMENTS, "\n".join(few)


def _pledge_one(request_id: int) -> None:
    request = db.session.get(FinancingRequest, request_id)
    receivable = ReceivableFactory(enterprise=request.enterprise, confirmation="confirmed")
    db.session.add(RequestPledge(request_id=request_id, receivable_id=receivable.id))
    db.session.flush()
