"""What other capabilities do once a fee is paid, registered per purpose.

    @on_paid("guarantee_fee")
    def issue_guarantee(payment): ...

Handlers run inside the transaction that marks the fee paid, once per fee (the first time it
becomes succeeded): if one raises, the payment stays unpaid and the caller's transaction rolls
back (a webhook then answers 500 and Stripe delivers the event again).
"""

from __future__ import annotations

from collections.abc import Callable

from marketplace.payments.status import PURPOSES

PaidHandler = Callable[[object], None]
_paid_handlers: dict[str, list[PaidHandler]] = {}


def register_paid_handler(purpose: str, handler: PaidHandler) -> PaidHandler:
    """Call `handler(payment)` when a fee of `purpose` is paid. Registering twice is a no-op."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown fee purpose {purpose!r}")
    handlers = _paid_handlers.setdefault(purpose, [])
    if handler not in handlers:
        handlers.append(handler)
    return handler


def unregister_paid_handler(purpose: str, handler: PaidHandler) -> None:
    if handler in _paid_handlers.get(purpose, []):
        _paid_handlers[purpose].remove(handler)


def on_paid(purpose: str) -> Callable[[PaidHandler], PaidHandler]:
    """Decorator form of register_paid_handler."""
    return lambda handler: register_paid_handler(purpose, handler)


def run_paid_handlers(payment) -> None:
    for handler in list(_paid_handlers.get(payment.purpose, [])):
        handler(payment)
