"""Two offers on one request accepted at the same instant by two of the enterprise's users, from
separate connections on PostgreSQL (threads with their own sessions, everything committed): the
request row is locked first, so they never deadlock; exactly one wins each race, the other gets a
clear conflict, and one loan's worth of state is left: one accepted offer, the other closed."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from tests.desks.test_claim_race import race_app  # noqa: F401  (the fixture: a database of its own)

RACES = 12

pytestmark = pytest.mark.xdist_group("claim-race")


@pytest.fixture(autouse=True)
def db_session():
    """Real commits in a database of this test's own; no rollback fixture here."""
    yield None


def _two_offers(app) -> tuple[int, list[int], list[int]]:
    """A request with two offers made by two banks; its owner and a colleague."""
    from marketplace.extensions import db
    from tests.desks.helpers import claimed, routed, target_of
    from tests.desks.test_decisions import competing, offer
    from tests.factories import make_enterprise_user

    with app.app_context():
        case = routed(app)
        other, other_target = competing(app, case)
        first = offer(app, claimed(app, target_of(case), case.bank_staff), case.bank_staff, rate="4.10")
        second = offer(app, claimed(app, other_target, other), other, rate="3.65")
        colleague = make_enterprise_user(enterprise=case.owner.enterprise)
        db.session.commit()
        return case.request.id, [first.id, second.id], [case.owner.id, colleague.id]


def _accept(app, offer_id: int, user_id: int, barrier: threading.Barrier, results: dict) -> None:
    from marketplace.accounts.models import User
    from marketplace.desks import decisions
    from marketplace.desks.models import Offer
    from marketplace.extensions import db

    with app.test_request_context():
        offer = db.session.get(Offer, offer_id)
        user = db.session.get(User, user_id)
        offer.request  # noqa: B018  (loaded before the start line, as a page would have)
        db.session.connection()
        barrier.wait()
        try:
            decisions.accept_offer(offer, user)
            db.session.commit()
            results[offer_id] = "won"
        except decisions.DecisionConflict as lost:
            db.session.rollback()
            results[offer_id] = str(lost)
        except Exception as error:  # noqa: BLE001  (a deadlock would land here)
            db.session.rollback()
            results[offer_id] = f"error: {error!r}"
        finally:
            db.session.remove()


def test_two_offers_accepted_at_once_leave_one_accepted_and_a_clear_conflict(race_app):  # noqa: F811
    from marketplace.desks.models import Offer
    from marketplace.extensions import db
    from marketplace.financing.models import FinancingRequest

    outcomes = []
    for _ in range(RACES):
        request_id, offer_ids, user_ids = _two_offers(race_app)
        barrier, results = threading.Barrier(2), {}
        threads = [threading.Thread(target=_accept, args=(race_app, offer_id, user_id, barrier, results))
                   for offer_id, user_id in zip(offer_ids, user_ids, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        with race_app.app_context():
            statuses = sorted(db.session.scalars(select(Offer.status).where(Offer.request_id == request_id)))
            state = db.session.scalar(select(FinancingRequest.state).where(FinancingRequest.id == request_id))
            db.session.remove()
        outcomes.append((results, statuses, state))

    errors = [r for r, _s, _st in outcomes for v in r.values() if v.startswith("error")]
    assert errors == []
    assert all(sorted(v == "won" for v in r.values()) == [False, True] for r, _s, _st in outcomes)
    assert all(statuses == ["accepted", "closed"] and state == "offer_accepted" for _r, statuses, state in outcomes)
    losers = [v for r, _s, _st in outcomes for v in r.values() if v != "won"]
    assert all("其他机构的报价" in message for message in losers), losers
