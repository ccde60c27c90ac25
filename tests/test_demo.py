"""The demo seed: a complete, valid, audited cast on the embedded SQLite default, idempotent."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketplace import demo_data, demo_statements
from marketplace.accounts.models import Organisation, User
from marketplace.accounts.roles import OrgKind, Role
from marketplace.audit import AuditEvent, verify_chain
from marketplace.credit.access import visible_to
from marketplace.credit.models import (
    CreditGrade,
    CreditObjection,
    CreditRecord,
    RepairApplication,
    latest_grade,
)
from marketplace.db import utcnow
from marketplace.demo import seed
from marketplace.desks.models import Assignment, InfoRequest, Offer
from marketplace.enterprises.models import CommitmentSignature, Consent, Enterprise
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest, RequestPledge, WorkflowEvent
from marketplace.formatting import local, today_shanghai
from marketplace.guarantees.models import Guarantee
from marketplace.lists.models import ListProposal, WhitelistPush
from marketplace.loans import services as loan_services
from marketplace.loans.models import Instalment, Loan, Repayment
from marketplace.notifications.models import Notification
from marketplace.payments.models import Payment
from marketplace.receivables.models import ConfirmationLink, Receivable
from marketplace.reference.industries import INDUSTRY_DIVISIONS
from marketplace.reference.regions import is_region_prefix
from marketplace.statements.models import StatementFile, StatementTransaction
from marketplace.supermarket.matching import ranked_matches
from marketplace.supermarket.models import (
    PRODUCT_TYPES,
    Product,
    ProductStat,
    ProductVersion,
    RequestTarget,
)
from marketplace.verification.models import VerificationReport
from marketplace.verification.services import reports_of
from tests.demo_seed import get_as, seeded_demo
from workflows.credit_model import MODEL_VERSION, SOURCES, add_years
from workflows.financing import TERMINAL_STATES
from workflows.identifiers import resident_id_problem, uscc_problem
from workflows.verification.statements import parse_statement

pytestmark = [pytest.mark.sqlite, pytest.mark.xdist_group("demo")]

AUDIT_KEY = "y"
TABLES = (Organisation, User, Enterprise, CommitmentSignature, Consent, Receivable, ConfirmationLink,
          FinancingRequest, RequestPledge, WorkflowEvent, AuditEvent, Product, ProductVersion, ProductStat,
          StatementFile, StatementTransaction, RequestTarget, Assignment, Offer, Guarantee, Payment, Loan,
          Instalment, Repayment, Notification, CreditRecord, CreditGrade)


@pytest.fixture(autouse=True)
def db_session():
    """This module brings its own SQLite database: no PostgreSQL rollback fixture."""
    yield None


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """One seeded app for the module (seeding hashes ~35 passwords); tests only read it."""
    yield from seeded_demo(tmp_path_factory, AUDIT_KEY)


def _admin_of(request: FinancingRequest) -> User:
    return db.session.scalar(select(User).where(User.organisation_id == request.enterprise.organisation_id,
                                                User.role == Role.ENTERPRISE_ADMIN))


def _in_state(state: str) -> list[FinancingRequest]:
    return list(db.session.scalars(select(FinancingRequest).where(FinancingRequest.state == state)))


def _counts() -> dict[str, int]:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) for model in TABLES}


def test_seed_creates_every_kind_of_organisation_and_a_user_for_every_role(seeded):
    kinds = Counter(db.session.scalars(select(Organisation.kind)))
    assert kinds == {OrgKind.BANK: 3, OrgKind.GUARANTOR: 2, OrgKind.BUREAU: 1, OrgKind.PLATFORM: 1,
                     OrgKind.ENTERPRISE: 21, OrgKind.PROVIDER: 6}
    sources = set(db.session.scalars(select(Organisation.credit_source).where(Organisation.kind == OrgKind.PROVIDER)))
    assert sources == {"tax", "utilities", "social_insurance", "housing_fund", "court", "market_regulator"}
    roles = set(db.session.scalars(select(User.role)))
    assert roles == {str(role) for role in Role}


def test_staff_have_their_second_factor_enrolled_and_enterprise_users_do_not_need_one(seeded):
    for user in db.session.scalars(select(User)):
        assert (user.totp_secret is not None and user.totp_enrolled_at is not None) == user.is_staff


def test_enterprise_identifiers_are_valid_and_unique(seeded):
    enterprises = db.session.scalars(select(Enterprise)).all()
    assert len({e.uscc for e in enterprises}) == 21
    for enterprise in enterprises:
        assert uscc_problem(enterprise.uscc) is None, enterprise.name
        assert resident_id_problem(enterprise.legal_rep_id_number) is None, enterprise.name
    debtor_codes = set(db.session.scalars(select(Receivable.debtor_uscc)))
    assert all(uscc_problem(code) is None for code in debtor_codes)


def test_most_but_not_all_enterprises_signed_the_commitment(seeded):
    signed = db.session.scalar(select(func.count(func.distinct(CommitmentSignature.enterprise_id))))
    assert 10 < signed < 21


def test_consents_include_active_expired_and_revoked(seeded):
    today = today_shanghai()
    states = Counter(c.state_on(today) for c in db.session.scalars(select(Consent)))
    assert states["active"] >= 5 and states["expired"] == 1 and states["revoked"] == 1


def test_receivables_are_in_all_three_confirmation_states_with_plausible_facts(seeded):
    receivables = db.session.scalars(select(Receivable)).all()
    per_enterprise = Counter(r.enterprise_id for r in receivables)
    # 3-8 each, plus 2 for each request verified live at the end of the seed
    assert all(2 <= n <= 10 for n in per_enterprise.values()) and len(per_enterprise) == 21
    assert {r.confirmation for r in receivables} == {"pending", "confirmed", "disputed"}
    for r in receivables:
        assert 50_000 <= r.face_amount <= 3_000_000
        assert 30 <= (r.due_date - r.issue_date).days <= 180
        assert len(r.invoice_no) in (8, 20) and r.invoice_no.isdigit()
        if r.confirmation == "pending":
            assert r.confirmed_at is None
        else:
            assert r.confirmed_at is not None and r.confirmed_via in ("link", "account") and r.confirmed_by_name
            assert r.declared_confirmation is None  # the debtor's own answer, not the enterprise's say-so
        assert (r.confirmation == "disputed") == (r.dispute_reason is not None)


def test_a_platform_enterprise_has_receivables_waiting_for_its_confirmation(seeded):
    debtor = db.session.scalar(select(Enterprise).where(Enterprise.name == "苏州恒达精密机械有限公司"))
    waiting = db.session.scalar(select(func.count(Receivable.id)).where(
        Receivable.debtor_uscc == debtor.uscc, Receivable.confirmation == "pending"))
    assert waiting >= 3


def test_requests_span_the_workflow_and_pledges_stay_consistent(seeded):
    requests = db.session.scalars(select(FinancingRequest)).all()
    states = {r.state for r in requests}
    assert len(states) >= 3 and {"draft", "submitted", "withdrawn", "closed"} <= states
    for request in requests:
        if request.state in TERMINAL_STATES:
            assert request.active_pledges == [] and all(p.released_at for p in request.pledges)
        else:
            assert request.active_pledges and request.amount <= request.pledged_total
        assert request.events[0].transition == "create" and request.events[-1].to_state == request.state
        times = [e.occurred_at for e in request.events]
        assert times == sorted(times)
    twice = db.session.execute(
        select(RequestPledge.receivable_id).where(RequestPledge.active)
        .group_by(RequestPledge.receivable_id).having(func.count() > 1)
    ).all()
    assert twice == []


def _statuses(model, request: FinancingRequest) -> list[str]:
    return sorted(db.session.scalars(select(model.status).where(model.request_id == request.id)))


def test_requests_past_a_routing_have_the_rows_their_states_imply(seeded):
    """Targets, claims, offers, guarantees, fees and loans, as the services leave them."""
    seen = set()
    for request in db.session.scalars(select(FinancingRequest)):
        state, targets, offers = request.state, _statuses(RequestTarget, request), _statuses(Offer, request)
        guarantee_states, fees = _statuses(Guarantee, request), _statuses(Payment, request)
        loan = loan_services.loan_of(request.id)
        passed = {e.transition for e in request.events}
        seen.add(state)
        if "route_to_bank" in passed or "route_to_guarantor" in passed:
            assert request.classification in ("excellent", "mixed"), request.id
        if state in ("bank_review", "info_requested", "guarantor_review"):
            assert {"reviewing", "info_requested"} & set(targets), request.id
            assert db.session.scalar(select(func.count(Assignment.id)).where(Assignment.request_id == request.id))
        if state == "info_requested":
            assert db.session.scalar(select(InfoRequest.id).where(InfoRequest.request_id == request.id,
                                                                  InfoRequest.answered_at.is_(None)))
        if state == "offer_made":
            assert offers.count("made") >= 1, request.id
        if state in ("offer_accepted", "disbursed", "repaying", "closed"):
            assert offers.count("accepted") == 1 and "made" not in offers, request.id
        assert (loan is not None) == (state in ("disbursed", "repaying", "closed")), request.id
        if loan is not None:
            assert loan.offer.status == "accepted" and loan.amount <= loan.offer.amount
            assert bool(loan.instalments) == (state != "disbursed"), request.id
        if state == "closed" and loan is not None:
            assert loan_services.allocation(loan).outstanding == 0
        if state == "guarantee_offered":
            assert guarantee_states == ["offered"] and fees == [], request.id
        if state == "fee_pending":
            assert guarantee_states == ["accepted"] and fees == ["pending"], request.id
        if "confirm_fee" in passed:
            assert guarantee_states == ["issued"] and fees == ["succeeded"], request.id
    assert {"offer_made", "disbursed", "repaying", "closed", "fee_pending", "guarantee_offered",
            "info_requested"} <= seen


def test_two_bank_offers_wait_side_by_side_for_the_enterprise(seeded):
    app, _output = seeded
    today = today_shanghai()
    waiting = [r for r in _in_state("offer_made")
               if len(db.session.scalars(select(Offer).where(Offer.request_id == r.id, Offer.status == "made")).all()) > 1]
    assert waiting
    request = waiting[0]
    offers = db.session.scalars(select(Offer).where(Offer.request_id == request.id)).all()
    assert len({o.institution_id for o in offers}) == len(offers) == 2
    assert all(o.expires_on >= today and o.institution.kind == OrgKind.BANK for o in offers)
    assert len({(o.amount, o.annual_rate) for o in offers}) == 2  # a real choice: more money or a lower rate
    page = get_as(app, _admin_of(request), f"/financing/{request.id}/offers")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('data-testid="offer-card"') == 2 and html.count('data-testid="accept-offer"') == 2


def test_an_issued_guarantee_has_its_letter_and_took_the_request_on_to_a_bank(seeded):
    app, _output = seeded
    guarantee = db.session.scalar(select(Guarantee).where(Guarantee.status == "issued"))
    request = guarantee.request
    assert request.state == "routed_to_bank" and guarantee.letter_no.startswith("DB-")
    fee = db.session.scalar(select(Payment).where(Payment.request_id == request.id))
    assert (fee.status, fee.method, fee.amount) == ("succeeded", "offline", guarantee.fee)
    assert fee.confirmed_by.organisation_id == guarantee.institution_id and fee.offline_reference
    banks = db.session.scalars(select(RequestTarget).where(RequestTarget.request_id == request.id,
                                                           RequestTarget.status == "routed")).all()
    assert banks and all(t.institution.kind == OrgKind.BANK for t in banks)
    letter = get_as(app, _admin_of(request), f"/financing/{request.id}/guarantee/letter.pdf")
    assert letter.status_code == 200 and letter.mimetype == "application/pdf"
    assert letter.data.startswith(b"%PDF")


def test_a_guarantee_fee_waits_for_the_guarantor_to_confirm_the_bank_transfer(seeded):
    app, _output = seeded
    [fee] = db.session.scalars(select(Payment).where(Payment.status == "pending")).all()
    assert fee.method == "offline" and fee.request.state == "fee_pending"
    officer = db.session.scalar(select(User).where(User.organisation_id == fee.payee_org_id,
                                                   User.role == Role.GUARANTOR_OFFICER))
    page = get_as(app, officer, "/payments/received")
    assert page.status_code == 200 and fee.transfer_code in page.get_data(as_text=True)
    payer_page = get_as(app, _admin_of(fee.request), f"/payments/{fee.id}")
    assert payer_page.status_code == 200
    assert fee.payee.payee_account_number in payer_page.get_data(as_text=True)  # the account to transfer into


def test_a_loan_repays_on_schedule_with_one_instalment_overdue_and_flagged(seeded):
    app, _output = seeded
    today = today_shanghai()
    [request] = _in_state("repaying")
    loan = loan_services.loan_of(request.id)
    assert len(loan.instalments) >= 3 and len(loan.repayments) >= 1
    summary = loan_services.summary(loan, today)
    assert [row.due_on for row in summary.overdue] == [
        row.due_on for row in loan.instalments if row.overdue_flagged_at is not None]
    [overdue] = summary.overdue
    assert overdue.due_on < today and local(overdue.overdue_flagged_at).date() > overdue.due_on
    paid = [state for row, state in summary.rows if state.covered_on is not None]
    assert paid and all(state.covered_on <= state.line.due_on for state in paid)  # the others on time
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "loan.overdue")) == 1
    page = get_as(app, _admin_of(request), f"/financing/{request.id}/loan")
    assert page.status_code == 200 and 'data-testid="overdue-warning"' in page.get_data(as_text=True)
    [closed] = _in_state("closed")
    assert loan_services.loan_of(closed.id).repayments


def test_every_enterprise_was_graded_after_seeding_and_the_verified_ones_have_a_grade(seeded):
    enterprise_ids = set(db.session.scalars(select(Enterprise.id)))
    assert set(db.session.scalars(select(CreditGrade.enterprise_id))) == enterprise_ids
    verified = set(db.session.scalars(select(VerificationReport.enterprise_id)))
    assert verified
    for enterprise_id in verified:
        row = latest_grade(enterprise_id)
        assert row.graded and row.model_version == MODEL_VERSION and row.reasons
    [repaying] = _in_state("repaying")  # its overdue instalment counts against it
    codes = {reason["code"] for reason in latest_grade(repaying.enterprise_id).reasons}
    assert "current_past_due" in codes


def test_every_provider_pushed_records_through_the_intake_and_the_grades_span_a_to_d(seeded):
    records = db.session.scalars(select(CreditRecord)).all()
    assert {r.source for r in records} == set(SOURCES)
    assert {r.polarity for r in records} == {"positive", "negative", "neutral"}
    for record in records:  # each from the provider of its source, as the intake stores them
        assert record.provider.credit_source == record.source
    assert Counter(r.status for r in records)["objected"] == 1  # the open objection's record
    pushed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "credit_records.submitted")).all()
    assert {event.details["source"] for event in pushed} == set(SOURCES)
    assert sum(event.details["created"] for event in pushed) == len(records)
    today = today_shanghai()
    recent = [r for r in records if r.occurred_on >= add_years(today, -5)]
    old = [r for r in records if r not in recent]
    assert len(old) == 1 and old[0].polarity == "negative" and add_years(old[0].ended_on, 5) <= today  # for retention
    grades: dict[str, str | None] = {}
    for spec in demo_data.ENTERPRISES:
        enterprise = db.session.scalar(select(Enterprise).where(Enterprise.name == spec["name"]))
        row = latest_grade(enterprise.id)
        grades[spec["slug"]] = row.grade
        assert row.grade == demo_data.CREDIT_FILES[spec["slug"]]["expect"], (spec["slug"], row.score, row.reasons)
    assert set(grades.values()) == {"A", "B", "C", "D", None}
    yongsheng = db.session.scalar(select(Enterprise).where(Enterprise.name == "苏州永盛建筑装饰工程有限公司"))
    codes = {reason["code"] for reason in latest_grade(yongsheng.id).reasons}
    assert "knockout_enforcement" in codes  # an ongoing dishonest judgment debtor: the yellow list's case


def test_a_bank_with_the_enterprise_consent_sees_its_tax_and_court_records(seeded):
    bank = db.session.scalar(select(Organisation).where(Organisation.name == "中国建设银行苏州分行"))
    hengda = db.session.scalar(select(Enterprise).where(Enterprise.name == "苏州恒达精密机械有限公司"))
    seen = db.session.scalars(select(CreditRecord).where(visible_to(bank), CreditRecord.enterprise_id == hengda.id)).all()
    assert {"tax", "court"} <= {r.source for r in seen}
    assert "housing_fund" not in {r.source for r in seen}  # not in its consent's scopes
    app, _output = seeded
    officer = db.session.scalar(select(User).where(User.email == "officer@ccb-suzhou.demo"))
    page = get_as(app, officer, f"/institution/enterprises/{hengda.id}/credit-file")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "买卖合同纠纷" in html and "增值税" in html and "住房公积金" not in html


def test_an_objection_is_open_and_a_repair_in_review_each_filed_by_the_enterprise_with_evidence(seeded):
    [objection] = db.session.scalars(select(CreditObjection)).all()
    record = db.session.get(CreditRecord, objection.record_id)
    assert objection.is_open and record.status == "objected" and record.polarity == "negative"
    assert objection.filed_by.organisation_id == record.enterprise.organisation_id
    assert objection.due_on > today_shanghai() and objection.evidence
    [repair] = db.session.scalars(select(RepairApplication)).all()
    assert repair.is_open and repair.record.polarity == "negative" and repair.record.status == "active"
    assert repair.applicant.organisation_id == repair.record.enterprise.organisation_id and repair.evidence
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"credit.objection_filed", "credit.repair_filed"} <= actions


def test_the_lists_were_confirmed_with_red_white_and_yellow_entries_and_the_month_push_too(seeded):
    [proposal] = db.session.scalars(select(ListProposal)).all()
    assert proposal.state == "confirmed"
    kinds = Counter(m.list_kind for m in proposal.memberships if m.published_at is not None)
    assert kinds["red"] >= 1 and kinds["white"] >= 1 and kinds["yellow"] == 1
    [yellow] = [m for m in proposal.memberships if m.list_kind == "yellow"]
    assert yellow.enterprise.name == "苏州永盛建筑装饰工程有限公司"
    [push] = db.session.scalars(select(WhitelistPush)).all()
    assert push.state == "confirmed" and push.entries
    for entry in push.entries:
        assert entry.grade in ("A", "B") and latest_grade(entry.enterprise_id).grade == entry.grade


def test_the_printout_names_an_enterprise_login_of_each_grade_and_the_providers(seeded):
    _app, output = seeded
    for grade in "ABCD":
        assert f"{grade}级 grade {grade}" in output
    for spec in demo_data.PROVIDERS:
        assert f"provider staff@{spec['slug']}.demo" in output
    for what in ("on the yellow list", "an open objection", "a credit repair in review", "lists, confirmed",
                 "white-list push", "a bank's consented view"):
        assert what in output


def test_business_timestamps_follow_each_request_timeline(seeded):
    now, today = utcnow(), today_shanghai()
    for request in db.session.scalars(select(FinancingRequest)):
        start, end = request.created_at, request.events[-1].occurred_at
        for offer in db.session.scalars(select(Offer).where(Offer.request_id == request.id)):
            assert start < offer.created_at < now and (offer.decided_at is None
                                                       or offer.created_at <= offer.decided_at <= end), request.id
        for guarantee in db.session.scalars(select(Guarantee).where(Guarantee.request_id == request.id)):
            assert start < guarantee.created_at <= (guarantee.issued_at or end) <= end, request.id
        loan = loan_services.loan_of(request.id)
        if loan is not None:
            assert local(loan.offer.decided_at).date() <= loan.disbursed_on <= today
            assert all(loan.disbursed_on <= r.paid_on <= today for r in loan.repayments)
            assert all(row.due_on > loan.disbursed_on for row in loan.instalments)
    assert max(db.session.scalars(select(Notification.created_at))) <= now
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.emailed_at.is_(None))) == 0


# a request's state -> the links its page must show the enterprise (data-testid)
REQUEST_PAGE_LINKS = {
    "offer_made": {"offers-link"}, "info_requested": {"questions-link"},
    "guarantee_offered": {"guarantee-link"}, "fee_pending": {"guarantee-link", "fee-link"},
    "disbursed": {"offers-link", "loan-link"}, "repaying": {"offers-link", "loan-link"},
    "closed": {"offers-link", "loan-link"},
}


def test_the_request_page_links_the_enterprise_to_what_the_institutions_made_of_it(seeded):
    app, _output = seeded
    checked = set()
    for request in db.session.scalars(select(FinancingRequest)):
        expected = set(REQUEST_PAGE_LINKS.get(request.state, ()))
        if db.session.scalar(select(Guarantee.id).where(Guarantee.request_id == request.id,
                                                        Guarantee.status == "issued")):
            expected |= {"guarantee-link", "guarantee-letter-link", "fee-link"}
        if not expected:
            continue
        admin = _admin_of(request)
        html = get_as(app, admin, f"/financing/{request.id}").get_data(as_text=True)
        links = dict(re.findall(r'href="([^"]+)" data-testid="([a-z-]+-link)"', html))
        assert expected <= set(links.values()), (request.id, request.state, links)
        for href, testid in links.items():
            assert get_as(app, admin, href).status_code == 200, (request.id, testid, href)
        checked.add(request.state)
    assert set(REQUEST_PAGE_LINKS) <= checked


def test_the_printout_points_at_the_scenarios_past_an_offer(seeded):
    _app, output = seeded
    for what in ("offers side by side", "guarantee letter", "fee awaiting the transfer", "overdue instalment",
                 "a report as the reviewing bank sees it", "access log", "personal-card statement"):
        assert what in output


def test_the_supermarket_has_30_published_products_of_every_type_from_the_five_lenders(seeded):
    products = db.session.scalars(select(Product)).all()
    states = Counter(p.state for p in products)
    assert states["published"] >= 30 and states["draft"] >= 2 and states["retired"] == 1
    published = [p for p in products if p.state == "published"]
    assert {p.current_version.product_type for p in published} == set(PRODUCT_TYPES)
    kinds = Counter((p.institution.kind, p.current_version.product_type == "guaranteed_loan") for p in products)
    assert kinds[(OrgKind.BANK, True)] == 0  # banks offer the other types
    assert kinds[(OrgKind.GUARANTOR, True)] > kinds[(OrgKind.GUARANTOR, False)] > 0  # guarantors mostly 担保贷
    assert len({p.institution_id for p in products}) == 5
    assert len({p.current_version.name for p in products}) == len(products)


def test_demo_products_have_plausible_terms_and_valid_codes(seeded):
    versions = db.session.scalars(select(ProductVersion)).all()
    for v in versions:
        assert Decimal("100000") <= v.amount_min <= v.amount_max <= Decimal("30000000"), v.name
        assert 30 <= v.term_min_days <= v.term_max_days <= 720, v.name
        assert Decimal("3.10") <= v.rate_min <= v.rate_max <= Decimal("8.50"), v.name
        assert all(code in INDUSTRY_DIVISIONS for code in v.industries), v.name
        assert all(is_region_prefix(code) for code in v.regions), v.name
    assert any(v.min_grade for v in versions) and any(not v.accepts_ungraded for v in versions)
    assert {"32", "3205", "320506"} <= {code for v in versions for code in v.regions}
    assert any(v.industries == [str(d) for d in range(13, 44)] for v in versions)  # manufacturing only
    assert any(v.requires_guarantee for v in versions) and any(v.requires_debtor_confirmation for v in versions)


def test_one_demo_product_was_revised_after_publishing_and_kept_version_1(seeded):
    revised = [p for p in db.session.scalars(select(Product)) if len(p.versions) > 1]
    assert len(revised) == 1
    first, second = revised[0].versions
    assert revised[0].current_version == second and second.number == 2
    assert first.published_at < second.published_at and first.rate_min > second.rate_min


def test_published_demo_products_have_recent_daily_statistics(seeded):
    today = today_shanghai()
    rows = db.session.scalars(select(ProductStat)).all()
    assert all((today - row.day).days < 30 and row.applications <= row.matches for row in rows)
    with_stats = {row.product_id for row in rows}
    published = set(db.session.scalars(select(Product.id).where(Product.state == "published")))
    drafts = set(db.session.scalars(select(Product.id).where(Product.state == "draft")))
    assert published <= with_stats and not drafts & with_stats
    assert sum(row.views for row in rows) > 1000


def test_statements_in_several_layouts_were_accepted_for_several_enterprises(seeded):
    _app, output = seeded
    statements = db.session.scalars(select(StatementFile)).all()
    assert len({s.enterprise_id for s in statements}) >= 5
    layouts = {(s.original_name.split("_")[0], s.original_name.rsplit(".", 1)[-1], s.bank) for s in statements}
    assert len(layouts) >= 4 and {layout[1] for layout in layouts} == {"csv", "xlsx", "xls"}
    assert {"中国工商银行", "中国农业银行", "中国银行"} <= {s.bank for s in statements}
    hengda = db.session.scalar(select(Enterprise).where(Enterprise.name == "苏州恒达精密机械有限公司"))
    assert hengda.id in {s.enterprise_id for s in statements}
    today = today_shanghai()
    last_month_end = today.replace(day=1) - timedelta(days=1)
    for s in statements:
        rows = db.session.scalar(select(func.count()).where(StatementTransaction.statement_id == s.id))
        assert 100 <= s.row_count == rows <= 400, s.original_name
        enterprise = db.session.get(Enterprise, s.enterprise_id)
        holders = {"", enterprise.name} | ({enterprise.legal_rep_name} if enterprise.uscc.startswith("92") else set())
        assert s.account_name in holders, s.original_name
        # the twelve whole months before the upload
        assert s.last_date < local(s.uploaded_at).date().replace(day=1) <= last_month_end + timedelta(days=1)
        assert 330 < (s.last_date - s.first_date).days < 366
        assert s.inflow_total > 0 and s.outflow_total > 0
    imported = db.session.scalar(select(func.count()).where(AuditEvent.action == "statement.imported"))
    assert imported == len(statements)
    assert f"银行流水 bank statements {len(statements)} for" in output


def test_statement_debtors_paid_some_enterprises_regularly_and_others_not_at_all(seeded):
    """Inflows come from the enterprises' own receivable debtors, regularly for some and never for others."""
    months_paid: dict[tuple[int, str], set] = {}
    for s in db.session.scalars(select(StatementFile)):
        debtors = set(db.session.scalars(select(Receivable.debtor_name).where(Receivable.enterprise_id == s.enterprise_id)))
        for row in db.session.scalars(select(StatementTransaction).where(
                StatementTransaction.statement_id == s.id, StatementTransaction.amount > 0)):
            if row.counterparty in debtors:
                months_paid.setdefault((s.enterprise_id, row.counterparty), set()).add((row.date.year, row.date.month))
    counts = sorted(len(months) for months in months_paid.values())
    assert counts[-1] >= 9 and counts[0] <= 2
    receivable_debtors = db.session.execute(select(Receivable.enterprise_id, Receivable.debtor_name).where(
        Receivable.enterprise_id.in_(select(StatementFile.enterprise_id)))).all()
    assert any(tuple(pair) not in months_paid for pair in receivable_debtors)  # some debtors never paid


