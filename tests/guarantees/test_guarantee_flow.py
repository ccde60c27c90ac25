"""A guarantor's path through the services: the offer (needs the claim, terms in range), the
enterprise's acceptance (a fee to pay), the fee paid by bank transfer (issued, routed to banks
that want a guarantee), a fee paid twice, and declines handing the request on or back."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketplace.audit import AuditEvent
from marketplace.desks import claims, decisions
from marketplace.extensions import db
from marketplace.financing.models import WorkflowEvent
from marketplace.formatting import local
from marketplace.guarantees import services as guarantees
from marketplace.guarantees.models import Guarantee
from marketplace.notifications.models import Notification
from marketplace.payments import services as payments
from marketplace.payments.hooks import run_paid_handlers
from marketplace.payments.models import Payment
from marketplace.supermarket import services as supermarket
from marketplace.supermarket.matching import ranked_matches
from marketplace.supermarket.models import Product
from tests.guarantees.helpers import (
    accepted,
    claim,
    mixed,
    offered,
    paid,
    routed_guarantor,
    targets,
)


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _transitions(case) -> list[str]:
    return list(db.session.scalars(select(WorkflowEvent.transition).where(
        WorkflowEvent.request_id == case.request.id).order_by(WorkflowEvent.id)))


def test_an_offer_needs_the_claim(app):
    case, _staff = mixed(app)
    target = routed_guarantor(case)
    with app.test_request_context(), pytest.raises(claims.ClaimRefused, match="认领"):
        guarantees.offer_guarantee(target, case.guarantor_staff, Decimal("80"), Decimal("1.5"))
    assert _count(Guarantee) == 0 and case.request.state == "routed_to_guarantor" and target.status == "routed"


@pytest.mark.parametrize(("coverage", "rate", "message"), [
    ("0", "1.5", "担保比例"), ("100.5", "1.5", "担保比例"), ("80", "0", "担保费率"), ("80", "10.5", "担保费率"),
    ("80.125", "1.5", "两位小数"),
])
def test_out_of_range_terms_are_refused_with_nothing_changed(app, coverage, rate, message):
    case, staff = mixed(app)
    target = claim(app, routed_guarantor(case), case.guarantor_staff)
    with app.test_request_context(), pytest.raises(guarantees.GuaranteeRefused, match=message):
        guarantees.offer_guarantee(target, case.guarantor_staff, Decimal(coverage), Decimal(rate))
    assert _count(Guarantee) == 0 and _count(AuditEvent, AuditEvent.action == "guarantee.offered") == 0
    assert case.request.state == "guarantor_review" and target.status == "reviewing"


def test_the_offer_computes_the_fee_moves_the_request_and_tells_the_enterprise(app):
    case, staff = mixed(app)
    guarantee, target, officer = offered(app, case, staff, coverage="80", rate="1.50")
    assert (guarantee.guaranteed_amount, guarantee.fee, guarantee.term_days) == (Decimal("200000.00"),
                                                                                 Decimal("739.73"), 90)
    assert guarantee.status == "offered" and guarantee.offered_by_id == officer.id
    assert case.request.state == "guarantee_offered" and target.status == "offered"
    assert _transitions(case)[-1] == "offer_guarantee"
    assert _count(AuditEvent, AuditEvent.action == "guarantee.offered") == 1
    assert _count(Notification, Notification.kind == "guarantee.offered", Notification.user_id == case.owner.id) == 1
    with app.test_request_context(), pytest.raises(guarantees.GuaranteeRefused):
        guarantees.offer_guarantee(target, officer, Decimal("90"), Decimal("1"))  # one live guarantee


def test_accepting_waits_for_the_fee_as_a_payment_to_the_guarantor(app):
    case, staff = mixed(app)
    guarantee, payment, officer = accepted(app, case, staff)
    assert case.request.state == "fee_pending" and guarantee.status == "accepted" and guarantee.accepted_at
    assert (payment.purpose, payment.amount, payment.payee_org_id, payment.status, payment.method) == (
        "guarantee_fee", guarantee.fee, guarantee.institution_id, "pending", "offline")
    assert payment.request_id == case.request.id and payment.enterprise_id == case.request.enterprise_id
    assert _count(Notification, Notification.kind == "guarantee.accepted", Notification.user_id == officer.id) == 1
    with app.test_request_context(), pytest.raises(guarantees.GuaranteeRefused):
        guarantees.accept_guarantee(guarantee, case.owner)  # not twice
    assert _count(Payment) == 1


def test_paying_the_fee_issues_the_letter_and_routes_to_a_bank_that_wants_a_guarantee(app):
    case, staff = mixed(app, guarantee_bank=True)
    wants_guarantee = next(o for o in staff.values() if o.organisation.name == "担保贷银行")
    product = db.session.scalar(select(Product).where(Product.institution_id == wants_guarantee.organisation_id))
    assert not next(m for m in ranked_matches(case.request) if m.product_id == product.id).eligible
    guarantee, payment, officer = accepted(app, case, staff)

    paid(app, payment, officer)

    assert payment.status == "succeeded"
    assert guarantee.status == "issued" and guarantee.issued_at is not None
    assert guarantee.letter_no == f"DB-{local(guarantee.issued_at).year}-{guarantee.id:06d}"
    assert re.fullmatch(r"DB-\d{4}-\d{6}", guarantee.letter_no)
    assert case.request.state == "routed_to_bank"
    assert _transitions(case)[-2:] == ["confirm_fee", "route_guaranteed_to_bank"]
    confirm = db.session.scalar(select(WorkflowEvent).where(WorkflowEvent.transition == "confirm_fee"))
    assert confirm.actor_user_id == officer.id  # the guarantor's staff confirmed the transfer
    routed_banks = {t.institution_id for t in targets(case, "routed")}
    assert wants_guarantee.organisation_id in routed_banks
    assert next(m for m in ranked_matches(case.request) if m.product_id == product.id).eligible
    assert _count(AuditEvent, AuditEvent.action == "guarantee.issued") == 1
    assert _count(Notification, Notification.kind == "request.routed",
                  Notification.user_id == wants_guarantee.id) == 1


def test_a_fee_paid_twice_does_nothing_more(app):
    case, staff = mixed(app)
    guarantee, payment, officer = accepted(app, case, staff)
    paid(app, payment, officer)
    letter, events, audits = guarantee.letter_no, len(_transitions(case)), _count(AuditEvent)
    with app.test_request_context():
        with pytest.raises(payments.PaymentRefused):
            payments.confirm_offline_transfer(payment, officer, "TRX-AGAIN")
        run_paid_handlers(payment)  # a handler called again, e.g. a replayed hook
    assert guarantee.letter_no == letter and guarantee.status == "issued"
    assert case.request.state == "routed_to_bank" and len(_transitions(case)) == events
    assert _count(Guarantee, Guarantee.status == "issued") == 1
    assert _count(AuditEvent) == audits + 1  # only the "ignored" note
    assert _count(AuditEvent, AuditEvent.action == "guarantee.fee_paid_ignored") == 1


def test_with_no_bank_product_to_fit_the_request_stays_guaranteed_and_the_enterprise_is_told(app):
    case, staff = mixed(app)
    with app.test_request_context():
        for product in db.session.scalars(select(Product).where(Product.institution_id == case.bank_staff.organisation_id)):
            supermarket.retire_product(product, case.bank_staff)
    guarantee, payment, officer = accepted(app, case, staff)
    paid(app, payment, officer)
    assert guarantee.status == "issued" and case.request.state == "guaranteed"
    assert _count(AuditEvent, AuditEvent.action == "guarantee.no_bank") == 1
    assert _count(Notification, Notification.kind == "guarantee.issued", Notification.user_id == case.owner.id) == 1


def _decline(app, target, officer):
    with app.test_request_context():
        return decisions.decline(target, officer, "credit_risk", "")


def test_a_guarantor_declining_hands_the_request_to_the_next_waiting_guarantor(app):
    case, staff = mixed(app, more_guarantors=1)
    first = routed_guarantor(case)
    [waiting] = targets(case, "waiting")
    claim(app, first, staff[first.institution_id])
    _decline(app, first, staff[first.institution_id])
    assert first.status == "declined" and waiting.status == "routed" and waiting.routed_at is not None
    assert case.request.state == "routed_to_guarantor"
    assert _transitions(case)[-2:] == ["decline_guarantee", "reroute_to_guarantor"]
    assert _count(Notification, Notification.kind == "request.routed",
                  Notification.user_id == staff[waiting.institution_id].id) == 1
    # the next guarantor works it as the first did
    guarantee, _target, _officer = offered(app, case, staff)
    assert guarantee.institution_id == waiting.institution_id and case.request.state == "guarantee_offered"


def test_when_the_last_guarantor_declines_the_request_goes_back(app):
    case, staff = mixed(app, more_guarantors=1)
    for _turn in range(2):
        target = routed_guarantor(case)
        claim(app, target, staff[target.institution_id])
        _decline(app, target, staff[target.institution_id])
    assert case.request.state == "returned"
    assert _transitions(case)[-2:] == ["decline_guarantee", "return_after_guarantor"]
    assert {t.status for t in targets(case) if t.institution.kind == "guarantor"} == {"declined"}
    assert _count(Notification, Notification.kind == "guarantee.declined", Notification.user_id == case.owner.id) == 2


def test_a_guarantor_that_offered_cannot_decline(app):
    case, staff = mixed(app)
    guarantee, target, officer = offered(app, case, staff)
    with app.test_request_context(), pytest.raises(decisions.DecisionRefused, match="担保方案"):
        decisions.decline(target, officer, "credit_risk", "")
    assert target.status == "offered" and case.request.state == "guarantee_offered"
