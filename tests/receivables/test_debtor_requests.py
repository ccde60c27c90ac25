"""Debtor confirmation requests in one go (issue 19): one request per debtor covering the chosen
receivables, sent by email or as a letter with a QR code; the debtor answers line by line on one
page and submits once; each answer lands where the single-receivable link puts it."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from marketplace.accounts.roles import Role
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.receivables import debtor_requests
from marketplace.receivables.debtor_request_models import DebtorRequest, DebtorRequestLine
from marketplace.receivables.tasks import remind_debtor_requests
from tests.factories import ReceivableFactory, UserFactory, make_enterprise_user, make_uscc
from tests.receivables.helpers import audit_count, page_text


@pytest.fixture
def mails(monkeypatch):
    """Every email the debtor-request task sends: (to, subject, body)."""
    sent = []
    monkeypatch.setattr("marketplace.receivables.tasks.send_mail", lambda to, subject, body: sent.append((to, subject, body)))
    return sent


def owed_by(enterprise, debtor_no: int, count: int, **fields):
    """`count` pending receivables of `enterprise` on one debtor."""
    uscc = make_uscc(500 + debtor_no, prefix="91310115")
    return [ReceivableFactory(enterprise=enterprise, debtor_uscc=uscc, debtor_name=f"债务人{debtor_no}有限公司", **fields)
            for _ in range(count)]


def requests_of(enterprise) -> list[DebtorRequest]:
    return list(db.session.scalars(select(DebtorRequest).where(DebtorRequest.enterprise_id == enterprise.id)
                                   .order_by(DebtorRequest.id)))


def send(client, receivables, deliveries: dict[str, tuple[str, str]]):
    """Post the request form: the receivables and, per debtor code, (channel, email)."""
    data = {"receivable": [str(r.id) for r in receivables]}
    for i, (uscc, (channel, email)) in enumerate(deliveries.items()):
        data.update({f"debtors-{i}-debtor_uscc": uscc, f"debtors-{i}-channel": channel, f"debtors-{i}-email": email})
    return client.post("/receivables/debtor-requests/new", data=data)


def answer_form(request: DebtorRequest, answers: dict[int, tuple[str, str]], name="张会计") -> dict:
    """The debtor's page as posted: per receivable id, (action, reason)."""
    data = {"confirmer_name": name}
    for i, line in enumerate(request.lines):
        if line.receivable_id in answers:
            action, reason = answers[line.receivable_id]
            data.update({f"lines-{i}-line_id": str(line.id), f"lines-{i}-action": action, f"lines-{i}-reason": reason})
    return data


def debtor_url(request: DebtorRequest) -> str:
    return f"/requests/{request.token}"


# --- the whole path ---------------------------------------------------------------------------------

def test_one_debtor_with_three_receivables_gets_one_request_and_answers_each_line(
        app, signed_in, enterprise, mails):
    receivables = owed_by(enterprise, 1, 3)
    uscc = receivables[0].debtor_uscc

    page = signed_in.get("/receivables/debtor-requests/new?" + "&".join(f"receivable={r.id}" for r in receivables))
    assert page.status_code == 200
    assert page_text(page).count('data-testid="debtor-group"') == 1
    assert page_text(page).count('data-testid="group-line"') == 3

    response = send(signed_in, receivables, {uscc: ("email", "ap@debtor.example")})
    assert response.status_code == 302
    [request] = requests_of(enterprise)
    assert [line.receivable_id for line in request.lines] == [r.id for r in receivables]
    assert request.channel == "email" and request.emailed_at is not None
    [(to, subject, body)] = mails
    assert to == "ap@debtor.example" and enterprise.name in subject
    assert debtor_url(request) in body and all(r.invoice_no in body for r in receivables)

    page = signed_in.get(debtor_url(request))
    assert page.status_code == 200
    assert page_text(page).count('data-testid="debtor-line"') == 3
    assert page.headers["Referrer-Policy"] == "no-referrer"

    first, second, third = receivables
    done = signed_in.post(debtor_url(request), data=answer_form(request, {
        first.id: ("confirm", ""), second.id: ("confirm", ""), third.id: ("dispute", "货物未交付，金额不符"),
    }))
    assert done.status_code == 200 and 'data-testid="debtor-request-done"' in page_text(done)
    for receivable in receivables:
        db.session.refresh(receivable)
    assert [r.confirmation for r in receivables] == ["confirmed", "confirmed", "disputed"]
    assert {r.confirmed_via for r in receivables} == {"link"}
    assert {r.confirmed_by_name for r in receivables} == {"张会计"}
    assert third.dispute_reason == "货物未交付，金额不符"
    db.session.refresh(request)
    assert [line.result for line in request.lines] == ["confirmed", "confirmed", "disputed"]
    assert request.answered_by_name == "张会计"
    assert audit_count("receivable.confirmed") == 2 and audit_count("receivable.disputed") == 1
    # the creditor is told once, not once per line
    assert db.session.scalar(select(func.count()).where(Notification.kind == "receivable.answered")) == 1

    table = page_text(signed_in.get("/receivables/debtor-requests/"))
    assert 'data-progress="answered"' in table and 'data-state="answered"' in table
    again = signed_in.get(debtor_url(request))
    assert again.status_code == 410