def test_one_demo_statement_goes_below_zero_for_a_few_days(seeded):
    negative = db.session.scalars(select(StatementTransaction.date).where(StatementTransaction.balance < 0)).all()
    assert negative and (max(negative) - min(negative)).days <= 7


def test_the_audit_chain_verifies(seeded):
    checked, broken, why = verify_chain(AUDIT_KEY)
    assert broken is None, why
    assert checked == db.session.scalar(select(func.count(AuditEvent.id))) > 100


def test_the_printout_names_every_login_the_password_and_the_totp_command(seeded):
    _app, output = seeded
    for email in db.session.scalars(select(User.email)):
        assert email in output
    assert "Demo-2026!" in output
    assert "flask --app wsgi totp code officer@ccb-suzhou.demo" in output
    assert "打开 Open: http://" in output


def test_seeding_again_without_reset_changes_nothing(seeded):
    before = _counts()
    lines: list[str] = []
    seed(reset=False, echo=lines.append)
    assert _counts() == before
    assert any("nothing was changed" in line for line in lines)


def test_demo_statement_bytes_are_deterministic():
    def files() -> list[bytes]:
        rng = random.Random("2026/statement/test")
        rows = demo_statements.transactions(rng, demo_statements.month_starts(date(2025, 12, 1)),
                                            [("江苏华宇汽车集团有限公司", "regular")], 1_000_000, overdraft=True)
        return [writer("苏州恒达精密机械有限公司", "6222000011112222333", rows)[1]
                for _title, writer in demo_statements.LAYOUTS.values()]

    assert files() == files()


