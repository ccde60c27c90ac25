"""Claims: exclusive, starting the review, released or expired back to the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.audit import AuditEvent
from marketplace.db import utcnow
from marketplace.desks import claims
from marketplace.desks.models import Assignment
from marketplace.extensions import db
from tests.desks.helpers import colleague, routed, target_of
from tests.supermarket.products import lender


def test_first_claim_starts_the_banks_review(app):
    case = routed(app)
    target = target_of(case)
    with app.test_request_context():
        assignment = claims.claim(target, case.bank_staff)
    assert case.request.state == "bank_review" and target.status == "reviewing"
    assert assignment.expires_at > utcnow() + timedelta(days=1)  # two working days
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "desk.claimed")) == 1


def test_a_second_claim_is_refused_clearly_and_changes_nothing(app):
    case = routed(app)
    target = target_of(case)
    other = colleague(case.bank_staff)
    with app.test_request_context():
        claims.claim(target, case.bank_staff)
        with pytest.raises(claims.ClaimLost, match="已由.*认领"):
            claims.claim(target, other)
    assert db.session.scalar(select(func.count(Assignment.id)).where(Assignment.target_id == target.id)) == 1


def test_another_institutions_staff_cannot_claim(app):
    case = routed(app)
    stranger = lender(name="别家银行")
    with app.test_request_context(), pytest.raises(claims.ClaimRefused, match="本机构"):
        claims.claim(target_of(case), stranger)


def test_released_claim_returns_to_the_queue_and_can_be_claimed_again(app):
    case = routed(app)
    target = target_of(case)
    other = colleague(case.bank_staff)
    with app.test_request_context():
        claims.claim(target, case.bank_staff)
        with pytest.raises(claims.ClaimRefused, match="自己认领"):
            claims.release(target, other)
        claims.release(target, case.bank_staff)
        claims.claim(target, other)
    assert claims.open_assignment(target.id).user_id == other.id


def test_an_idle_claim_expires_back_to_the_queue(app):
    case = routed(app)
    target = target_of(case)
    with app.test_request_context():
        assignment = claims.claim(target, case.bank_staff)
        assert claims.expire_idle(now=assignment.expires_at - timedelta(minutes=1)) == 0
        assert claims.expire_idle(now=assignment.expires_at + timedelta(minutes=1)) == 1
        assert claims.expire_idle(now=assignment.expires_at + timedelta(minutes=2)) == 0
    assert assignment.end_reason == "expired" and claims.open_assignment(target.id) is None


def test_claim_next_takes_the_oldest_free_request(app):
    first = routed(app)
    officer = first.bank_staff
    second = routed(app, consent_to=[officer.organisation_id])
    assert target_of(second, officer.organisation_id) is not None  # the first bank's product fits it too
    with app.test_request_context():
        one = claims.claim_next(officer)
        two = claims.claim_next(colleague(officer))
        three = claims.claim_next(colleague(officer))
    assert {one.request_id, two.request_id} == {first.request.id, second.request.id}
    assert three is None


def test_desk_pages_claim_and_show_who_holds_it(app, client, login):
    case = routed(app)
    login(case.bank_staff)
    page = client.get(f"/institution/requests/{case.request.id}").get_data(as_text=True)
    assert 'data-testid="claim"' in page and "为什么推送给本机构" in page
    client.post(f"/institution/requests/{case.request.id}/claim")
    page = client.get(f"/institution/requests/{case.request.id}").get_data(as_text=True)
    assert 'data-testid="claimed-by-me"' in page and 'data-testid="offer-form"' in page
    other = colleague(case.bank_staff)
    db.session.commit()  # the view's rollback of the refused claim must not take the new user with it
    login(other)
    response = client.post(f"/institution/requests/{case.request.id}/claim", follow_redirects=True)
    assert "认领" in response.get_data(as_text=True) and 'data-testid="claimed-by-other"' in response.get_data(as_text=True)


def test_a_request_not_routed_to_the_institution_is_not_found(app, client, login):
    case = routed(app)
    login(lender(name="别家银行"))
    assert client.get(f"/institution/requests/{case.request.id}").status_code == 404
    assert client.post(f"/institution/requests/{case.request.id}/claim").status_code == 404


def test_the_beat_task_expires_idle_claims(app):
    from marketplace.desks.tasks import expire_idle_claims

    case = routed(app)
    target = target_of(case)
    with app.test_request_context():
        assignment = claims.claim(target, case.bank_staff)
    assignment.expires_at = utcnow() - timedelta(minutes=1)
    db.session.flush()
    assert expire_idle_claims.delay().get() == 1
    assert claims.open_assignment(target.id) is None
    assert app.extensions["celery"].conf.beat_schedule["desk-expire-claims"]["task"] == expire_idle_claims.name


def test_claim_next_moves_on_when_the_request_it_picked_is_claimed_first(app, monkeypatch):
    """A colleague's claim commits between the pick and ours (the row was neither locked nor seen
    as taken): the next free request is claimed instead of reporting a lost claim."""
    first = routed(app)
    officer = first.bank_staff
    routed(app, consent_to=[officer.organisation_id])
    rival, real_claim, raced = colleague(officer), claims.claim, []

    def claim_after_a_rival(target, user):
        if not raced:
            raced.append(target.id)
            real_claim(target, rival)
        return real_claim(target, user)

    monkeypatch.setattr(claims, "claim", claim_after_a_rival)
    with app.test_request_context():
        mine = claims.claim_next(officer)
        assert mine is not None and mine.user_id == officer.id and mine.target_id != raced[0]
        assert claims.claim_next(officer) is None  # none left: no error either