def test_two_debtors_get_two_requests_one_by_email_one_as_a_letter_with_a_qr_code(app, signed_in, enterprise, mails):
    first = owed_by(enterprise, 1, 2)
    second = owed_by(enterprise, 2, 1)
    response = send(signed_in, first + second, {
        first[0].debtor_uscc: ("email", "ap@one.example"), second[0].debtor_uscc: ("letter", ""),
    })
    assert response.status_code == 302
    by_email, by_letter = requests_of(enterprise)
    assert (by_email.debtor_uscc, len(by_email.lines), by_email.channel) == (first[0].debtor_uscc, 2, "email")
    assert (by_letter.debtor_uscc, len(by_letter.lines), by_letter.channel) == (second[0].debtor_uscc, 1, "letter")
    assert [to for to, _s, _b in mails] == ["ap@one.example"]  # the letter is printed, not mailed

    letter = signed_in.get(f"/receivables/debtor-requests/{by_letter.id}/letter")
    html = page_text(letter)
    assert letter.status_code == 200 and "<svg" in html and debtor_url(by_letter) in html
    assert second[0].invoice_no in html

    table = page_text(signed_in.get("/receivables/debtor-requests/"))
    assert table.count('data-testid="debtor-request-row"') == 2
    assert 'data-progress="none"' in table and 'data-state="open"' in table


