"""100 races on PostgreSQL: two officers claim the same request at the same moment from separate
connections (threads with their own sessions, in a database where everything is committed).
Exactly one wins every race, the other gets a clear message, and each race leaves one
assignment and one audit event."""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.conftest import create_database, database_name, drop_database, make_test_config

RACES = 100

pytestmark = pytest.mark.xdist_group("claim-race")


@pytest.fixture(autouse=True)
def db_session():
    """Real commits in a database of this test's own; no rollback fixture here."""
    yield None


@pytest.fixture
def race_app(testrun_uid, worker_id, tmp_path_factory, app):
    from flask_migrate import upgrade

    from marketplace import create_app
    from marketplace.extensions import db

    name = database_name("race", testrun_uid, worker_id)
    url = create_database(name)
    config = make_test_config(url, tmp_path_factory)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 4, "max_overflow": 4}
    race = create_app(config, instance_path=str(tmp_path_factory.mktemp("race-instance")))
    with race.app_context():
        upgrade()
    yield race
    app.extensions["celery"].set_current()
    app.extensions["celery"].set_default()
    with race.app_context():
        db.session.remove()
        db.engine.dispose()
    drop_database(name)


def _routed_targets(app, count: int):
    """`count` requests routed to one bank, and two of its officers."""
    from marketplace.accounts.roles import Role
    from marketplace.db import utcnow
    from marketplace.extensions import db
    from marketplace.financing.models import FinancingRequest
    from marketplace.supermarket.models import RequestTarget
    from tests.factories import EnterpriseFactory, UserFactory, make_enterprise_user
    from tests.supermarket.products import make_product

    with app.app_context():
        first = UserFactory(role=Role.BANK_OFFICER)
        second = UserFactory(role=Role.BANK_OFFICER, organisation=first.organisation)
        product = make_product(app, first)
        owner = make_enterprise_user(enterprise=EnterpriseFactory())
        now = utcnow()
        ids = []
        for _ in range(count):
            request = FinancingRequest(enterprise_id=owner.enterprise.id, amount=Decimal("100000.00"), term_days=90,
                                       purpose="采购", state="routed_to_bank", created_by_id=owner.id,
                                       submitted_at=now)
            db.session.add(request)
            db.session.flush()
            target = RequestTarget(request_id=request.id, product_version_id=product.current_version_id,
                                   institution_id=first.organisation_id, rank=1, chosen_by="match",
                                   status="routed", routed_at=now)
            db.session.add(target)
            db.session.flush()
            ids.append(target.id)
        db.session.commit()
        return ids, first.id, second.id


def _claim(app, target_id: int, user_id: int, barrier: threading.Barrier, results: dict) -> None:
    from marketplace.accounts.models import User
    from marketplace.desks import claims
    from marketplace.extensions import db
    from marketplace.supermarket.models import RequestTarget

    with app.test_request_context():
        target = db.session.get(RequestTarget, target_id)
        user = db.session.get(User, user_id)
        db.session.connection()  # each thread holds its own connection before the start line
        barrier.wait()
        try:
            claims.claim(target, user)
            db.session.commit()
            results[user_id] = "won"
        except claims.ClaimLost as lost:
            db.session.rollback()
            results[user_id] = str(lost)
        finally:
            db.session.remove()


def test_two_officers_racing_for_one_request_leave_exactly_one_claim(race_app):
    from marketplace.audit import AuditEvent
    from marketplace.desks.models import Assignment
    from marketplace.extensions import db

    target_ids, first, second = _routed_targets(race_app, RACES)
    outcomes = []
    for target_id in target_ids:
        barrier, results = threading.Barrier(2), {}
        threads = [threading.Thread(target=_claim, args=(race_app, target_id, user, barrier, results))
                   for user in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        outcomes.append(results)

    assert all(len(r) == 2 for r in outcomes)
    assert all(sorted(v == "won" for v in r.values()) == [False, True] for r in outcomes)  # one winner each
    losers = [v for r in outcomes for v in r.values() if v != "won"]
    assert all("已由" in message and "认领" in message for message in losers)
    with race_app.app_context():
        per_target = dict(db.session.execute(
            select(Assignment.target_id, func.count()).group_by(Assignment.target_id)).all())
        audits = Counter(event.details["target_id"] for event in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "desk.claimed")))
    assert per_target == dict.fromkeys(target_ids, 1)
    assert audits == dict.fromkeys(target_ids, 1)
    wins = [next(user for user, v in r.items() if v == "won") for r in outcomes]
    assert len(set(wins)) == 2  # both officers won some: the race is real, not always the first thread
