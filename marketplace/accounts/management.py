"""Managing users: list and search, disable and re-enable, change a role.

Used by the platform admin for every organisation and by an enterprise admin for their own
enterprise (the views scope the query and the user loaded). Disabling ends the user's sessions
(the auth generation moves on) and revokes their API tokens at once. Every change is audited.
An admin cannot disable or demote themselves: an organisation's management is only ever
removed by another admin (its own, or the platform's), so an organisation keeps an admin.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import contains_eager

from marketplace import audit
from marketplace.accounts import tokens
from marketplace.accounts.models import Organisation, User
from marketplace.accounts.roles import roles_for_kind
from marketplace.db import utcnow
from marketplace.extensions import db

STATUSES = ("active", "disabled")


class ManagementRefused(ValueError):
    """An action that may not be done, with a Chinese message for the page."""


def users_query(*, term: str = "", organisation_id: int | None = None, kind: str = "",
                status: str = "") -> Select:
    """Users matching a search (name, email or organisation name), newest organisations last."""
    query = (select(User).join(Organisation, User.organisation_id == Organisation.id)
             .options(contains_eager(User.organisation)))  # each row names its organisation
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    if kind:
        query = query.where(Organisation.kind == kind)
    if status == "active":
        query = query.where(User.active.is_(True))
    elif status == "disabled":
        query = query.where(User.active.is_(False))
    term = term.strip()[:100]
    if term:
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(User.name.ilike(pattern, escape="\\"), User.email.ilike(pattern, escape="\\"),
                                Organisation.name.ilike(pattern, escape="\\")))
    return query.order_by(Organisation.id, User.id)


def user_counts(organisation_ids: list[int]) -> dict[int, int]:
    """How many users each organisation has (one statement for a page of organisations)."""
    if not organisation_ids:
        return {}
    return dict(db.session.execute(select(User.organisation_id, func.count()).where(
        User.organisation_id.in_(organisation_ids)).group_by(User.organisation_id)).all())


def _refuse_self(user: User, actor: User) -> None:
    if user.id == actor.id:
        raise ManagementRefused(_("不能对自己的账户执行此操作"))


def _enterprise_id(user: User) -> int | None:
    return user.enterprise.id if user.enterprise is not None else None


def disable_user(user: User, actor: User, reason: str = "") -> int:
    """Disable the user: sessions end, API tokens are revoked. Returns how many tokens were."""
    _refuse_self(user, actor)
    if not user.active:
        raise ManagementRefused(_("该用户已停用"))
    user.active = False
    user.disabled_at = utcnow()
    user.auth_generation += 1  # every session of the user ends now
    revoked = 0
    for token in tokens.tokens_of(user):
        if token.active:
            tokens.revoke_token(token, actor=actor)
            revoked += 1
    db.session.flush()
    audit.record("user.disabled", user, actor=actor, enterprise_id=_enterprise_id(user), email=user.email,
                 reason=reason.strip()[:200], tokens_revoked=revoked)
    return revoked


def enable_user(user: User, actor: User) -> None:
    """Re-enable a disabled user (they sign in again; revoked tokens stay revoked)."""
    if user.active:
        raise ManagementRefused(_("该用户未停用"))
    user.active = True
    user.disabled_at = None
    db.session.flush()
    audit.record("user.enabled", user, actor=actor, enterprise_id=_enterprise_id(user), email=user.email)


def change_role(user: User, role: str, actor: User) -> None:
    """Give the user another role of their organisation's kind."""
    _refuse_self(user, actor)
    allowed = {str(r) for r in roles_for_kind(user.organisation.kind)}
    if role not in allowed:
        raise ManagementRefused(_("该角色不适用于此机构"))
    if role == user.role:
        return
    before = user.role
    user.role = role
    db.session.flush()
    audit.record("user.role_changed", user, actor=actor, enterprise_id=_enterprise_id(user), email=user.email,
                 role_before=before, role_after=role)
