"""Who is told: the enterprise's users and an institution's staff."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db

INSTITUTION_ROLES = (Role.BANK_OFFICER, Role.BANK_APPROVER, Role.GUARANTOR_OFFICER, Role.GUARANTOR_APPROVER)


def enterprise_users(request) -> list[User]:
    return [u for u in request.enterprise.organisation.users if u.active]


def institution_staff(institution_id: int, roles=INSTITUTION_ROLES) -> list[User]:
    return list(db.session.scalars(select(User).where(User.organisation_id == institution_id, User.active,
                                                      User.role.in_(roles)).order_by(User.id)))
