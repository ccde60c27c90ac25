"""What a hostile user could do to accounts (issue 12): lock the owner out, reuse a cookie after
logout, guess second-factor codes from many addresses, keep a half-finished login; and the
encryption at rest of ID numbers and TOTP secrets."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select, text

from marketplace import crypto
from marketplace.accounts import refusals
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.audit import AuditEvent
from marketplace.db import utcnow
from marketplace.extensions import db
from tests.factories import PASSWORD, UserFactory, make_enterprise_user


def post_login(client, email, password=PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


def client_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


@pytest.fixture
def limited_app(rate_limited_app):
    return rate_limited_app(LOGIN_FAILURES_PER_ACCOUNT_IP="3 per minute", LOGIN_LIMIT_PER_IP="50 per minute", TOTP_FAILURES_PER_ACCOUNT="3 per 5 minutes")


def reasons_for(user) -> list[str]:
    return [event.details["reason"] for event in refusals.recent_for(user)]


def test_failures_from_other_addresses_do_not_lock_the_owner_out(limited_app):
    make_enterprise_user(email="owner@ent.cn")
    attacker = client_at(limited_app, "198.51.100.7")
    assert [post_login(attacker, "owner@ent.cn", "guess").status_code for _ in range(4)] == [200, 200, 200, 429]
    # the attacker's address now waits, even with the right password, and is told how long
    refused = post_login(attacker, "owner@ent.cn")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "尝试次数过多" in refused.get_data(as_text=True)
    owner = client_at(limited_app, "203.0.113.20")
    response = post_login(owner, "owner@ent.cn")
    assert response.status_code == 302 and owner.get("/enterprise").status_code == 200


def test_refused_logins_are_recorded_with_their_reason(limited_app):
    user = make_enterprise_user(email="why@ent.cn")
    attacker = client_at(limited_app, "198.51.100.8")
    for _ in range(4):
        post_login(attacker, "why@ent.cn", "guess")
    user.active = False
    db.session.flush()
    post_login(client_at(limited_app, "203.0.113.21"), "why@ent.cn")
    assert reasons_for(user) == ["disabled", "rate_limited", "wrong_password", "wrong_password", "wrong_password"]


def test_a_copied_cookie_stops_working_after_logout(app, client):
    make_enterprise_user(email="copy@ent.cn")
    post_login(client, "copy@ent.cn")
    with client.session_transaction() as session:
        stolen = dict(session)
    client.post("/logout")
    thief = app.test_client()
    with thief.session_transaction() as session:
        session.update(stolen)
    assert thief.get("/enterprise").status_code == 302  # sent to the login page


def enrolled_staff() -> User:
    return UserFactory(role=Role.BANK_OFFICER, totp_secret=pyotp.random_base32(), totp_enrolled_at=utcnow())


def test_a_half_finished_login_expires(app, client, monkeypatch):
    staff = enrolled_staff()
    post_login(client, staff.email)
    with client.session_transaction() as session:
        session["pending_login"]["at"] -= app.config["LOGIN_PENDING_SECONDS"] + 1
        session.modified = True
    response = client.post("/login/two-factor", data={"code": pyotp.TOTP(staff.totp_secret).now()})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert client.get("/dashboard").status_code == 302
    assert reasons_for(staff) == ["pending_expired"]


def test_totp_guesses_are_limited_per_account_across_addresses(limited_app):
    staff = enrolled_staff()
    codes = []
    for n in range(4):  # each guess from a new address: a per-address limit would not stop it
        client = client_at(limited_app, f"198.51.100.{20 + n}")
        post_login(client, staff.email)
        codes.append(client.post("/login/two-factor", data={"code": "000000"}).status_code)
    assert codes == [200, 200, 200, 429]
    client = client_at(limited_app, "198.51.100.99")
    post_login(client, staff.email)
    right = client.post("/login/two-factor", data={"code": pyotp.TOTP(staff.totp_secret).now()})
    assert right.status_code == 429 and client.get("/dashboard").status_code == 302
    assert "totp_rate_limited" in reasons_for(staff)


def test_id_numbers_and_totp_secrets_are_encrypted_at_rest():
    user = make_enterprise_user()
    staff = enrolled_staff()
    number, secret = user.enterprise.legal_rep_id_number, staff.totp_secret
    stored_number = db.session.scalar(text("SELECT legal_rep_id_number FROM enterprises WHERE id = :id"),
                                      {"id": user.enterprise.id})
    stored_secret = db.session.scalar(text("SELECT totp_secret FROM users WHERE id = :id"), {"id": staff.id})
    assert number not in stored_number and secret not in stored_secret
    assert crypto.is_encrypted(stored_number) and crypto.is_encrypted(stored_secret)
    db.session.expire_all()
    assert db.session.get(User, staff.id).totp_secret == secret  # read back in clear


def test_a_rotated_key_still_reads_old_values(app):
    with app.app_context():
        old = crypto.encrypt("110101199003074477")
        app.config["ENCRYPTION_KEY"], previous = "a-new-key," + app.config["ENCRYPTION_KEY"], app.config["ENCRYPTION_KEY"]
        try:
            assert crypto.decrypt(old) == "110101199003074477"
            assert crypto.decrypt(crypto.reencrypt(old)) == "110101199003074477"
        finally:
            app.config["ENCRYPTION_KEY"] = previous


def test_a_wrong_key_fails_loudly(app):
    with app.app_context():
        token = crypto.encrypt("secret")
        previous, app.config["ENCRYPTION_KEY"] = app.config["ENCRYPTION_KEY"], "another-key"
        try:
            with pytest.raises(crypto.DecryptionError):
                crypto.decrypt(token)
        finally:
            app.config["ENCRYPTION_KEY"] = previous


def test_failed_totp_is_audited_as_a_refused_login(client):
    staff = enrolled_staff()
    post_login(client, staff.email)
    client.post("/login/two-factor", data={"code": "000000"})
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login_failed"))
    assert event.details["reason"] == "totp_failed" and event.object_id == str(staff.id)


def test_reencrypt_moves_values_to_the_newest_key(app):
    user = make_enterprise_user()
    number = user.enterprise.legal_rep_id_number
    previous = app.config["ENCRYPTION_KEY"]
    app.config["ENCRYPTION_KEY"] = "the-new-key," + previous
    try:
        result = app.test_cli_runner().invoke(args=["crypto", "reencrypt"])
        assert "enterprises.legal_rep_id_number" in result.output, result.output
        stored = db.session.scalar(text("SELECT legal_rep_id_number FROM enterprises WHERE id = :id"),
                                   {"id": user.enterprise.id})
        app.config["ENCRYPTION_KEY"] = "the-new-key"  # the old key dropped: still readable
        with app.app_context():
            assert crypto.decrypt(stored) == number
    finally:
        app.config["ENCRYPTION_KEY"] = previous
