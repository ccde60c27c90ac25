"""Consent-bound routing: a request goes only to institutions holding the enterprise's valid consent
to read its bank statements. A pick without one is refused on the submit page (which offers the
consent there, to the enterprise admin, or another pick); automatic routing passes such institutions
over and, when none is left, asks the enterprise instead of routing blind; a guarantor, then the
banks, each need it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace.accounts.roles import Role
from marketplace.audit import AuditEvent
from marketplace.enterprises.models import Consent
from marketplace.extensions import db
from marketplace.financing.models import FinancingRequest
from marketplace.formatting import today_shanghai
from marketplace.notifications.models import Notification
from marketplace.supermarket.models import Product, RequestTarget
from tests.desks.helpers import claimed, target_of
from tests.factories import ReceivableFactory, grant_consent_to, make_enterprise_user
from tests.guarantees.helpers import accepted, paid
from tests.supermarket.products import lender, make_product
from tests.verification.cases import build, submit


def targets_of(request) -> list[RequestTarget]:
    return list(db.session.scalars(select(RequestTarget).where(RequestTarget.request_id == request.id)
                                   .order_by(RequestTarget.rank)))


def notes(user, kind: str | None = None) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user.id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query.order_by(Notification.id)))


@pytest.fixture
def draft(app):
    """A draft that verifies as excellent; the case's bank holds the enterprise's consent, a second
    bank whose product fits too does not."""
    case = build(app, "excellent")
    case.stranger = lender(Role.BANK_OFFICER, name="未获授权银行")
    case.stranger_product = make_product(app, case.stranger, name="未授权银行质押贷", rate_min=Decimal("3.00"))
    case.own_product = db.session.scalar(select(Product).where(Product.institution_id == case.bank_staff.organisation_id))
    db.session.commit()  # a refused submission rolls back to here
    return case


def submit_page(client, case, *product_ids):
    return client.post(f"/financing/{case.request.id}/submit", follow_redirects=True,
                       data={"version": case.request.version, "products": list(product_ids)})


# ---- the submit page -------------------------------------------------------------------------------

def test_a_pick_without_consent_is_refused_by_name_and_nothing_is_routed(app, client, login, draft):
    login(draft.owner)
    page = submit_page(client, draft, draft.stranger_product.id).get_data(as_text=True)
    assert draft.request.state == "draft" and draft.request.submitted_at is None
    assert "尚未获得贵企业查询银行流水的授权" in page and "未获授权银行" in page
    (target,) = targets_of(draft.request)  # the pick stays on the draft, waiting for the consent
    assert target.institution_id == draft.stranger.organisation_id and target.status == "chosen"
    assert target.routed_at is None and notes(draft.stranger) == []
    assert f'data-testid="consent-for-{draft.stranger.organisation_id}"' in page
    assert f'data-testid="grant-consent-form-{draft.stranger.organisation_id}"' in page  # the admin may grant
    assert f'data-testid="target-needs-consent-{draft.stranger.organisation_id}"' in page
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "financing.submit")) is None


def test_the_refusal_is_in_english_on_an_english_page(app, client, login, draft):
    login(draft.owner)
    with client.session_transaction() as session:
        session["locale"] = "en"
    page = submit_page(client, draft, draft.stranger_product.id).get_data(as_text=True)
    assert draft.request.state == "draft"
    assert "has not consented" in page and "未获授权银行" in page  # the bank's name is data


def test_the_page_marks_which_recommended_institutions_hold_the_consent(client, login, draft):
    login(draft.owner)
    page = client.get(f"/financing/{draft.request.id}").get_data(as_text=True)
    assert f'data-testid="consent-state-{draft.own_product.id}"' in page
    own = page.split(f'data-testid="consent-state-{draft.own_product.id}"')[1][:200]
    strange = page.split(f'data-testid="consent-state-{draft.stranger_product.id}"')[1][:200]
    assert "已授权" in own and "未授权" in strange
    assert 'data-testid="consent-needed"' in page and 'data-testid="no-consenting-institution"' not in page


def test_an_applicant_is_told_to_ask_the_admin_and_cannot_grant(app, client, login, draft):
    applicant = make_enterprise_user(role=Role.ENTERPRISE_APPLICANT, enterprise=draft.owner.enterprise)
    db.session.commit()
    login(applicant)
    page = submit_page(client, draft, draft.stranger_product.id).get_data(as_text=True)
    assert draft.request.state == "draft" and 'data-testid="ask-admin"' in page and draft.owner.name in page
    assert 'data-testid="grant-consent-form-' not in page
    response = client.post(f"/financing/{draft.request.id}/consents/{draft.stranger.organisation_id}",
                           data={f"consent-{draft.stranger.organisation_id}-scopes": ["bank_statements"]})
    assert response.status_code == 403
    assert db.session.scalar(select(Consent).where(Consent.grantee_org_id == draft.stranger.organisation_id)) is None


def grant_form(org_id: int, scopes=("bank_statements",), **changes) -> dict:
    today = today_shanghai()
    data = {"scopes": list(scopes), "purpose": "融资申请审查", "valid_from": today.isoformat(),
            "valid_to": (today + timedelta(days=180)).isoformat(), **changes}
    return {f"consent-{org_id}-{key}": value for key, value in data.items()}


def test_the_admin_grants_the_consent_on_the_page_then_the_pick_is_submitted(app, client, login, draft, worker_idle):
    org_id = draft.stranger.organisation_id
    login(draft.owner)
    submit_page(client, draft, draft.stranger_product.id)
    page = client.post(f"/financing/{draft.request.id}/consents/{org_id}", data=grant_form(org_id),
                       follow_redirects=True).get_data(as_text=True)
    consent = db.session.scalar(select(Consent).where(Consent.grantee_org_id == org_id))
    assert consent.scopes == ["bank_statements"] and consent.granted_by_id == draft.owner.id
    assert consent.valid_to == today_shanghai() + timedelta(days=180) and consent.purpose == "融资申请审查"
    assert "已授权未获授权银行查询贵企业的银行流水" in page
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "consent.granted")) is not None
    submit_page(client, draft, draft.stranger_product.id)
    assert draft.request.state == "submitted"
    assert [(t.institution_id, t.chosen_by) for t in targets_of(draft.request)] == [(org_id, "enterprise")]


@pytest.mark.parametrize("changes, message", [
    ({"scopes": ["tax"]}, "请勾选“银行流水”"),
    ({"valid_from": (today_shanghai() + timedelta(days=3)).isoformat()}, "生效日期不能晚于今天"),
    ({"valid_from": (today_shanghai() - timedelta(days=9)).isoformat(),
      "valid_to": (today_shanghai() - timedelta(days=1)).isoformat()}, "截止日期不能早于今天"),
])
def test_a_consent_that_would_not_allow_routing_is_refused(client, login, draft, changes, message):
    org_id = draft.stranger.organisation_id
    login(draft.owner)
    form = grant_form(org_id)
    form.update({f"consent-{org_id}-{key}": value for key, value in changes.items()})
    page = client.post(f"/financing/{draft.request.id}/consents/{org_id}", data=form,
                       follow_redirects=True).get_data(as_text=True)
    assert message in page
    assert db.session.scalar(select(Consent).where(Consent.grantee_org_id == org_id)) is None


def test_consent_can_be_granted_only_to_a_bank_or_guarantor_for_ones_own_request(client, login, draft):
    other = make_enterprise_user()
    login(draft.owner)
    assert client.post(f"/financing/{draft.request.id}/consents/{other.organisation_id}",
                       data=grant_form(other.organisation_id)).status_code == 404
    login(other)
    org_id = draft.stranger.organisation_id
    assert client.post(f"/financing/{draft.request.id}/consents/{org_id}", data=grant_form(org_id)).status_code == 404
    assert db.session.scalars(select(Consent).where(Consent.grantee_org_id.in_(
        [org_id, other.organisation_id]))).all() == []


def test_a_supermarket_pick_without_consent_is_kept_on_the_draft_with_a_warning(app, client, login):
    owner = make_enterprise_user()
    receivable = ReceivableFactory(enterprise=owner.enterprise, face_amount=Decimal("500000.00"))
    bank = lender(Role.BANK_OFFICER, name="超市里的银行")
    product = make_product(app, bank, name="超市质押贷")
    login(owner)
    page = client.post(f"/financing/new?product={product.id}", follow_redirects=True, data={
        "amount": "300000", "term_days": "90", "purpose": "采购", "receivables": [receivable.id]})
    text = page.get_data(as_text=True)
    assert "超市里的银行 尚未获得贵企业查询银行流水的授权" in text
    request = db.session.scalar(select(FinancingRequest).where(FinancingRequest.enterprise_id == owner.enterprise.id))
    (target,) = targets_of(request)
    assert request.state == "draft" and target.institution_id == bank.organisation_id and target.status == "chosen"
    assert f'data-testid="target-needs-consent-{bank.organisation_id}"' in text


# ---- automatic routing -----------------------------------------------------------------------------

def test_automatic_routing_passes_over_institutions_without_consent(app, draft):
    submit(app, draft)
    assert draft.request.state == "routed_to_bank"
    routed = [t for t in targets_of(draft.request) if t.status == "routed"]
    assert [t.institution_id for t in routed] == [draft.bank_staff.organisation_id]  # not the cheaper stranger
    assert notes(draft.stranger) == []


def test_with_no_consented_institution_the_request_goes_back_asking_for_consent(app):
    case = build(app, "excellent", with_products=False)
    bank = lender(Role.BANK_OFFICER, name="合适但未获授权的银行")
    make_product(app, bank, name="质押贷")
    submit(app, case)
    assert case.request.state == "returned"
    last = case.request.events[-1]
    assert last.transition == "return_request" and "合适但未获授权的银行" in last.note and "授权" in last.note
    assert [t for t in targets_of(case.request) if t.status != "chosen"] == []  # nothing routed
    assert notes(bank) == []
    (asked,) = notes(case.owner, "routing.consent_needed")
    assert "合适但未获授权的银行" in asked.body and asked.link.endswith(f"/financing/{case.request.id}#consents")


def test_the_returned_page_says_why_and_offers_the_consent(app, client, login):
    case = build(app, "excellent", with_products=False)
    bank = lender(Role.BANK_OFFICER, name="等待授权的银行")
    make_product(app, bank, name="质押贷")
    submit(app, case)
    login(case.owner)
    page = client.get(f"/financing/{case.request.id}").get_data(as_text=True)
    assert 'data-testid="return-note"' in page and "等待授权的银行" in page
    assert f'data-testid="grant-consent-form-{bank.organisation_id}"' in page
    assert 'data-testid="no-consenting-institution"' in page


def test_a_consent_without_bank_statements_does_not_count(app):
    case = build(app, "excellent", with_products=False)
    bank = lender(Role.BANK_OFFICER, name="只获纳税授权的银行")
    make_product(app, bank, name="质押贷")
    grant_consent_to(case.owner.enterprise, bank.organisation_id, scopes=("tax",))
    submit(app, case)
    assert case.request.state == "returned"


def test_an_expired_or_not_yet_valid_consent_does_not_count(app):
    case = build(app, "excellent", with_products=False)
    expired, future = (lender(Role.BANK_OFFICER, name=n) for n in ("授权已过期的银行", "授权未生效的银行"))
    for bank in (expired, future):
        make_product(app, bank, name=f"{bank.organisation.name}贷")
    today = today_shanghai()
    grant_consent_to(case.owner.enterprise, expired.organisation_id, valid_from=today - timedelta(days=30),
                     valid_to=today - timedelta(days=1))
    grant_consent_to(case.owner.enterprise, future.organisation_id, valid_from=today + timedelta(days=1),
                     valid_to=today + timedelta(days=30))
    submit(app, case)
    assert case.request.state == "returned"
    assert "授权已过期的银行" in case.request.events[-1].note


def test_a_mixed_request_needs_a_consented_guarantor(app):
    case = build(app, "mixed", with_products=False)
    guarantor = lender(Role.GUARANTOR_OFFICER, name="未获授权的担保公司")
    make_product(app, guarantor, name="担保产品", product_type="guaranteed_loan")
    submit(app, case)
    assert case.request.state == "returned" and "未获授权的担保公司" in case.request.events[-1].note


def test_after_the_guarantee_the_banks_need_the_consent_too_and_granting_it_routes(app):
    from marketplace.enterprises.services import grant_consent

    case = build(app, "mixed", with_products=False)
    guarantor = lender(Role.GUARANTOR_OFFICER, name="已获授权的担保公司")
    make_product(app, guarantor, name="担保产品", product_type="guaranteed_loan")
    bank = lender(Role.BANK_OFFICER, name="担保后才合适的银行")
    make_product(app, bank, name="担保贷", requires_guarantee=True)
    grant_consent_to(case.owner.enterprise, guarantor.organisation_id)  # the guarantor only
    submit(app, case)
    assert case.request.state == "routed_to_guarantor"
    _guarantee, payment, officer = accepted(app, case, {guarantor.organisation_id: guarantor})
    paid(app, payment, officer)
    request = db.session.get(FinancingRequest, case.request.id)
    assert request.state == "guaranteed"  # no bank holds the consent: not routed
    assert notes(bank) == [] and any("担保后才合适的银行" in n.body for n in notes(case.owner, "guarantee.issued"))
    with app.test_request_context():
        today = today_shanghai()
        grant_consent(case.owner.enterprise, case.owner, grantee_org_id=bank.organisation_id,
                      scopes=["bank_statements"], purpose="融资审查", valid_from=today,
                      valid_to=today + timedelta(days=90))
    assert request.state == "routed_to_bank"
    assert target_of(case, bank.organisation_id).status == "routed" and len(notes(bank, "request.routed")) == 1


def test_a_request_returned_after_a_decline_can_be_resubmitted_without_the_declining_bank(app):
    from marketplace.desks import decisions
    from tests.desks.helpers import routed

    case = routed(app)
    target = claimed(app, target_of(case), case.bank_staff)
    with app.test_request_context():
        decisions.decline(target, case.bank_staff, "industry_limit", "")
    assert case.request.state == "returned"
    submit(app, case)  # the declined target stays as history; no other bank: returned again
    assert case.request.state == "returned" and target.status == "declined"
    with app.test_request_context():
        from marketplace.financing import targets

        with pytest.raises(targets.TargetRefused, match="已处理过本申请"):
            targets.choose_targets(case.request, [db.session.get(RequestTarget, target.id).product_version.product_id])
