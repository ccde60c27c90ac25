"""Mixed requests routed to a guarantor through the real path, and the steps of the guarantee."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from marketplace.accounts.roles import Role
from marketplace.desks import claims
from marketplace.extensions import db
from marketplace.guarantees import services as guarantees
from marketplace.payments import services as payments
from marketplace.payments.models import Payment
from marketplace.supermarket.models import RequestTarget
from tests.factories import grant_consent_to
from tests.supermarket.products import lender, make_product
from tests.verification.cases import Case, build, submit


def mixed(app, *, more_guarantors: int = 0, guarantee_bank: bool = False) -> tuple[Case, dict[int, object]]:
    """A request routed to a guarantor (mixed assets), and the officer of each institution by id.

    `more_guarantors` adds guarantors whose products fit too (they wait their turn);
    `guarantee_bank` adds a bank whose product lends only against a guarantee."""
    case = build(app, "mixed")
    staff = {case.bank_staff.organisation_id: case.bank_staff,
             case.guarantor_staff.organisation_id: case.guarantor_staff}
    for n in range(more_guarantors):
        officer = lender(Role.GUARANTOR_OFFICER, name=f"第{n + 2}融资担保有限公司")
        make_product(app, officer, name=f"担保产品{n + 2}", product_type="guaranteed_loan")
        staff[officer.organisation_id] = officer
    if guarantee_bank:
        officer = lender(Role.BANK_OFFICER, name="担保贷银行")
        make_product(app, officer, name="担保贷", requires_guarantee=True)
        staff[officer.organisation_id] = officer
    grant_consent_to(case.owner.enterprise, *(i for i in staff if i not in (case.bank_staff.organisation_id,
                                                                             case.guarantor_staff.organisation_id)))
    submit(app, case)
    assert case.request.state == "routed_to_guarantor"
    return case, staff


def targets(case, status: str | None = None) -> list[RequestTarget]:
    query = select(RequestTarget).where(RequestTarget.request_id == case.request.id)
    if status is not None:
        query = query.where(RequestTarget.status == status)
    return list(db.session.scalars(query.order_by(RequestTarget.rank)))


def routed_guarantor(case) -> RequestTarget:
    [target] = [t for t in targets(case) if t.institution.kind == "guarantor"
                and t.status in ("routed", "reviewing", "offered", "accepted")]
    return target


def claim(app, target, user) -> RequestTarget:
    with app.test_request_context():
        claims.claim(target, user)
    return target


def offered(app, case, staff, coverage: str = "80", rate: str = "1.50"):
    """The routed guarantor claims the request and offers a guarantee."""
    target = routed_guarantor(case)
    officer = staff[target.institution_id]
    claim(app, target, officer)
    with app.test_request_context():
        guarantee = guarantees.offer_guarantee(target, officer, Decimal(coverage), Decimal(rate))
    return guarantee, target, officer


def accepted(app, case, staff, **terms):
    guarantee, target, officer = offered(app, case, staff, **terms)
    with app.test_request_context():
        payment = guarantees.accept_guarantee(guarantee, case.owner)
    return guarantee, payment, officer


def paid(app, payment: Payment, officer, reference: str = "TRX20260101001") -> Payment:
    """The guarantor's staff confirm the bank transfer, through the payments service."""
    with app.test_request_context():
        return payments.confirm_offline_transfer(payment, officer, reference)
