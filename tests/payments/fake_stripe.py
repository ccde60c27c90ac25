"""localstripe (a fake Stripe API, from PyPI) as a subprocess, and what the tests do with it:
pay an intent with a test card, fetch the events it generated, sign webhook payloads.

localstripe keeps its store in /tmp/localstripe.pickle, shared by every instance on the machine;
the launcher below turns that off so parallel runs cannot read each other's objects.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

import stripe

SECRET_KEY = "sk_test_localstripe"
WEBHOOK_SECRET = "whsec_test_payments"
LAUNCHER = """
import sys
import localstripe.resources
localstripe.resources.Store.dump_to_disk = lambda self: None
sys.argv = ["localstripe", "--from-scratch", "--port", sys.argv[1]]
from localstripe.server import start
start()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_localstripe():
    """Start localstripe on a free port, wait until it answers, stop it afterwards."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield LocalStripe(base)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_until_up(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited with {process.returncode}")
        try:
            urllib.request.urlopen(f"{base}/js.stripe.com/v3/", timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("localstripe did not start within 20 s")


class LocalStripe:
    """One running fake API: the real stripe client pointed at it, plus the test-only verbs."""

    def __init__(self, base: str):
        self.base = base
        self.client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": base}, max_network_retries=0)

    def app_config(self) -> dict:
        return {"PAYMENTS": "stripe", "STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "STRIPE_API_BASE": self.base}

    def pay(self, intent_id: str):
        """The customer pays with a test card (what Stripe.js would do in the browser)."""
        card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123"}
        method = self.client.v1.payment_methods.create(params={"type": "card", "card": card})
        self.client.v1.payment_intents.update(intent_id, params={"payment_method": method.id})
        return self.client.v1.payment_intents.confirm(intent_id)

    def intent(self, intent_id: str) -> dict:
        """The PaymentIntent as the API returns it (JSON), to build events around."""
        return self._get(f"/v1/payment_intents/{intent_id}")

    def refund(self, intent_id: str):
        return self.client.v1.refunds.create(params={"payment_intent": intent_id})

    def event_payload(self, event_type: str, object_id: str) -> bytes:
        """The exact JSON localstripe generated for `event_type` about `object_id` (what its
        webhook would send)."""
        for _ in range(50):
            listing = self._get(f"/v1/events?type={event_type}&limit=100")
            for event in listing["data"]:
                if event["data"]["object"]["id"] == object_id:
                    return json.dumps(event, indent=2, sort_keys=True).encode()
            time.sleep(0.1)
        raise LookupError(f"no {event_type} event for {object_id}")

    def charge_refunded_payload(self, intent_id: str, *, created: int | None = None) -> bytes:
        """localstripe records refunds but sends no charge.refunded event: build the event Stripe
        would send, around localstripe's own refunded charge."""
        intent = self._get(f"/v1/payment_intents/{intent_id}")
        charge = intent["latest_charge"]
        charge = self._get(f"/v1/charges/{charge if isinstance(charge, str) else charge['id']}")
        return envelope("charge.refunded", charge, created=created)

    def register_webhook(self, url: str, secret: str = WEBHOOK_SECRET) -> None:
        data = json.dumps({"url": url, "secret": secret}).encode()
        request = urllib.request.Request(f"{self.base}/_config/webhooks/tests", data=data,
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=5).close()

    def _get(self, path: str) -> dict:
        request = urllib.request.Request(self.base + path, headers={"Authorization": f"Bearer {SECRET_KEY}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)


def envelope(event_type: str, obj: dict, *, created: int | None = None, event_id: str | None = None) -> bytes:
    """A Stripe event around `obj`, as Stripe serialises it."""
    created = int(time.time()) if created is None else created
    event = {"id": event_id or f"evt_test_{os.urandom(8).hex()}", "object": "event", "type": event_type,
             "created": created, "api_version": "2017-08-15", "livemode": False, "data": {"object": obj}}
    return json.dumps(event, indent=2, sort_keys=True).encode()


def signature_header(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """Stripe-Signature as Stripe computes it: HMAC-SHA256 of "<t>.<body>" with the endpoint secret.
    (stripe 13 has no public helper for this; WebhookSignature only verifies.)"""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
