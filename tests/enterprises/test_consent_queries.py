"""The consent rule in SQL (the queues' filter) agrees with the rule in Python, on PostgreSQL and on
the embedded SQLite alike: valid on the day, not revoked, covering the scope."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, literal, select
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.enterprises.consents import (
    consenting_enterprises,
    consenting_institutions,
    valid_consent,
)
from marketplace.enterprises.models import Consent
from marketplace.extensions import db
from tests.factories import EnterpriseFactory, OrganisationFactory, UserFactory

DAY = date(2026, 6, 15)
# (scopes, valid_from, valid_to, revoked) -> valid for bank statements on DAY?
CASES = [
    (["bank_statements"], DAY, DAY, False, True),
    (["tax", "bank_statements"], DAY - timedelta(days=9), DAY + timedelta(days=9), False, True),
    (["tax"], DAY - timedelta(days=9), DAY + timedelta(days=9), False, False),
    (["bank_statements"], DAY + timedelta(days=1), DAY + timedelta(days=9), False, False),
    (["bank_statements"], DAY - timedelta(days=9), DAY - timedelta(days=1), False, False),
    (["bank_statements"], DAY - timedelta(days=9), DAY + timedelta(days=9), True, False),
    (["bank_statements_x"], DAY - timedelta(days=9), DAY + timedelta(days=9), False, False),
]


def consents(session, enterprise_id: int, admin_id: int, org_ids: list[int]) -> None:
    for org_id, (scopes, start, end, revoked, _valid) in zip(org_ids, CASES, strict=True):
        session.add(Consent(enterprise_id=enterprise_id, grantee_org_id=org_id, scopes=scopes, purpose="x",
                            purposes=["financing_review", "post_loan"], valid_from=start, valid_to=end, granted_by_id=admin_id,
                            revoked_at=utcnow() if revoked else None))
    session.flush()


def expected(org_ids: list[int]) -> set[int]:
    return {org_id for org_id, case in zip(org_ids, CASES, strict=True) if case[-1]}


def sql_answers(session, enterprise_id: int, org_ids: list[int]) -> tuple[set[int], set[int]]:
    by_exists = {o for o in org_ids if session.scalar(select(valid_consent(enterprise_id, o, literal(DAY))))}
    by_set = {o for o in org_ids if enterprise_id in set(session.scalars(consenting_enterprises(o, DAY)))}
    return by_exists, by_set


def test_on_postgresql_the_sql_and_the_python_rule_agree(ctx):
    admin = UserFactory()
    enterprise = EnterpriseFactory()
    orgs = [OrganisationFactory(kind="bank").id for _ in CASES]
    consents(db.session, enterprise.id, admin.id, orgs)
    assert consenting_institutions(enterprise.id, orgs, day=DAY) == expected(orgs)
    assert sql_answers(db.session, enterprise.id, orgs) == (expected(orgs), expected(orgs))


def test_an_institution_is_routed_to_only_for_the_review_its_consent_names(ctx):
    """A consent granted only for post-loan monitoring lets nobody review, so nothing is routed."""
    admin = UserFactory()
    enterprise = EnterpriseFactory()
    bank, guarantor, monitor = (OrganisationFactory(kind="bank"), OrganisationFactory(kind="guarantor"),
                                OrganisationFactory(kind="bank"))
    for org, purposes in ((bank, ["financing_review"]), (guarantor, ["guarantee_review"]), (monitor, ["post_loan"])):
        db.session.add(Consent(enterprise_id=enterprise.id, grantee_org_id=org.id, scopes=["bank_statements"],
                               purpose="x", purposes=purposes, valid_from=DAY, valid_to=DAY, granted_by_id=admin.id))
    db.session.flush()
    assert consenting_institutions(enterprise.id, [bank.id, guarantor.id, monitor.id], day=DAY) == {bank.id, guarantor.id}


@pytest.mark.no_db
def test_on_sqlite_the_sql_rule_reads_the_json_scopes_too():
    engine = create_engine("sqlite://")
    Consent.metadata.create_all(engine, tables=[Consent.__table__])
    with Session(engine) as session:
        orgs = list(range(1, len(CASES) + 1))
        consents(session, 1, 1, orgs)
        assert sql_answers(session, 1, orgs) == (expected(orgs), expected(orgs))
