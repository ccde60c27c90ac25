"""Requests routed to a bank through the real path, and the bank's staff to work them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from marketplace.accounts.roles import Role
from marketplace.desks import claims, decisions
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.supermarket.models import RequestTarget
from tests.factories import UserFactory
from tests.verification.cases import build, submit


def routed(app, classification: str = "excellent"):
    """A verified request routed to the case's bank (excellent) or guarantor (mixed)."""
    case = build(app, classification)
    submit(app, case)
    return case


def target_of(case, institution_id: int | None = None) -> RequestTarget:
    institution_id = institution_id or case.bank_staff.organisation_id
    return db.session.scalar(select(RequestTarget).where(RequestTarget.request_id == case.request.id,
                                                         RequestTarget.institution_id == institution_id))


def colleague(user, role: Role = Role.BANK_OFFICER):
    """Another staff member of `user`'s institution."""
    return UserFactory(role=role, organisation=user.organisation)


def terms(amount: str = "200000.00", rate: str = "3.85", days: int = 90, valid_days: int = 10):
    return decisions.OfferTerms(Decimal(amount), Decimal(rate), days, today_shanghai() + timedelta(days=valid_days))


def claimed(app, target, user):
    with app.test_request_context():
        claims.claim(target, user)
    return target