# the class a report must give for the transition that routed the request after it
ROUTE_CLASSES = {"route_to_bank": "excellent", "route_to_guarantor": "mixed", "return_request": "poor"}
PRE_VERIFICATION = ("draft", "submitted", "verifying", "withdrawn")


def test_every_request_past_verification_has_the_report_that_routed_it(seeded):
    """Verified for real: the report's class is the route the request took, made as of the day it
    was submitted, against statements uploaded before, at the moment its timeline shows."""
    now = utcnow()
    verified = 0
    for request in db.session.scalars(select(FinancingRequest)):
        events = list(request.events)
        done = [e for e in events if e.transition == "complete_verification"]
        if not done:
            assert request.state in PRE_VERIFICATION, (request.id, request.state)
            continue
        verified += 1
        [report] = reports_of(request.id)  # one submission each
        routed = events[events.index(done[-1]) + 1]
        assert ROUTE_CLASSES[routed.transition] == report.classification == request.classification, request.id
        submitted = [e for e in events if e.transition == "submit"][-1]
        assert report.as_of == local(submitted.occurred_at).date(), request.id
        assert abs(report.created_at - done[-1].occurred_at) < timedelta(minutes=1), request.id
        assert submitted.occurred_at <= report.created_at <= routed.occurred_at <= now, request.id
        files = db.session.scalars(select(StatementFile).where(
            StatementFile.enterprise_id == request.enterprise_id,
            StatementFile.sha256.in_(report.statement_sha256s))).all()
        assert len(files) == len(report.statement_sha256s) >= 1, request.id
        assert all(f.uploaded_at < submitted.occurred_at for f in files), request.id
    assert verified >= 15
    assert {r.classification for r in db.session.scalars(select(VerificationReport))} == {"excellent", "mixed", "poor"}


