"""The credit file page (一企一档): the enterprise sees its whole file and its access log; an
institution sees only what the enterprise's consent allows, masked, each read logged; without a
valid consent (none, expired, revoked, wrong scope, wrong purpose) it is refused with a 403 and the
attempt logged; the bureau sees enterprises of its region only; the page's query count does not
grow with the file."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.accounts.roles import OrgKind, Role
from marketplace.audit import AuditEvent
from marketplace.credit.models import CreditGrade, CreditRecord
from marketplace.db import utcnow
from marketplace.enterprises.models import CommitmentSignature, CommitmentText
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from tests.credit.conftest import make_provider
from tests.factories import (
    EnterpriseFactory,
    OrganisationFactory,
    UserFactory,
    grant_consent_to,
    make_enterprise_user,
)
from tests.sql_log import statements_run

ENTERPRISE_FILE = "/enterprise/credit-file"
RECORD_SCOPES = ("tax", "utilities", "social_insurance", "housing_fund", "court", "penalties")


def institution_file(enterprise) -> str:
    return f"/institution/enterprises/{enterprise.id}/credit-file"


def bureau_file(enterprise) -> str:
    return f"/bureau/enterprises/{enterprise.id}/credit-file"


def add_record(enterprise, provider_org, record_id: str, kind: str, *, source: str | None = None,
               polarity: str = "negative", days_ago: int = 30, ended_days_ago: int | None = None,
               status: str = "active", title: str | None = None) -> CreditRecord:
    today = today_shanghai()
    row = CreditRecord(enterprise_id=enterprise.id, provider_org_id=provider_org.id,
                       source=source or provider_org.credit_source, provider_record_id=record_id, kind=kind,
                       polarity=polarity, title=title or record_id, occurred_on=today - timedelta(days=days_ago),
                       ended_on=None if ended_days_ago is None else today - timedelta(days=ended_days_ago),
                       details={}, received_at=utcnow(), payload_digest="0" * 64, status=status)
    db.session.add(row)
    db.session.flush()
    return row


def credit_reads(enterprise, what: str = "credit_file") -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.enterprise_id == enterprise.id, AuditEvent.action == "credit_data.read",
        AuditEvent.object_type == what).order_by(AuditEvent.id)))


def denials(enterprise) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.enterprise_id == enterprise.id, AuditEvent.action == "credit_data.denied").order_by(AuditEvent.id)))


@pytest.fixture
def cfile(app):
    return file_world(app)


def file_world(app) -> dict:
    """An enterprise of Suzhou with a tax and a court record, a grade, a signed commitment; its
    user; a bank officer, a guarantor officer; a Suzhou bureau coordinator and a Shanghai one.
    (Other test modules make their `cfile` fixture from it.)"""
    with app.test_request_context():
        tax = make_provider("tax", "苏州市税务局").organisation
        court = make_provider("court", "苏州市中级人民法院").organisation
        enterprise = EnterpriseFactory(contact_phone="13912345678")
        user = make_enterprise_user(Role.ENTERPRISE_ADMIN, enterprise=enterprise, name="王企业")
        add_record(enterprise, tax, "T-1", "tax_arrears", title="2026年第三季度增值税欠缴")
        add_record(enterprise, court, "C-1", "court_judgment", title="买卖合同纠纷败诉判决")
        db.session.add(CreditGrade(enterprise_id=enterprise.id, score=520, grade="C", colour="red",
                                   reasons=[{"code": "negative_record", "points": -60, "zh": "负面欠缴税款，尚未结束，-60",
                                             "en": "Negative tax arrears, still ongoing, -60", "factor": "records"},
                                            {"code": "repayment_absent", "points": 0, "zh": "平台上尚无贷款，0",
                                             "en": "No loan on the platform yet, 0", "factor": "repayment"}],
                                   model_version="2026.12-1", evaluated_on=today_shanghai(), inputs_digest="0" * 64,
                                   trigger="test"))
        text = CommitmentText(version="t1", title="信用承诺书", body="承诺", sha256="0" * 64,
                              effective_from=today_shanghai())
        db.session.add(text)
        db.session.flush()
        db.session.add(CommitmentSignature(enterprise_id=enterprise.id, text_id=text.id, user_id=user.id,
                                           signer_name="王企业"))
        bank = OrganisationFactory(kind=OrgKind.BANK, name="苏州测试银行")
        officer = UserFactory(role=Role.BANK_OFFICER, organisation=bank, name="赵经理")
        guarantor = OrganisationFactory(kind=OrgKind.GUARANTOR, name="苏州测试担保")
        g_officer = UserFactory(role=Role.GUARANTOR_OFFICER, organisation=guarantor)
        bureau = OrganisationFactory(kind=OrgKind.BUREAU, name="苏州市金融工作局", region_code="320500")
        coordinator = UserFactory(role=Role.BUREAU_COORDINATOR, organisation=bureau, name="钱协调")
        far_bureau = OrganisationFactory(kind=OrgKind.BUREAU, name="上海市金融工作局", region_code="310000")
        far_coordinator = UserFactory(role=Role.BUREAU_COORDINATOR, organisation=far_bureau)
        db.session.flush()
        return {"enterprise": enterprise, "user": user, "tax": tax, "court": court, "bank": bank,
                "officer": officer, "guarantor": guarantor, "g_officer": g_officer, "bureau": bureau,
                "coordinator": coordinator, "far_coordinator": far_coordinator}


# ---- the enterprise ------------------------------------------------------------------------------

def test_the_enterprise_sees_its_whole_file_with_its_access_log(app, client, login, cfile):
    grant_consent_to(cfile["enterprise"], cfile["bank"].id, scopes=("tax",))
    login(cfile["officer"])
    assert client.get(institution_file(cfile["enterprise"])).status_code == 200
    login(cfile["user"])
    response = client.get(ENTERPRISE_FILE)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2026年第三季度增值税欠缴" in html and "买卖合同纠纷败诉判决" in html  # every source
    assert 'data-testid="records-tax"' in html and 'data-testid="records-court"' in html
    assert "负面欠缴税款，尚未结束，-60" in html and "-60" in html  # every reason, in words
    assert "13912345678" in html  # its own contact phone, in full
    assert cfile["enterprise"].legal_rep_id_number not in html  # the ID number is never shown unmasked
    assert cfile["enterprise"].legal_rep_id_masked in html
    assert "信用承诺书（t1）" in html and "王企业" in html
    assert 'data-testid="file-access-log"' in html and "苏州测试银行" in html and "赵经理" in html


def test_the_enterprises_own_reads_are_not_logged(client, login, cfile):
    login(cfile["user"])
    assert client.get(ENTERPRISE_FILE).status_code == 200
    assert credit_reads(cfile["enterprise"]) == []


def test_the_enterprise_nav_links_the_credit_file(client, login, cfile):
    login(cfile["user"])
    html = client.get("/enterprise").get_data(as_text=True)
    assert f'href="{ENTERPRISE_FILE}"' in html and "信用档案" in html


# ---- institutions --------------------------------------------------------------------------------

def test_a_bank_whose_consent_covers_tax_sees_tax_records_but_not_court_records(client, login, cfile):
    grant_consent_to(cfile["enterprise"], cfile["bank"].id, scopes=("bank_statements", "tax"))
    login(cfile["officer"])
    response = client.get(institution_file(cfile["enterprise"]))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2026年第三季度增值税欠缴" in html
    assert "买卖合同纠纷败诉判决" not in html and 'data-testid="records-court"' not in html
    assert 'data-testid="hidden-sources"' in html  # says which sources it may not see
    assert 'data-testid="file-access-log"' not in html  # the access log is the enterprise's only


def test_an_institution_never_sees_the_id_number_nor_the_full_phone(client, login, cfile):
    grant_consent_to(cfile["enterprise"], cfile["bank"].id, scopes=RECORD_SCOPES)
    login(cfile["officer"])
    html = client.get(institution_file(cfile["enterprise"])).get_data(as_text=True)
    assert cfile["enterprise"].legal_rep_id_number not in html
    assert cfile["enterprise"].legal_rep_id_masked in html
    assert "13912345678" not in html and "139****5678" in html


def test_reasons_about_records_keep_their_points_but_not_their_words_without_every_scope(client, login, cfile):
    grant_consent_to(cfile["enterprise"], cfile["bank"].id, scopes=("tax",))
    login(cfile["officer"])
    html = client.get(institution_file(cfile["enterprise"])).get_data(as_text=True)
    assert "负面欠缴税款，尚未结束" not in html and "公共信用记录（明细需企业授权查看）" in html and "-60" in html
    assert "平台上尚无贷款，0" in html  # the platform's own facts are not masked


def test_each_institution_read_is_logged_with_its_purpose(client, login, cfile):
    grant_consent_to(cfile["enterprise"], cfile["bank"].id, cfile["guarantor"].id, scopes=("tax", "court"))
    login(cfile["officer"])
    client.get(institution_file(cfile["enterprise"]))
    client.get(institution_file(cfile["enterprise"]))
    login(cfile["g_officer"])
    client.get(institution_file(cfile["enterprise"]))
    reads = credit_reads(cfile["enterprise"])
    assert [(e.actor_org_id, e.purpose) for e in reads] == [
        (cfile["bank"].id, "financing_review"), (cfile["bank"].id, "financing_review"),
        (cfile["guarantor"].id, "guarantee_review")]
    assert reads[0].details["sections"] == ["court", "tax"] and reads[0].actor_user_id == cfile["officer"].id


def _no_consent(cfile):
    return None


def _expired(cfile):
    today = today_shanghai()
    grant_consent_to(cfile["enterprise"], cfile["bank"].id, scopes=RECORD_SCOPES,
                     valid_from=today - timedelta(days=400), valid_to=today - timedelta(days=1))


def _revoked(cfile):
    consent, = grant_consent_to(cfile["enterprise"], cfile["bank"].id, scopes=RECORD_SCOPES)
    consent.revoked_at = utcnow()
    db.session.flush()


def _wrong_scope(cfile):
    grant_consent_to(cfile["enterprise"], cfile["bank"].id, scopes=("bank_statements",))


def _to_another_bank(cfile):
    grant_consent_to(cfile["enterprise"], OrganisationFactory(kind=OrgKind.BANK).id, scopes=RECORD_SCOPES)


def _wrong_purpose(cfile):
    grant_consent_to(cfile["enterprise"], cfile["bank"].id, scopes=RECORD_SCOPES, purposes=("post_loan",))


@pytest.mark.parametrize(("arrange", "reason"), [
    (_no_consent, "no valid consent"), (_expired, "no valid consent"), (_revoked, "no valid consent"),
    (_wrong_scope, "no valid consent"), (_to_another_bank, "no valid consent"),
    (_wrong_purpose, "purpose not consented"),
])
def test_without_a_valid_consent_the_file_is_refused_and_the_attempt_logged(client, login, cfile, arrange, reason):
    arrange(cfile)
    login(cfile["officer"])
    response = client.get(institution_file(cfile["enterprise"]))
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert 'data-testid="file-refused"' in html and "无法查看信用档案" in html
    assert "2026年第三季度增值税欠缴" not in html and cfile["enterprise"].name not in html
    refused, = denials(cfile["enterprise"])
    assert (refused.object_type, refused.purpose, refused.actor_org_id) == ("credit_file", reason, cfile["bank"].id)
    assert credit_reads(cfile["enterprise"]) == []


def test_the_refusal_shows_in_the_enterprises_access_log(client, login, cfile):
    login(cfile["officer"])
    assert client.get(institution_file(cfile["enterprise"])).status_code == 403
    login(cfile["user"])
    html = client.get(ENTERPRISE_FILE).get_data(as_text=True)
    assert "已拒绝（无有效授权）" in html and "信用档案" in html


def test_an_unknown_enterprise_answers_404(client, login, cfile):
    login(cfile["officer"])
    assert client.get("/institution/enterprises/987654/credit-file").status_code == 404


# ---- the bureau ----------------------------------------------------------------------------------

def test_the_bureau_reads_an_enterprise_of_its_region_under_its_consent(client, login, cfile):
    grant_consent_to(cfile["enterprise"], cfile["bureau"].id, scopes=("court",))
    login(cfile["coordinator"])
    response = client.get(bureau_file(cfile["enterprise"]))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "买卖合同纠纷败诉判决" in html and "2026年第三季度增值税欠缴" not in html
    read, = credit_reads(cfile["enterprise"])
    assert read.details["reader"] == "bureau" and read.actor_org_id == cfile["bureau"].id


def test_the_bureau_without_consent_is_refused_and_logged(client, login, cfile):
    login(cfile["coordinator"])
    assert client.get(bureau_file(cfile["enterprise"])).status_code == 403
    assert [e.actor_org_id for e in denials(cfile["enterprise"])] == [cfile["bureau"].id]


def test_a_bureau_of_another_region_gets_404_even_with_consent(client, login, cfile):
    grant_consent_to(cfile["enterprise"], cfile["far_coordinator"].organisation_id, scopes=RECORD_SCOPES)
    login(cfile["far_coordinator"])
    assert client.get(bureau_file(cfile["enterprise"])).status_code == 404
    assert credit_reads(cfile["enterprise"]) == []


# ---- access rules --------------------------------------------------------------------------------

@pytest.mark.parametrize(("who", "url", "status"), [
    ("user", "institution", 403), ("user", "bureau", 403), ("officer", "enterprise", 403),
    ("officer", "bureau", 403), ("coordinator", "institution", 403), ("coordinator", "enterprise", 403),
])
def test_each_route_admits_only_its_own_kind_of_viewer(client, login, cfile, who, url, status):
    grant_consent_to(cfile["enterprise"], cfile["bank"].id, cfile["bureau"].id, scopes=RECORD_SCOPES)
    urls = {"enterprise": ENTERPRISE_FILE, "institution": institution_file(cfile["enterprise"]),
            "bureau": bureau_file(cfile["enterprise"])}
    login(cfile[who])
    assert client.get(urls[url]).status_code == status


def test_a_provider_cannot_read_a_credit_file(client, login, cfile):
    login(UserFactory(role=Role.PROVIDER_STAFF, organisation=cfile["tax"]))
    assert client.get(institution_file(cfile["enterprise"])).status_code == 403


# ---- retention on the page -----------------------------------------------------------------------

def test_a_record_past_retention_is_marked_for_the_enterprise_and_hidden_from_the_bank(client, login, cfile):
    old = add_record(cfile["enterprise"], cfile["tax"], "T-OLD", "tax_arrears", title="多年前的欠税",
                     days_ago=6 * 366, ended_days_ago=5 * 366 + 2)
    old.retention_expired_at = utcnow()
    db.session.flush()
    grant_consent_to(cfile["enterprise"], cfile["bank"].id, scopes=RECORD_SCOPES)
    login(cfile["user"])
    html = client.get(ENTERPRISE_FILE).get_data(as_text=True)
    assert "多年前的欠税" in html and 'data-testid="retention-expired"' in html
    login(cfile["officer"])
    assert "多年前的欠税" not in client.get(institution_file(cfile["enterprise"])).get_data(as_text=True)


# ---- cost ----------------------------------------------------------------------------------------

def test_the_page_costs_the_same_number_of_queries_however_many_records(app, client, login, cfile):
    grant_consent_to(cfile["enterprise"], cfile["bank"].id, scopes=RECORD_SCOPES)

    def queries(user) -> int:
        login(user)
        with statements_run(app) as statements:
            assert client.get(ENTERPRISE_FILE if user is cfile["user"] else institution_file(cfile["enterprise"])
                              ).status_code == 200
        return len(statements)

    few = {who: queries(cfile[who]) for who in ("officer", "user")}  # the access log holds the bank's read
    with app.test_request_context():
        for n in range(12):
            add_record(cfile["enterprise"], cfile["tax"], f"T-{n + 10}", "tax_paid", polarity="positive",
                       days_ago=n + 40)
            add_record(cfile["enterprise"], cfile["court"], f"C-{n + 10}", "court_case_filed", polarity="neutral",
                       days_ago=n + 40)
            db.session.add(CreditGrade(enterprise_id=cfile["enterprise"].id, score=600 + n, grade="B",
                                       colour="yellow", reasons=[], model_version="2026.12-1",
                                       evaluated_on=today_shanghai(), inputs_digest="0" * 64, trigger="test"))
        db.session.flush()
    assert {who: queries(cfile[who]) for who in ("officer", "user")} == few
