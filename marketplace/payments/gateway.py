"""The only module that talks to Stripe's API: PaymentIntents in CNY, amounts in fen.

With STRIPE_API_BASE set (the local fake API, localstripe, in tests) the client points there and
never retries; against Stripe it retries network failures, which is safe because every create
carries the fee's idempotency key.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import gettext as _

PAYMENT_METHOD_TYPES = ("card", "alipay", "wechat_pay")
# Stripe's largest amount: 8 digits in the smallest unit (¥999,999.99); above it, a bank transfer
MAX_FEN = 99_999_999
TIMEOUT_SECONDS = 20

if TYPE_CHECKING:
    import stripe  # imported by the first call to Stripe, not by every process (start-up, issue 15)


class GatewayError(RuntimeError):
    """Stripe could not be reached or refused the call; the message is for the user (Chinese)."""


@dataclass(frozen=True)
class Intent:
    id: str
    status: str  # Stripe's PaymentIntent status: requires_payment_method ... succeeded
    client_secret: str | None
    amount_fen: int
    currency: str


def to_fen(amount: Decimal) -> int:
    """Yuan to fen, exactly (Decimal arithmetic); refuses fractions of a fen."""
    fen = Decimal(amount) * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"{amount} has fractions of a fen")
    return int(fen)


def fits_online(amount: Decimal) -> bool:
    return 0 < to_fen(amount) <= MAX_FEN


def client() -> stripe.StripeClient:
    import stripe

    config = current_app.config
    base = config.get("STRIPE_API_BASE")
    options = {
        "max_network_retries": 0 if base else 2,
        "http_client": stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
    }
    if base:
        options["base_addresses"] = {"api": base}
    return stripe.StripeClient(config["STRIPE_SECRET_KEY"], **options)


def create_intent(payment) -> Intent:
    """A PaymentIntent for the fee, sent with the fee's stored idempotency key."""
    params = {
        "amount": to_fen(payment.amount),
        "currency": "cny",
        "payment_method_types": list(PAYMENT_METHOD_TYPES),
        # WeChat Pay needs to know where the QR code is shown
        "payment_method_options": {"wechat_pay": {"client": "web"}},
        # the key ties the intent to this fee even if its id is lost before it is stored (and
        # keeps another environment's payment 42 from claiming ours)
        "metadata": {"payment_id": str(payment.id), "purpose": payment.purpose,
                     "idempotency_key": payment.idempotency_key},
    }
    return _call(lambda api: api.payment_intents.create(
        params=params, options={"idempotency_key": payment.idempotency_key}))


def retrieve_intent(intent_id: str) -> Intent:
    return _call(lambda api: api.payment_intents.retrieve(intent_id))


def cancel_intent(intent_id: str) -> Intent:
    return _call(lambda api: api.payment_intents.cancel(intent_id))


def _call(operation) -> Intent:
    import stripe

    try:
        intent = operation(client().v1)
    except stripe.APIConnectionError as error:
        current_app.logger.warning("Stripe unreachable: %s", error)
        raise GatewayError(_("暂时无法连接支付服务，请稍后重试")) from error
    except stripe.StripeError as error:
        current_app.logger.warning("Stripe refused the call: %s", error)
        raise GatewayError(_("支付服务拒绝了本次请求：%(message)s",
                             message=error.user_message or _("请稍后重试"))) from error
    return Intent(id=intent.id, status=intent.status, client_secret=intent.get("client_secret"),
                  amount_fen=intent.amount, currency=intent.currency)