def test_a_request_in_review_shows_its_report_to_the_institution_reviewing_it(seeded):
    app, _output = seeded
    pages = 0
    for state in ("bank_review", "guarantor_review", "info_requested"):
        for request in _in_state(state):
            [report] = reports_of(request.id)
            # the officer who claimed it (a stalled review's claim may have gone back to the queue)
            reviewer = db.session.scalars(select(Assignment).where(Assignment.request_id == request.id)
                                          .order_by(Assignment.id.desc())).first().user_id
            page = get_as(app, db.session.get(User, reviewer), f"/institution/requests/{request.id}/reports/{report.id}")
            assert page.status_code == 200, (request.id, page.status_code)
            pages += 1
    assert pages >= 4


def test_every_institution_a_request_reached_holds_the_enterprise_consent_to_its_statements(seeded):
    today = today_shanghai()
    reached = db.session.scalars(select(RequestTarget).where(RequestTarget.routed_at.is_not(None))).all()
    assert len(reached) >= 15
    for target in reached:
        request = db.session.get(FinancingRequest, target.request_id)
        consents = db.session.scalars(select(Consent).where(Consent.enterprise_id == request.enterprise_id,
                                                            Consent.grantee_org_id == target.institution_id)).all()
        for day in (local(request.submitted_at).date(), local(target.routed_at).date(), today):
            assert any(c.covers("bank_statements", day) for c in consents), (request.id, target.institution.name, day)


