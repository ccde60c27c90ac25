"""The debtor's confirmation: by a signed single-use link without an account, or from its own
enterprise account."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.receivables import links
from marketplace.receivables.models import ConfirmationLink, Receivable
from tests.factories import EnterpriseFactory, ReceivableFactory, make_enterprise_user
from tests.receivables.helpers import audit_count, page_text, receivable_form


@pytest.fixture
def receivable(enterprise):
    return ReceivableFactory(enterprise=enterprise, face_amount=Decimal("128000.00"), contract_no="HT-7")


def issue(client, receivable) -> str:
    """Ask for a link as the creditor; return the token shown on the detail page."""
    html = page_text(client.post(f"/receivables/{receivable.id}/link", follow_redirects=True))
    match = re.search(r'value="http://localhost/confirm/([^"]+)"[^>]*data-testid="debtor-link"', html)
    assert match, "the new link is shown on the detail page"
    return match.group(1)


def link_rows(receivable) -> list[ConfirmationLink]:
    return list(db.session.scalars(
        select(ConfirmationLink).where(ConfirmationLink.receivable_id == receivable.id).order_by(ConfirmationLink.id)
    ))


def signer(app, days_ago: int = 0) -> URLSafeTimedSerializer:
    """The links' serializer, built outside a request, stamping tokens `days_ago` days in the past."""

    class Stamped(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - days_ago * 86400

    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=links.SALT, signer=Stamped)


def fresh(receivable) -> Receivable:
    db.session.refresh(receivable)
    return receivable


def answer(client, token, **form):
    return client.post(f"/confirm/{token}", data=form, environ_base={"REMOTE_ADDR": "203.0.113.9"})


@pytest.fixture
def token(signed_in, receivable, client):
    value = issue(signed_in, receivable)
    with client.session_transaction() as session:
        session.clear()  # the debtor has no account
    return value


# --- issuing links ---------------------------------------------------------------------------------

def test_send_link_shows_the_absolute_link_once(signed_in, receivable, app):
    token = issue(signed_in, receivable)

    [link] = link_rows(receivable)
    assert link.expires_at - link.created_at == timedelta(days=app.config["DEBTOR_LINK_DAYS"])
    assert len(link.nonce) == 32
    assert 'data-testid="debtor-link"' not in page_text(signed_in.get(f"/receivables/{receivable.id}"))
    assert signer(app).loads(token) == {"link": link.id, "nonce": link.nonce}
    assert audit_count("receivable.link_issued") == 1


def test_a_new_link_revokes_the_earlier_unused_one(signed_in, receivable, client):
    old = issue(signed_in, receivable)
    new = issue(signed_in, receivable)

    first, second = link_rows(receivable)
    assert first.revoked_at is not None and second.revoked_at is None
    assert client.get(f"/confirm/{old}").status_code == 410
    assert "链接已作废" in page_text(client.get(f"/confirm/{old}"))
    assert client.get(f"/confirm/{new}").status_code == 200


def test_links_are_only_for_pending_receivables(signed_in, enterprise):
    confirmed = ReceivableFactory(enterprise=enterprise, confirmation="confirmed", confirmed_via="link")
    response = signed_in.post(f"/receivables/{confirmed.id}/link", follow_redirects=True)
    assert "只有待确认的应收账款才能发送确认链接" in page_text(response)
    assert link_rows(confirmed) == []


def test_changing_the_amount_revokes_open_links(signed_in, receivable):
    issue(signed_in, receivable)
    signed_in.post(f"/receivables/{receivable.id}/edit",
                   data=receivable_form(receivable.debtor_uscc, invoice_no=receivable.invoice_no, amount="1.00"))
    [link] = link_rows(receivable)
    assert link.revoked_at is not None


# --- the debtor's page -----------------------------------------------------------------------------

