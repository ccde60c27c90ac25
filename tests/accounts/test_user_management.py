"""Platform operations on users: the platform admin for every organisation, the enterprise admin
for their own enterprise; disabling ends sessions and API tokens at once; every action audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.accounts import refusals, tokens
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.audit import AuditEvent
from marketplace.extensions import db
from tests.factories import PASSWORD, UserFactory, make_enterprise_user


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.fixture
def platform_admin():
    return UserFactory(role=Role.PLATFORM_ADMIN, name="平台管理员")


def test_platform_admin_searches_users_of_every_organisation(client, login, platform_admin):
    officer = UserFactory(role=Role.BANK_OFFICER, name="王经理", email="wang@bank.cn")
    owner = make_enterprise_user(email="boss@ent.cn")
    login(platform_admin)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "wang@bank.cn" in page and "boss@ent.cn" in page
    found = client.get("/admin/users?q=王经").get_data(as_text=True)
    assert f"user-row-{officer.id}" in found and f"user-row-{owner.id}" not in found
    by_kind = client.get("/admin/users?kind=enterprise").get_data(as_text=True)
    assert f"user-row-{owner.id}" in by_kind and f"user-row-{officer.id}" not in by_kind
    assert client.get("/admin/users?q=%25&status=nonsense&kind=x&page=99999999999999999999").status_code == 200


def test_users_list_is_paginated(client, login, platform_admin, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    for _ in range(3):
        UserFactory(role=Role.BANK_OFFICER)
    login(platform_admin)
    page = client.get("/admin/users").get_data(as_text=True)
    assert page.count('data-testid="user-row-') == 2 and "page=2" in page


def test_disabling_ends_sessions_and_api_tokens_at_once(app, client, login, platform_admin):
    victim = make_enterprise_user(email="leaver@ent.cn")
    with app.test_request_context():
        _token, plaintext = tokens.create_token(victim, "erp")
    victim_browser = app.test_client()
    victim_browser.post("/login", data={"email": "leaver@ent.cn", "password": PASSWORD})
    assert victim_browser.get("/enterprise").status_code == 200
    login(platform_admin)
    # without the confirmation box nothing happens
    refused = client.post(f"/admin/users/{victim.id}/disable", data={"reason": "离职"})
    assert refused.status_code == 400 and db.session.get(User, victim.id).active
    response = client.post(f"/admin/users/{victim.id}/disable", data={"reason": "离职", "confirm": "y"})
    assert response.status_code == 302
    assert victim_browser.get("/enterprise").status_code == 302  # signed out at once
    api = app.test_client().get("/api/v1/requests/1/matches", headers={"Authorization": f"Bearer {plaintext}"})
    assert api.status_code == 401
    assert all(not t.active for t in tokens.tokens_of(victim))
    assert "user.disabled" in actions() and "api_token.revoked" in actions()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.disabled"))
    assert event.details["reason"] == "离职" and event.actor_user_id == platform_admin.id
    # the login is refused, and the admin sees why
    victim_browser.post("/login", data={"email": "leaver@ent.cn", "password": PASSWORD})
    assert [e.details["reason"] for e in refusals.recent_for(victim)] == ["disabled"]
    page = client.get(f"/admin/users/{victim.id}").get_data(as_text=True)
    assert 'data-reason="disabled"' in page and "账户已停用" in page
    # re-enabled: signs in again (the revoked token stays revoked)
    assert client.post(f"/admin/users/{victim.id}/enable").status_code == 302
    assert victim_browser.post("/login", data={"email": "leaver@ent.cn", "password": PASSWORD}).status_code == 302
    assert "user.enabled" in actions()


def test_platform_admin_changes_a_staff_role_within_the_organisation_kind(client, login, platform_admin):
    officer = UserFactory(role=Role.BANK_OFFICER)
    login(platform_admin)
    assert client.post(f"/admin/users/{officer.id}/role", data={"role": "bank:approver"}).status_code == 302
    assert db.session.get(User, officer.id).role == Role.BANK_APPROVER
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.role_changed"))
    assert event.details == {"email": officer.email, "role_before": "bank:officer", "role_after": "bank:approver"}
    wrong = client.post(f"/admin/users/{officer.id}/role", data={"role": "enterprise:admin"})
    assert wrong.status_code == 400 and db.session.get(User, officer.id).role == Role.BANK_APPROVER


def test_an_admin_cannot_disable_or_demote_themselves(client, login):
    owner = make_enterprise_user(email="only-admin@ent.cn")
    login(owner)
    response = client.post(f"/enterprise/users/{owner.id}/disable", data={"confirm": "y"})
    assert response.status_code == 409 and "不能对自己的账户" in response.get_data(as_text=True)
    demote = client.post(f"/enterprise/users/{owner.id}/role", data={"role": "enterprise:applicant"})
    assert demote.status_code == 409
    me = db.session.get(User, owner.id)
    assert me.active and me.role == Role.ENTERPRISE_ADMIN


def test_enterprise_admin_manages_only_their_own_users(client, login):
    owner = make_enterprise_user()
    colleague = make_enterprise_user(role=Role.ENTERPRISE_APPLICANT, enterprise=owner.enterprise)
    stranger = make_enterprise_user()
    login(owner)
    listing = client.get("/enterprise/users").get_data(as_text=True)
    assert colleague.email in listing and stranger.email not in listing
    assert client.get(f"/enterprise/users/{stranger.id}").status_code == 404
    assert client.post(f"/enterprise/users/{stranger.id}/disable", data={"confirm": "y"}).status_code == 404
    assert db.session.get(User, stranger.id).active
    assert client.post(f"/enterprise/users/{colleague.id}/disable", data={"confirm": "y"}).status_code == 302
    assert not db.session.get(User, colleague.id).active
    assert client.post(f"/enterprise/users/{colleague.id}/enable").status_code == 302
    assert client.post(f"/enterprise/users/{colleague.id}/role", data={"role": "bank:officer"}).status_code == 400


def test_applicants_and_staff_cannot_manage_users(client, login):
    owner = make_enterprise_user()
    applicant = make_enterprise_user(role=Role.ENTERPRISE_APPLICANT, enterprise=owner.enterprise)
    login(applicant)
    assert client.post(f"/enterprise/users/{owner.id}/disable", data={"confirm": "y"}).status_code == 403
    login(UserFactory(role=Role.BANK_APPROVER))
    assert client.post(f"/admin/users/{owner.id}/disable", data={"confirm": "y"}).status_code == 403
    assert client.get("/admin/users").status_code == 403
    assert db.session.get(User, owner.id).active