def test_the_staff_reads_of_reviewed_requests_are_in_the_enterprises_access_logs(seeded):
    """Whoever claimed a request read its page and its report, at times on its timeline; the
    enterprise sees those reads on its access-log page."""
    app, _output = seeded
    now = utcnow()
    claims_by_enterprise: dict[int, set[int]] = {}
    for assignment in db.session.scalars(select(Assignment)):
        request = db.session.get(FinancingRequest, assignment.request_id)
        claims_by_enterprise.setdefault(request.enterprise_id, set()).add(assignment.institution_id)
    assert len(claims_by_enterprise) >= 8
    bank_readers = set()
    for enterprise_id, institutions in claims_by_enterprise.items():
        reads = db.session.scalars(select(AuditEvent).where(
            AuditEvent.enterprise_id == enterprise_id, AuditEvent.action == "credit_data.read",
            AuditEvent.object_type.in_(("financing_request", "verification_report")))  # not a test's credit-file read
                                   .order_by(AuditEvent.id)).all()
        assert institutions <= {r.actor_org_id for r in reads}, enterprise_id
        assert {"financing_request", "verification_report"} <= {r.object_type for r in reads}, enterprise_id
        times = [r.occurred_at for r in reads]
        assert times == sorted(times) and times[-1] < now  # in the order they happened, in the past
        for read in reads:
            target = db.session.scalar(select(RequestTarget).where(
                RequestTarget.request_id == read.details["request_id"], RequestTarget.institution_id == read.actor_org_id))
            assert target.routed_at <= read.occurred_at, read.id  # only once the request had reached it
            if read.object_type == "financing_request":
                assert "bank_statements" in read.details["sections"]
            bank_readers |= {read.actor_org_id} if db.session.get(Organisation, read.actor_org_id).kind == OrgKind.BANK else set()
    assert len(bank_readers) == 3
    hengda = db.session.scalar(select(Enterprise).where(Enterprise.name == "苏州恒达精密机械有限公司"))
    admin = db.session.scalar(select(User).where(User.organisation_id == hengda.organisation_id,
                                                 User.role == Role.ENTERPRISE_ADMIN))
    html = get_as(app, admin, "/enterprise/access-log").get_data(as_text=True)
    assert "中国建设银行苏州分行" in html and "苏州银行吴中支行" in html


