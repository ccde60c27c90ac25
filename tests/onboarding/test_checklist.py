"""The first-application checklist (issue 19, item 3): each step's state and its one action, the
consents proposed for the likely institutions granted in one step, the statement step's bank."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketplace.accounts.roles import Role
from marketplace.audit import AuditEvent
from marketplace.enterprises.models import Consent
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.formatting import today_shanghai
from marketplace.statements.models import StatementFile
from tests.enterprises.test_registration import profile_form
from tests.factories import EnterpriseFactory, UserFactory, grant_consent_to, make_enterprise_user
from tests.financing.test_requests import create, only_request, receivables, sign
from tests.supermarket.products import lender, make_product

STEPS = ("profile", "commitment", "consents", "receivables", "statement", "request")
ACTION = 'data-testid="step-{}-action"'


@pytest.fixture
def admin():
    """A freshly registered enterprise: only the name, the credit code and the admin."""
    enterprise = EnterpriseFactory(legal_rep_name=None, legal_rep_id_number=None, industry_code=None,
                                   contact_phone=None, region_code="320506")
    return make_enterprise_user(enterprise=enterprise)


def states(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-testid="step-([a-z]+)" data-state="(done|todo)"', page))


def page_of(client, url="/enterprise/start") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def add_statement(enterprise, bank="中国农业银行苏州分行") -> StatementFile:
    today = today_shanghai()
    statement = StatementFile(enterprise_id=enterprise.id, original_name="流水.xlsx", sha256="a" * 64, size=1,
                              bank=bank, first_date=today - timedelta(days=200), last_date=today, row_count=42,
                              inflow_total=Decimal("1000.00"), outflow_total=Decimal("500.00"))
    db.session.add(statement)
    db.session.flush()
    return statement


def test_a_new_enterprise_sees_every_step_to_do_each_with_one_action(client, login, admin):
    page = page_of(login(admin))
    assert states(page) == dict.fromkeys(STEPS, "todo")
    for key in STEPS:
        assert page.count(ACTION.format(key)) == 1, key
    assert re.search(r'data-testid="step-profile"[^>]*aria-current="step"', page)
    assert "法定代表人姓名" in page and 'href="/enterprise/profile/complete"' in page
    assert 'href="/financing/new"' in page and 'href="/receivables/"' in page and 'href="/statements/"' in page


def test_each_step_turns_done_from_the_rows_it_reads(app, client, login, admin):
    enterprise = admin.enterprise
    login(admin)
    client.post("/enterprise/profile/complete", data=profile_form())
    sign(app, admin)
    bank = UserFactory(role=Role.BANK_OFFICER).organisation
    grant_consent_to(enterprise, bank.id)
    rcvs = receivables(admin, "200000.00")
    add_statement(enterprise)
    page = page_of(client)
    assert states(page) == {**dict.fromkeys(STEPS, "done"), "request": "todo"}
    assert bank.name in page and "已登记 1 笔" in page and "42 笔交易" in page
    create(client, rcvs)
    request = only_request(admin)
    page = page_of(client)
    assert states(page)["request"] == "todo" and f'href="/financing/{request.id}"' in page and "继续申请" in page
    request.state, request.submitted_at = "submitted", request.created_at
    db.session.flush()
    page = page_of(client)
    assert states(page) == dict.fromkeys(STEPS, "done") and "全部完成" in page


def test_a_consent_that_only_allows_post_loan_reads_or_has_expired_does_not_count(client, login, admin):
    bank = UserFactory(role=Role.BANK_OFFICER).organisation
    grant_consent_to(admin.enterprise, bank.id, purposes=("post_loan",))
    other = UserFactory(role=Role.BANK_OFFICER).organisation
    grant_consent_to(admin.enterprise, other.id, valid_from=date(2020, 1, 1), valid_to=date(2020, 12, 31))
    assert states(page_of(login(admin)))["consents"] == "todo"


@pytest.fixture
def banks(app):
    """Four banks with a published product each; the fourth lends in Guangdong only."""
    users = [lender(name=f"测试银行{i}") for i in range(4)]
    for i, user in enumerate(users[:3]):
        make_product(app, user, rate_min=Decimal(f"3.{i}0"), rate_max=Decimal(f"4.{i}0"))
    make_product(app, users[3], regions=["44"])
    return [u.organisation for u in users]


def proposed_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-testid="consent-institution-(\d+)"', page)]


def test_consents_are_proposed_for_the_top_three_likely_institutions(client, login, admin, banks):
    page = page_of(login(admin))
    assert sorted(proposed_ids(page)) == sorted(o.id for o in banks[:3])  # not the Guangdong-only bank
    assert "银行流水" in page and "融资审查" in page and "贷后管理" in page and "首次融资申请的审查、授信及贷后管理" in page
    grant_consent_to(admin.enterprise, banks[0].id)
    assert sorted(proposed_ids(page_of(client))) == sorted(o.id for o in banks[1:3])  # already consenting: not again


def test_the_ticked_institutions_are_granted_in_one_submit(client, login, admin, banks):
    login(admin)
    chosen = [banks[0].id, banks[2].id]
    response = client.post("/enterprise/start/consents", data={"institutions": chosen})
    assert response.status_code == 302
    consents = db.session.scalars(select(Consent).where(Consent.enterprise_id == admin.enterprise.id)
                                  .order_by(Consent.grantee_org_id)).all()
    assert [c.grantee_org_id for c in consents] == sorted(chosen)
    today = today_shanghai()
    for consent in consents:
        assert consent.scopes == ["bank_statements"] and consent.purposes == ["financing_review", "post_loan"]
        assert (consent.valid_from, consent.valid_to) == (today, today + timedelta(days=365))
        assert consent.granted_by_id == admin.id and consent.purpose == "首次融资申请的审查、授信及贷后管理"
    audited = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                .where(AuditEvent.action == "consent.granted"))
    assert audited == 2
    page = page_of(client)
    assert states(page)["consents"] == "done" and proposed_ids(page) == [banks[1].id]


@pytest.mark.parametrize("ticked, message", [
    ("none", "请至少勾选一家机构"),
    ("not_proposed", "已不在推荐名单中"),
])
def test_nothing_ticked_or_an_institution_not_proposed_grants_nothing(client, login, admin, banks, ticked, message):
    login(admin)
    # the Guangdong-only bank was not proposed: with it, none of the two is granted
    data = {} if ticked == "none" else {"institutions": [banks[0].id, banks[3].id]}
    page = client.post("/enterprise/start/consents", data=data, follow_redirects=True).get_data(as_text=True)
    assert message in page
    assert db.session.scalar(select(func.count()).select_from(Consent)
                             .where(Consent.enterprise_id == admin.enterprise.id)) == 0


def test_the_applicant_sees_the_checklist_but_the_admin_grants(client, login, admin, banks):
    applicant = make_enterprise_user(Role.ENTERPRISE_APPLICANT, enterprise=admin.enterprise)
    page = page_of(login(applicant))
    assert proposed_ids(page) == [] and 'data-testid="step-consents-ask-admin"' in page and admin.name in page
    assert 'data-testid="step-profile-ask-admin"' in page
    response = client.post("/enterprise/start/consents", data={"institutions": [banks[0].id]})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Consent)) == 0


@pytest.mark.parametrize("role", [Role.BANK_OFFICER, Role.GUARANTOR_OFFICER, Role.PLATFORM_ADMIN])
def test_other_roles_are_refused(client, login, role):
    login(UserFactory(role=role))
    assert client.get("/enterprise/start").status_code == 403
    assert client.post("/enterprise/start/consents", data={"institutions": [1]}).status_code == 403


def test_the_statement_step_names_the_banks_export_menu(client, login, admin):
    login(admin)
    generic = page_of(client)
    assert 'data-bank="other"' in generic and "交易明细查询" in generic and 'href="/statements/sample.csv"' in generic
    icbc = page_of(client, "/enterprise/start?bank=icbc")
    assert 'data-bank="icbc"' in icbc and "企业网上银行 → 账户管理 → 明细查询" in icbc and "制表符分隔" in icbc
    assert 'data-bank="other"' in page_of(client, "/enterprise/start?bank=nonsense")
    add_statement(admin.enterprise, bank="中国农业银行苏州分行")
    assert 'data-bank="abc"' in page_of(client)  # the bank of the latest statement, unless one is picked
    for testid in ("bank-select", "bank-show", "statement-sample"):
        assert f'data-testid="{testid}"' in generic


def test_the_enterprise_page_links_the_checklist(client, login, admin):
    assert 'data-testid="start-checklist"' in page_of(login(admin), "/enterprise")


def test_a_submitted_request_counts_whatever_came_after(client, login, admin):
    rcvs = receivables(admin, "200000.00")
    login(admin)
    create(client, rcvs)
    request = db.session.scalar(select(FinancingRequest))
    request.state, request.submitted_at = "returned", request.created_at
    db.session.flush()
    assert states(page_of(client))["request"] == "done"
