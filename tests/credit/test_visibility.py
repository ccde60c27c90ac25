"""visible_to(org): an institution sees a record only under an active consent covering its
source's scope; the enterprise sees all its records; a provider its own; the platform none."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Organisation
from marketplace.accounts.roles import OrgKind, Role
from marketplace.credit.access import visible_to
from marketplace.credit.models import CreditRecord
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from tests.credit.conftest import make_provider
from tests.factories import EnterpriseFactory, OrganisationFactory, UserFactory, grant_consent_to


def add_record(enterprise, provider, record_id: str, source: str, kind: str, status: str = "active") -> CreditRecord:
    row = CreditRecord(enterprise_id=enterprise.id, provider_org_id=provider.id, source=source,
                       provider_record_id=record_id, kind=kind, polarity="negative", title=record_id,
                       occurred_on=today_shanghai() - timedelta(days=30), details={}, received_at=utcnow(),
                       payload_digest="0" * 64, status=status)
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def files(ctx):
    """Two enterprises with a tax, a court and a market-regulator record each; a bank."""
    tax = make_provider("tax").organisation
    court = make_provider("court").organisation
    regulator = make_provider("market_regulator").organisation
    bank = OrganisationFactory(kind=OrgKind.BANK, name="苏州测试银行")
    enterprise, other = EnterpriseFactory(), EnterpriseFactory()
    for e, prefix in ((enterprise, "E"), (other, "O")):
        add_record(e, tax, f"{prefix}-tax", "tax", "tax_arrears")
        add_record(e, court, f"{prefix}-court", "court", "court_judgment")
        add_record(e, regulator, f"{prefix}-penalty", "market_regulator", "penalty")
    return {"bank": bank, "enterprise": enterprise, "other": other, "tax": tax}


def seen(org: Organisation, **kwargs) -> set[str]:
    return set(db.session.scalars(select(CreditRecord.provider_record_id).where(visible_to(org, **kwargs))))


def test_without_consent_an_institution_sees_nothing(files):
    assert seen(files["bank"]) == set()


def test_an_active_consent_shows_only_the_consented_sources_of_that_enterprise(files):
    grant_consent_to(files["enterprise"], files["bank"].id, scopes=("tax", "penalties"))
    assert seen(files["bank"]) == {"E-tax", "E-penalty"}  # market_regulator records need `penalties`


def test_a_consent_to_another_institution_shows_nothing(files):
    other_bank = OrganisationFactory(kind=OrgKind.BANK)
    grant_consent_to(files["enterprise"], other_bank.id, scopes=("tax", "court"))
    assert seen(files["bank"]) == set() and seen(other_bank) == {"E-tax", "E-court"}


def test_a_wrong_scope_shows_nothing(files):
    grant_consent_to(files["enterprise"], files["bank"].id, scopes=("bank_statements", "utilities"))
    assert seen(files["bank"]) == set()


def test_an_expired_or_not_yet_valid_consent_shows_nothing(files):
    today = today_shanghai()
    grant_consent_to(files["enterprise"], files["bank"].id, scopes=("tax",),
                     valid_from=today - timedelta(days=400), valid_to=today - timedelta(days=1))
    grant_consent_to(files["other"], files["bank"].id, scopes=("tax",),
                     valid_from=today + timedelta(days=1), valid_to=today + timedelta(days=30))
    assert seen(files["bank"]) == set()
    assert seen(files["bank"], day=today - timedelta(days=2)) == {"E-tax"}


def test_a_revoked_consent_shows_nothing(files):
    [consent] = grant_consent_to(files["enterprise"], files["bank"].id, scopes=("tax", "court"))
    assert seen(files["bank"]) == {"E-tax", "E-court"}
    consent.revoked_at = utcnow()
    db.session.flush()
    assert seen(files["bank"]) == set()


def test_a_purpose_not_granted_shows_nothing(files):
    grant_consent_to(files["enterprise"], files["bank"].id, scopes=("tax",), purposes=("financing_review",))
    assert seen(files["bank"], purpose="financing_review") == {"E-tax"}
    assert seen(files["bank"], purpose="post_loan") == set()


def test_a_repaired_or_removed_record_leaves_the_institutions_view(files):
    grant_consent_to(files["enterprise"], files["bank"].id, scopes=("tax", "court", "penalties"))
    add_record(files["enterprise"], files["tax"], "E-repaired", "tax", "tax_arrears", status="repaired")
    add_record(files["enterprise"], files["tax"], "E-objected", "tax", "tax_arrears", status="objected")
    assert seen(files["bank"]) == {"E-tax", "E-court", "E-penalty", "E-objected"}


def test_the_enterprise_sees_all_its_own_records_and_no_one_elses(files):
    add_record(files["enterprise"], files["tax"], "E-repaired", "tax", "tax_arrears", status="repaired")
    user = UserFactory(role=Role.ENTERPRISE_ADMIN, organisation=files["enterprise"].organisation)
    assert seen(user.organisation) == {"E-tax", "E-court", "E-penalty", "E-repaired"}


def test_a_provider_sees_its_own_records_only_and_the_platform_none(files):
    assert seen(files["tax"]) == {"E-tax", "O-tax"}
    assert seen(OrganisationFactory(kind=OrgKind.PLATFORM)) == set()
