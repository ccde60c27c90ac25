"""The financing request's transition table (design.md section 4), tested on plain objects."""

from decimal import Decimal

import pytest

from workflows.engine import SYSTEM, ActorRef, StateMachine, Transition, TransitionError
from workflows.financing import (
    ACTIVE_STATES,
    FINANCING,
    TERMINAL_STATES,
    WITHDRAWABLE_STATES,
    RequestFacts,
    State,
    state_label,
)

ENTERPRISE = ActorRef("enterprise", "applicant")
BANK = ActorRef("bank", "officer")
GUARANTOR = ActorRef("guarantor", "officer")


def ready(**overrides) -> RequestFacts:
    facts = dict(state=State.DRAFT, amount=Decimal("100000.00"), term_days=90, pledged_count=1,
                 pledged_total=Decimal("150000.00"), commitment_signed=True)
    facts.update(overrides)
    return RequestFacts(**facts)


# every edge of the design's diagram, as (from, to)
DESIGN_EDGES = {
    ("draft", "submitted"), ("submitted", "verifying"), ("verifying", "verified"),
    ("verified", "routed_to_bank"), ("verified", "routed_to_guarantor"), ("verified", "returned"),
    ("returned", "submitted"),
    ("routed_to_guarantor", "guarantor_review"), ("guarantor_review", "guarantee_offered"),
    ("guarantee_offered", "fee_pending"), ("fee_pending", "guaranteed"), ("guaranteed", "routed_to_bank"),
    ("guarantor_review", "guarantor_declined"), ("guarantor_declined", "routed_to_guarantor"),
    ("guarantor_declined", "returned"),
    ("routed_to_bank", "bank_review"), ("bank_review", "info_requested"), ("info_requested", "bank_review"),
    ("bank_review", "offer_made"), ("offer_made", "offer_accepted"), ("offer_accepted", "disbursed"),
    ("disbursed", "repaying"), ("repaying", "closed"),
    ("bank_review", "bank_declined"), ("bank_declined", "routed_to_bank"), ("bank_declined", "returned"),
}


def test_table_declares_every_edge_of_the_design():
    declared = {(s, t.target) for t in FINANCING.transitions.values() for s in t.sources}
    assert DESIGN_EDGES <= declared


def test_every_state_is_reachable_and_labelled():
    targets = {t.target for t in FINANCING.transitions.values()}
    assert set(State) - {State.DRAFT} <= targets
    for state in State:
        assert state_label(state, "zh") and state_label(state, "en")


def test_withdraw_is_open_before_a_binding_decision_and_closed_after():
    assert State.OFFER_ACCEPTED not in WITHDRAWABLE_STATES
    assert State.DISBURSED not in WITHDRAWABLE_STATES
    assert FINANCING.get("withdraw").sources == WITHDRAWABLE_STATES
    assert TERMINAL_STATES.isdisjoint(ACTIVE_STATES)


def test_enterprise_submits_a_complete_draft():
    transition = FINANCING.check("submit", ready(), ENTERPRISE)
    assert transition.target == State.SUBMITTED


def test_submit_without_commitment_is_refused_with_the_reason():
    with pytest.raises(TransitionError) as raised:
        FINANCING.check("submit", ready(commitment_signed=False), ENTERPRISE)
    assert [r.code for r in raised.value.reasons] == ["commitment_unsigned"]
    assert "信用承诺书" in raised.value.text("zh")


def test_submit_collects_every_blocking_reason():
    facts = ready(commitment_signed=False, pledged_count=0, pledged_total=Decimal("0"))
    with pytest.raises(TransitionError) as raised:
        FINANCING.check("submit", facts, ENTERPRISE)
    assert {r.code for r in raised.value.reasons} == {"commitment_unsigned", "no_pledges", "amount_above_pledges"}


def test_amount_above_pledged_total_is_refused():
    with pytest.raises(TransitionError, match="exceeds"):
        FINANCING.check("submit", ready(amount=Decimal("150000.01")), ENTERPRISE)


def test_a_bank_cannot_submit_for_the_enterprise():
    with pytest.raises(TransitionError) as raised:
        FINANCING.check("submit", ready(), BANK)
    assert raised.value.reasons[0].code == "wrong_actor"


def test_transition_from_the_wrong_state_is_refused():
    with pytest.raises(TransitionError) as raised:
        FINANCING.check("make_offer", ready(state=State.DRAFT), BANK)
    assert raised.value.reasons[0].code == "wrong_state"


@pytest.mark.parametrize(("classification", "allowed"), [
    ("excellent", "route_to_bank"), ("mixed", "route_to_guarantor"), ("poor", "return_request"),
])
def test_verified_request_is_routed_by_asset_quality(classification, allowed):
    facts = ready(state=State.VERIFIED, classification=classification, route_targets=2)
    names = {t.name for t in FINANCING.available(facts, SYSTEM)}
    assert allowed in names
    assert len(names & {"route_to_bank", "route_to_guarantor", "return_request"}) == 1


@pytest.mark.parametrize("classification", ["excellent", "mixed"])
def test_verified_request_with_no_institution_to_take_it_goes_back(classification):
    facts = ready(state=State.VERIFIED, classification=classification, route_targets=0)
    names = {t.name for t in FINANCING.available(facts, SYSTEM)}
    assert names & {"route_to_bank", "route_to_guarantor", "return_request"} == {"return_request"}


def test_declined_request_goes_to_the_next_guarantor_or_back():
    with_next = ready(state=State.GUARANTOR_DECLINED, has_next_guarantor=True)
    without = ready(state=State.GUARANTOR_DECLINED, has_next_guarantor=False)
    assert {t.name for t in FINANCING.available(with_next, SYSTEM)} == {"reroute_to_guarantor"}
    assert {t.name for t in FINANCING.available(without, SYSTEM)} == {"return_after_guarantor"}


def test_fee_must_be_paid_before_guaranteed():
    with pytest.raises(TransitionError, match="fee"):
        FINANCING.check("confirm_fee", ready(state=State.FEE_PENDING), GUARANTOR)
    assert FINANCING.check("confirm_fee", ready(state=State.FEE_PENDING, fee_paid=True), SYSTEM)


def test_machine_refuses_a_table_naming_unknown_states():
    with pytest.raises(ValueError, match="unknown states"):
        StateMachine.build({"a"}, [Transition("go", frozenset({"a"}), "b", frozenset({"x"}))])


def test_machine_refuses_duplicate_transition_names():
    t = Transition("go", frozenset({"a"}), "b", frozenset({"x"}))
    with pytest.raises(ValueError, match="duplicate"):
        StateMachine.build({"a", "b"}, [t, t])


def test_actor_may_be_named_by_kind_and_role():
    t = Transition("approve", frozenset({"a"}), "b", frozenset({"bank:approver"}))
    assert t.allows_actor(ActorRef("bank", "approver"))
    assert not t.allows_actor(ActorRef("bank", "officer"))
