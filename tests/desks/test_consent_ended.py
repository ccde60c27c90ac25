"""An institution without the enterprise's valid consent never sees the request (queue, page, API,
report, leads), and when the consent ends mid-review (revoked, or past its dates) the institution's
part closes as a decline would: its claim, offers and target close, the request stays with the
other institutions, goes to the next one holding a consent, or back to the enterprise; both sides
are told. A part the enterprise accepted (a contract) stays."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

import marketplace.models  # noqa: F401  (every mapper known before the queue's aliases configure them)
from marketplace.accounts.roles import Role
from marketplace.audit import AuditEvent
from marketplace.desks import claims, decisions, queue
from marketplace.desks.models import Offer
from marketplace.desks.tasks import close_reviews_without_consent
from marketplace.enterprises.models import Consent
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.notifications.models import Notification
from marketplace.supermarket import pushes
from marketplace.supermarket.models import RequestTarget
from marketplace.verification.services import reports_of
from tests.api.conftest import token_headers
from tests.desks.helpers import accepted_offer, claimed, revoke_consents, routed, target_of, terms
from tests.factories import grant_consent_to
from tests.guarantees.helpers import mixed, routed_guarantor, targets
from tests.supermarket.products import lender, make_product
from tests.verification.cases import build, submit


def notes(user, kind: str = "consent.review_closed") -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                              Notification.kind == kind)))


def two_banks(app):
    """An excellent request routed to the case's bank and to a second bank, both consented."""
    case = build(app, "excellent")
    case.second = lender(Role.BANK_OFFICER, name="第二家银行")
    make_product(app, case.second, name="第二家银行质押贷")
    grant_consent_to(case.owner.enterprise, case.second.organisation_id)
    submit(app, case)
    assert {t.status for t in targets(case)} >= {"routed"} and target_of(case, case.second.organisation_id)
    return case


def sees(app, client, login, user, case) -> dict[str, int]:
    """What the institution's user gets for the request: desk page, report page, API, queue."""
    login(user)
    (report,) = reports_of(case.request.id)
    with app.test_request_context():
        rows = queue.page(user, queue.Filters(status="all")).rows
    return {"page": client.get(f"/institution/requests/{case.request.id}").status_code,
            "report": client.get(f"/institution/requests/{case.request.id}/reports/{report.id}").status_code,
            "api": client.get(f"/api/v1/desk/requests/{case.request.id}",
                              headers=token_headers(app, user)).status_code,
            "queued": int(any(r.request_id == case.request.id for r in rows))}


def test_revoking_mid_review_closes_that_banks_part_and_the_others_carry_on(app, client, login):
    case = two_banks(app)
    bank = case.bank_staff
    target = claimed(app, target_of(case), bank)
    with app.test_request_context():
        offer = decisions.make_offer(target, bank, terms())
    assert case.request.state == "offer_made"
    assert revoke_consents(app, case.owner, bank.organisation_id) == [case.request.id]
    assert target.status == "closed" and offer.status == "closed" and claims.open_assignment(target.id) is None
    assert target_of(case, case.second.organisation_id).status == "routed"
    # its offer was the only one: the request is back in review with the other bank
    assert case.request.state == "bank_review" and case.request.events[-1].transition == "resume_bank_review"
    (told,) = notes(case.owner)
    assert bank.organisation.name in told.title and "其他机构仍在处理" in told.body
    assert len(notes(bank)) == 1 and "撤销了授权" in notes(bank)[0].body
    assert notes(case.second) == []
    assert sees(app, client, login, bank, case) == {"page": 404, "report": 404, "api": 404, "queued": 0}
    assert sees(app, client, login, case.second, case)["page"] == 200
    closed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "desk.consent_ended"))
    assert closed.details["why"] == "revoked" and closed.actor_user_id == case.owner.id