def test_the_letter_as_a_pdf(app, signed_in, enterprise):
    receivables = owed_by(enterprise, 1, 2)
    send(signed_in, receivables, {receivables[0].debtor_uscc: ("letter", "")})
    [request] = requests_of(enterprise)
    response = signed_in.get(f"/receivables/debtor-requests/{request.id}/letter.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf" and response.data.startswith(b"%PDF")


def test_all_unconfirmed_takes_every_pending_receivable_and_leaves_answered_ones_out(app, signed_in, enterprise):
    pending = owed_by(enterprise, 1, 2)
    confirmed = ReceivableFactory(enterprise=enterprise, debtor_uscc=pending[0].debtor_uscc,
                                  debtor_name=pending[0].debtor_name, confirmation="confirmed")
    page = page_text(signed_in.get("/receivables/debtor-requests/new?scope=pending"))
    assert page.count('data-testid="group-line"') == 2
    assert confirmed.invoice_no not in page  # not even listed as left out: it was not chosen

    send(signed_in, pending + [confirmed], {pending[0].debtor_uscc: ("letter", "")})
    [request] = requests_of(enterprise)
    assert {line.receivable_id for line in request.lines} == {r.id for r in pending}


def test_an_already_confirmed_receivable_is_not_asked_again(app, signed_in, enterprise):
    confirmed = ReceivableFactory(enterprise=enterprise, confirmation="confirmed")
    page = signed_in.get(f"/receivables/debtor-requests/new?receivable={confirmed.id}")
    assert 'data-testid="nothing-to-ask"' in page_text(page) and 'data-testid="left-out-line"' in page_text(page)
    response = send(signed_in, [confirmed], {confirmed.debtor_uscc: ("letter", "")})
    assert response.status_code == 422
    assert requests_of(enterprise) == []


def test_a_receivable_awaiting_an_open_request_is_not_asked_twice(app, signed_in, enterprise):
    receivables = owed_by(enterprise, 1, 2)
    send(signed_in, receivables[:1], {receivables[0].debtor_uscc: ("letter", "")})
    send(signed_in, receivables, {receivables[0].debtor_uscc: ("letter", "")})
    first, second = requests_of(enterprise)
    assert [line.receivable_id for line in second.lines] == [receivables[1].id]


@pytest.mark.parametrize("query", ["", "?receivable=abc&receivable=99999999999999999999999&receivable=-1&receivable=%C2%B2"])
def test_nothing_ticked_sends_back_to_the_list(app, signed_in, query):
    response = signed_in.get("/receivables/debtor-requests/new" + query)
    assert response.status_code == 302 and response.headers["Location"].endswith("/receivables/")


# --- bad input ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("email, message", [("", "请填写债务人的电子邮箱"), ("not-an-address", "电子邮箱格式不正确")])
def test_email_delivery_needs_a_valid_address_and_nothing_is_stored_without_it(app, signed_in, enterprise, mails,
                                                                                email, message):
    receivables = owed_by(enterprise, 1, 2)
    response = send(signed_in, receivables, {receivables[0].debtor_uscc: ("email", email)})
    assert response.status_code == 400 and message in page_text(response)
    assert requests_of(enterprise) == [] and mails == []


def test_a_debtor_without_a_delivery_is_refused(app, signed_in, enterprise):
    first = owed_by(enterprise, 1, 1)
    second = owed_by(enterprise, 2, 1)
    response = send(signed_in, first + second, {first[0].debtor_uscc: ("letter", "")})
    assert response.status_code == 422 and second[0].debtor_name in page_text(response)
    assert requests_of(enterprise) == []


def test_another_enterprises_receivable_cannot_be_put_in_a_request(app, signed_in, enterprise):
    foreign = ReceivableFactory()
    response = send(signed_in, [foreign], {foreign.debtor_uscc: ("letter", "")})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(DebtorRequest.id))) == 0


def make_request(app, enterprise, user, receivables, channel="letter") -> DebtorRequest:
    with app.test_request_context("/"):
        delivery = debtor_requests.Delivery(channel, "ap@debtor.example" if channel == "email" else None)
        [request] = debtor_requests.create_requests(enterprise, user, [r.id for r in receivables],
                                                    {receivables[0].debtor_uscc: delivery})
    return request


def test_a_dispute_needs_a_reason_and_a_missing_line_stores_nothing(app, client, enterprise, user):
    receivables = owed_by(enterprise, 1, 2)
    request = make_request(app, enterprise, user, receivables)
    no_reason = client.post(debtor_url(request), data=answer_form(request, {
        receivables[0].id: ("confirm", ""), receivables[1].id: ("dispute", "")}))
    assert no_reason.status_code == 400 and "提出异议时请填写异议原因" in page_text(no_reason)
    missing = client.post(debtor_url(request), data=answer_form(request, {receivables[0].id: ("confirm", "")}))
    assert missing.status_code == 400 and "请对每一笔应收账款选择确认或提出异议" in page_text(missing)
    no_name = client.post(debtor_url(request), data=answer_form(request, {
        receivables[0].id: ("confirm", ""), receivables[1].id: ("confirm", "")}, name=""))
    assert no_name.status_code == 400 and "请填写确认人姓名" in page_text(no_name)
    for receivable in receivables:
        db.session.refresh(receivable)
        assert receivable.confirmation == "pending"
    db.session.refresh(request)
    assert request.answered_at is None


