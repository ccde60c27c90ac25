"""Fixtures for the JSON API: published products, an enterprise's request, bearer tokens."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marketplace.accounts import tokens
from marketplace.accounts.models import Organisation
from marketplace.accounts.roles import OrgKind, Role
from marketplace.extensions import db
from marketplace.financing.services import create_request
from marketplace.supermarket import services as products
from tests.factories import ReceivableFactory, UserFactory, make_enterprise_user


def lender(name: str, kind: OrgKind = OrgKind.BANK):
    role = Role.BANK_OFFICER if kind == OrgKind.BANK else Role.GUARANTOR_OFFICER
    return UserFactory(role=role, organisation=Organisation(kind=kind, name=name))


def make_product(staff, name: str, *, product_type="receivable_pledge", amount_min="100000",
                 amount_max="5000000", rate_min="4.00", rate_max=None, term=(30, 360), publish=True, **overrides):
    terms = products.Terms(
        name=name, product_type=product_type, description=f"{name}的说明",
        amount_min=Decimal(amount_min), amount_max=Decimal(amount_max),
        term_min_days=term[0], term_max_days=term[1],
        rate_min=Decimal(rate_min), rate_max=Decimal(rate_max or Decimal(rate_min) + 2), **overrides)
    product = products.create_product(staff.organisation, staff, terms)
    if publish:
        products.publish_product(product, staff)
    return product


def token_headers(app, user, name: str = "test") -> dict:
    """Headers that authenticate as `user` with a new token (made through the service)."""
    with app.test_request_context():
        _, plaintext = tokens.create_token(user, name)
        db.session.flush()
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def bearer(app):
    """bearer(user) -> headers carrying a new token of `user`."""
    return lambda user, name="test": token_headers(app, user, name)


@pytest.fixture
def catalogue(app):
    """Two banks and a guarantor: six published products, a draft and a retired one."""
    with app.test_request_context():
        bank, other_bank = lender("苏州银行"), lender("江南农商银行")
        guarantor = lender("苏州再担保", OrgKind.GUARANTOR)
        published = [
            make_product(bank, "应收账款质押贷", rate_min="3.45"),
            make_product(bank, "保理通", product_type="factoring", rate_min="4.20", amount_min="500000",
                         amount_max="20000000"),
            make_product(bank, "订单快贷", product_type="order_loan", rate_min="5.10", term=(30, 180)),
            make_product(other_bank, "政采贷", product_type="gov_procurement_loan", rate_min="3.80",
                         requires_guarantee=True),
            make_product(other_bank, "信用e贷", product_type="credit_loan", rate_min="6.50",
                         amount_max="1000000.50"),
            make_product(guarantor, "担保增信贷", product_type="guaranteed_loan", rate_min="4.80",
                         min_grade="B", accepts_ungraded=False, industries=["39"], regions=["3205"]),
        ]
        draft = make_product(bank, "草稿产品", publish=False)
        retired = make_product(bank, "已下架产品")
        products.retire_product(retired, bank)
        db.session.commit()
    return {"bank": bank, "other_bank": other_bank, "guarantor": guarantor, "published": published,
            "draft": draft, "retired": retired}


@pytest.fixture
def owned_request(app, catalogue):
    """An enterprise user's draft request for ¥1,000,000 over 90 days, and another enterprise's user."""
    with app.test_request_context():
        owner = make_enterprise_user()
        receivable = ReceivableFactory(enterprise=owner.enterprise, face_amount=Decimal("2000000"),
                                       confirmation="confirmed")
        request = create_request(owner.enterprise, owner, amount=Decimal("1000000"), term_days=90,
                                 purpose="采购原材料", receivable_ids=[receivable.id])
        stranger = make_enterprise_user()
        db.session.commit()
    return {"owner": owner, "request": request, "stranger": stranger}