def test_revoking_the_last_banks_consent_returns_the_request_with_the_reason(app, client, login):
    case = routed(app)
    target = claimed(app, target_of(case), case.bank_staff)
    revoke_consents(app, case.owner, case.bank_staff.organisation_id)
    assert target.status == "closed" and case.request.state == "returned"
    assert [e.transition for e in case.request.events[-2:]] == ["consent_ended_bank", "return_after_bank"]
    assert "撤销授权" in case.request.events[-2].note
    assert "申请已退回" in notes(case.owner)[0].body
    login(case.owner)
    page = client.get(f"/financing/{case.request.id}").get_data(as_text=True)
    assert "企业已撤销授权，该机构退出审查" in page  # the timeline says why


def test_revoking_the_last_banks_consent_routes_to_the_next_bank_holding_one(app):
    case = routed(app)
    claimed(app, target_of(case), case.bank_staff)
    nxt = lender(Role.BANK_OFFICER, name="下一家已获授权的银行")
    make_product(app, nxt, name="下一家质押贷")
    grant_consent_to(case.owner.enterprise, nxt.organisation_id)
    revoke_consents(app, case.owner, case.bank_staff.organisation_id)
    assert case.request.state == "routed_to_bank"
    assert target_of(case, nxt.organisation_id).status == "routed"
    assert len(notes(nxt, "request.routed")) == 1 and "下一家机构" in notes(case.owner)[0].body


def test_revoking_a_guarantors_consent_passes_the_request_to_the_next_consented_guarantor(app):
    case, staff = mixed(app, more_guarantors=1)
    first = routed_guarantor(case)
    (waiting,) = targets(case, "waiting")
    revoke_consents(app, case.owner, first.institution_id)
    assert first.status == "closed" and waiting.status == "routed"
    assert case.request.state == "routed_to_guarantor"
    assert [e.transition for e in case.request.events[-2:]] == ["consent_ended_guarantor", "reroute_to_guarantor"]
    assert len(notes(staff[waiting.institution_id], "request.routed")) == 1


def test_a_waiting_guarantor_without_consent_is_skipped_and_the_request_returned(app):
    case, staff = mixed(app, more_guarantors=1)
    first = routed_guarantor(case)
    (waiting,) = targets(case, "waiting")
    for consent in db.session.scalars(select(Consent).where(Consent.grantee_org_id == waiting.institution_id)):
        consent.valid_to = consent.valid_from  # expired yesterday
    db.session.flush()
    revoke_consents(app, case.owner, first.institution_id)
    assert case.request.state == "returned" and waiting.status == "waiting"
    assert notes(staff[waiting.institution_id], "request.routed") == []


def test_an_accepted_offer_is_a_contract_and_stays_when_the_consent_ends(app, client, login):
    case = routed(app)
    offer = accepted_offer(app, case)
    assert revoke_consents(app, case.owner, case.bank_staff.organisation_id) == []
    assert offer.status == "accepted" and target_of(case).status == "accepted"
    assert case.request.state == "offer_accepted"
    seen = sees(app, client, login, case.bank_staff, case)
    assert seen == {"page": 200, "report": 403, "api": 200, "queued": 1}  # the loan goes on; the data do not


def test_another_valid_consent_keeps_the_review_going(app):
    case = routed(app)
    bank_id = case.bank_staff.organisation_id
    (second,) = grant_consent_to(case.owner.enterprise, bank_id)
    first = db.session.scalar(select(Consent).where(Consent.grantee_org_id == bank_id, Consent.id != second.id))
    from marketplace.enterprises.services import revoke_consent

    with app.test_request_context():
        assert revoke_consent(first, case.owner) == []
    assert target_of(case).status == "routed" and case.request.state == "routed_to_bank"


def test_an_expired_consent_hides_the_request_at_once_and_the_daily_task_closes_the_part(app, client, login):
    case = routed(app)
    bank = case.bank_staff
    claimed(app, target_of(case), bank)
    for consent in db.session.scalars(select(Consent).where(Consent.grantee_org_id == bank.organisation_id)):
        consent.valid_from, consent.valid_to = today_shanghai() - timedelta(days=40), today_shanghai() - timedelta(days=1)
    db.session.flush()
    assert sees(app, client, login, bank, case) == {"page": 404, "report": 404, "api": 404, "queued": 0}
    assert target_of(case).status == "reviewing"  # not yet tidied up
    assert close_reviews_without_consent() == 1
    assert target_of(case).status == "closed" and case.request.state == "returned"
    assert "过期" in notes(case.owner)[0].body and "过期" in notes(bank)[0].body
    assert close_reviews_without_consent() == 0  # idempotent: nothing left under review