def test_debtors_answered_themselves_by_the_signed_link_or_from_their_account(seeded):
    answered = db.session.scalars(select(Receivable).where(Receivable.confirmation != "pending")).all()
    via = Counter(r.confirmed_via for r in answered)
    assert via["link"] >= 20 and via["account"] >= 3
    for receivable in answered:
        if receivable.confirmed_via == "link":
            [used] = [link for link in receivable.links if link.used_at is not None]
            assert used.created_at < used.used_at == receivable.confirmed_at <= used.expires_at
        else:
            debtor = db.session.scalar(select(Enterprise).where(Enterprise.uscc == receivable.debtor_uscc))
            user = db.session.get(User, receivable.confirmed_by_user_id)
            assert user.organisation_id == debtor.organisation_id


def _owed_by_public_bodies(request: FinancingRequest) -> bool:
    return all(p.receivable.debtor_uscc[:2] in ("11", "12") for p in request.pledges)


def test_government_procurement_loans_fit_only_requests_owed_by_public_bodies(seeded):
    for target in db.session.scalars(select(RequestTarget)):
        if target.product_version.product_type == "gov_procurement_loan":
            assert _owed_by_public_bodies(db.session.get(FinancingRequest, target.request_id)), target.request_id
    requests = db.session.scalars(select(FinancingRequest)).all()
    [public] = [r for r in requests if _owed_by_public_bodies(r)]
    private = next(r for r in requests if r.state == "offer_made")
    types = {p.id: p.current_version.product_type for p in db.session.scalars(select(Product))}
    assert "gov_procurement_loan" in {types[m.product_id] for m in ranked_matches(public) if m.eligible}
    assert "gov_procurement_loan" not in {types[m.product_id] for m in ranked_matches(private) if m.eligible}


