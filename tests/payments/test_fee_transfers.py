"""Fee by bank transfer (issue 16, item 5): the payee's account comes from its profile (set by the
platform admin), the enterprise records its transfer with a reference and a receipt, the payee's
staff confirm it (the fee is paid, once) or reject it with a reason (the enterprise records again);
the account number is masked for everyone but the payee and the payer."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace.accounts.payee_account import mask_account_number, set_payee_account
from marketplace.accounts.roles import Role
from marketplace.audit import AuditEvent
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.payments import services, transfers
from marketplace.payments.models import FeeTransfer, Payment
from tests.factories import UserFactory, make_enterprise_user
from tests.uploads import PDF, png_bytes

ACCOUNT_NUMBER = "6222021001123456789"
def audit_count(action: str, payment: Payment) -> int:
    return db.session.scalar(select(func.count()).where(AuditEvent.action == action,
                                                        AuditEvent.object_id == str(payment.id)))


def transfers_of(payment: Payment) -> list[FeeTransfer]:
    return list(db.session.scalars(select(FeeTransfer).where(FeeTransfer.payment_id == payment.id)
                                   .order_by(FeeTransfer.id)))


@pytest.fixture
def payment(app, parties) -> Payment:
    with app.test_request_context():
        set_payee_account(parties.payee, None, name="苏州信保融资担保有限公司", bank="中国工商银行苏州分行营业部",
                          number="6222 0210 0112 3456 789")
        return services.create_fee(parties.request, parties.payee, "guarantee_fee", Decimal("12000.00"),
                                   actor=parties.owner)


def record(client, payment, reference="HX2026120700123", data=PDF, name="回单.pdf"):
    body = {"reference": reference}
    if data is not None:
        body["receipt"] = (io.BytesIO(data), name)
    return client.post(f"/payments/{payment.id}/transfer", data=body, content_type="multipart/form-data",
                       follow_redirects=True)


def test_the_fee_page_shows_the_payee_account_and_the_enterprise_records_its_transfer(
        app, client, login, parties, payment):
    login(parties.owner)
    page = client.get(f"/payments/{payment.id}").get_data(as_text=True)
    assert "收款账户请向收款机构索取" not in page
    assert ACCOUNT_NUMBER in page and "中国工商银行苏州分行营业部" in page  # the payer sees it whole
    assert 'data-testid="record-transfer-form"' in page

    response = record(client, payment, reference="ＨＸ2026 1207 00123")  # full-width and spaces folded
    text = response.get_data(as_text=True)
    assert "转账已登记" in text and 'data-testid="transfer-waiting"' in text
    [transfer] = transfers_of(payment)
    assert (transfer.status, transfer.reference, transfer.account_number) == ("recorded", "HX2026120700123",
                                                                              ACCOUNT_NUMBER)
    assert transfer.receipt_content_type == "application/pdf" and payment.status == "pending"
    stored = Path(app.config["UPLOAD_FOLDER"]) / "documents" / transfer.receipt_stored_name
    assert stored.read_bytes() == PDF
    assert audit_count("payment.transfer_recorded", payment) == 1
    [told] = db.session.scalars(select(Notification).where(Notification.kind == "payment.transfer_recorded"))
    assert told.user_id == parties.payee_staff.id and told.link == "/payments/received"
    assert "HX2026120700123" in told.body and "12,000.00" in told.body
    receipt = client.get(f"/payments/transfers/{transfer.id}/receipt")
    assert receipt.status_code == 200 and receipt.data == PDF
    assert receipt.headers["X-Content-Type-Options"] == "nosniff"

    again = record(client, payment, reference="HX-AGAIN").get_data(as_text=True)
    assert "等待收款机构确认，请勿重复登记" in again and len(transfers_of(payment)) == 1


def test_the_payee_confirms_the_recorded_transfer_once_and_the_fee_is_paid(
        app, client, login, parties, payment, paid_calls):
    login(parties.owner)
    record(client, payment, data=png_bytes(), name="回单.png")
    [transfer] = transfers_of(payment)
    client.post("/logout")

    login(parties.payee_staff)
    page = client.get("/payments/received").get_data(as_text=True)
    assert "HX2026120700123" in page and ACCOUNT_NUMBER in page  # the payee sees its own account whole
    assert 'data-testid="confirm-recorded-transfer"' in page and "data-confirm=" in page
    assert client.get(f"/payments/received/transfers/{transfer.id}/receipt").status_code == 200

    done = client.post(f"/payments/received/transfers/{transfer.id}/confirm", follow_redirects=True)
    assert "已确认收到 ¥12,000.00" in done.get_data(as_text=True)
    db.session.refresh(transfer)
    assert (payment.status, payment.offline_reference, transfer.status) == ("succeeded", "HX2026120700123",
                                                                            "confirmed")
    assert transfer.decided_by_id == parties.payee_staff.id and paid_calls == [payment.id]

    twice = client.post(f"/payments/received/transfers/{transfer.id}/confirm", follow_redirects=True)
    assert "该笔费用已支付，不能重复确认" in twice.get_data(as_text=True)
    assert paid_calls == [payment.id] and audit_count("payment.succeeded", payment) == 1
    with app.test_request_context(), pytest.raises(services.PaymentRefused, match="不能重复确认"):
        transfers.confirm_transfer(transfer, parties.payee_staff)
    assert paid_calls == [payment.id]


def test_a_rejected_transfer_shows_the_reason_and_the_enterprise_records_again(
        app, client, login, parties, payment):
    login(parties.owner)
    record(client, payment)
    [first] = transfers_of(payment)
    client.post("/logout")

    login(parties.payee_staff)
    empty = client.post(f"/payments/received/transfers/{first.id}/reject", data={"reason": "  "},
                        follow_redirects=True)
    assert "请填写退回原因" in empty.get_data(as_text=True)
    db.session.refresh(first)
    assert first.status == "recorded"
    client.post(f"/payments/received/transfers/{first.id}/reject", data={"reason": "未查到该笔到账"})
    db.session.refresh(first)
    assert (first.status, first.reject_reason) == ("rejected", "未查到该笔到账")
    assert payment.status == "pending" and audit_count("payment.transfer_rejected", payment) == 1
    client.post("/logout")

    login(parties.owner)
    page = client.get(f"/payments/{payment.id}").get_data(as_text=True)
    assert "未查到该笔到账" in page and 'data-testid="record-transfer-form"' in page
    record(client, payment, reference="HX2026120700999")
    assert [t.status for t in transfers_of(payment)] == ["rejected", "recorded"]


def test_a_fee_cancelled_while_a_transfer_waits_closes_the_transfer_and_asks_the_payee_to_refund(
        app, client, login, parties, payment):
    login(parties.owner)
    record(client, payment)
    [transfer] = transfers_of(payment)
    with app.test_request_context(), pytest.raises(services.PaymentRefused, match="等待收款机构确认"):
        services.cancel_fee(payment, reason="融资申请已撤回")  # no one to close the transfer in the name of
    assert (payment.status, transfer.status) == ("pending", "recorded")
    with app.test_request_context():
        services.cancel_fee(payment, actor=parties.owner, reason="融资申请已撤回")
    db.session.commit()
    db.session.refresh(transfer)
    assert (payment.status, transfer.status, transfer.decided_by_id) == ("cancelled", "rejected", parties.owner.id)
    assert "退回" in transfer.reject_reason and audit_count("payment.transfer_closed", payment) == 1
    [told] = db.session.scalars(select(Notification).where(Notification.kind == "payment.transfer_closed"))
    assert told.user_id == parties.payee_staff.id and transfer.reference in told.body
    with client.session_transaction() as session:
        session["locale"] = "en"
    page = client.get(f"/payments/{payment.id}").get_data(as_text=True)
    assert "if the money arrived" in page


def test_withdrawing_the_request_closes_a_waiting_transfer_in_the_withdrawers_name(
        app, client, login, parties, payment):
    login(parties.owner)
    record(client, payment)
    [transfer] = transfers_of(payment)
    client.post(f"/financing/{parties.request.id}/withdraw", data={"version": parties.request.version})
    db.session.refresh(payment)
    db.session.refresh(transfer)
    assert parties.request.state == "withdrawn"
    assert (payment.status, transfer.status, transfer.decided_by_id) == ("cancelled", "rejected", parties.owner.id)


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"MZ\x90\x00 not a receipt", "回单.pdf", "只能上传PDF、JPG或PNG文件"),
    (png_bytes()[:40], "回单.png", "图片文件已损坏或不完整"),
    (b"", "回单.pdf", "文件为空"),
    (None, None, "请上传转账回单"),
])
def test_a_bad_receipt_is_refused_and_nothing_is_stored(app, client, login, parties, payment, data, name, message):
    login(parties.owner)
    folder = Path(app.config["UPLOAD_FOLDER"]) / "documents"
    before = set(folder.iterdir()) if folder.exists() else set()
    text = record(client, payment, data=data, name=name).get_data(as_text=True)
    assert message in text
    assert transfers_of(payment) == [] and audit_count("payment.transfer_recorded", payment) == 0
    assert (set(folder.iterdir()) if folder.exists() else set()) == before


def test_a_receipt_over_the_upload_limit_is_refused(app, client, login, parties, payment, monkeypatch):
    monkeypatch.setitem(app.config, "DOCUMENT_MAX_BYTES", 64)
    login(parties.owner)
    text = record(client, payment, data=PDF + b"%" * 100).get_data(as_text=True)
    assert "文件超过" in text and transfers_of(payment) == []


def test_a_missing_reference_is_refused(app, client, login, parties, payment):
    login(parties.owner)
    assert "请填写银行转账流水号" in record(client, payment, reference="　").get_data(as_text=True)
    assert transfers_of(payment) == []


def test_without_a_payee_account_the_enterprise_is_told_and_cannot_record(app, client, login, parties):
    with app.test_request_context():
        payment = services.create_fee(parties.request, parties.payee, "guarantee_fee", Decimal("100.00"))
    login(parties.owner)
    page = client.get(f"/payments/{payment.id}").get_data(as_text=True)
    assert 'data-testid="no-payee-account"' in page and 'data-testid="record-transfer-form"' not in page
    assert "收款机构尚未登记收款账户" in record(client, payment).get_data(as_text=True)
    assert transfers_of(payment) == []


def test_wrong_roles_and_other_parties_are_refused(app, client, login, parties, payment):
    login(parties.owner)
    record(client, payment)
    [transfer] = transfers_of(payment)
    client.post("/logout")

    # the enterprise may not confirm or reject (route rule: lender staff only)
    login(parties.owner)
    assert client.post(f"/payments/received/transfers/{transfer.id}/confirm").status_code == 403
    assert client.post(f"/payments/received/transfers/{transfer.id}/reject", data={"reason": "x"}).status_code == 403
    client.post("/logout")

    # a bank officer may not record a transfer (enterprise users only)
    login(parties.payee_staff)
    assert record(client, payment).status_code == 403
    assert client.get(f"/payments/transfers/{transfer.id}/receipt").status_code == 403
    client.post("/logout")

    # staff of another institution: not theirs to see
    login(parties.other_staff)
    assert client.post(f"/payments/received/transfers/{transfer.id}/confirm").status_code == 404
    assert client.get(f"/payments/received/transfers/{transfer.id}/receipt").status_code == 404
    client.post("/logout")

    # another enterprise: neither the fee nor the receipt
    login(make_enterprise_user())
    assert record(client, payment).status_code == 404
    assert client.get(f"/payments/transfers/{transfer.id}/receipt").status_code == 404
    assert payment.status == "pending" and transfer.status == "recorded"


def test_the_platform_admin_sets_the_account_and_sees_it_masked(app, client, login, parties):
    admin = UserFactory(role=Role.PLATFORM_ADMIN)
    login(admin)
    url = f"/admin/institutions/{parties.payee.id}/payee-account"
    bad = client.post(url, data={"account_name": "苏州信保", "bank_name": "工行", "account_number": "6222-ABC"})
    assert bad.status_code == 400 and "账号只能包含数字" in bad.get_data(as_text=True)
    assert parties.payee.payee_account_number is None

    response = client.post(url, data={"account_name": "苏州信保融资担保有限公司", "bank_name": "中国工商银行苏州分行",
                                      "account_number": "６２２２ ０２１０ ０１１２ ３４５６ ７８９"})
    assert response.status_code == 302
    assert parties.payee.payee_account_number == ACCOUNT_NUMBER
    page = client.get(f"/admin/institutions/{parties.payee.id}").get_data(as_text=True)
    assert mask_account_number(ACCOUNT_NUMBER) in page and ACCOUNT_NUMBER not in page
    assert "*" * 15 + "6789" == mask_account_number(ACCOUNT_NUMBER)
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "institution.payee_account_set"))
    assert ACCOUNT_NUMBER not in str(event.details) and "6789" in str(event.details)
    form = client.get(url).get_data(as_text=True)
    assert ACCOUNT_NUMBER not in form and "苏州信保融资担保有限公司" in form
    client.post("/logout")

    login(parties.payee_staff)  # staff of the institution may not set it (platform admin only)
    assert client.post(url, data={"account_name": "x", "bank_name": "y", "account_number": "62220210"}).status_code == 403
    assert parties.payee.payee_account_number == ACCOUNT_NUMBER


def test_an_enterprise_or_bureau_has_no_payee_account(app, client, login, parties):
    login(UserFactory(role=Role.PLATFORM_ADMIN))
    bureau = UserFactory(role=Role.BUREAU_COORDINATOR).organisation
    assert client.get(f"/admin/institutions/{bureau.id}/payee-account").status_code == 404
