"""The webhook under real concurrency: a live server on its own committed database, posted to
over HTTP from several threads at once, and localstripe delivering its own signed webhooks."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketplace.audit import AuditEvent
from marketplace.extensions import db
from marketplace.payments import services
from marketplace.payments.models import Payment, StripeEvent
from tests.payments.conftest import make_parties
from tests.payments.fake_stripe import envelope, signature_header

pytestmark = pytest.mark.no_db  # the live server commits into its own database


def new_fee(live_app, amount: str = "2000.00") -> tuple[int, str]:
    """A committed Stripe fee with its PaymentIntent at localstripe: (payment id, intent id)."""
    with live_app.test_request_context():
        parties = make_parties()
        payment = services.create_fee(parties.request, parties.payee, "service_fee", Decimal(amount))
        db.session.commit()
        intent = services.start_stripe_payment(payment)
        db.session.commit()
        return payment.id, intent.id


def post(url: str, payload: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=payload, method="POST", headers={
        "Content-Type": "application/json", "Stripe-Signature": signature_header(payload)})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, {}


def facts(live_app, payment_id: int) -> dict:
    with live_app.app_context():
        payment = db.session.get(Payment, payment_id)
        return {
            "status": payment.status,
            "events": db.session.scalar(select(func.count()).where(StripeEvent.payment_id == payment_id)),
            "succeeded_audits": db.session.scalar(select(func.count()).where(
                AuditEvent.action == "payment.succeeded", AuditEvent.object_id == str(payment_id))),
        }


def test_the_same_event_five_times_at_once_has_one_effect(live_app, live_server, live_localstripe, paid_calls):
    payment_id, intent_id = new_fee(live_app)
    intent = {**live_localstripe.intent(intent_id), "status": "succeeded"}
    payload = envelope("payment_intent.succeeded", intent)
    start = threading.Barrier(5)
    results = []

    def deliver():
        start.wait()
        results.append(post(f"{live_server}/payments/stripe/webhook", payload))

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [status for status, _ in results] == [200] * 5
    assert sorted(body["outcome"] for _, body in results) == ["applied"] + ["duplicate"] * 4
    assert facts(live_app, payment_id) == {"status": "succeeded", "events": 1, "succeeded_audits": 1}
    assert paid_calls == [payment_id]


def test_localstripe_delivers_a_signed_success_that_marks_the_fee_paid(live_app, live_server, live_localstripe,
                                                                      paid_calls):
    payment_id, intent_id = new_fee(live_app, amount="8888.88")
    live_localstripe.pay(intent_id)  # localstripe then POSTs payment_intent.succeeded to the live server
    deadline = time.monotonic() + 15
    while facts(live_app, payment_id)["status"] != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert facts(live_app, payment_id) == {"status": "succeeded", "events": 1, "succeeded_audits": 1}
    assert paid_calls == [payment_id]


def test_a_forged_webhook_changes_nothing_in_the_committed_database(live_app, live_server, live_localstripe,
                                                                    paid_calls):
    payment_id, intent_id = new_fee(live_app)
    payload = envelope("payment_intent.succeeded", {**live_localstripe.intent(intent_id), "status": "succeeded"})
    request = urllib.request.Request(f"{live_server}/payments/stripe/webhook", data=payload, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Stripe-Signature": signature_header(payload, secret="whsec_guess")})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 400
    assert facts(live_app, payment_id) == {"status": "pending", "events": 0, "succeeded_audits": 0}
    assert paid_calls == []