def test_an_individual_business_banks_on_its_operators_personal_card_and_was_verified(seeded):
    app, _output = seeded
    [business] = db.session.scalars(select(Enterprise).where(Enterprise.uscc.startswith("92"))).all()
    assert uscc_problem(business.uscc) is None and business.name.endswith("厂")
    [card] = db.session.scalars(select(StatementFile).where(StatementFile.enterprise_id == business.id)).all()
    assert card.account_name == business.legal_rep_name and card.account_no.startswith("62")
    debtors = set(db.session.scalars(select(Receivable.debtor_name).where(Receivable.enterprise_id == business.id)))
    payers = set(db.session.scalars(select(StatementTransaction.counterparty).where(
        StatementTransaction.statement_id == card.id, StatementTransaction.amount > 0)))
    assert debtors <= payers  # its customers pay into the operator's card
    requests = db.session.scalars(select(FinancingRequest).where(FinancingRequest.enterprise_id == business.id)).all()
    reports = [report for request in requests for report in reports_of(request.id)]
    assert reports and card.sha256 in reports[0].statement_sha256s
    assert reports[0].classification == "excellent" and reports[0].request.state == "bank_review"
    admin = db.session.scalar(select(User).where(User.organisation_id == business.organisation_id))
    assert get_as(app, admin, f"/statements/{card.id}").status_code == 200


