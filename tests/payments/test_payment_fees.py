"""Fees paid by bank transfer: created once per request and purpose, confirmed once by the payee's
staff (never twice, never by another institution), seen only by the paying enterprise."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketplace.audit import AuditEvent
from marketplace.extensions import db
from marketplace.payments import services
from marketplace.payments.models import Payment
from tests.factories import make_enterprise_user


def audit_count(action: str, payment: Payment) -> int:
    return db.session.scalar(select(func.count()).where(AuditEvent.action == action,
                                                        AuditEvent.object_id == str(payment.id)))


def fee(app, parties, amount="12000.00", purpose="guarantee_fee") -> Payment:
    with app.test_request_context():
        return services.create_fee(parties.request, parties.payee, purpose, Decimal(amount), actor=parties.owner)


def test_a_fee_without_stripe_keys_is_a_bank_transfer_with_its_key_stored(app, parties):
    payment = fee(app, parties)
    assert (payment.method, payment.status, payment.currency) == ("offline", "pending", "cny")
    assert payment.enterprise_id == parties.owner.enterprise.id and payment.amount == Decimal("12000.00")
    assert payment.idempotency_key.startswith("fee_") and audit_count("payment.created", payment) == 1


@pytest.mark.parametrize(("amount", "message"), [
    ("0", "金额必须大于零"), ("-1.00", "金额必须大于零"), ("10.001", "最多两位小数"), ("abc", "金额格式不正确"),
])
def test_bad_amounts_are_refused_and_nothing_is_stored(app, parties, amount, message):
    with app.test_request_context(), pytest.raises(services.PaymentRefused, match=message):
        services.create_fee(parties.request, parties.payee, "guarantee_fee", amount)
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_the_payee_must_be_a_bank_or_guarantor(app, parties):
    with app.test_request_context(), pytest.raises(services.PaymentRefused, match="银行或担保公司"):
        services.create_fee(parties.request, parties.owner.organisation, "service_fee", Decimal("10"))


def test_a_second_open_fee_for_the_same_request_and_purpose_is_refused(app, parties):
    first = fee(app, parties)
    with pytest.raises(services.PaymentRefused, match="该申请已有一笔未取消的担保费"):
        fee(app, parties)
    assert fee(app, parties, purpose="service_fee").id != first.id  # another purpose is another fee
    with app.test_request_context():
        services.cancel_fee(first, actor=parties.payee_staff, reason="申请已撤回")
    assert first.status == "cancelled"
    assert fee(app, parties).status == "pending"  # a cancelled fee does not block a new one


def test_payee_staff_confirm_a_transfer_once_and_the_paid_hook_runs_once(app, client, login, parties, paid_calls):
    payment = fee(app, parties)
    login(parties.payee_staff)
    response = client.post(f"/payments/{payment.id}/confirm-transfer", data={"reference": "TRX2026112200017"})
    assert response.status_code == 302
    assert (payment.status, payment.offline_reference) == ("succeeded", "TRX2026112200017")
    assert payment.confirmed_by_id == parties.payee_staff.id and payment.paid_at is not None
    assert paid_calls == [payment.id] and audit_count("payment.succeeded", payment) == 1

    second = client.post(f"/payments/{payment.id}/confirm-transfer", data={"reference": "TRX-AGAIN"},
                         follow_redirects=True)
    assert "该笔费用已支付，不能重复确认" in second.get_data(as_text=True)
    assert payment.offline_reference == "TRX2026112200017" and paid_calls == [payment.id]
    assert audit_count("payment.succeeded", payment) == 1


def test_the_service_refuses_a_second_confirmation_with_nothing_changed(app, parties, paid_calls):
    payment = fee(app, parties)
    with app.test_request_context():
        services.confirm_offline_transfer(payment, parties.payee_staff, "TRX-1")
        version = payment.version
        with pytest.raises(services.PaymentRefused, match="该笔费用已支付，不能重复确认"):
            services.confirm_offline_transfer(payment, parties.payee_staff, "TRX-2")
    assert (payment.offline_reference, payment.version, paid_calls) == ("TRX-1", version, [payment.id])


def test_staff_of_another_institution_cannot_confirm_or_see_the_fee(app, client, login, parties, paid_calls):
    payment = fee(app, parties)
    login(parties.other_staff)
    response = client.post(f"/payments/{payment.id}/confirm-transfer", data={"reference": "TRX-X"})
    assert response.status_code == 404
    assert "FEE" not in client.get("/payments/received").get_data(as_text=True)
    with app.test_request_context(), pytest.raises(services.PaymentRefused, match="只有收款机构的工作人员"):
        services.confirm_offline_transfer(payment, parties.other_staff, "TRX-X")
    assert payment.status == "pending" and paid_calls == []


def test_the_enterprise_cannot_confirm_its_own_transfer(app, parties):
    payment = fee(app, parties)
    with app.test_request_context(), pytest.raises(services.PaymentRefused, match="只有收款机构的工作人员"):
        services.confirm_offline_transfer(payment, parties.owner, "TRX-SELF")
    assert payment.status == "pending"


def test_a_confirmation_needs_a_reference(app, client, login, parties):
    payment = fee(app, parties)
    login(parties.payee_staff)
    page = client.post(f"/payments/{payment.id}/confirm-transfer", data={"reference": " "},
                       follow_redirects=True).get_data(as_text=True)
    assert "请填写银行转账流水号" in page and payment.status == "pending"


def test_the_payee_lists_the_fees_owed_to_it_with_a_confirm_dialog(app, client, login, parties):
    payment = fee(app, parties)
    login(parties.payee_staff)
    page = client.get("/payments/received").get_data(as_text=True)
    assert payment.transfer_code in page and "12,000.00" in page
    assert 'data-testid="confirm-transfer"' in page and "确认后不能撤销" in page


def test_the_enterprise_sees_transfer_instructions_with_capitals(app, client, login, parties):
    payment = fee(app, parties, amount="12345.60")
    login(parties.owner)
    page = client.get(f"/payments/{payment.id}").get_data(as_text=True)
    assert "¥12,345.60" in page and "壹万贰仟叁佰肆拾伍元陆角" in page
    assert parties.payee.name in page and payment.transfer_code in page and "0512-66668888" in page
    assert 'data-testid="pay"' not in page  # no online payment without Stripe keys
    assert payment.transfer_code in client.get("/payments/").get_data(as_text=True)


def test_an_enterprise_cannot_see_another_enterprises_fee(app, client, login, parties):
    payment = fee(app, parties)
    login(make_enterprise_user())
    assert client.get(f"/payments/{payment.id}").status_code == 404
    assert client.post(f"/payments/{payment.id}/pay").status_code == 404
    assert payment.transfer_code not in client.get("/payments/").get_data(as_text=True)


def test_a_paid_fee_cannot_be_cancelled(app, parties):
    payment = fee(app, parties)
    with app.test_request_context():
        services.confirm_offline_transfer(payment, parties.payee_staff, "TRX-1")
        with pytest.raises(services.PaymentRefused, match="已支付"):
            services.cancel_fee(payment)
    assert payment.status == "succeeded"


def test_the_database_refuses_two_open_fees_for_one_request_and_purpose(app, parties):
    """The partial unique index decides a race the service's check cannot see."""
    from sqlalchemy.exc import IntegrityError

    first = fee(app, parties)
    twin = Payment(request_id=first.request_id, enterprise_id=first.enterprise_id, payee_org_id=first.payee_org_id,
                   purpose=first.purpose, amount=first.amount, method="offline", idempotency_key="fee_twin")
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(twin)
        db.session.flush()


@pytest.mark.no_db
def test_the_paid_hook_api_refuses_an_unknown_purpose():
    from marketplace.payments.hooks import register_paid_handler

    with pytest.raises(ValueError):
        register_paid_handler("membership_fee", lambda payment: None)
