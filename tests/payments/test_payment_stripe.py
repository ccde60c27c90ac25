"""Fees through Stripe: the real stripe client against localstripe (a fake Stripe API), and the
webhook with signed payloads: forged, tampered, stale, replayed and out-of-order events are
refused or ignored with nothing changed."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketplace.audit import AuditEvent
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.payments import gateway, services
from marketplace.payments.models import Payment, StripeEvent
from tests.payments.fake_stripe import envelope, signature_header

WEBHOOK = "/payments/stripe/webhook"


def stripe_fee(app, parties, amount="12345.67") -> Payment:
    with app.test_request_context():
        return services.create_fee(parties.request, parties.payee, "service_fee", Decimal(amount))


def started(app, payment: Payment) -> gateway.Intent:
    with app.test_request_context():
        return services.start_stripe_payment(payment)


def post_event(client, payload: bytes, header: str | None = None):
    return client.post(WEBHOOK, data=payload, content_type="application/json",
                       headers={"Stripe-Signature": header if header is not None else signature_header(payload)})


def state(payment: Payment) -> tuple:
    db.session.refresh(payment)
    events = db.session.scalar(select(func.count()).select_from(StripeEvent))
    audits = db.session.scalar(select(func.count()).where(AuditEvent.object_type == "payments",
                                                          AuditEvent.object_id == str(payment.id)))
    return payment.status, payment.version, payment.paid_at, events, audits


def test_a_payment_intent_in_cny_fen_with_the_stored_key_reused_on_a_second_call(app, parties, stripe_on):
    payment = stripe_fee(app, parties)
    assert payment.method == "stripe"
    key = payment.idempotency_key
    first = started(app, payment)
    intent = stripe_on.client.v1.payment_intents.retrieve(first.id)
    assert (intent.amount, intent.currency) == (1234567, "cny")
    assert intent.metadata["payment_id"] == str(payment.id)
    assert payment.stripe_payment_intent_id == first.id and first.client_secret.startswith(first.id)
    again = started(app, payment)
    assert again.id == first.id and payment.idempotency_key == key


def test_the_idempotency_key_is_committed_before_stripe_is_called(app, parties, stripe_on, monkeypatch):
    """Stripe unreachable: the commit came first, the fee keeps its key and nothing else changed."""
    payment = stripe_fee(app, parties)
    key = payment.idempotency_key
    steps = []
    commit = db.session.commit

    def counted_commit():
        steps.append(("commit", payment.idempotency_key))
        commit()

    def unreachable(p):
        steps.append(("stripe", p.idempotency_key))
        raise gateway.GatewayError("暂时无法连接支付服务，请稍后重试")

    monkeypatch.setattr(db.session, "commit", counted_commit)
    monkeypatch.setattr(gateway, "create_intent", unreachable)
    with app.test_request_context(), pytest.raises(gateway.GatewayError):
        services.start_stripe_payment(payment)
    assert steps == [("commit", key), ("stripe", key)]
    assert payment.stripe_payment_intent_id is None and payment.status == "pending"


def test_the_key_goes_to_stripe_as_the_idempotency_header(app, parties, stripe_on, monkeypatch):
    sent = []
    real = gateway.client

    def spying_client():
        api = real()
        original = api.v1.payment_intents.create

        def create(params=None, options=None):
            sent.append(options)
            return original(params=params, options=options)

        api.v1.payment_intents.create = create
        return api

    monkeypatch.setattr(gateway, "client", spying_client)
    payment = stripe_fee(app, parties)
    started(app, payment)
    assert sent == [{"idempotency_key": payment.idempotency_key}]


def test_the_enterprise_pays_online_and_sees_the_intent(app, client, login, parties, stripe_on):
    payment = stripe_fee(app, parties)
    login(parties.owner)
    page = client.get(f"/payments/{payment.id}").get_data(as_text=True)
    assert 'data-testid="pay"' in page and "壹万贰仟叁佰肆拾伍元陆角柒分" in page
    assert client.post(f"/payments/{payment.id}/pay").status_code == 302
    page = client.get(f"/payments/{payment.id}").get_data(as_text=True)
    assert payment.stripe_payment_intent_id in page and "等待付款" in page


def test_a_signed_success_marks_the_fee_paid_and_runs_the_hook_once(app, client, parties, stripe_on, paid_calls):
    payment = stripe_fee(app, parties)
    intent = started(app, payment)
    stripe_on.pay(intent.id)
    payload = stripe_on.event_payload("payment_intent.succeeded", intent.id)  # localstripe's own event
    response = post_event(client, payload)
    assert response.status_code == 200 and response.json["outcome"] == "applied"
    db.session.refresh(payment)
    assert payment.status == "succeeded" and payment.paid_at is not None and paid_calls == [payment.id]
    # the same event again (Stripe retries): acknowledged, nothing changes
    before = state(payment)
    again = post_event(client, payload)
    assert again.status_code == 200 and again.json["outcome"] == "duplicate"
    assert state(payment) == before and paid_calls == [payment.id]


def _succeeded_payload(stripe_on, app, parties):
    payment = stripe_fee(app, parties)
    intent = started(app, payment)
    stripe_on.pay(intent.id)
    return payment, stripe_on.event_payload("payment_intent.succeeded", intent.id)


def test_a_tampered_body_is_refused_with_nothing_changed(app, client, parties, stripe_on, paid_calls):
    payment, payload = _succeeded_payload(stripe_on, app, parties)
    header = signature_header(payload)
    event = json.loads(payload)
    event["data"]["object"]["amount"] = 1  # signed for the original body
    before = state(payment)
    response = post_event(client, json.dumps(event, indent=2, sort_keys=True).encode(), header)
    assert response.status_code == 400 and state(payment) == before and paid_calls == []


def test_a_wrong_secret_is_refused_with_nothing_changed(app, client, parties, stripe_on, paid_calls):
    payment, payload = _succeeded_payload(stripe_on, app, parties)
    before = state(payment)
    response = post_event(client, payload, signature_header(payload, secret="whsec_forged"))
    assert response.status_code == 400 and state(payment) == before and paid_calls == []


def test_a_missing_signature_is_refused(app, client, parties, stripe_on):
    payment, payload = _succeeded_payload(stripe_on, app, parties)
    before = state(payment)
    assert post_event(client, payload, "").status_code == 400 and state(payment) == before


def test_a_timestamp_301_seconds_old_is_refused_300_is_accepted(app, client, parties, stripe_on, paid_calls):
    payment, payload = _succeeded_payload(stripe_on, app, parties)
    before = state(payment)
    stale = post_event(client, payload, signature_header(payload, timestamp=int(time.time()) - 301))
    assert stale.status_code == 400 and state(payment) == before and paid_calls == []
    fresh = post_event(client, payload, signature_header(payload, timestamp=int(time.time()) - 299))
    assert fresh.status_code == 200 and paid_calls == [payment.id]


def test_a_refund_arriving_before_the_success_leaves_the_fee_refunded(app, client, parties, stripe_on, paid_calls):
    payment = stripe_fee(app, parties)
    intent = started(app, payment)
    stripe_on.pay(intent.id)
    success = stripe_on.event_payload("payment_intent.succeeded", intent.id)
    stripe_on.refund(intent.id)
    refund = stripe_on.charge_refunded_payload(intent.id, created=json.loads(success)["created"] + 60)

    assert post_event(client, refund).json["outcome"] == "applied"
    db.session.refresh(payment)
    assert payment.status == "refunded" and payment.refunded_at is not None
    late = post_event(client, success)
    assert late.status_code == 200 and late.json["outcome"] == "stale"
    db.session.refresh(payment)
    assert payment.status == "refunded" and paid_calls == []  # never flipped back, never "paid"
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 2


def test_a_refund_after_the_success_refunds_the_fee(app, client, parties, stripe_on, paid_calls):
    payment, success = _succeeded_payload(stripe_on, app, parties)
    post_event(client, success)
    stripe_on.refund(payment.stripe_payment_intent_id)
    post_event(client, stripe_on.charge_refunded_payload(payment.stripe_payment_intent_id))
    db.session.refresh(payment)
    assert payment.status == "refunded" and paid_calls == [payment.id]


def test_a_late_failure_does_not_undo_a_success(app, client, parties, stripe_on, paid_calls):
    payment, success = _succeeded_payload(stripe_on, app, parties)
    post_event(client, success)
    event = json.loads(success)
    failed = envelope("payment_intent.payment_failed", {**event["data"]["object"], "status": "requires_payment_method"},
                      created=event["created"] - 30)
    assert post_event(client, failed).json["outcome"] == "stale"
    db.session.refresh(payment)
    assert payment.status == "succeeded"


def test_a_failure_then_a_success_after_a_retry(app, client, parties, stripe_on, paid_calls):
    payment = stripe_fee(app, parties)
    intent = started(app, payment)
    obj = stripe_on.intent(intent.id)
    now = int(time.time())
    failed = envelope("payment_intent.payment_failed",
                      {**obj, "last_payment_error": {"message": "Your card was declined."}}, created=now - 10)
    assert post_event(client, failed).json["outcome"] == "applied"
    db.session.refresh(payment)
    assert (payment.status, payment.failure_message) == ("failed", "Your card was declined.")
    stripe_on.pay(intent.id)
    post_event(client, stripe_on.event_payload("payment_intent.succeeded", intent.id))
    db.session.refresh(payment)
    assert payment.status == "succeeded" and paid_calls == [payment.id]


def test_an_event_whose_amount_differs_from_the_fee_changes_nothing(app, client, parties, stripe_on, paid_calls):
    payment = stripe_fee(app, parties)
    intent = started(app, payment)
    obj = stripe_on.intent(intent.id)
    payload = envelope("payment_intent.succeeded", {**obj, "amount": 100, "status": "succeeded"})
    assert post_event(client, payload).json["outcome"] == "mismatch"
    db.session.refresh(payment)
    assert payment.status == "pending" and paid_calls == []


def test_an_intent_whose_id_was_never_stored_is_found_by_its_metadata(app, client, parties, stripe_on, paid_calls):
    """The process died between Stripe's answer and the commit: the success still lands."""
    payment = stripe_fee(app, parties)
    with app.test_request_context():
        intent = gateway.create_intent(payment)  # the id is never stored
    stripe_on.pay(intent.id)
    response = post_event(client, stripe_on.event_payload("payment_intent.succeeded", intent.id))
    assert response.json["outcome"] == "applied"
    db.session.refresh(payment)
    assert (payment.status, payment.stripe_payment_intent_id, paid_calls) == ("succeeded", intent.id, [payment.id])


