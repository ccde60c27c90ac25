"""Bearer tokens: created on the command line, stored as a hash, revocable, audited."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.accounts import tokens
from marketplace.accounts.roles import Role
from marketplace.accounts.tokens import ApiToken
from marketplace.audit import AuditEvent
from marketplace.extensions import db
from tests.factories import UserFactory


def matches_url(owned_request) -> str:
    return f"/api/v1/requests/{owned_request['request'].id}/matches"


def cli_create(app, email: str, *extra: str) -> str:
    result = app.test_cli_runner().invoke(args=["tokens", "create", email, *extra])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1, "stdout carries the token alone, on its own line"
    return lines[0]


def test_a_token_created_on_the_command_line_authenticates_its_user(app, client, owned_request):
    token = cli_create(app, owned_request["owner"].email, "--name", "erp")
    response = client.get(matches_url(owned_request), headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json["request_id"] == owned_request["request"].id


def test_only_the_hash_and_prefix_are_stored(app, owned_request):
    token = cli_create(app, owned_request["owner"].email, "--name", "erp")
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == owned_request["owner"].id))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.prefix == token[:8] and row.name == "erp"
    assert token not in {row.token_hash, row.prefix, row.name}
    assert row.revoked_at is None and row.last_used_at is None


def test_creation_and_revocation_are_audited(app, owned_request):
    token = cli_create(app, owned_request["owner"].email)
    result = app.test_cli_runner().invoke(args=["tokens", "revoke", token[:8]])
    assert result.exit_code == 0, result.output
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "api_tokens")
                                .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["api_token.created", "api_token.revoked"]
    assert events[0].details["prefix"] == token[:8] and events[0].details["user_id"] == owned_request["owner"].id
    assert token not in str(events[0].details)


def test_a_revoked_token_is_a_401(app, client, owned_request):
    token = cli_create(app, owned_request["owner"].email)
    row = db.session.scalar(select(ApiToken).where(ApiToken.prefix == token[:8]))
    result = app.test_cli_runner().invoke(args=["tokens", "revoke", str(row.id)])
    assert result.exit_code == 0 and "Revoked" in result.output
    response = client.get(matches_url(owned_request), headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json["code"] == 401 and "令牌" in response.json["message"]
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("header", ["Bearer not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "token abc"])
def test_a_wrong_token_is_a_401(client, owned_request, header):
    response = client.get(matches_url(owned_request), headers={"Authorization": header})
    assert response.status_code == 401 and response.json["code"] == 401


def test_a_wrong_token_is_a_401_even_on_a_public_endpoint(client, catalogue):
    response = client.get("/api/v1/products", headers={"Authorization": "Bearer not-a-real-token"})
    assert response.status_code == 401 and response.json["code"] == 401


def test_a_deactivated_users_token_stops_working(app, client, owned_request, bearer):
    owner = owned_request["owner"]
    headers = bearer(owner)
    assert client.get(matches_url(owned_request), headers=headers).status_code == 200
    owner.active = False
    db.session.flush()
    assert client.get(matches_url(owned_request), headers=headers).status_code == 401


def test_a_deactivated_organisations_tokens_stop_working(app, client, owned_request, bearer):
    owner = owned_request["owner"]
    headers = bearer(owner)
    owner.organisation.active = False
    db.session.flush()
    assert client.get(matches_url(owned_request), headers=headers).status_code == 401


def test_last_used_at_is_written_at_most_once_a_minute(app, client, owned_request, bearer):
    headers = bearer(owned_request["owner"])
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == owned_request["owner"].id))
    client.get(matches_url(owned_request), headers=headers)
    db.session.refresh(row)
    first = row.last_used_at
    assert first is not None
    client.get(matches_url(owned_request), headers=headers)
    db.session.refresh(row)
    assert row.last_used_at == first
    row.last_used_at = first - timedelta(minutes=2)
    db.session.flush()
    client.get(matches_url(owned_request), headers=headers)
    db.session.refresh(row)
    assert row.last_used_at > first - timedelta(minutes=2)


def test_a_staff_token_needs_no_second_factor(app, client, catalogue, bearer):
    officer = UserFactory(role=Role.BANK_OFFICER, totp_secret="JBSWY3DPEHPK3PXP")
    response = client.get("/api/v1/products", headers=bearer(officer))
    assert response.status_code == 200


def test_a_token_does_not_open_the_web_pages(app, client, owned_request, bearer):
    response = client.get("/financing/", headers=bearer(owned_request["owner"]))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_token_not_the_session_decides_who_calls(app, client, login, owned_request, bearer):
    """A browser session of another enterprise's user does not leak into a token call."""
    login(owned_request["stranger"])
    assert client.get(matches_url(owned_request)).status_code == 404
    assert client.get(matches_url(owned_request), headers=bearer(owned_request["owner"])).status_code == 200


def test_list_shows_prefixes_never_tokens(app, owned_request):
    token = cli_create(app, owned_request["owner"].email, "--name", "erp")
    result = app.test_cli_runner().invoke(args=["tokens", "list", owned_request["owner"].email])
    assert result.exit_code == 0
    assert token[:8] in result.output and "erp" in result.output and token not in result.output


def test_revoking_an_unknown_or_revoked_token_fails_clearly(app, owned_request):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["tokens", "revoke", "zzzzzzzz"]).exit_code != 0
    token = cli_create(app, owned_request["owner"].email)
    assert runner.invoke(args=["tokens", "revoke", token[:8]]).exit_code == 0
    again = runner.invoke(args=["tokens", "revoke", token[:8]])
    assert again.exit_code != 0 and "no active token" in again.output


def test_create_for_an_unknown_or_deactivated_user_fails(app, owned_request):
    runner = app.test_cli_runner()
    assert "no such user" in runner.invoke(args=["tokens", "create", "nobody@example.cn"]).output
    owner = owned_request["owner"]
    owner.active = False
    db.session.flush()
    result = runner.invoke(args=["tokens", "create", owner.email])
    assert result.exit_code != 0 and "deactivated" in result.output


def test_an_ambiguous_prefix_is_refused(app, owned_request):
    owner = owned_request["owner"]
    with app.test_request_context():
        first, _ = tokens.create_token(owner, "a")
        second, _ = tokens.create_token(owner, "b")
        second.prefix = first.prefix
        db.session.flush()
        with pytest.raises(tokens.TokenRefused, match="several"):
            tokens.find_for_revocation(first.prefix)


def test_no_token_starts_with_a_dash_so_its_prefix_is_never_taken_for_an_option(monkeypatch):
    draws = iter(["-looks-like-an-option", "fine-token"])
    monkeypatch.setattr(tokens.secrets, "token_urlsafe", lambda n: next(draws))
    assert tokens._new_token() == "fine-token"


def test_a_token_call_starts_no_session(app, client, owned_request, bearer):
    response = client.get(matches_url(owned_request), headers=bearer(owned_request["owner"]))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
