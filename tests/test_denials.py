"""Cross-tenant refusals are logged: a signed-in user's 403 from the route table and 404 from an
ownership check land in the audit log naming the object asked for, at most N per user a minute."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.accounts.roles import Role
from marketplace.audit import DENIAL, AuditEvent
from marketplace.extensions import db
from tests.factories import ReceivableFactory, UserFactory, make_enterprise_user


def denials(user) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == DENIAL,
                                                            AuditEvent.actor_user_id == user.id)
                                   .order_by(AuditEvent.id)))


def test_another_enterprises_receivable_answers_404_and_the_attempt_is_logged(client, login):
    theirs = ReceivableFactory()
    mine = make_enterprise_user()
    db.session.commit()
    login(mine)
    assert client.get(f"/receivables/{theirs.id}").status_code == 404
    [event] = denials(mine)
    assert (event.object_type, event.object_id) == ("receivable", str(theirs.id))
    assert event.details["status"] == 404 and event.details["path"] == f"/receivables/{theirs.id}"
    assert event.actor_org_id == mine.organisation_id and event.ip


def test_a_route_the_role_may_not_use_answers_403_and_is_logged(client, login):
    officer = UserFactory(role=Role.BANK_OFFICER)
    db.session.commit()
    login(officer)
    assert client.get("/admin/audit").status_code == 403
    [event] = denials(officer)
    assert event.details["status"] == 403 and event.details["endpoint"] == "admin.audit_log"


def test_a_burst_of_refusals_is_logged_only_up_to_the_cap(app, client, login, monkeypatch):
    monkeypatch.setitem(app.config, "DENIALS_LOGGED_PER_MINUTE", 3)
    mine = make_enterprise_user()
    db.session.commit()
    login(mine)
    for probe in range(900000, 900010):
        assert client.get(f"/receivables/{probe}").status_code == 404
    assert len(denials(mine)) == 3


def test_anonymous_visitors_and_unknown_paths_are_not_logged(client, login):
    before = db.session.scalar(select(db.func.count(AuditEvent.id)).where(AuditEvent.action == DENIAL))
    client.get("/receivables/1")  # anonymous: sent to the login page
    mine = make_enterprise_user()
    db.session.commit()
    login(mine)
    assert client.get("/no/such/page").status_code == 404
    assert db.session.scalar(select(db.func.count(AuditEvent.id)).where(AuditEvent.action == DENIAL)) == before
