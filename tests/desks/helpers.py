"""Requests routed to a bank through the real path, and the bank's staff to work them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from marketplace.accounts.roles import Role
from marketplace.desks import claims, decisions
from marketplace.enterprises.models import Consent
from marketplace.enterprises.services import revoke_consent
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.supermarket.models import RequestTarget
from tests.factories import UserFactory
from tests.verification.cases import build, submit


def routed(app, classification: str = "excellent", consent_to=()):
    """A verified request routed to the case's bank (excellent) or guarantor (mixed); the
    enterprise consents to those institutions, and to those of `consent_to` (ids) whose products
    fit too (other cases' banks)."""
    case = build(app, classification, consent_to=consent_to)
    submit(app, case)
    return case


def target_of(case, institution_id: int | None = None) -> RequestTarget:
    institution_id = institution_id or case.bank_staff.organisation_id
    return db.session.scalar(select(RequestTarget).where(RequestTarget.request_id == case.request.id,
                                                         RequestTarget.institution_id == institution_id))


def colleague(user, role: Role = Role.BANK_OFFICER):
    """Another staff member of `user`'s institution."""
    return UserFactory(role=role, organisation=user.organisation)


def terms(amount: str = "200000.00", rate: str = "3.85", days: int = 90, valid_days: int = 10,
          fee_rate: str = "0.00", roll: bool = True):
    """Offer terms; `fee_rate` (early repayment fee, %) and `roll` (due days off holidays) as
    an offer states them (the defaults: no fee, rolled)."""
    return decisions.OfferTerms(Decimal(amount), Decimal(rate), days, today_shanghai() + timedelta(days=valid_days),
                                prepayment_fee_rate=Decimal(fee_rate), roll_to_working_day=roll)


def claimed(app, target, user):
    with app.test_request_context():
        claims.claim(target, user)
    return target


def revoke_consents(app, owner, institution_id: int) -> list[int]:
    """The enterprise admin revokes every consent to the institution, through the service (so
    its part of the requests under review closes); returns the requests closed for it."""
    closed = []
    with app.test_request_context():
        for consent in db.session.scalars(select(Consent).where(Consent.enterprise_id == owner.enterprise.id,
                                                                Consent.grantee_org_id == institution_id)):
            closed += revoke_consent(consent, owner)
        db.session.commit()
    return closed


def accepted_offer(app, case):
    """The case's bank claims, offers, and the enterprise accepts the offer."""
    target = claimed(app, target_of(case), case.bank_staff)
    with app.test_request_context():
        offer = decisions.make_offer(target, case.bank_staff, terms())
        decisions.accept_offer(offer, case.owner)
    return offer
