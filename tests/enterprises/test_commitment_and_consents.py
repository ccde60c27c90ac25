"""The credit commitment (signed, versioned, a PDF with an embedded CJK font) and data consents."""

from __future__ import annotations

import subprocess
from datetime import timedelta

from sqlalchemy import select

from marketplace.accounts.models import Organisation
from marketplace.accounts.roles import OrgKind, Role
from marketplace.audit import AuditEvent
from marketplace.enterprises import services
from marketplace.enterprises.models import CommitmentSignature, Consent
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from tests.factories import UserFactory, make_enterprise_user


def bank(name="苏州银行吴中支行") -> Organisation:
    org = Organisation(kind=OrgKind.BANK, name=name)
    db.session.add(org)
    db.session.flush()
    return org


def test_signing_records_the_user_the_time_and_the_version(client, login):
    user = make_enterprise_user()
    login(user)
    assert "我已阅读并签署" in client.get("/enterprise/commitment").get_data(as_text=True)
    client.post("/enterprise/commitment", data={"signer_name": "陈建国"})
    signature = db.session.scalar(select(CommitmentSignature).where(CommitmentSignature.enterprise_id == user.enterprise.id))
    assert signature.user_id == user.id and signature.signer_name == "陈建国"
    assert signature.signed_at is not None and signature.text.version
    assert signature.text.sha256 and len(signature.text.sha256) == 64


def test_signing_twice_keeps_one_signature(client, login):
    user = make_enterprise_user()
    login(user)
    client.post("/enterprise/commitment", data={"signer_name": "甲"})
    client.post("/enterprise/commitment", data={"signer_name": "乙"})
    rows = db.session.scalars(select(CommitmentSignature).where(CommitmentSignature.enterprise_id == user.enterprise.id)).all()
    assert len(rows) == 1


def test_commitment_pdf_embeds_a_cjk_font(client, login, tmp_path):
    user = make_enterprise_user()
    login(user)
    assert client.get("/enterprise/commitment.pdf").status_code == 404  # nothing signed yet
    client.post("/enterprise/commitment", data={"signer_name": "陈建国"})
    response = client.get("/enterprise/commitment.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    pdf = tmp_path / "commitment.pdf"
    pdf.write_bytes(response.data)
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if any(n in line for n in ("WenQuanYi", "Noto", "CJK", "Hei"))]
    assert cjk, fonts
    assert all(" yes " in line for line in cjk)  # embedded
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "企业信用承诺书" in text.replace(" ", "") and user.enterprise.uscc in text
    assert user.enterprise.legal_rep_id_number not in text


def test_pdf_rendering_refuses_file_and_outside_urls(app):
    import pytest

    from marketplace.pdf import RefusedURL, SafeFetcher

    fetcher = SafeFetcher(app.static_folder)
    for url in ("file:///etc/passwd", "https://example.com/x.png", "static:../../etc/passwd"):
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)
    response = fetcher.fetch("static:app.css")
    try:
        assert response.read()
    finally:
        response.close()


def test_admin_grants_and_revokes_a_consent(client, login):
    user = make_enterprise_user()
    org = bank()
    login(user)
    today = today_shanghai()
    response = client.post("/enterprise/consents/new", data={
        "grantee_org_id": org.id, "scopes": ["bank_statements", "tax"], "purpose": "应收账款融资审查",
        "valid_from": today.isoformat(), "valid_to": (today + timedelta(days=180)).isoformat()})
    assert response.status_code == 302
    consent = db.session.scalar(select(Consent).where(Consent.enterprise_id == user.enterprise.id))
    assert consent.scopes == ["bank_statements", "tax"] and consent.state_on(today) == "active"
    page = client.get("/enterprise/consents").get_data(as_text=True)
    assert "苏州银行吴中支行" in page and "有效" in page
    client.post(f"/enterprise/consents/{consent.id}/revoke")
    assert consent.state_on(today) == "revoked"
    assert "已撤销" in client.get("/enterprise/consents").get_data(as_text=True)


def test_consent_dates_out_of_order_are_refused(client, login):
    login(make_enterprise_user())
    org = bank()
    today = today_shanghai()
    page = client.post("/enterprise/consents/new", data={
        "grantee_org_id": org.id, "scopes": ["tax"], "purpose": "审查",
        "valid_from": today.isoformat(), "valid_to": (today - timedelta(days=1)).isoformat()}).get_data(as_text=True)
    assert "截止日期不能早于生效日期" in page
    assert db.session.scalar(select(Consent)) is None


