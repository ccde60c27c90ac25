"""The credit file's sections built by other packages: objections (the mark on each record, on the
page and in the report), repairs, the lists (memberships and the yellow flag); the loans with their
repayment history and the lender's post-loan reading."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.accounts.roles import OrgKind, Role
from marketplace.credit import objections
from marketplace.credit.models import CreditRecord
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.lists.models import ListMembership, ListProposal
from tests.credit.test_file_page import (
    ENTERPRISE_FILE,
    add_record,
    credit_reads,
    file_world,
    institution_file,
)
from tests.credit.test_report_pdf import capture_pdf_html
from tests.factories import OrganisationFactory, UserFactory, grant_consent_to
from tests.loans.helpers import accepted, repay, scheduled


@pytest.fixture
def cfile(app):
    return file_world(app)


@pytest.fixture
def rendered(monkeypatch):
    return capture_pdf_html(monkeypatch)


def record_of(cfile, provider_record_id: str) -> CreditRecord:
    return db.session.scalar(select(CreditRecord).where(CreditRecord.enterprise_id == cfile["enterprise"].id,
                                                        CreditRecord.provider_record_id == provider_record_id))


def test_each_record_links_to_an_objection_and_each_negative_one_to_a_repair(app, client, login, cfile):
    with app.test_request_context():
        paid = add_record(cfile["enterprise"], cfile["tax"], "T-PAID", "tax_paid", polarity="positive")
    arrears = record_of(cfile, "T-1")
    login(cfile["user"])
    html = client.get(ENTERPRISE_FILE).get_data(as_text=True)
    assert f'data-testid="file-objection-{arrears.id}"' in html and f'data-testid="apply-repair-{arrears.id}"' in html
    assert f'data-testid="file-objection-{paid.id}"' in html and f'data-testid="apply-repair-{paid.id}"' not in html
    assert f"/enterprise/credit-file/records/{arrears.id}/objection" in html


def test_an_objection_marks_the_record_on_every_view_of_the_file_and_in_the_report(app, client, login, cfile, rendered):
    arrears = record_of(cfile, "T-1")
    with app.test_request_context():
        objections.file_objection(arrears, cfile["user"], "税款已于当月缴清，附完税证明")
    grant_consent_to(cfile["enterprise"], cfile["bank"].id, scopes=("tax",))
    login(cfile["user"])
    html = client.get(ENTERPRISE_FILE).get_data(as_text=True)
    assert f'data-testid="record-mark-{arrears.id}"' in html and "异议处理中" in html
    assert 'data-testid="objections-section"' in html and f'data-testid="file-objection-{arrears.id}"' not in html
    assert f'data-testid="record-objection-{arrears.id}"' in html  # follows the open one instead
    login(cfile["officer"])
    bank_html = client.get(institution_file(cfile["enterprise"])).get_data(as_text=True)
    assert f'data-testid="record-mark-{arrears.id}"' in bank_html
    assert client.get(institution_file(cfile["enterprise"]) + "/report.pdf").status_code == 200
    assert f'data-testid="record-mark-{arrears.id}"' in rendered[0] and "异议处理中" in rendered[0]


def test_a_bank_sees_no_objection_on_a_record_it_may_not_see(app, client, login, cfile):
    judgment = record_of(cfile, "C-1")
    with app.test_request_context():
        objections.file_objection(judgment, cfile["user"], "判决已撤销")
    grant_consent_to(cfile["enterprise"], cfile["bank"].id, scopes=("tax",))
    login(cfile["officer"])
    html = client.get(institution_file(cfile["enterprise"])).get_data(as_text=True)
    assert "买卖合同纠纷败诉判决" not in html and 'data-testid="objections-empty"' in html


def _yellow_list(cfile) -> None:
    proposal = ListProposal(region_code="320500", year=today_shanghai().year - 1, trigger="on_demand",
                            evaluation_date=today_shanghai(), state="confirmed", confirmed_at=utcnow())
    db.session.add(proposal)
    db.session.flush()
    db.session.add(ListMembership(proposal_id=proposal.id, enterprise_id=cfile["enterprise"].id, list_kind="yellow",
                                  year=proposal.year, code="bank_debt_evasion", reason_zh="恶意逃废银行债务（测试）",
                                  reason_en="Evasion of bank debt (test)"))
    db.session.flush()


def test_list_memberships_and_the_yellow_flag_show_on_the_file_and_the_report(client, login, cfile, rendered):
    _yellow_list(cfile)
    grant_consent_to(cfile["enterprise"], cfile["bank"].id, scopes=("tax",))
    login(cfile["officer"])
    html = client.get(institution_file(cfile["enterprise"])).get_data(as_text=True)
    assert 'data-testid="yellow-flag"' in html and "恶意逃废银行债务（测试）" in html
    assert client.get(institution_file(cfile["enterprise"]) + "/report.pdf").status_code == 200
    assert 'data-testid="yellow-flag"' in rendered[0]


def test_the_loans_show_their_repayment_history_and_the_lender_reads_for_post_loan_monitoring(app, client, login):
    deal = accepted(app, amount="120000.00", days=90, accepted_days_ago=45)
    loan = scheduled(app, deal, on=today_shanghai() - timedelta(days=40))
    repay(app, deal, loan, "40500.00", on=today_shanghai() - timedelta(days=8), reference="HK-TEST-1")
    enterprise = deal.request.enterprise
    bank = deal.bank.organisation
    grant_consent_to(enterprise, bank.id, scopes=("tax",), purposes=("post_loan",))
    other_bank = OrganisationFactory(kind=OrgKind.BANK)
    grant_consent_to(enterprise, other_bank.id, scopes=("tax",))
    login(deal.owner)
    html = client.get(ENTERPRISE_FILE).get_data(as_text=True)
    assert 'data-testid="loan"' in html and "40,500.00" in html and "120,000.00" in html
    login(deal.bank)
    response = client.get(f"/institution/enterprises/{enterprise.id}/credit-file")
    assert response.status_code == 200 and 'data-testid="loan"' in response.get_data(as_text=True)
    assert [e.purpose for e in credit_reads(enterprise)] == ["post_loan"]
    login(UserFactory(role=Role.BANK_OFFICER, organisation=other_bank))
    other = client.get(f"/institution/enterprises/{enterprise.id}/credit-file").get_data(as_text=True)
    assert 'data-testid="loan"' not in other and "40,500.00" not in other  # another bank's loan is not its business


def test_the_desk_and_the_bureau_request_pages_link_the_credit_file(app, client, login):
    from tests.desks.helpers import routed

    case = routed(app)
    enterprise = case.request.enterprise
    login(case.bank_staff)
    html = client.get(f"/institution/requests/{case.request.id}").get_data(as_text=True)
    assert f'href="/institution/enterprises/{enterprise.id}/credit-file"' in html
    bureau = OrganisationFactory(kind=OrgKind.BUREAU, region_code=enterprise.region_code[:4] + "00")
    login(UserFactory(role=Role.BUREAU_COORDINATOR, organisation=bureau))
    html = client.get(f"/bureau/requests/{case.request.id}").get_data(as_text=True)
    assert f'href="/bureau/enterprises/{enterprise.id}/credit-file"' in html
