"""Stalled verifications: a submission whose verification message was lost (the task never runs)
or whose worker died mid-run is sent again by the sweeper after VERIFICATION_STALL_MINUTES, with
no reliance on the broker's visibility timeout; after VERIFICATION_MAX_SENDS sends the platform
admins are told, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Interval, func, literal, select, update

from marketplace.accounts.roles import Role
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.outbox import OutboxMessage
from marketplace.verification import stalls
from marketplace.verification.models import VerificationReport
from marketplace.verification.tasks import verify_request
from tests.factories import UserFactory
from tests.verification.cases import build, submit


@pytest.fixture
def lost(monkeypatch):
    """Every verification message is lost: sent, and never run."""
    sent = []
    monkeypatch.setattr(verify_request, "delay", lambda *args: sent.append(args))
    return sent


def sweep(app, minutes_later: float) -> dict:
    """Sweep as if `minutes_later` minutes had passed since everything sent so far."""
    earlier = OutboxMessage.created_at - literal(timedelta(minutes=minutes_later), Interval())
    db.session.execute(update(OutboxMessage).values(created_at=earlier))
    with app.test_request_context():
        return stalls.resend_stalled(now=utcnow())


def reports(request) -> int:
    return db.session.scalar(select(func.count(VerificationReport.id))
                             .where(VerificationReport.request_id == request.id))


def test_a_lost_verification_is_sent_again_and_verified_once(app, lost, monkeypatch):
    case = build(app, "excellent")
    submit(app, case)
    assert case.request.state == "submitted" and lost == [(case.request.id, 1)]
    assert sweep(app, 1) == {"resent": 0, "flagged": 0}  # not stalled yet
    assert sweep(app, 5) == {"resent": 1, "flagged": 0} and len(lost) == 2  # lost again
    assert sweep(app, 1) == {"resent": 0, "flagged": 0}  # the clock restarts at the last send

    monkeypatch.undo()  # the next message gets through (eager: it runs at once)
    assert sweep(app, 5) == {"resent": 1, "flagged": 0}
    assert case.request.state == "routed_to_bank" and reports(case.request) == 1
    assert sweep(app, 60) == {"resent": 0, "flagged": 0}
    sends = db.session.scalar(select(func.count(OutboxMessage.id))
                              .where(OutboxMessage.key == f"verify:{case.request.id}:1"))
    assert sends == 3


def test_a_worker_that_died_mid_verification_is_recovered(app, monkeypatch):
    """Killed after committing `verifying`, before the report: the message stays unacked until
    the broker's visibility timeout (hours); the sweeper does not wait for it."""
    from marketplace.financing.services import apply_transition

    monkeypatch.setattr(verify_request, "delay", lambda *args: None)
    case = build(app, "excellent")
    submit(app, case)
    with app.test_request_context():
        apply_transition(case.request, "start_verification", submission_no=1)
        db.session.commit()
    monkeypatch.undo()
    assert sweep(app, 6)["resent"] == 1
    assert case.request.state == "routed_to_bank" and reports(case.request) == 1


def test_after_the_last_send_the_admins_are_told_once(app, lost):
    admin = UserFactory(role=Role.PLATFORM_ADMIN)
    case = build(app, "excellent")
    submit(app, case)
    max_sends = app.config["VERIFICATION_MAX_SENDS"]
    resent = [sweep(app, 6)["resent"] for _ in range(1, max_sends)]
    assert resent == [1] * (max_sends - 1) and len(lost) == max_sends
    assert sweep(app, 6) == {"resent": 0, "flagged": 1}
    assert sweep(app, 6) == {"resent": 0, "flagged": 0}
    told = db.session.scalars(select(Notification).where(Notification.kind == "verification.stalled")).all()
    assert [n.user_id for n in told] == [admin.id] and f"#{case.request.id}" in told[0].title
    assert case.request.state == "submitted" and len(lost) == max_sends


def test_an_unsent_verification_is_left_to_the_outbox(app, lost):
    case = build(app, "excellent")
    submit(app, case)
    db.session.execute(OutboxMessage.__table__.update().values(sent_at=None))
    assert sweep(app, 60) == {"resent": 0, "flagged": 0}