def test_the_daily_task_leaves_consented_reviews_alone(app):
    case = routed(app)
    assert close_reviews_without_consent() == 0
    assert target_of(case).status == "routed"


def test_the_institutions_staff_are_told_but_a_waiting_guarantor_never_saw_it(app):
    case, staff = mixed(app, more_guarantors=1)
    (waiting,) = targets(case, "waiting")
    revoke_consents(app, case.owner, waiting.institution_id)
    assert db.session.get(RequestTarget, waiting.id) is None and routed_guarantor(case).status == "routed"
    assert notes(staff[waiting.institution_id]) == [] and notes(case.owner) == []


def test_leads_need_a_consent_to_the_bank_statements(app):
    case = build(app, "excellent", with_products=False)
    bank = lender(Role.BANK_OFFICER, name="看线索的银行")
    make_product(app, bank, name="线索质押贷")
    grant_consent_to(case.owner.enterprise, bank.organisation_id, scopes=("tax",))
    with app.test_request_context():
        from marketplace.financing.services import apply_transition

        apply_transition(case.request, "submit", case.owner)
        apply_transition(case.request, "start_verification")
        apply_transition(case.request, "complete_verification")
    assert pushes.leads_for(bank.organisation_id) == []
    grant_consent_to(case.owner.enterprise, bank.organisation_id)
    assert [lead.request.id for lead in pushes.leads_for(bank.organisation_id)] == [case.request.id]


def test_offers_pending_approval_are_withdrawn_with_the_part(app, monkeypatch):
    monkeypatch.setitem(app.config, "FOUR_EYES_AMOUNT", "100000.00")
    case = two_banks(app)
    bank = case.bank_staff
    target = claimed(app, target_of(case), bank)
    with app.test_request_context():
        offer = decisions.make_offer(target, bank, terms(amount="240000.00"))
    assert offer.status == "pending_approval"  # a four-eyes offer waits for its approver
    revoke_consents(app, case.owner, bank.organisation_id)
    assert db.session.get(Offer, offer.id).status == "withdrawn"
    assert db.session.scalar(select(RequestTarget.status).where(RequestTarget.id == target.id)) == "closed"


def test_withdrawing_a_request_with_a_guarantor_waiting_its_turn_closes_cleanly(app):
    from marketplace.financing.services import apply_transition

    case, staff = mixed(app, more_guarantors=1)
    (waiting,) = targets(case, "waiting")
    with app.test_request_context():
        apply_transition(case.request, "withdraw", case.owner)
    assert case.request.state == "withdrawn"
    assert db.session.get(RequestTarget, waiting.id) is None
    assert {t.status for t in targets(case)} == {"closed"}


def test_claim_next_skips_a_request_whose_consent_expired(app):
    case = routed(app)
    bank = case.bank_staff
    for consent in db.session.scalars(select(Consent).where(Consent.grantee_org_id == bank.organisation_id)):
        consent.valid_from, consent.valid_to = today_shanghai() - timedelta(days=40), today_shanghai() - timedelta(days=1)
    db.session.flush()
    with app.test_request_context():
        assert claims.claim_next(bank) is None
    assert target_of(case).status == "routed" and case.request.state == "routed_to_bank"


def test_revoking_on_the_consents_page_says_which_reviews_ended(app, client, login):
    case = routed(app)
    claimed(app, target_of(case), case.bank_staff)
    db.session.commit()
    consent = db.session.scalar(select(Consent).where(Consent.grantee_org_id == case.bank_staff.organisation_id))
    login(case.owner)
    page = client.post(f"/enterprise/consents/{consent.id}/revoke", follow_redirects=True).get_data(as_text=True)
    assert consent.revoked_at is not None and target_of(case).status == "closed"
    assert "授权已撤销" in page and f"对您 1 笔融资申请的审查已终止：#{case.request.id}" in page
