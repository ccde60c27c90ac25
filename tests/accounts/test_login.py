"""Login, the second factor, sessions, rate limits, and the platform admin's staff management."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from marketplace.accounts.models import Organisation, User
from marketplace.accounts.roles import OrgKind, Role
from marketplace.audit import AuditEvent
from marketplace.extensions import db
from tests.factories import PASSWORD, UserFactory, make_enterprise_user


def post_login(client, email, password=PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


def enrolled_staff(role=Role.BANK_OFFICER) -> User:
    from marketplace.db import utcnow

    return UserFactory(role=role, totp_secret=pyotp.random_base32(), totp_enrolled_at=utcnow())


def test_enterprise_user_logs_in_with_password_only(client):
    make_enterprise_user(email="boss@ent.cn")
    response = post_login(client, "BOSS@ent.cn ")
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")
    assert client.get("/enterprise").status_code == 200


def test_wrong_password_and_unknown_account_get_the_same_answer(client):
    make_enterprise_user(email="known@ent.cn")
    wrong = post_login(client, "known@ent.cn", "not-the-password")
    unknown = post_login(client, "nobody@ent.cn", "not-the-password")
    assert wrong.status_code == unknown.status_code == 200
    assert "邮箱或密码错误" in wrong.get_data(as_text=True)
    assert _comparable(wrong.get_data(as_text=True).replace("known@ent.cn", "X")) == \
        _comparable(unknown.get_data(as_text=True).replace("nobody@ent.cn", "X"))


def _comparable(page: str) -> str:
    """The page without what differs on every response (CSP nonces, CSRF tokens)."""
    import re

    return re.sub(r'(nonce|value)="[^"]*"', r'\1=""', page)


def test_failed_login_is_audited(client):
    post_login(client, "nobody@ent.cn", "x")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login_failed"))


def test_inactive_user_cannot_log_in(client):
    make_enterprise_user(email="gone@ent.cn", active=False)
    assert "邮箱或密码错误" in post_login(client, "gone@ent.cn").get_data(as_text=True)


def test_staff_password_alone_does_not_sign_in(client):
    staff = enrolled_staff()
    response = post_login(client, staff.email)
    assert response.headers["Location"].endswith("/login/two-factor")
    assert client.get("/dashboard").status_code == 302  # still anonymous


def test_staff_signs_in_with_a_valid_totp_code_once(client):
    staff = enrolled_staff()
    post_login(client, staff.email)
    code = pyotp.TOTP(staff.totp_secret).now()
    response = client.post("/login/two-factor", data={"code": code})
    assert response.status_code == 302 and client.get("/dashboard").status_code == 200
    # the same code cannot be replayed for a second login
    client.post("/logout")
    post_login(client, staff.email)
    replay = client.post("/login/two-factor", data={"code": code})
    assert "动态验证码不正确或已使用" in replay.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_staff_without_a_second_factor_must_enrol_with_a_qr_code(client):
    staff = UserFactory(role=Role.GUARANTOR_APPROVER)
    response = post_login(client, staff.email)
    assert response.headers["Location"].endswith("/login/enroll")
    page = client.get("/login/enroll").get_data(as_text=True)
    assert "<svg" in page
    with client.session_transaction() as session:
        secret = session["enroll_secret"]
    assert client.post("/login/enroll", data={"code": "000000"}).status_code == 200
    client.post("/login/enroll", data={"code": pyotp.TOTP(secret).now()})
    assert client.get("/dashboard").status_code == 200
    assert db.session.get(User, staff.id).totp_enrolled_at is not None


def test_login_rotates_the_session(client):
    make_enterprise_user(email="rot@ent.cn")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    post_login(client, "rot@ent.cn")
    with client.session_transaction() as session:
        assert "planted" not in session and "_user_id" in session


def test_password_change_ends_the_users_other_sessions(app):
    user = make_enterprise_user(email="two@ent.cn")
    laptop, phone = app.test_client(), app.test_client()
    post_login(laptop, "two@ent.cn")
    post_login(phone, "two@ent.cn")
    response = laptop.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "Brand-new-pass-9", "confirm": "Brand-new-pass-9"})
    assert response.status_code == 302
    assert laptop.get("/enterprise").status_code == 200  # the session that changed it stays
    assert phone.get("/enterprise").status_code == 302  # the other one is signed out
    assert db.session.get(User, user.id).auth_generation == 2


def test_weak_new_password_is_refused_in_chinese(client, login):
    login(make_enterprise_user())
    page = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "short", "confirm": "short"}).get_data(as_text=True)
    assert "密码至少10位" in page


@pytest.fixture
def limited_app(rate_limited_app):
    return rate_limited_app(LOGIN_FAILURES_PER_ACCOUNT_IP="3 per minute", LOGIN_LIMIT_PER_IP="5 per minute")


def test_wrong_passwords_slow_that_account_from_that_address(limited_app):
    client = limited_app.test_client()
    codes = [post_login(client, "target@ent.cn", "guess").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert post_login(client, "other@ent.cn", "guess").status_code == 200  # another account still answers


def test_login_is_rate_limited_per_ip(limited_app):
    client = limited_app.test_client()
    codes = [post_login(client, f"user{i}@ent.cn", "guess").status_code for i in range(6)]
    assert codes[-1] == 429 and codes[:5] == [200] * 5


def test_platform_admin_creates_an_institution_and_its_staff(client, login):
    login(UserFactory(role=Role.PLATFORM_ADMIN))
    response = client.post("/admin/institutions/new", data={"kind": "bank", "name": "江苏银行苏州分行",
                                                              "region_code": "320505", "contact": ""})
    org = db.session.scalar(select(Organisation).where(Organisation.name == "江苏银行苏州分行"))
    assert org.kind == OrgKind.BANK and response.headers["Location"].endswith(f"/admin/institutions/{org.id}")
    client.post(f"/admin/institutions/{org.id}/users/new", data={
        "name": "王经理", "email": "wang@jsbank.cn", "role": "bank:officer", "password": "Initial-pass-1"})
    user = db.session.scalar(select(User).where(User.email == "wang@jsbank.cn"))
    assert user.role == Role.BANK_OFFICER and user.totp_enrolled_at is None


def test_admin_cannot_give_a_bank_user_an_enterprise_role(client, login):
    login(UserFactory(role=Role.PLATFORM_ADMIN))
    org = Organisation(kind=OrgKind.BANK, name="某银行")
    db.session.add(org)
    db.session.flush()
    response = client.post(f"/admin/institutions/{org.id}/users/new", data={
        "name": "x", "email": "x@bank.cn", "role": "enterprise:admin", "password": "Initial-pass-1"})
    assert response.status_code == 200
    assert db.session.scalar(select(User).where(User.email == "x@bank.cn")) is None


def test_institution_with_unknown_region_code_is_refused(client, login):
    login(UserFactory(role=Role.PLATFORM_ADMIN))
    page = client.post("/admin/institutions/new", data={"kind": "bank", "name": "X银行", "region_code": "999999"})
    assert "未知的地区：999999" in page.get_data(as_text=True)
