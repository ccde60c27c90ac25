"""Six officers press "take the next one" together until the queue is empty, on PostgreSQL from
separate connections: no press reports a lost claim while free requests remain, and every
request ends with exactly one claim."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests.desks.test_claim_race import _routed_targets, race_app  # noqa: F401  (race_app: a fixture)

ITEMS, OFFICERS = 150, 6

pytestmark = pytest.mark.xdist_group("claim-race")


@pytest.fixture(autouse=True)
def db_session():
    """Real commits in a database of this test's own; no rollback fixture here."""
    yield None


def _take_all(app, user_id: int, barrier: threading.Barrier, results: dict) -> None:
    from marketplace.accounts.models import User
    from marketplace.desks import claims
    from marketplace.extensions import db

    won, lost = [], []
    with app.test_request_context():
        user = db.session.get(User, user_id)
        db.session.connection()
        barrier.wait()
        while True:
            try:
                assignment = claims.claim_next(user)
                if assignment is None:
                    db.session.rollback()
                    break
                won.append(assignment.target_id)
                db.session.commit()
            except claims.ClaimLost as error:
                db.session.rollback()
                lost.append(str(error))
            except Exception as error:  # noqa: BLE001  (reported, not lost in the thread)
                db.session.rollback()
                lost.append(f"error: {error!r}")
                break
        db.session.remove()
    results[user_id] = (won, lost)


def test_officers_taking_the_next_request_together_never_lose_while_some_are_free(race_app):  # noqa: F811
    from marketplace.accounts.models import User
    from marketplace.accounts.roles import Role
    from marketplace.desks.models import Assignment
    from marketplace.extensions import db
    from marketplace.financing.models import FinancingRequest
    from tests.factories import UserFactory, grant_consent_to

    target_ids, first, second = _routed_targets(race_app, ITEMS)
    with race_app.app_context():
        bank = db.session.get(User, first).organisation
        enterprise = db.session.scalars(select(FinancingRequest)).first().enterprise
        grant_consent_to(enterprise, bank.id)  # the queue shows only requests within a consent
        officers = [first, second] + [UserFactory(role=Role.BANK_OFFICER, organisation=bank).id
                                      for _ in range(OFFICERS - 2)]
        db.session.commit()
    barrier, results = threading.Barrier(OFFICERS), {}
    threads = [threading.Thread(target=_take_all, args=(race_app, user, barrier, results)) for user in officers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    lost = [message for _won, lost in results.values() for message in lost]
    won = [target for won, _lost in results.values() for target in won]
    assert lost == []
    assert sorted(won) == sorted(target_ids)
    with race_app.app_context():
        per_target = dict(db.session.execute(
            select(Assignment.target_id, func.count()).group_by(Assignment.target_id)).all())
    assert per_target == dict.fromkeys(target_ids, 1)
