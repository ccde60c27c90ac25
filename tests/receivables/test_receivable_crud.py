"""Recording, listing, editing and deleting receivables, and who may touch which."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.receivables import services
from marketplace.receivables.models import Receivable
from tests.factories import ReceivableFactory, UserFactory, make_enterprise_user
from tests.receivables.helpers import (
    audit_count,
    page_text,
    pledge,
    receivable_form,
    receivables_of,
)


def fresh(receivable: Receivable) -> Receivable:
    db.session.refresh(receivable)
    return receivable


# --- listing ---------------------------------------------------------------------------------------

def test_index_lists_only_the_enterprises_own_receivables_with_amount_state_and_pledge(signed_in, user, enterprise):
    mine = ReceivableFactory(enterprise=enterprise, face_amount=Decimal("1234567.891"), confirmation="pending")
    pledged = ReceivableFactory(enterprise=enterprise)
    pledge(pledged, user)
    other = ReceivableFactory(debtor_name="别家的债务人有限公司")

    html = page_text(signed_in.get("/receivables/"))

    assert mine.debtor_name in html and pledged.debtor_name in html
    assert other.debtor_name not in html
    assert "1,234,567.89" in html
    assert html.count('data-testid="rcv-pledged"') == 1
    assert 'data-testid="new-receivable"' in html and 'data-testid="import-receivables"' in html


def test_index_filters_by_confirmation_state(signed_in, enterprise):
    ReceivableFactory(enterprise=enterprise, debtor_name="待确认债务人", confirmation="pending")
    ReceivableFactory(enterprise=enterprise, debtor_name="已确认债务人", confirmation="confirmed")

    html = page_text(signed_in.get("/receivables/?state=confirmed"))

    assert "已确认债务人" in html and "待确认债务人" not in html


def test_index_without_receivables_shows_a_call_to_action(signed_in):
    html = page_text(signed_in.get("/receivables/"))
    assert 'data-testid="empty"' in html and "登记第一笔应收账款" in html


def test_index_pages_through_many_receivables(signed_in, enterprise, app):
    for _ in range(app.config["PAGE_SIZE"] + 1):
        ReceivableFactory(enterprise=enterprise)
    html = page_text(signed_in.get("/receivables/?page=2"))
    assert html.count('data-testid="rcv-row"') == 1


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/receivables/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_bank_staff_cannot_reach_the_receivables_pages(login):
    response = login(UserFactory(role=Role.BANK_OFFICER)).get("/receivables/")
    assert response.status_code == 403


# --- create ----------------------------------------------------------------------------------------

def test_new_receivable_is_stored_pending_with_normalised_code_and_audited(signed_in, enterprise, debtor_uscc):
    form = receivable_form(debtor_uscc.lower(), amount="¥128,000.50")

    response = signed_in.post("/receivables/new", data=form)

    [receivable] = receivables_of(enterprise)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/receivables/{receivable.id}")
    assert receivable.debtor_uscc == debtor_uscc
    assert receivable.face_amount == Decimal("128000.50")
    assert receivable.confirmation == "pending"
    assert audit_count("receivable.created") == 1


def test_new_receivable_form_carries_the_test_ids(signed_in):
    html = page_text(signed_in.get("/receivables/new"))
    for testid in ("rcv-debtor-name", "rcv-debtor-uscc", "rcv-invoice-no", "rcv-contract-no", "rcv-amount",
                   "rcv-issue-date", "rcv-due-date", "rcv-submit"):
        assert f'data-testid="{testid}"' in html


def _days(n: int) -> str:
    return (today_shanghai() + timedelta(days=n)).isoformat()


@pytest.mark.parametrize(("changes", "message"), [
    ({"debtor_uscc": "91310000MA1K3ABC01"}, "统一社会信用代码校验位错误"),
    ({"debtor_uscc": "1234"}, "统一社会信用代码应为18位"),
    ({"amount": "-100"}, "金额必须大于0"),
    ({"amount": "0"}, "金额必须大于0"),
    ({"amount": "100.123"}, "金额最多两位小数"),
    ({"amount": "一百元"}, "不是有效的数字"),
    ({"amount": "100000000000000000"}, "金额超出系统可登记的上限"),
    ({"issue_date": _days(-5), "due_date": _days(-6)}, "到期日不能早于开票日期"),
    ({"issue_date": _days(1), "due_date": _days(30)}, "开票日期不能晚于今天"),
    ({"debtor_name": ""}, "请输入债务人名称"),
])
def test_invalid_receivable_is_refused_with_a_chinese_reason(signed_in, enterprise, debtor_uscc, changes, message):
    response = signed_in.post("/receivables/new", data=receivable_form(debtor_uscc, **changes))

    assert response.status_code == 200
    assert message in page_text(response)
    assert receivables_of(enterprise) == []


def test_own_credit_code_as_debtor_is_refused(signed_in, enterprise):
    response = signed_in.post("/receivables/new", data=receivable_form(enterprise.uscc))
    assert "债务人不能是本企业" in page_text(response)
    assert receivables_of(enterprise) == []


def test_own_name_as_debtor_is_refused(signed_in, enterprise, debtor_uscc):
    response = signed_in.post("/receivables/new", data=receivable_form(debtor_uscc, debtor_name=enterprise.name))
    assert "债务人不能是本企业" in page_text(response)


def test_same_debtor_and_invoice_twice_is_refused(signed_in, enterprise, debtor_uscc):
    ReceivableFactory(enterprise=enterprise, debtor_uscc=debtor_uscc, invoice_no="INV-1")

    response = signed_in.post("/receivables/new", data=receivable_form(debtor_uscc, invoice_no="inv-1"))

    assert "已登记过该债务人的同一发票号码" in page_text(response)
    assert len(receivables_of(enterprise)) == 1


def test_duplicate_that_slips_past_the_form_is_caught_by_the_database(signed_in, enterprise, debtor_uscc, monkeypatch):
    ReceivableFactory(enterprise=enterprise, debtor_uscc=debtor_uscc, invoice_no="INV-1")
    monkeypatch.setattr(services, "duplicate_of", lambda *args, **kwargs: None)  # as if two tabs raced

    response = signed_in.post("/receivables/new", data=receivable_form(debtor_uscc, invoice_no="INV-1"))

    assert response.status_code == 200
    assert "已登记过该债务人的同一发票号码" in page_text(response)
    assert len(receivables_of(enterprise)) == 1


def test_an_invoice_another_enterprise_registered_is_refused_with_a_clear_message(signed_in, enterprise,
                                                                                    debtor_uscc):
    other = ReceivableFactory(debtor_uscc=debtor_uscc, invoice_no="INV-1")
    response = signed_in.post("/receivables/new", data=receivable_form(debtor_uscc, invoice_no="inv-1"))
    assert response.status_code == 200
    text = page_text(response)
    assert "已由其他企业登记" in text and other.enterprise.name not in text
    assert receivables_of(enterprise) == []


def test_the_database_refuses_one_invoice_for_two_enterprises(ctx, debtor_uscc):
    from sqlalchemy.exc import IntegrityError

    ReceivableFactory(debtor_uscc=debtor_uscc, invoice_no="INV-9")
    with pytest.raises(IntegrityError), db.session.begin_nested():
        ReceivableFactory(debtor_uscc=debtor_uscc, invoice_no="INV-9")


# --- detail and edit -------------------------------------------------------------------------------

def test_detail_shows_every_field(signed_in, enterprise):
    receivable = ReceivableFactory(enterprise=enterprise, contract_no="HT-99", face_amount=Decimal("5000"))
    html = page_text(signed_in.get(f"/receivables/{receivable.id}"))
    for text in (receivable.debtor_name, receivable.debtor_uscc, receivable.invoice_no, "HT-99", "¥5,000.00",
                 receivable.issue_date.isoformat(), receivable.due_date.isoformat(), 'data-testid="send-link"'):
        assert text in html


def test_edit_form_is_prefilled_and_saves_changes(signed_in, enterprise):
    receivable = ReceivableFactory(enterprise=enterprise, face_amount=Decimal("900.5"))
    assert 'value="900.50"' in page_text(signed_in.get(f"/receivables/{receivable.id}/edit"))

    form = receivable_form(receivable.debtor_uscc, invoice_no=receivable.invoice_no, contract_no="", amount="1000")
    response = signed_in.post(f"/receivables/{receivable.id}/edit", data=form)

    assert response.status_code == 302
    assert fresh(receivable).face_amount == Decimal("1000.00")
    assert receivable.contract_no is None
    assert audit_count("receivable.updated") == 1


def test_edit_may_keep_its_own_invoice_number_but_not_take_another_ones(signed_in, enterprise):
    first = ReceivableFactory(enterprise=enterprise)
    second = ReceivableFactory(enterprise=enterprise, debtor_uscc=first.debtor_uscc)

    response = signed_in.post(f"/receivables/{second.id}/edit",
                              data=receivable_form(first.debtor_uscc, invoice_no=first.invoice_no))

    assert "已登记过该债务人的同一发票号码" in page_text(response)
    assert fresh(second).invoice_no != first.invoice_no


@pytest.mark.parametrize("state", ["confirmed", "disputed"])
def test_changing_the_amount_of_an_answered_receivable_resets_it_to_pending(signed_in, enterprise, state):
    receivable = ReceivableFactory(enterprise=enterprise, confirmation=state, confirmed_via="link",
                                   confirmed_by_name="王五", dispute_reason="金额不符" if state == "disputed" else None)
    form = receivable_form(receivable.debtor_uscc, invoice_no=receivable.invoice_no, amount="1.00")

    response = signed_in.post(f"/receivables/{receivable.id}/edit", data=form, follow_redirects=True)

    assert "状态已重置为待确认" in page_text(response)
    receivable = fresh(receivable)
    assert receivable.confirmation == "pending"
    assert receivable.confirmed_by_name is None and receivable.dispute_reason is None


def test_changing_only_the_contract_number_keeps_the_confirmation(signed_in, enterprise):
    receivable = ReceivableFactory(enterprise=enterprise, confirmation="confirmed", confirmed_via="link")
    form = receivable_form(receivable.debtor_uscc, debtor_name=receivable.debtor_name,
                           invoice_no=receivable.invoice_no, amount=str(receivable.face_amount),
                           issue_date=receivable.issue_date.isoformat(), due_date=receivable.due_date.isoformat(),
                           contract_no="HT-NEW")

    response = signed_in.post(f"/receivables/{receivable.id}/edit", data=form, follow_redirects=True)

    assert "状态已重置" not in page_text(response)
    assert fresh(receivable).confirmation == "confirmed" and receivable.contract_no == "HT-NEW"


# --- delete ----------------------------------------------------------------------------------------

def test_delete_removes_the_receivable_and_is_audited(signed_in, enterprise):
    receivable = ReceivableFactory(enterprise=enterprise)
    response = signed_in.post(f"/receivables/{receivable.id}/delete", follow_redirects=True)
    assert "应收账款已删除" in page_text(response)
    assert receivables_of(enterprise) == []
    assert audit_count("receivable.deleted") == 1


def test_delete_needs_post(signed_in, enterprise):
    receivable = ReceivableFactory(enterprise=enterprise)
    assert signed_in.get(f"/receivables/{receivable.id}/delete").status_code == 405


def test_detail_offers_delete_behind_a_confirmation_dialog(signed_in, enterprise):
    receivable = ReceivableFactory(enterprise=enterprise)
    html = page_text(signed_in.get(f"/receivables/{receivable.id}"))
    assert 'data-testid="delete-receivable"' in html and "data-confirm=" in html


# --- pledged receivables ---------------------------------------------------------------------------

def test_pledged_receivable_cannot_be_edited(signed_in, user, enterprise):
    receivable = ReceivableFactory(enterprise=enterprise, face_amount=Decimal("500.00"))
    pledge(receivable, user)

    page = signed_in.get(f"/receivables/{receivable.id}/edit", follow_redirects=True)
    post = signed_in.post(f"/receivables/{receivable.id}/edit",
                          data=receivable_form(receivable.debtor_uscc, amount="1.00"), follow_redirects=True)

    assert "已质押于有效的融资申请" in page_text(page)
    assert "已质押于有效的融资申请" in page_text(post)
    assert fresh(receivable).face_amount == Decimal("500.00")
    assert audit_count("receivable.updated") == 0


def test_pledged_receivable_cannot_be_deleted(signed_in, user, enterprise):
    receivable = ReceivableFactory(enterprise=enterprise)
    pledge(receivable, user)

    response = signed_in.post(f"/receivables/{receivable.id}/delete", follow_redirects=True)

    assert "已质押于有效的融资申请" in page_text(response)
    assert receivables_of(enterprise) == [receivable]


def test_pledged_receivable_detail_hides_edit_and_delete(signed_in, user, enterprise):
    receivable = ReceivableFactory(enterprise=enterprise)
    pledge(receivable, user)
    html = page_text(signed_in.get(f"/receivables/{receivable.id}"))
    assert 'data-testid="pledged-note"' in html and 'data-testid="delete-receivable"' not in html


def test_receivable_released_from_a_request_may_be_edited_but_not_deleted(signed_in, user, enterprise):
    receivable = ReceivableFactory(enterprise=enterprise)
    pledge(receivable, user, active=False)

    edited = signed_in.post(f"/receivables/{receivable.id}/edit",
                            data=receivable_form(receivable.debtor_uscc, invoice_no=receivable.invoice_no))
    deleted = signed_in.post(f"/receivables/{receivable.id}/delete", follow_redirects=True)

    assert edited.status_code == 302
    assert "曾用于融资申请" in page_text(deleted)
    assert receivables_of(enterprise) == [receivable]


# --- other enterprises' rows -----------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [
    ("get", "/receivables/{id}"),
    ("get", "/receivables/{id}/edit"),
    ("post", "/receivables/{id}/edit"),
    ("post", "/receivables/{id}/delete"),
    ("post", "/receivables/{id}/link"),
    ("post", "/receivables/{id}/documents"),
])
def test_another_enterprises_receivable_answers_404(signed_in, method, path):
    theirs = ReceivableFactory()
    response = getattr(signed_in, method)(path.format(id=theirs.id))
    assert response.status_code == 404
    assert db.session.get(Receivable, theirs.id) is not None


def test_a_missing_receivable_answers_404(signed_in):
    assert signed_in.get("/receivables/999999").status_code == 404


def test_a_colleague_in_the_same_enterprise_sees_the_receivable(login, enterprise):
    receivable = ReceivableFactory(enterprise=enterprise)
    colleague = make_enterprise_user(Role.ENTERPRISE_APPLICANT, enterprise=enterprise)
    assert login(colleague).get(f"/receivables/{receivable.id}").status_code == 200