def test_metadata_naming_our_payment_id_without_its_key_is_not_ours(app, client, parties, stripe_on, paid_calls):
    """Another environment's payment 42 on the same Stripe account does not pay our fee 42."""
    payment = stripe_fee(app, parties)
    obj = {"id": "pi_elsewhere", "object": "payment_intent", "amount": gateway.to_fen(payment.amount),
           "currency": "cny", "status": "succeeded",
           "metadata": {"payment_id": str(payment.id), "idempotency_key": "fee_of_someone_else"}}
    assert post_event(client, envelope("payment_intent.succeeded", obj)).json["outcome"] == "unrelated"
    db.session.refresh(payment)
    assert payment.status == "pending" and paid_calls == []


def test_an_event_about_an_unknown_intent_is_acknowledged(app, client, stripe_on):
    payload = envelope("payment_intent.succeeded", {"id": "pi_unknown", "object": "payment_intent", "amount": 100,
                                                    "currency": "cny", "metadata": {}})
    response = post_event(client, payload)
    assert response.status_code == 200 and response.json["outcome"] == "unrelated"


def test_an_event_type_we_do_not_handle_is_acknowledged_and_not_stored(app, client, stripe_on):
    response = post_event(client, envelope("customer.created", {"id": "cus_1", "object": "customer"}))
    assert response.status_code == 200 and response.json["outcome"] == "ignored"
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 0


def test_a_second_payment_on_a_paid_fee_is_refused(app, parties, stripe_on):
    payment = stripe_fee(app, parties)
    started(app, payment)
    with app.test_request_context():
        payment.status, payment.paid_at = "succeeded", utcnow()
        db.session.flush()
        with pytest.raises(services.PaymentRefused, match="已支付"):
            services.start_stripe_payment(payment)


def test_an_amount_above_stripes_limit_is_a_bank_transfer(app, parties, stripe_on):
    payment = stripe_fee(app, parties, amount="1000000.00")
    assert payment.method == "offline"


def test_the_webhook_answers_404_without_a_webhook_secret(app, client):
    assert client.post(WEBHOOK, data=b"{}", content_type="application/json").status_code == 404


@pytest.mark.no_db
def test_fen_are_computed_exactly():
    assert gateway.to_fen(Decimal("0.29")) == 29  # float would give 28.999...
    assert gateway.to_fen(Decimal("999999.99")) == gateway.MAX_FEN
    with pytest.raises(ValueError):
        gateway.to_fen(Decimal("1.005"))