def test_the_debtor_page_shows_the_receivable_and_the_amount_in_capitals(client, token, receivable, enterprise):
    response = client.get(f"/confirm/{token}")

    html = page_text(response)
    assert response.status_code == 200
    for text in (enterprise.name, enterprise.uscc, receivable.debtor_name, receivable.invoice_no, "HT-7",
                 "¥128,000.00", "壹拾贰万捌仟元整", receivable.issue_date.isoformat(), receivable.due_date.isoformat()):
        assert text in html
    for testid in ("debtor-name-input", "debtor-confirm", "debtor-dispute", "dispute-reason"):
        assert f'data-testid="{testid}"' in html
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_confirming_records_name_time_ip_and_uses_the_link(client, token, receivable):
    before = utcnow()

    response = answer(client, token, confirmer_name="王五", action="confirm")

    assert response.status_code == 200
    assert 'data-testid="debtor-result"' in page_text(response) and "您已确认" in page_text(response)
    receivable = fresh(receivable)
    assert receivable.confirmation == "confirmed" and receivable.confirmed_via == "link"
    assert receivable.confirmed_by_name == "王五" and receivable.confirmed_ip == "203.0.113.9"
    assert receivable.confirmed_at >= before and receivable.confirmed_by_user_id is None
    [link] = link_rows(receivable)
    assert link.used_at is not None
    assert audit_count("receivable.confirmed") == 1


def test_the_confirming_persons_name_is_required(client, token, receivable):
    response = answer(client, token, confirmer_name=" ", action="confirm")
    assert response.status_code == 400 and "请填写确认人姓名" in page_text(response)
    assert fresh(receivable).confirmation == "pending"


def test_a_dispute_needs_a_reason(client, token, receivable):
    response = answer(client, token, confirmer_name="王五", action="dispute", reason="")
    assert response.status_code == 400 and "提出异议时请填写异议原因" in page_text(response)
    assert fresh(receivable).confirmation == "pending"
    assert link_rows(receivable)[0].used_at is None


def test_a_dispute_reason_longer_than_500_characters_is_refused(client, token, receivable):
    response = answer(client, token, confirmer_name="王五", action="dispute", reason="异" * 501)
    assert response.status_code == 400
    assert fresh(receivable).confirmation == "pending"


def test_a_dispute_with_a_reason_is_recorded(client, token, receivable):
    response = answer(client, token, confirmer_name="王五", action="dispute", reason="货物未交付，金额不符")
    assert "异议已提交" in page_text(response)
    receivable = fresh(receivable)
    assert receivable.confirmation == "disputed" and receivable.dispute_reason == "货物未交付，金额不符"
    assert audit_count("receivable.disputed") == 1


def test_an_unknown_action_is_refused(client, token, receivable):
    assert answer(client, token, confirmer_name="王五", action="approve").status_code == 400
    assert fresh(receivable).confirmation == "pending"


def test_a_used_link_answers_410(client, token):
    answer(client, token, confirmer_name="王五", action="confirm")
    for response in (client.get(f"/confirm/{token}"), answer(client, token, confirmer_name="赵六", action="dispute",
                                                              reason="x")):
        assert response.status_code == 410 and "链接已使用" in page_text(response)


def test_a_link_past_its_expiry_answers_410(client, token, receivable):
    [link] = link_rows(receivable)
    link.expires_at = utcnow() - timedelta(minutes=1)
    db.session.flush()
    response = client.get(f"/confirm/{token}")
    assert response.status_code == 410 and "链接已过期" in page_text(response)


def test_a_token_signed_longer_ago_than_the_link_lifetime_answers_410(client, token, receivable, app):
    [link] = link_rows(receivable)
    old_token = signer(app, days_ago=app.config["DEBTOR_LINK_DAYS"] + 1).dumps({"link": link.id, "nonce": link.nonce})

    response = client.get(f"/confirm/{old_token}")

    assert response.status_code == 410 and "链接已过期" in page_text(response)


@pytest.mark.parametrize("tamper", [
    lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
    lambda token: "not-a-token",
])
def test_a_tampered_token_answers_404(client, token, tamper):
    response = client.get(f"/confirm/{tamper(token)}")
    assert response.status_code == 404 and "链接无效" in page_text(response)


def test_a_signed_token_with_the_wrong_nonce_or_link_answers_404(client, token, receivable, app):
    [link] = link_rows(receivable)
    for payload in ({"link": link.id, "nonce": "0" * 32}, {"link": 999999, "nonce": link.nonce}, ["x"]):
        forged = signer(app).dumps(payload)
        assert client.get(f"/confirm/{forged}").status_code == 404


def test_the_debtor_form_carries_a_csrf_token_and_works_with_it(client, token, receivable, app):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        html = page_text(client.get(f"/confirm/{token}"))
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        refused = answer(client, token, confirmer_name="王五", action="confirm")
        accepted = answer(client, token, confirmer_name="王五", action="confirm", csrf_token=csrf)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert refused.status_code == 400
    assert accepted.status_code == 200 and fresh(receivable).confirmation == "confirmed"


# --- the debtor answering from its own enterprise account ------------------------------------------

