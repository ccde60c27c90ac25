"""Fixtures for the receivables tests: an enterprise user signed in, and a debtor code."""

from __future__ import annotations

import pytest

from tests.factories import make_enterprise_user, make_uscc


@pytest.fixture
def user():
    return make_enterprise_user()


@pytest.fixture
def enterprise(user):
    return user.enterprise


@pytest.fixture
def signed_in(login, user):
    """The test client, signed in as `user`."""
    return login(user)


@pytest.fixture
def debtor_uscc():
    return make_uscc(777, prefix="91310000")
