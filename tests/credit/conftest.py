"""Fixtures for the credit records: providers of two sources with staff and tokens, enterprises."""

from __future__ import annotations

from datetime import timedelta

import pytest

from marketplace.accounts import tokens
from marketplace.accounts.models import Organisation
from marketplace.accounts.roles import OrgKind, Role
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from tests.factories import EnterpriseFactory, UserFactory


def token_headers(app, user) -> dict:
    """Headers that authenticate as `user` with a new token (made through the service)."""
    with app.test_request_context():
        _, plaintext = tokens.create_token(user, "test")
        db.session.flush()
    return {"Authorization": f"Bearer {plaintext}"}


def make_provider(source: str, name: str | None = None):
    """A data provider of `source` and one staff user."""
    org = Organisation(kind=OrgKind.PROVIDER, name=name or f"{source}数据提供单位", credit_source=source)
    return UserFactory(role=Role.PROVIDER_STAFF, organisation=org)


@pytest.fixture
def world(app):
    with app.test_request_context():
        tax = make_provider("tax", "苏州市税务局")
        court = make_provider("court", "苏州市中级人民法院")
        enterprise, other = EnterpriseFactory(), EnterpriseFactory()
        return {"tax": tax, "court": court, "enterprise": enterprise, "other": other,
                "tax_headers": token_headers(app, tax), "court_headers": token_headers(app, court)}


def record(enterprise, provider_record_id: str = "T-1", **overrides) -> dict:
    body = {"enterprise_uscc": enterprise.uscc, "provider_record_id": provider_record_id, "kind": "tax_arrears",
            "title": "2026年第三季度增值税欠缴", "amount": "12000.50",
            "occurred_on": (today_shanghai() - timedelta(days=50)).isoformat()}
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not ...}
