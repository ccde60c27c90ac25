"""The bank sees the evidence: the invoices and contracts of the receivables pledged to a request
routed to it, within the enterprise's consent, on the desk page and through the API; each view or
download is written to the enterprise's access log; files are served with their checked type, a
Content-Disposition and nosniff. Other documents, other institutions, and institutions whose
consent ended are refused."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from marketplace.accounts.roles import Role
from marketplace.audit import AuditEvent
from marketplace.extensions import db
from marketplace.receivables import documents
from tests.api.conftest import token_headers
from tests.desks.helpers import accepted_offer, revoke_consents, routed
from tests.factories import ReceivableFactory, grant_consent_to
from tests.supermarket.products import lender
from tests.uploads import PDF


def store(app, receivable, owner, name: str = "增值税专用发票.pdf", data: bytes = PDF):
    with app.test_request_context():
        return documents.store_document(receivable, owner, FileStorage(io.BytesIO(data), filename=name))


@pytest.fixture
def evidence(app):
    """A request routed to the case's bank (consented), an invoice and a contract on its first
    pledged receivable, and a document of a receivable of the same enterprise not pledged to it."""
    case = routed(app)
    pledged = case.request.active_pledges[0].receivable
    case.invoice = store(app, pledged, case.owner)
    case.contract = store(app, pledged, case.owner, "购销合同.pdf")
    loose = ReceivableFactory(enterprise=case.owner.enterprise)
    case.unpledged = store(app, loose, case.owner, "另一张发票.pdf")
    db.session.commit()
    return case


def url(case, document, suffix: str = "") -> str:
    return f"/institution/requests/{case.request.id}/documents/{document.id}{suffix}"


def reads() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "credit_data.read",
                                                            AuditEvent.object_type == "receivable_document")
                                   .order_by(AuditEvent.id)))


def test_the_desk_page_lists_the_pledged_documents_with_links(client, login, evidence):
    login(evidence.bank_staff)
    page = client.get(f"/institution/requests/{evidence.request.id}").get_data(as_text=True)
    for document in (evidence.invoice, evidence.contract):
        assert f'data-testid="document-{document.id}"' in page and f'href="{url(evidence, document)}"' in page
        assert document.original_name in page
    assert f'data-testid="document-{evidence.unpledged.id}"' not in page


def test_the_routed_bank_opens_and_downloads_a_document_and_each_read_is_logged(client, login, evidence):
    bank = evidence.bank_staff
    login(bank)
    opened = client.get(url(evidence, evidence.invoice))
    assert opened.status_code == 200 and opened.data == PDF
    assert opened.headers["Content-Type"] == "application/pdf"
    assert opened.headers["X-Content-Type-Options"] == "nosniff"
    assert opened.headers["Content-Disposition"].startswith("inline")
    assert "no-store" in opened.headers["Cache-Control"]
    saved = client.get(url(evidence, evidence.contract, "?download=1"))
    assert saved.status_code == 200 and saved.headers["Content-Disposition"].startswith("attachment")
    assert "filename*=UTF-8''%E8%B4%AD%E9%94%80%E5%90%88%E5%90%8C.pdf" in saved.headers["Content-Disposition"]
    logged = reads()
    assert [e.details["document_id"] for e in logged] == [evidence.invoice.id, evidence.contract.id]
    assert all(e.enterprise_id == evidence.owner.enterprise.id and e.actor_user_id == bank.id
               and e.actor_org_id == bank.organisation_id and e.purpose == "financing_review"
               and e.details["request_id"] == evidence.request.id for e in logged)
    assert logged[0].details["name"] == "增值税专用发票.pdf"


def test_the_enterprise_sees_each_read_in_its_access_log(client, login, evidence):
    login(evidence.bank_staff)
    client.get(url(evidence, evidence.invoice))
    login(evidence.owner)
    page = client.get("/enterprise/access-log").get_data(as_text=True)
    assert "应收账款材料（发票、合同）" in page and "增值税专用发票.pdf" in page
    assert evidence.bank_staff.name in page and evidence.bank_staff.organisation.name in page
    assert "融资审查" in page and f"#{evidence.request.id}" in page


def test_a_document_not_pledged_to_the_request_is_not_found(app, client, login, evidence):
    other = routed(app)  # another enterprise's request, routed to another bank
    foreign = store(app, other.request.active_pledges[0].receivable, other.owner)
    login(evidence.bank_staff)
    assert client.get(url(evidence, evidence.unpledged)).status_code == 404
    assert client.get(url(evidence, foreign)).status_code == 404
    assert client.get(f"/institution/requests/{evidence.request.id}/documents/999999").status_code == 404
    assert reads() == []


def test_a_released_pledge_takes_its_documents_with_it(client, login, evidence):
    pledge = evidence.request.active_pledges[0]
    pledge.active = False
    db.session.commit()
    login(evidence.bank_staff)
    assert client.get(url(evidence, evidence.invoice)).status_code == 404


def test_other_institutions_and_enterprise_users_are_refused(app, client, login, evidence):
    stranger = lender(Role.BANK_OFFICER, name="未被推送的银行")
    grant_consent_to(evidence.owner.enterprise, stranger.organisation_id)  # consent alone opens nothing
    login(stranger)
    assert client.get(url(evidence, evidence.invoice)).status_code == 404
    login(evidence.guarantor_staff)  # consented, but an excellent request never went to the guarantor
    assert client.get(url(evidence, evidence.invoice)).status_code == 404
    login(evidence.owner)
    assert client.get(url(evidence, evidence.invoice)).status_code == 403
    assert reads() == []


def test_after_the_consent_is_revoked_mid_review_the_documents_are_gone(app, client, login, evidence):
    revoke_consents(app, evidence.owner, evidence.bank_staff.organisation_id)
    login(evidence.bank_staff)
    assert client.get(url(evidence, evidence.invoice)).status_code == 404
    assert client.get(f"/api/v1/desk/requests/{evidence.request.id}/documents/{evidence.invoice.id}",
                      headers=token_headers(app, evidence.bank_staff)).status_code == 404
    assert reads() == []


def test_a_bank_holding_an_accepted_offer_without_consent_gets_403_and_the_refusal_is_logged(app, client, login,
                                                                                             evidence):
    accepted_offer(app, evidence)
    revoke_consents(app, evidence.owner, evidence.bank_staff.organisation_id)
    login(evidence.bank_staff)
    page = client.get(f"/institution/requests/{evidence.request.id}").get_data(as_text=True)
    assert f'href="{url(evidence, evidence.invoice)}"' not in page and "需企业授权查看" in page
    assert client.get(url(evidence, evidence.invoice)).status_code == 403
    denied = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "credit_data.denied"))
    assert denied.enterprise_id == evidence.owner.enterprise.id and denied.actor_org_id == evidence.bank_staff.organisation_id
    assert reads() == []


def test_the_api_lists_the_documents_and_serves_each_one_logged(app, client, evidence):
    headers = token_headers(app, evidence.bank_staff)
    body = client.get(f"/api/v1/desk/requests/{evidence.request.id}", headers=headers).json
    first = next(r for r in body["receivables"] if r["id"] == evidence.invoice.receivable_id)
    assert [d["id"] for d in first["documents"]] == [evidence.invoice.id, evidence.contract.id]
    assert first["document_count"] == 2 and first["documents"][0]["content_type"] == "application/pdf"
    assert first["documents"][0]["sha256"] == evidence.invoice.sha256
    response = client.get(first["documents"][0]["url"], headers=headers)
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert [e.details["document_id"] for e in reads()] == [evidence.invoice.id]
    refused = client.get(f"/api/v1/desk/requests/{evidence.request.id}/documents/{evidence.unpledged.id}",
                         headers=headers)
    assert refused.status_code == 404 and refused.json["code"] == 404


def test_an_image_is_served_as_an_image(app, client, login, evidence):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    scan = store(app, evidence.request.active_pledges[1].receivable, evidence.owner, "发票扫描件.pdf", buffer.getvalue())
    db.session.commit()
    login(evidence.bank_staff)
    response = client.get(url(evidence, scan))
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    assert "%E5%8F%91%E7%A5%A8%E6%89%AB%E6%8F%8F%E4%BB%B6.png" in response.headers["Content-Disposition"]


def test_a_consent_granted_only_for_post_loan_monitoring_does_not_open_documents_in_review(client, login,
                                                                                             evidence):
    from marketplace.enterprises.models import Consent

    for consent in db.session.scalars(select(Consent).where(
            Consent.enterprise_id == evidence.owner.enterprise.id,
            Consent.grantee_org_id == evidence.bank_staff.organisation_id)):
        consent.purposes = ["post_loan"]
    db.session.commit()
    login(evidence.bank_staff)
    assert client.get(url(evidence, evidence.invoice)).status_code == 403
    assert reads() == []
    denied = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "credit_data.denied")).all()
    assert denied and denied[-1].purpose == "purpose not consented"
    assert denied[-1].details["requested_purpose"] == "financing_review"