@pytest.fixture
def debtor_user():
    return make_enterprise_user(enterprise=EnterpriseFactory(name="上海债务人实业有限公司"))


@pytest.fixture
def owed(debtor_user):
    """A pending receivable another enterprise recorded against the debtor user's enterprise."""
    return ReceivableFactory(debtor_uscc=debtor_user.enterprise.uscc, debtor_name=debtor_user.enterprise.name,
                             face_amount=Decimal("8800.00"))


def test_a_debtor_enterprise_sees_the_receivables_recorded_against_it(login, debtor_user, owed):
    not_mine = ReceivableFactory()
    answered = ReceivableFactory(debtor_uscc=debtor_user.enterprise.uscc, confirmation="confirmed",
                                 confirmed_via="link")

    html = page_text(login(debtor_user).get("/receivables/confirmations"))

    assert owed.enterprise.name in html and owed.invoice_no in html and "8,800.00" in html
    assert not_mine.invoice_no not in html and answered.invoice_no not in html


def test_a_debtor_enterprise_confirms_from_its_account(login, debtor_user, owed):
    client = login(debtor_user)
    response = client.post(f"/receivables/confirmations/{owed.id}", data={"action": "confirm"},
                           environ_base={"REMOTE_ADDR": "198.51.100.7"}, follow_redirects=True)

    assert "已确认该应收账款" in page_text(response)
    owed = fresh(owed)
    assert owed.confirmation == "confirmed" and owed.confirmed_via == "account"
    assert owed.confirmed_by_user_id == debtor_user.id and owed.confirmed_by_name == debtor_user.name
    assert owed.confirmed_ip == "198.51.100.7" and owed.confirmed_at is not None
    assert audit_count("receivable.confirmed") == 1


def test_a_debtor_enterprise_dispute_needs_a_reason(login, debtor_user, owed):
    client = login(debtor_user)
    refused = client.post(f"/receivables/confirmations/{owed.id}", data={"action": "dispute", "reason": ""},
                          follow_redirects=True)
    assert "提出异议时请填写异议原因" in page_text(refused)
    assert fresh(owed).confirmation == "pending"

    client.post(f"/receivables/confirmations/{owed.id}", data={"action": "dispute", "reason": "未收到货"})
    assert fresh(owed).confirmation == "disputed" and owed.dispute_reason == "未收到货"


def test_a_debtor_enterprise_cannot_answer_a_receivable_owed_by_someone_else(login, debtor_user):
    someone_elses = ReceivableFactory()
    response = login(debtor_user).post(f"/receivables/confirmations/{someone_elses.id}", data={"action": "confirm"})
    assert response.status_code == 404
    assert fresh(someone_elses).confirmation == "pending"


def test_an_answered_receivable_cannot_be_answered_again(login, debtor_user, owed):
    client = login(debtor_user)
    client.post(f"/receivables/confirmations/{owed.id}", data={"action": "confirm"})
    response = client.post(f"/receivables/confirmations/{owed.id}", data={"action": "dispute", "reason": "反悔"},
                           follow_redirects=True)
    assert "该应收账款已确认或已提出异议" in page_text(response)
    assert fresh(owed).confirmation == "confirmed"


def test_answering_from_the_account_revokes_the_open_link(login, debtor_user, owed, client):
    creditor = make_enterprise_user(enterprise=owed.enterprise)
    token = issue(login(creditor), owed)

    login(debtor_user).post(f"/receivables/confirmations/{owed.id}", data={"action": "confirm"})

    assert client.get(f"/confirm/{token}").status_code == 410


def test_the_creditor_is_notified_of_the_debtors_answer(app, client):
    from sqlalchemy import select

    from marketplace.extensions import db
    from marketplace.notifications.models import Notification
    from marketplace.receivables import links
    from tests.factories import ReceivableFactory, make_enterprise_user

    creditor = make_enterprise_user()
    receivable = ReceivableFactory(enterprise=creditor.enterprise, invoice_no="77001122")
    with app.test_request_context():
        link = links.create_link(receivable, creditor)
        token = links.token_for(link)
        db.session.commit()
    client.post(f"/confirm/{token}", data={"confirmer_name": "王会计", "action": "dispute", "reason": "货物未验收"})
    notes = db.session.scalars(select(Notification).where(Notification.user_id == creditor.id)).all()
    assert len(notes) == 1 and "77001122" in notes[0].title and "货物未验收" in notes[0].body
