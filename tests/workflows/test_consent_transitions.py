"""The transitions that close an institution's part when the enterprise's consent to it ends: only
the platform applies them, from the states in which that institution still reviews the request."""

from decimal import Decimal

import pytest

from workflows.engine import SYSTEM, ActorRef, TransitionError
from workflows.financing import FINANCING, RequestFacts, State

BANK = ActorRef("bank", "officer")


def facts(state: State) -> RequestFacts:
    return RequestFacts(state=state, amount=Decimal("100000.00"), term_days=90, pledged_count=1,
                        pledged_total=Decimal("150000.00"), commitment_signed=True)


@pytest.mark.parametrize("state", [State.ROUTED_TO_BANK, State.BANK_REVIEW, State.INFO_REQUESTED, State.OFFER_MADE])
def test_a_banks_consent_ending_leaves_the_request_as_a_decline_would(state):
    assert FINANCING.check("consent_ended_bank", facts(state), SYSTEM).target == State.BANK_DECLINED


@pytest.mark.parametrize("state", [State.ROUTED_TO_GUARANTOR, State.GUARANTOR_REVIEW, State.GUARANTEE_OFFERED])
def test_a_guarantors_consent_ending_leaves_the_request_as_a_decline_would(state):
    assert FINANCING.check("consent_ended_guarantor", facts(state), SYSTEM).target == State.GUARANTOR_DECLINED


@pytest.mark.parametrize("name, state", [
    ("consent_ended_bank", State.OFFER_ACCEPTED), ("consent_ended_bank", State.DISBURSED),
    ("consent_ended_guarantor", State.FEE_PENDING), ("consent_ended_guarantor", State.GUARANTEED),
    ("resume_bank_review", State.BANK_REVIEW),
])
def test_an_accepted_contract_is_not_undone_by_a_consent_ending(name, state):
    with pytest.raises(TransitionError):
        FINANCING.check(name, facts(state), SYSTEM)


def test_only_the_platform_closes_a_part_for_a_consent():
    with pytest.raises(TransitionError):
        FINANCING.check("consent_ended_bank", facts(State.BANK_REVIEW), BANK)


def test_a_closed_offer_puts_the_request_back_in_review():
    assert FINANCING.check("resume_bank_review", facts(State.OFFER_MADE), SYSTEM).target == State.BANK_REVIEW
