"""The request's transition event, and the credit file's "an input changed" (plumbing: it knows
no domain).

`financing.services.apply_transition` writes the state, the timeline row and the audit row, then
publishes one `RequestTransitioned` on `request_transitioned`. The domains that react to it
(sla clocks, desks closing on withdrawal, verification queued on submission) connect their
receivers in their own packages, imported at app start (marketplace/__init__.py); financing
imports none of them.

Receivers run synchronously, inside the caller's transaction, in the order they were connected;
work that must wait for the commit goes through the outbox or the after-commit hooks as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from blinker import Namespace

_requests = Namespace()

# sender: the FinancingRequest; kwargs: event (a RequestTransitioned)
request_transitioned = _requests.signal("request-transitioned")


@dataclass(frozen=True)
class RequestTransitioned:
    request: Any  # the FinancingRequest, already in its new state
    transition: str
    from_state: str | None
    to_state: str
    actor: Any = None  # the User who acted, or None for the system
    row: Any = None  # the WorkflowEvent (timeline row) the transition wrote
    facts: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


def publish(event: RequestTransitioned) -> None:
    request_transitioned.send(event.request, event=event)


# An enterprise's credit inputs changed (a repayment, an early repayment, a restructuring, an
# overdue fact): the credit file recomputes its grade. Sender: the enterprise id; kwargs:
# trigger (a short name of what happened). Published by the domains below the credit file,
# which subscribes (marketplace.credit.grading); they import nothing of it.
credit_input_changed = _requests.signal("credit-input-changed")


def credit_input(enterprise_id: int, trigger: str) -> None:
    credit_input_changed.send(enterprise_id, trigger=trigger)
