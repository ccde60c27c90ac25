"""Helpers shared by the supermarket tests: product terms and products in a given state."""

from __future__ import annotations

import re
from decimal import Decimal

from marketplace.accounts.roles import Role
from marketplace.supermarket import services
from marketplace.supermarket.models import Product
from tests.factories import UserFactory


def terms(**overrides) -> services.Terms:
    values = {
        "name": "测试应收账款质押贷", "product_type": "receivable_pledge", "description": "",
        "amount_min": Decimal("100000.00"), "amount_max": Decimal("5000000.00"),
        "term_min_days": 30, "term_max_days": 360, "rate_min": Decimal("3.45"), "rate_max": Decimal("5.20"),
    }
    values.update(overrides)
    return services.Terms(**values)


def lender(role: Role = Role.BANK_OFFICER, name: str | None = None, **fields):
    """A staff user of a new bank (or guarantor, by role), optionally with the institution's name."""
    if name:
        fields["organisation__name"] = name
    return UserFactory(role=role, **fields)


def make_product(app, user, state: str = "published", **overrides) -> Product:
    """A product of `user`'s institution, through the services, in `state`."""
    with app.test_request_context():
        product = services.create_product(user.organisation, user, terms(**overrides))
        if state in ("published", "retired"):
            services.publish_product(product, user)
        if state == "retired":
            services.retire_product(product, user)
    return product


def shown_ids(page: str) -> set[int]:
    """The ids of the product cards on a supermarket page."""
    return {int(i) for i in re.findall(r'data-testid="product-card" data-product-id="(\d+)"', page)}