def test_a_line_of_another_request_cannot_be_slipped_in(app, client, enterprise, user):
    mine = owed_by(enterprise, 1, 1)
    other = owed_by(enterprise, 2, 1)
    request = make_request(app, enterprise, user, mine)
    other_request = make_request(app, enterprise, user, other)
    data = answer_form(request, {mine[0].id: ("confirm", "")})
    data.update({"lines-1-line_id": str(other_request.lines[0].id), "lines-1-action": "confirm"})
    response = client.post(debtor_url(request), data=data)
    assert response.status_code == 400
    db.session.refresh(other[0])
    assert other[0].confirmation == "pending"


# --- link security ------------------------------------------------------------------------------------

def test_an_expired_link_is_refused(app, client, enterprise, user):
    receivables = owed_by(enterprise, 1, 1)
    request = make_request(app, enterprise, user, receivables)
    request.expires_at = utcnow() - timedelta(minutes=1)
    db.session.flush()
    assert client.get(debtor_url(request)).status_code == 410
    response = client.post(debtor_url(request), data=answer_form(request, {receivables[0].id: ("confirm", "")}))
    assert response.status_code == 410 and "链接已过期" in page_text(response)
    db.session.refresh(receivables[0])
    assert receivables[0].confirmation == "pending"


def test_a_revoked_link_is_refused_and_an_unknown_token_names_nothing(app, signed_in, client, enterprise, user):
    receivables = owed_by(enterprise, 1, 1)
    request = make_request(app, enterprise, user, receivables)
    assert signed_in.post(f"/receivables/debtor-requests/{request.id}/revoke").status_code == 302
    assert client.get(debtor_url(request)).status_code == 410
    assert client.get("/requests/" + "A" * 43).status_code == 404
    assert client.get(f"/requests/{request.id}").status_code == 404


def test_only_the_tokens_hash_finds_the_request_and_the_token_is_stored_encrypted(app, enterprise, user):
    request = make_request(app, enterprise, user, owed_by(enterprise, 1, 1))
    stored_hash, stored_token = db.session.execute(
        text("SELECT token_hash, token FROM debtor_requests WHERE id = :id"), {"id": request.id}).one()
    assert stored_token != request.token and request.token not in stored_token
    assert stored_hash == debtor_requests.hash_token(request.token)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", request.token)


def test_the_debtor_page_is_rate_limited(rate_limited_app, enterprise, user):
    app = rate_limited_app(DEBTOR_LINK_LIMIT_PER_IP="3 per minute")
    client = app.test_client()
    codes = [client.get("/requests/" + "B" * 43).status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]


def test_a_receivable_changed_after_the_request_is_skipped_not_answered(app, client, enterprise, user):
    kept, changed = owed_by(enterprise, 1, 2)
    request = make_request(app, enterprise, user, [kept, changed])
    changed.face_amount = Decimal("1.00")
    db.session.flush()
    page = page_text(client.get(debtor_url(request)))
    assert page.count('data-testid="debtor-line"') == 1
    lines = {line.receivable_id: i for i, line in enumerate(request.lines)}
    response = client.post(debtor_url(request), data={
        "confirmer_name": "李出纳", f"lines-{lines[kept.id]}-line_id": str(request.lines[lines[kept.id]].id),
        f"lines-{lines[kept.id]}-action": "confirm"})
    assert response.status_code == 200
    db.session.refresh(changed)
    assert changed.confirmation == "pending"
    assert {line.receivable_id: line.result for line in request.lines} == {kept.id: "confirmed", changed.id: "skipped"}


def test_the_single_receivable_link_still_answers_and_the_request_then_shows_partly(app, signed_in, client,
                                                                                   enterprise, user):
    receivables = owed_by(enterprise, 1, 2)
    request = make_request(app, enterprise, user, receivables)
    signed_in.post(f"/receivables/{receivables[0].id}/link")
    from marketplace.receivables import links
    from marketplace.receivables.models import ConfirmationLink

    link = db.session.scalar(select(ConfirmationLink).where(ConfirmationLink.receivable_id == receivables[0].id))
    with app.test_request_context("/"):
        token = links.token_for(link)
    response = client.post(f"/confirm/{token}", data={"action": "confirm", "confirmer_name": "王五"})
    assert response.status_code == 200
    db.session.refresh(receivables[0])
    assert receivables[0].confirmation == "confirmed"
    assert 'data-progress="partly"' in page_text(signed_in.get("/receivables/debtor-requests/"))
    page = page_text(client.get(debtor_url(request)))
    assert page.count('data-testid="debtor-line"') == 1  # the answered one is not asked again