def test_consent_to_an_enterprise_is_refused(client, login):
    user = make_enterprise_user()
    other = make_enterprise_user()
    login(user)
    today = today_shanghai()
    page = client.post("/enterprise/consents/new", data={
        "grantee_org_id": other.organisation_id, "scopes": ["tax"], "purpose": "x",
        "valid_from": today.isoformat(), "valid_to": today.isoformat()}).get_data(as_text=True)
    assert db.session.scalar(select(Consent)) is None and "请选择机构" in page


def test_applicant_cannot_grant_consents(client, login):
    login(make_enterprise_user(Role.ENTERPRISE_APPLICANT))
    assert client.get("/enterprise/consents/new").status_code == 403


def test_another_enterprise_cannot_revoke_my_consent(app, client, login):
    owner = make_enterprise_user()
    with app.test_request_context():
        consent = services.grant_consent(owner.enterprise, owner, grantee_org_id=bank().id, scopes=["tax"],
                                         purpose="x", valid_from=today_shanghai(), valid_to=today_shanghai())
    login(make_enterprise_user())
    assert client.post(f"/enterprise/consents/{consent.id}/revoke").status_code == 404
    assert consent.revoked_at is None


def test_consent_check_admits_only_valid_scoped_consents_and_logs_refusals(ctx):
    owner = make_enterprise_user()
    org = bank()
    today = today_shanghai()
    services.grant_consent(owner.enterprise, owner, grantee_org_id=org.id, scopes=["tax"], purpose="x",
                           valid_from=today - timedelta(days=400), valid_to=today - timedelta(days=1))
    assert not services.has_consent(owner.enterprise.id, org.id, "tax", "financing_review")  # expired
    services.grant_consent(owner.enterprise, owner, grantee_org_id=org.id, scopes=["tax"], purpose="x",
                           valid_from=today, valid_to=today + timedelta(days=30))
    assert services.has_consent(owner.enterprise.id, org.id, "tax", "financing_review")
    assert not services.has_consent(owner.enterprise.id, org.id, "court", "financing_review")  # scope not granted
    denied = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "credit_data.denied")).all()
    assert len(denied) == 2 and all(e.enterprise_id == owner.enterprise.id for e in denied)


def test_enterprise_sees_who_read_its_data(client, login):
    user = make_enterprise_user()
    admin = UserFactory(role=Role.PLATFORM_ADMIN)
    login(admin)
    client.get(f"/admin/enterprises/{user.enterprise.id}")
    login(user)
    page = client.get("/enterprise/access-log").get_data(as_text=True)
    assert "企业信息" in page and "平台管理" in page and admin.organisation.name in page and admin.name in page


def test_a_read_for_a_purpose_the_consent_does_not_grant_is_refused_and_logged(ctx):
    owner = make_enterprise_user()
    org = bank()
    today = today_shanghai()
    consent = services.grant_consent(owner.enterprise, owner, grantee_org_id=org.id, scopes=["bank_statements"],
                                     purpose="仅用于贷后管理", purposes=["post_loan"], valid_from=today,
                                     valid_to=today + timedelta(days=30))
    assert consent.purposes == ["post_loan"]
    assert services.has_consent(owner.enterprise.id, org.id, "bank_statements", "post_loan")
    assert not services.has_consent(owner.enterprise.id, org.id, "bank_statements", "financing_review")
    denied = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "credit_data.denied")).one()
    assert denied.purpose == "purpose not consented" and denied.details["requested_purpose"] == "financing_review"


def test_a_consent_without_named_purposes_grants_what_the_institution_does(ctx):
    from marketplace.enterprises.consents import reading_purpose

    owner = make_enterprise_user()
    today = today_shanghai()
    consent = services.grant_consent(owner.enterprise, owner, grantee_org_id=bank().id, scopes=["bank_statements"],
                                     purpose="x", valid_from=today, valid_to=today)
    assert consent.purposes == ["financing_review", "post_loan"]
    assert reading_purpose("bank", "bank_review") == "financing_review"
    assert reading_purpose("guarantor", "guarantor_review") == "guarantee_review"
    assert reading_purpose("bank", "repaying") == "post_loan"


def test_the_consent_form_stores_the_purposes_ticked(client, login):
    owner = make_enterprise_user()
    org = bank()
    login(owner)
    today = today_shanghai()
    response = client.post("/enterprise/consents/new", data={
        "grantee_org_id": org.id, "scopes": ["bank_statements"], "purposes": ["guarantee_review"],
        "purpose": "担保审查", "valid_from": today.isoformat(), "valid_to": (today + timedelta(days=30)).isoformat()})
    assert response.status_code == 302
    consent = db.session.scalars(select(Consent).where(Consent.grantee_org_id == org.id)).one()
    assert consent.purposes == ["guarantee_review"]
    assert "担保审查" in client.get("/enterprise/consents").get_data(as_text=True)
