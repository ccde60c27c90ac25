"""The stuck list: requests of a region that wait on someone past their time, each with how long,
who holds it and why. (Interface fixed by the lead; the body is being written.)

Kinds: sla_breach (the state's SLA passed), debtor_unanswered (a debtor confirmation link
expired unanswered), idle_claim (a claim untouched for long), info_unanswered (an information
request unanswered), no_bank_for_guaranteed (guaranteed, and no bank has taken it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from marketplace.accounts.models import Organisation

STUCK_KINDS = ("sla_breach", "debtor_unanswered", "idle_claim", "info_unanswered", "no_bank_for_guaranteed")


@dataclass(frozen=True)
class StuckEntry:
    request_id: int
    kind: str  # one of STUCK_KINDS
    since: datetime  # when it became stuck (UTC, aware)
    holder: str  # who holds it now: an institution's or the enterprise's name
    enterprise_name: str
    region_code: str
    amount: Decimal
    state: str  # the request's state
    detail: str  # one line saying what waits (translated)


def stuck_entries(bureau: Organisation, now: datetime | None = None) -> list[StuckEntry]:
    """Every stuck entry of the bureau's region, longest stuck first; one per request and kind."""
    return []
