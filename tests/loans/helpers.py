"""Loans built through the real path: a request routed to a bank, claimed, offered, accepted;
then the bank's disbursement, schedule and repayments through the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from marketplace.desks import claims, decisions
from marketplace.desks.models import Offer
from marketplace.formatting import today_shanghai
from marketplace.loans import services
from tests.desks.helpers import routed, target_of, terms
from tests.verification.cases import Case


@dataclass
class Accepted:
    case: Case
    offer: Offer

    @property
    def request(self):
        return self.case.request

    @property
    def bank(self):
        return self.case.bank_staff

    @property
    def owner(self):
        return self.case.owner


def accepted(app, amount: str = "200000.00", rate: str = "3.65", days: int = 90, accepted_days_ago: int = 0,
             fee_rate: str = "0.00", roll: bool = False) -> Accepted:
    """A request whose offer the enterprise accepted (`accepted_days_ago` back-dates the acceptance).
    The offer's early repayment fee rate is `fee_rate` (%); its due days roll off holidays only
    with `roll` (off here, unlike a real offer's default, so that due days fixed relative to
    today do not move with the weekday the tests run on)."""
    case = routed(app)
    target = target_of(case)
    with app.test_request_context():
        claims.claim(target, case.bank_staff)
        offer = decisions.make_offer(target, case.bank_staff, terms(amount, rate, days, fee_rate=fee_rate, roll=roll))
        decisions.accept_offer(offer, case.owner)
    if accepted_days_ago:
        offer.decided_at -= timedelta(days=accepted_days_ago)
    return Accepted(case, offer)


def disbursed(app, deal: Accepted, amount: str | None = None, on: date | None = None):
    with app.test_request_context():
        return services.record_disbursement(deal.offer, deal.bank, Decimal(amount or deal.offer.amount),
                                            on or today_shanghai(), "FK20260001")


def scheduled(app, deal: Accepted, rows=None, **disbursement):
    """Disbursed and scheduled (the proposed monthly schedule unless `rows` are given)."""
    loan = disbursed(app, deal, **disbursement)
    with app.test_request_context():
        if rows is None:
            rows = [(line.due_on, line.principal, line.interest) for line in services.proposed_schedule(loan)]
        services.record_schedule(loan, deal.bank, rows)
    return loan


def repay(app, deal: Accepted, loan, amount: str, on: date | None = None, reference: str = "HK001"):
    with app.test_request_context():
        return services.record_repayment(loan, deal.bank, on or today_shanghai(), Decimal(amount), reference)
