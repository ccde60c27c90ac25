"""Organisations and their users."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.roles import STAFF_ROLES, OrgKind, Role
from marketplace.crypto import EncryptedText
from marketplace.db import UTCDateTime, sql_values, utcnow
from marketplace.extensions import db
from workflows.credit_records import SOURCES as CREDIT_SOURCES


def _in(values) -> str:
    return sql_values(sorted(str(v) for v in values))


class Organisation(db.Model):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(OrgKind)})", name="kind"),
        # a data provider reports exactly one source; no other kind has one
        CheckConstraint(f"(kind = '{OrgKind.PROVIDER}' AND credit_source IN ({_in(CREDIT_SOURCES)})) "
                        f"OR (kind <> '{OrgKind.PROVIDER}' AND credit_source IS NULL)", name="credit_source"),
        # the account fees are paid into (marketplace.accounts.payee_account): all three or none
        CheckConstraint("(payee_account_name IS NULL) = (payee_bank_name IS NULL) "
                        "AND (payee_account_name IS NULL) = (payee_account_number IS NULL)", name="payee_account"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str | None] = mapped_column(String(6))
    contact: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # data providers only: the one source its records come from (workflows.credit_records.SOURCES)
    credit_source: Mapped[str | None] = mapped_column(String(32))
    # banks and guarantors: where enterprises transfer the fees they owe it (户名, 开户行, 账号)
    payee_account_name: Mapped[str | None] = mapped_column(String(100))
    payee_bank_name: Mapped[str | None] = mapped_column(String(100))
    payee_account_number: Mapped[str | None] = mapped_column(String(32))

    users: Mapped[list[User]] = relationship(back_populates="organisation", order_by="User.id")
    enterprise = relationship("Enterprise", back_populates="organisation", uselist=False)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN ({_in(Role)})", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(200))
    # Bumped by a password change: every session carrying the old value ends.
    auth_generation: Mapped[int] = mapped_column(default=1)
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText)  # encrypted at rest
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column()  # refuses a code used twice
    locale: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # None while a self-registered account waits for its email link (enterprises.confirm_registration)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # set with active=False by an admin

    organisation: Mapped[Organisation] = relationship(back_populates="users")

    def get_id(self) -> str:
        return f"{self.id}.{self.auth_generation}"

    @property
    def is_active(self) -> bool:
        return self.active and self.organisation.active

    @property
    def kind(self) -> str:
        return Role(self.role).kind

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def enterprise(self):
        return self.organisation.enterprise if self.kind == OrgKind.ENTERPRISE else None

    @property
    def actor(self):
        """This user as a workflow actor (kind, role)."""
        from workflows.engine import ActorRef

        role = Role(self.role)
        return ActorRef(kind=str(role.kind), role=role.short)