# --- access -------------------------------------------------------------------------------------------

def test_another_enterprise_cannot_see_or_act_on_a_request(app, login, enterprise, user):
    request = make_request(app, enterprise, user, owed_by(enterprise, 1, 1))
    outsider = login(make_enterprise_user())
    for path in ("", "/letter", "/letter.pdf"):
        assert outsider.get(f"/receivables/debtor-requests/{request.id}{path}").status_code == 404
    assert outsider.post(f"/receivables/debtor-requests/{request.id}/revoke").status_code == 404
    assert 'data-testid="debtor-request-row"' not in page_text(outsider.get("/receivables/debtor-requests/"))
    db.session.refresh(request)
    assert request.revoked_at is None


@pytest.mark.parametrize("role", [Role.BANK_OFFICER, Role.BUREAU_COORDINATOR])
def test_staff_cannot_reach_the_enterprise_pages(app, login, enterprise, user, role):
    request = make_request(app, enterprise, user, owed_by(enterprise, 1, 1))
    staff = login(UserFactory(role=role))
    assert staff.get("/receivables/debtor-requests/").status_code == 403
    assert staff.get("/receivables/debtor-requests/new?scope=pending").status_code == 403
    assert staff.get(f"/receivables/debtor-requests/{request.id}").status_code == 403


# --- reminders ----------------------------------------------------------------------------------------

def test_a_reminder_is_sent_once_before_the_link_expires(app, enterprise, user, mails):
    soon = make_request(app, enterprise, user, owed_by(enterprise, 1, 1), channel="email")
    later = make_request(app, enterprise, user, owed_by(enterprise, 2, 1), channel="email")
    soon.expires_at = utcnow() + timedelta(hours=20)  # within 2 working days whatever the day
    db.session.flush()

    assert remind_debtor_requests() == 1
    assert remind_debtor_requests() == 0
    [(to, subject, body)] = [mail for mail in mails if mail[1].startswith("提醒")]  # besides the requests' own
    assert to == "ap@debtor.example" and debtor_url(soon) in body
    db.session.refresh(soon)
    db.session.refresh(later)
    assert soon.reminded_at is not None and soon.reminder_emailed_at is not None and later.reminded_at is None


def test_a_letters_creditor_is_reminded_since_we_hold_no_address(app, enterprise, user, mails):
    request = make_request(app, enterprise, user, owed_by(enterprise, 1, 1), channel="letter")
    request.expires_at = utcnow() + timedelta(hours=20)
    db.session.flush()
    assert remind_debtor_requests() == 1
    reminders = list(db.session.scalars(select(Notification).where(Notification.kind == "receivable.reminder")))
    assert [n.user_id for n in reminders] == [user.id] and request.debtor_name in reminders[0].title
    assert mails == []  # nothing goes to the debtor: its address is not known
    assert remind_debtor_requests() == 0


def test_answered_expired_and_revoked_requests_are_not_reminded(app, enterprise, user, mails):
    requests = [make_request(app, enterprise, user, owed_by(enterprise, n, 1), channel="email") for n in (1, 2, 3)]
    answered, expired, revoked = requests
    for request in requests:
        request.expires_at = utcnow() + timedelta(hours=20)
    answered.answered_at, answered.answered_by_name = utcnow(), "某人"
    expired.expires_at = utcnow() - timedelta(hours=1)
    revoked.revoked_at = utcnow()
    db.session.flush()
    assert remind_debtor_requests() == 0
    assert db.session.scalar(select(func.count(DebtorRequestLine.id))) == 3
