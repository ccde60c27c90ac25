"""API bearer tokens: one user's credential for a system integration.

An administrator creates a token on the command line (`flask --app wsgi tokens create EMAIL`);
it is printed once and only its SHA-256 is stored, so a database dump reveals no usable token.
A token authenticates JSON API calls (/api/ paths) only, as its user, under the same access
rules as the pages. It skips the staff second factor by design: it is issued by an admin for a
machine, not typed by a person. It stops working when revoked or when its user or organisation
is deactivated. Creation and revocation are audited.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from functools import cache

import click
from flask import g
from flask.cli import AppGroup
from sqlalchemy import ForeignKey, String, bindparam, or_, select, update
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from marketplace import audit
from marketplace.db import UTCDateTime, utcnow
from marketplace.extensions import db

PREFIX_LENGTH = 8  # the characters kept in clear, to recognise a token in lists and revoke it
TOUCH_INTERVAL = timedelta(minutes=1)  # last_used_at is written at most this often
API_PATH_PREFIX = "/api/"


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the token
    prefix: Mapped[str] = mapped_column(String(PREFIX_LENGTH), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class TokenRefused(ValueError):
    """A token operation that cannot be done, with a message for the operator."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> str:
    """43 URL-safe characters (256 bits); never starting with "-", which the command line would
    take for an option when the prefix is given to `tokens revoke`."""
    while (token := secrets.token_urlsafe(32)).startswith("-"):
        pass
    return token


def create_token(user, name: str = "api", actor=None) -> tuple[ApiToken, str]:
    """A new token for `user`: returns the row and the token itself, which is not kept."""
    if not user.is_active:
        raise TokenRefused(f"{user.email}: the user or their organisation is deactivated")
    name = (name or "").strip() or "api"
    if len(name) > 100:
        raise TokenRefused("the token name is longer than 100 characters")
    plaintext = _new_token()
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(plaintext),
                     prefix=plaintext[:PREFIX_LENGTH], created_at=utcnow())
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.created", token, actor=actor, user_id=user.id, email=user.email,
                 name=name, prefix=token.prefix)
    return token, plaintext


def revoke_token(token: ApiToken, actor=None) -> None:
    if token.revoked_at is not None:
        raise TokenRefused(f"token {token.id} ({token.prefix}) was already revoked")
    token.revoked_at = utcnow()
    db.session.flush()
    audit.record("api_token.revoked", token, actor=actor, user_id=token.user_id, prefix=token.prefix)


def find_for_revocation(key: str) -> ApiToken:
    """The active token named by `key`: its id, its 8-character prefix, or the whole token."""
    key = key.strip()
    conditions = [ApiToken.prefix == key, ApiToken.token_hash == hash_token(key)]
    if key.isdigit() and len(key) < 10:
        conditions.append(ApiToken.id == int(key))
    found = list(db.session.scalars(select(ApiToken).where(or_(*conditions), ApiToken.revoked_at.is_(None))))
    if not found:
        raise TokenRefused(f"{key}: no active token has this id or prefix")
    if len(found) > 1:
        ids = ", ".join(str(t.id) for t in found)
        raise TokenRefused(f"{key}: matches several active tokens (ids {ids}); revoke by id")
    return found[0]


def tokens_of(user) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


# ---- authentication ------------------------------------------------------------------------

def bearer_token(request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def carries_api_credentials(request) -> bool:
    """An API call with an Authorization header: authenticated by that header alone."""
    return request.path.startswith(API_PATH_PREFIX) and "Authorization" in request.headers


def authenticate(request):
    """Flask-Login request_loader: the user behind a valid bearer token on an API path, else None.

    The token is looked up by its hash (an indexed equality on a digest, so the lookup time
    says nothing about the token); revoked tokens and inactive users authenticate nobody.
    On success the token is kept in `g.api_token` (CSRF does not apply to such calls).
    """
    if not request.path.startswith(API_PATH_PREFIX):
        return None
    presented = bearer_token(request)
    if presented is None:
        return None
    digest = hash_token(presented)
    token = db.session.scalar(_token_with_user(), {"digest": digest})
    if token is None or not hmac.compare_digest(token.token_hash, digest) or token.revoked_at is not None:
        return None
    user = token.user
    if user is None or not user.is_active:
        return None
    _touch(token)
    g.api_token = token
    return user


@cache
def _token_with_user():
    """The token by its digest, with its user and organisation: built once for every API call."""
    from marketplace.accounts.models import User

    return (select(ApiToken).where(ApiToken.token_hash == bindparam("digest"))
            .options(joinedload(ApiToken.user).joinedload(User.organisation)))


def _touch(token: ApiToken) -> None:
    """Record the use, at most once a minute (a conditional update, so concurrent calls agree).

    Committed at once: the user is loaded by the access-rule hook before any view runs, so
    nothing else is pending in the session yet.
    """
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_INTERVAL:
        return
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token.id,
               or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - TOUCH_INTERVAL))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def authenticated_by_token() -> bool:
    return g.get("api_token") is not None


# ---- command line ----------------------------------------------------------------------------

tokens_cli = AppGroup("tokens", help="API bearer tokens for system integrations.")


def _user_by_email(email: str):
    from marketplace.accounts.models import User

    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"{email}: no such user")
    return user


@tokens_cli.command("create")
@click.argument("email")
@click.option("--name", default="api", show_default=True, help="What the token is for, e.g. the system's name.")
def create_command(email: str, name: str):
    """Create a token for EMAIL and print it (once: only its hash is kept)."""
    user = _user_by_email(email)
    try:
        token, plaintext = create_token(user, name)
    except TokenRefused as e:
        raise click.ClickException(str(e)) from e
    db.session.commit()
    click.echo(f"API token {token.id} ({token.prefix}…) for {user.email} [{user.role}], "
               f"name {token.name!r}. Shown once; store it now:", err=True)
    click.echo(plaintext)


@tokens_cli.command("revoke")
@click.argument("token_prefix_or_id")
def revoke_command(token_prefix_or_id: str):
    """Revoke a token by its id or its 8-character prefix."""
    try:
        token = find_for_revocation(token_prefix_or_id)
        revoke_token(token)
    except TokenRefused as e:
        raise click.ClickException(str(e)) from e
    db.session.commit()
    click.echo(f"Revoked API token {token.id} ({token.prefix}…) of {token.user.email}")


@tokens_cli.command("list")
@click.argument("email")
def list_command(email: str):
    """List a user's tokens: id, prefix, name, created, last used, revoked."""
    user = _user_by_email(email)
    tokens = tokens_of(user)
    if not tokens:
        click.echo(f"{user.email}: no API tokens")
        return

    def when(moment: datetime | None) -> str:
        return f"{moment:%Y-%m-%d %H:%M}Z" if moment else "-"

    click.echo(f"{'id':>5}  {'prefix':<9} {'name':<20} {'created':<18} {'last used':<18} revoked")
    for t in tokens:
        click.echo(f"{t.id:>5}  {t.prefix:<9} {t.name[:20]:<20} {when(t.created_at):<18} "
                   f"{when(t.last_used_at):<18} {when(t.revoked_at)}")
