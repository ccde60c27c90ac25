"""The rules are pure: these tests need no database, so the database fixture is a no-op here."""

import pytest


@pytest.fixture(autouse=True)
def db_session():
    yield None
