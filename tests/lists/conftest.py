"""Fixtures for the lists: a Suzhou and a Beijing bureau, a bank and a guarantor, enterprises of
Suzhou; helpers that store grades and records as rows and publish the lists."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.credit.models import CreditGrade, CreditRecord
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.lists import services
from tests.credit.conftest import make_provider
from tests.factories import EnterpriseFactory, UserFactory

_serial = itertools.count(1)


@dataclass
class World:
    coordinator: User
    distant: User
    officer: User
    guarantor_officer: User


@pytest.fixture
def world(app) -> World:
    with app.test_request_context():
        return World(
            coordinator=UserFactory(role=Role.BUREAU_COORDINATOR, organisation__region_code="320500",
                                    organisation__name="苏州市地方金融管理局"),
            distant=UserFactory(role=Role.BUREAU_COORDINATOR, organisation__region_code="110000",
                                organisation__name="北京市地方金融管理局"),
            officer=UserFactory(role=Role.BANK_OFFICER, organisation__name="苏州测试银行"),
            guarantor_officer=UserFactory(role=Role.GUARANTOR_OFFICER, organisation__name="苏州测试担保公司"))


def graded(enterprise, grade: str, score: int = 700) -> CreditGrade:
    colour = {"A": "green", "B": "yellow", "C": "red", "D": "black"}[grade]
    row = CreditGrade(enterprise_id=enterprise.id, score=score, grade=grade, colour=colour, reasons=[],
                      model_version="test", evaluated_on=today_shanghai(), inputs_digest="0" * 64,
                      computed_at=utcnow(), trigger="test")
    db.session.add(row)
    db.session.flush()
    return row


def record(enterprise, kind: str, source: str = "court", polarity: str = "negative", days_ago: int = 30,
           status: str = "active") -> CreditRecord:
    provider = make_provider(source)
    db.session.flush()
    row = CreditRecord(enterprise_id=enterprise.id, provider_org_id=provider.organisation_id, source=source,
                       provider_record_id=f"R-{next(_serial)}", kind=kind, polarity=polarity, title="测试记录",
                       occurred_on=today_shanghai() - timedelta(days=days_ago),
                       payload_digest=hashlib.sha256(str(next(_serial)).encode()).hexdigest(), status=status)
    db.session.add(row)
    db.session.flush()
    return row


def consenting(enterprise):
    enterprise.recommend_consent_at = utcnow()
    db.session.flush()
    return enterprise


def publish(app, coordinator, year: int | None = None):
    """Compute and confirm the lists of the coordinator's region; returns the proposal."""
    with app.test_request_context():
        proposal = services.compute_proposal(coordinator.organisation.region_code, year or today_shanghai().year,
                                             coordinator, today_shanghai())
        services.confirm_proposal(proposal, coordinator)
        db.session.commit()
    return proposal


def yellow_enterprise(**fields):
    """A Suzhou enterprise with an active court dishonest-debtor record (yellow once published)."""
    enterprise = EnterpriseFactory(**fields)
    record(enterprise, "dishonest_debtor")
    return enterprise