def test_the_personal_card_export_has_both_amount_pairs_and_reads_back_whole():
    rng = random.Random("2026/statement/card")
    rows = demo_statements.transactions(rng, demo_statements.month_starts(date(2026, 10, 1)),
                                        [("苏州恒达精密机械有限公司", "regular")], 700_000, profile="personal")
    _suffix, data = demo_statements.icbc_personal_csv("吴建明", "6222021102012345678", rows)
    text = data.decode("gbk")
    assert "卡号：6222021102012345678" in text and "子账户" in text
    header = next(line for line in text.splitlines() if line.startswith("交易日期")).split(",")
    spent, posted = header.index("交易金额(收入)"), header.index("记账金额(收入)")
    body = [line.split(",") for line in text.splitlines() if line[:4].isdigit()]
    assert {cells[spent] for cells in body} == {cells[spent + 1] for cells in body} == {"-"}
    assert all(cells[posted] or cells[posted + 1] for cells in body)
    statement = parse_statement(data, "card.csv")
    assert not statement.errors and statement.account_name == "吴建明"
    assert len(statement.transactions) == len(rows)
    assert sum(t.amount for t in statement.transactions) == sum(r.amount for r in rows)


def test_the_bureau_held_a_meeting_with_minutes_and_two_action_items_and_has_one_coming(seeded):
    from marketplace.bureau.models import Meeting

    app, _printout = seeded
    today = today_shanghai()
    past = db.session.scalar(select(Meeting).where(Meeting.state == "closed"))
    upcoming = db.session.scalar(select(Meeting).where(Meeting.state == "scheduled"))
    assert past.attendees and past.summary and past.agenda and all(i.decision and i.request_id for i in past.agenda)
    assert sorted(a.status(today) for a in past.action_items) == ["done", "overdue"]
    assert all(a.owner_org.kind == "bank" for a in past.action_items)
    assert next(a for a in past.action_items if a.state == "done").close_note
    assert upcoming.starts_at > utcnow() and upcoming.agenda  # the overdue item is carried at least
    assert any(i.carried_action_id for i in upcoming.agenda)
    coordinator = db.session.scalar(select(User).where(User.role == Role.BUREAU_COORDINATOR))
    assert get_as(app, coordinator, "/bureau/meetings/").status_code == 200
    assert get_as(app, coordinator, f"/bureau/meetings/{past.id}").status_code == 200
    officer = db.session.scalar(select(User).where(User.organisation_id == past.action_items[0].owner_org_id,
                                                   User.role == Role.BANK_OFFICER))
    assert "data-testid=\"desk-action-items\"" in get_as(app, officer, "/institution/requests/").get_data(as_text=True)
